"""The list ETag's change counter comes from `case_tally` (kept by triggers, migration
0007); it must always equal the count and version sum of the caller's visible cases."""

from __future__ import annotations

import uuid

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from tests.support.factories import make_case
from tests.support.world import World, reload
from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.access.scoping import case_filter
from workflow.core.rulebook import RulebookRegistry
from workflow.reads.etags import change_counter
from workflow.storage.database import Database
from workflow.storage.models import Case


def scanned(session: Session, principal: Principal) -> tuple[int, int]:
    """The counter computed the slow way, over `case`."""
    count, total = session.execute(
        select(func.count(Case.id), func.coalesce(func.sum(Case.version), 0)).where(
            case_filter(principal, Perm.CASE_LIST)
        )
    ).one()
    return int(count), int(total)


def test_the_tally_follows_inserts_commands_and_deletes(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    officer = world.officer
    assert officer is not None
    callers = [officer, world.principals[("alpha", "viewer")], world.principals[("beta", "viewer")]]
    assert database.read(lambda s: change_counter(s, officer)) == (0, 0)
    first = make_case(database, rulebooks, officer, "rapid_review")
    make_case(database, rulebooks, officer, "decision_due")
    for caller in callers:
        got = database.read(lambda s, c=caller: (change_counter(s, c), scanned(s, c)))
        assert got[0] == got[1]
    assert database.read(lambda s: change_counter(s, officer))[0] == 2

    def by_hand(s: Session) -> None:  # SQL by hand, as another process might run it
        s.execute(update(Case).where(Case.id == first).values(version=Case.version + 5))
        bare = s.get(Case, first)
        assert bare is not None
        row = {c.key: getattr(bare, c.key) for c in Case.__table__.columns}
        s.execute(insert(Case).values({**row, "id": uuid.uuid4(), "version": 7}))

    database.write(by_hand)
    assert database.read(lambda s: change_counter(s, officer)) == database.read(
        lambda s: scanned(s, officer)
    )
    assert database.read(lambda s: change_counter(s, officer))[0] == 3
    database.write(lambda s: s.execute(delete(Case).where(Case.version == 7, Case.id != first)))
    assert database.read(lambda s: change_counter(s, officer)) == database.read(
        lambda s: scanned(s, officer)
    )
    assert database.read(lambda s: change_counter(s, officer))[0] == 2
    assert database.read(lambda s: change_counter(s, callers[2])) == (0, 0)


def test_a_national_caller_counts_every_partnership(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    officer = world.officer
    assert officer is not None
    make_case(database, rulebooks, officer, "rapid_review")
    beta = world.principals[("beta", "notifier")]
    make_case(database, rulebooks, beta)
    national = reload(database, "panel")
    assert national.has_national_scope(Perm.CASE_LIST)
    assert database.read(lambda s: change_counter(s, national)) == database.read(
        lambda s: scanned(s, national)
    )
    assert database.read(lambda s: change_counter(s, national))[0] == 2
