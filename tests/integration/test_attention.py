"""What needs attention (workflow/reads/attention.py), on both databases, with an
injected `now`: an overdue action, a stalled case, an overdue deadline, the person's
own action, each with its reason in words, scoped and redacted like every read."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import pytest

from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.access.principal import Principal
from workflow.cases import action_plan as plan
from workflow.context import LOCAL_ZONE, Context
from workflow.core.rulebook import RulebookRegistry
from workflow.reads.attention import Attention, AttentionPolicy, needs_attention
from workflow.storage.database import Database
from workflow.storage.models import Case

# The rapid review of the factory's path is sent on 2025-03-20: a case opened then and
# left waiting for its decision has been in the decision stage since.
LONG_AGO = datetime(2025, 3, 21, 10, 0, tzinfo=UTC)
ACTION_DUE = date(2025, 12, 1)


def _attention(
    database: Database,
    rulebooks: RulebookRegistry,
    who: Principal,
    policy: AttentionPolicy | None = None,
) -> Attention:
    ctx = Context(rulebooks, who, NOW)
    return database.read(lambda s: needs_attention(s, ctx, policy or AttentionPolicy()))


def _add_action(
    database: Database, rulebooks: RulebookRegistry, who: Principal, case_id: uuid.UUID
) -> None:
    ctx = Context(rulebooks, who, NOW)
    version = database.read(lambda s: s.get(Case, case_id).version)  # type: ignore[union-attr]
    body = plan.AddAction(
        recommendation_number=1,
        description="Refresh the bruising protocol",
        agency="police",
        owner="DCI Smith",
        owner_username="alpha-action_owner",
        due_date=ACTION_DUE,
    )
    database.write(lambda s: plan.add_action(s, ctx, case_id, version, body))


@pytest.fixture
def cases(database: Database, rulebooks: RulebookRegistry, world: World) -> dict[str, uuid.UUID]:
    officer = world.officer
    assert officer is not None
    found = {
        "stalled": make_case(
            database, rulebooks, officer, "decision_due", now=LONG_AGO, local_reference="ST-1"
        ),
        "fresh": make_case(database, rulebooks, officer, "decision_due", local_reference="FR-1"),
        "planned": make_case(
            database, rulebooks, officer, "action_plan_monitoring", local_reference="AP-1"
        ),
        "late": make_case(database, rulebooks, officer, local_reference="NL-1"),
    }
    _add_action(database, rulebooks, officer, found["planned"])
    return found


def test_an_overdue_action_and_a_stalled_case_are_listed_with_their_reasons(
    database: Database, rulebooks: RulebookRegistry, world: World, cases: dict[str, uuid.UUID]
) -> None:
    assert world.officer is not None
    found = _attention(database, rulebooks, world.officer)
    calendar = Context(rulebooks, world.officer, NOW).calendars.calendar("england-and-wales")
    today = NOW.astimezone(LOCAL_ZONE).date()

    late = calendar.working_days_between(ACTION_DUE, today)
    [action] = found.actions
    assert action.case.id == cases["planned"]
    assert action.reason == f"Action for recommendation 1 (Police) overdue by {late} working days"
    assert action.overdue
    assert action.detail == "Refresh the bruising protocol"  # review group: personal data
    assert found.personal_cases == [cases["planned"]]  # so the page records the read

    in_stage = calendar.working_days_between(LONG_AGO.date(), today)
    stalled = {i.case.id: i.reason for i in found.stalled}
    assert stalled[cases["stalled"]] == (
        f"In 'Decision due' (decision stage) for {in_stage} working days"
    )
    assert cases["fresh"] not in stalled  # entered its stage today
    assert found.stalled_total == len(found.stalled)

    # aware 2025-03-03: the notification was due 5 working days later, never recorded
    due = calendar.add_working_days(date(2025, 3, 3), 5)
    late_by = calendar.working_days_between(due, today)
    reasons = {i.reason for i in found.deadlines if i.case.id == cases["late"]}
    assert (
        f"Serious Incident Notification to the Panel overdue by {late_by} working days" in reasons
    )
    assert all(i.overdue for i in found.deadlines if i.due_date and i.due_date < today)
    assert found.deadlines_total == len(found.deadlines)


def test_the_stage_threshold_is_a_setting(
    database: Database, rulebooks: RulebookRegistry, world: World, cases: dict[str, uuid.UUID]
) -> None:
    assert world.officer is not None
    patient = AttentionPolicy(stalled_by_stage={"decision": 1000})
    assert cases["stalled"] not in {
        i.case.id for i in _attention(database, rulebooks, world.officer, patient).stalled
    }
    eager = AttentionPolicy(stalled_working_days=1000, stalled_by_stage={"decision": 20})
    assert cases["stalled"] in {
        i.case.id for i in _attention(database, rulebooks, world.officer, eager).stalled
    }


def test_the_action_owner_sees_their_own_action_and_a_viewer_no_personal_data(
    database: Database, rulebooks: RulebookRegistry, world: World, cases: dict[str, uuid.UUID]
) -> None:
    owner = _attention(database, rulebooks, world.principals[("alpha", "action_owner")])
    [mine] = [i for i in owner.mine if i.case.id == cases["planned"]]
    assert mine.reason.startswith("Your action for recommendation 1 (Police) overdue by ")
    assert mine.detail == "Refresh the bruising protocol"

    viewer = _attention(database, rulebooks, world.principals[("alpha", "viewer")])
    assert [i.case.id for i in viewer.actions] == [cases["planned"]]
    assert viewer.actions[0].detail is None
    assert viewer.personal_cases == []
    assert viewer.mine == []

    other = _attention(database, rulebooks, world.principals[("beta", "review_group")])
    assert other.empty  # another partnership's cases are out of reach


def test_a_commissioned_reviewer_sees_their_review(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    from tests.support.world import reload
    from workflow.cases.assignments import assign_reviewer

    assert world.officer is not None
    case_id = make_case(
        database, rulebooks, world.officer, "review_in_progress", local_reference="RV-1"
    )

    def assign(s: object) -> None:
        case = s.get(Case, case_id)  # type: ignore[attr-defined]
        assign_reviewer(s, case, "alpha-reviewer", NOW)  # type: ignore[arg-type]

    database.write(assign)
    reviewer = reload(database, "alpha-reviewer")
    found = _attention(database, rulebooks, reviewer)
    [review] = [i for i in found.mine if i.case.id == case_id]
    assert review.reason.startswith("You review this case: in 'Review in progress'")
    assert _attention(database, rulebooks, world.officer).mine == []  # not theirs
