"""What opening any case shares: choosing its rulebook and building its first row."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from workflow.context import Context
from workflow.core.errors import InvalidFacts, UnknownRulebook
from workflow.core.nations import DEFAULT_NATION
from workflow.core.rulebook import Rulebook
from workflow.storage.models import Case


def rulebook_for(
    ctx: Context, name: str | None, on: date, nation: str = DEFAULT_NATION
) -> Rulebook:
    """The named rulebook (latest version), or the partnership's nation's one in force
    on `on`; an unknown name, or a rulebook of another nation than the partnership's,
    is an input error on the `rulebook` field."""
    try:
        rulebook = ctx.rulebooks.get(name) if name else ctx.rulebooks.in_force(on, nation)
    except UnknownRulebook as exc:
        raise InvalidFacts(exc.detail, "rulebook") from None
    if rulebook.nation != nation:
        raise InvalidFacts(
            f"rulebook {rulebook.id} is {rulebook.nation}'s; the partnership is in {nation}",
            "rulebook",
        )
    return rulebook


def new_case(
    ctx: Context,
    partnership_id: uuid.UUID,
    rulebook: Rulebook,
    state: str,
    record_key: str,
    record: dict[str, Any],
    facts: dict[str, Any],
    **columns: Any,
) -> Case:
    """Version 1 of a case in `state`, under `rulebook`, with its first stage record."""
    return Case(
        id=uuid.uuid4(),
        partnership_id=partnership_id,
        rulebook_id=rulebook.id,
        rulebook_version=rulebook.version,
        state=state,
        stage=rulebook.state(state).stage,
        version=1,
        created_at=ctx.now,
        updated_at=ctx.now,
        open_actions=0,
        unactioned_recommendations=0,
        details={record_key: record},
        **facts,
        **columns,
    )
