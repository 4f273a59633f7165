"""Bench data: principals with tokens, and realistic cases in bulk (SQLAlchemy Core).

Cases are spread over `PARTNERSHIPS` partnerships and ten years of aware dates; the
older a case, the further it has got (most cases older than two years are closed).
Each case gets the facts of the stages it passed, one timeline event per version,
its stored deadlines (met, pending or overdue), a learning theme and, once it has
reached its action plan, recommendations and actions. Rows are consistent enough
for every list filter and the dashboard; they are not run through the engine (the
audit trail holds only what the benchmark's own requests write).
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from workflow.access import accounts
from workflow.access.account_audit import Actor
from workflow.storage.database import Database
from workflow.storage.models import (
    Action,
    Case,
    CaseDeadline,
    CaseEvent,
    Partnership,
    Recommendation,
    ThemeTag,
)

PARTNERSHIPS = 150
COMMAND_PARTNERSHIPS = tuple(f"p{i:03d}" for i in range(16))  # the officer's
THEMES = ("infants", "neglect", "domestic-abuse", "parental-mental-health", "safer-sleep")
AGENCIES = ("local_authority", "police", "health_icb", "education", "other")
# state, stage, facts reached (in order); index = how far a case has got
PATH: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("notification_due", "notification", ()),
    ("rapid_review", "rapid_review", ("notification_date", "partners_informed_date")),
    ("decision_due", "decision", ("rapid_review_meeting_date", "rapid_review_sent_date")),
    ("panel_response_due", "panel_response", ("decision_date", "decision_sent_to_panel_date")),
    ("reviewer_commissioning", "commissioning", ("panel_response_date",)),
    ("terms_of_reference_due", "commissioning", ("reviewer_commissioned_date",)),
    ("review_in_progress", "review", ("terms_of_reference_date",)),
    ("pre_publication", "pre_publication", ("final_report_date",)),
    ("publication_due", "publication", ("report_sent_to_panel_date",)),
    ("action_plan_monitoring", "action_plan", ("published_date",)),
    ("closed", "closed", ("closed_date",)),
)
# working-ish offsets (calendar days) of each fact from the aware date
OFFSET = {
    "notification_date": 4,
    "partners_informed_date": 4,
    "rapid_review_meeting_date": 12,
    "rapid_review_sent_date": 18,
    "decision_date": 25,
    "decision_sent_to_panel_date": 26,
    "panel_response_date": 40,
    "reviewer_commissioned_date": 60,
    "terms_of_reference_date": 80,
    "final_report_date": 170,
    "report_sent_to_panel_date": 180,
    "published_date": 210,
    "closed_date": 600,
}
# deadline -> (from fact, days allowed, met by fact)
DEADLINES = {
    "panel_notification": ("aware_date", 7, "notification_date"),
    "rapid_review_sent": ("aware_date", 21, "rapid_review_sent_date"),
    "lcspr_published": ("decision_date", 182, "published_date"),
}


@dataclass(frozen=True)
class Principals:
    """Bearer tokens of the bench's callers."""

    national: str  # national role: every partnership, summaries only
    officer: str  # notifier + review group of partnership p000 (personal data)
    viewer: str  # viewer of p000 (summaries: the dashboard's role)
    partnership_code: str = "p000"


def principals(database: Database, now: datetime) -> Principals:
    """Create the partnerships and the three callers; returns their tokens. On a
    database generated earlier (`--scale-server`), new tokens for its callers."""

    by = Actor("bench", "bench")

    def existing(s: Session) -> Principals:
        return Principals(
            *(
                accounts.create_token(
                    s, accounts.get_user(s, f"bench-{name}"), "bench", now, by=by
                ).secret
                for name in ("national", "officer", "viewer")
            )
        )

    def run(s: Session) -> Principals:
        if s.scalar(select(func.count()).select_from(Partnership)):
            return existing(s)
        s.execute(
            insert(Partnership),
            [
                {
                    "id": uuid.uuid4(),
                    "code": f"p{i:03d}",
                    "name": f"Partnership {i}",
                    "division": "england-and-wales",
                    "created_at": now,
                }
                for i in range(PARTNERSHIPS)
            ],
        )
        home = accounts.get_partnership(s, "p000")
        out = []
        for name, roles, codes in (
            ("national", ("national",), ("p000",)),
            ("officer", ("notifier", "review_group"), COMMAND_PARTNERSHIPS),
            ("viewer", ("viewer",), ("p000",)),
        ):
            user = accounts.create_user(s, f"bench-{name}", name, now, by=by)
            for code in codes:
                where = home if code == "p000" else accounts.get_partnership(s, code)
                for role in roles:
                    accounts.grant_role(s, user, where, role, now=now, by=by)
            out.append(accounts.create_token(s, user, "bench", now, by=by).secret)
        return Principals(*out)

    return database.write(run)


def partnership_ids(database: Database) -> list[uuid.UUID]:
    return database.read(
        lambda s: list(s.scalars(select(Partnership.id).order_by(Partnership.code)))
    )


def count_cases(database: Database) -> int:
    return int(database.read(lambda s: s.scalar(select(func.count()).select_from(Case))) or 0)


def _stage_reached(age_days: int, rng: random.Random) -> int:
    if age_days < 4:
        return 0
    if age_days < 18:
        return 1
    if age_days < 25:
        return 2
    if age_days < 40:
        return 3
    if age_days < 210:
        return min(9, 4 + int((age_days - 40) / 40) + rng.randint(-1, 0))
    if age_days < 730:
        return rng.choice((4, 6, 8, 9, 9, 9, 10))
    return 10 if rng.random() < 0.85 else 9


def _case_rows(
    rng: random.Random, partnership: uuid.UUID, today: date, now: datetime, late: bool
) -> dict[str, list[dict[str, Any]]]:
    case_id = uuid.uuid4()
    aware = today - timedelta(days=rng.randint(0, 3650))
    reached = _stage_reached((today - aware).days, rng)
    state, stage, _ = PATH[reached]
    facts: dict[str, Any] = {name: None for name in OFFSET}  # one key set: one INSERT per batch
    facts.update(incident_date=aware - timedelta(days=2), aware_date=aware)
    for _s, _g, names in PATH[1 : reached + 1]:
        for name in names:
            facts[name] = aware + timedelta(days=OFFSET[name] + (3 if late else 0))
    created = datetime.combine(aware, time(9), UTC) + timedelta(seconds=rng.randint(0, 30000))
    version = reached + 1
    case = {
        "id": case_id,
        "partnership_id": partnership,
        "kind": "incident",
        "title": None,
        "local_reference": f"R-{rng.randint(0, 10**8):08d}",
        "rulebook_id": "england-2023",
        "rulebook_version": 1,
        "state": state,
        "stage": stage,
        "version": version,
        "created_at": created,
        "updated_at": created,
        "notifiable": True,
        "meets_review_criteria": True,
        "open_actions": 0,
        "unactioned_recommendations": 0,
        "carried_by_thematic": False,
        "details": {"incident": {"location": "Family home", "case_outline": "Bench case."}},
        **facts,
    }
    events = [
        {
            "case_id": case_id,
            "sequence": v,
            "event_type": "log_incident" if v == 1 else "bench_step",
            "from_state": None if v == 1 else PATH[v - 2][0],
            "to_state": PATH[v - 1][0],
            "occurred_at": created + timedelta(days=v),
            "actor": "bench",
            "payload": {},
        }
        for v in range(1, version + 1)
    ]
    deadlines = []
    for name, (start, days, met_by) in DEADLINES.items():
        if facts.get(start) is None:
            continue
        due = facts[start] + timedelta(days=days)
        met = facts.get(met_by)
        deadlines.append(
            {
                "case_id": case_id,
                "name": name,
                "state": "met" if met else ("not_applicable" if state == "closed" else "pending"),
                "from_date": facts[start],
                "due_date": due,
                "met_date": met,
                "on_time": None if met is None else met <= due,
            }
        )
    themes = [
        {"subject_type": "case", "subject_id": case_id, "theme": t, "case_id": case_id}
        for t in rng.sample(THEMES, rng.randint(1, 2))
    ]
    recs: list[dict[str, Any]] = []
    actions: list[dict[str, Any]] = []
    if reached >= 9:
        for n in (1, 2):
            rec = uuid.uuid4()
            recs.append(
                {"id": rec, "case_id": case_id, "number": n, "text": "Rec.", "created_at": created}
            )
            done = state == "closed" or rng.random() < 0.5
            actions.append(
                {
                    "id": uuid.uuid4(),
                    "case_id": case_id,
                    "recommendation_id": rec,
                    "description": "Bench action.",
                    "agency": rng.choice(AGENCIES),
                    "agency_name": None,
                    "owner": "Lead",
                    "owner_username": None,
                    "due_date": facts["published_date"] + timedelta(days=rng.randint(30, 400)),
                    "status": "completed_signed_off" if done else "in_progress",
                    "status_reason": None,
                    "created_at": created,
                    "updated_at": created,
                }
            )
    return {
        "case": [case],
        "event": events,
        "deadline": deadlines,
        "theme": themes,
        "rec": recs,
        "action": actions,
    }


TABLES = {
    "case": Case,
    "event": CaseEvent,
    "deadline": CaseDeadline,
    "theme": ThemeTag,
    "rec": Recommendation,
    "action": Action,
}


def _batches(
    n: int, parts: list[uuid.UUID], today: date, now: datetime, seed: int, size: int
) -> Iterator[dict[str, list[dict[str, Any]]]]:
    rng = random.Random(seed)
    batch: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
    for i in range(n):
        rows = _case_rows(rng, parts[i % len(parts)], today, now, late=rng.random() < 0.2)
        for k, v in rows.items():
            batch[k].extend(v)
        if len(batch["case"]) >= size:
            yield batch
            batch = {k: [] for k in TABLES}
    if batch["case"]:
        yield batch


def add_cases(database: Database, n: int, now: datetime, seed: int = 7, size: int = 2000) -> None:
    """Insert `n` more cases with their rows, in transactions of `size` cases."""
    parts = partnership_ids(database)
    for batch in _batches(n, parts, now.date(), now, seed, size):

        def run(s: Session, batch: dict[str, list[dict[str, Any]]] = batch) -> None:
            for key, model in TABLES.items():
                if batch[key]:
                    s.execute(insert(model.__table__), batch[key])

        database.write(run)


def fresh_cases(
    database: Database, partnerships: Sequence[str], n: int, now: datetime
) -> list[str]:
    """`n` cases at `notification_due` (version 1, aware two days ago), spread over
    `partnerships` (each has its own audit chain, as in production): each can take
    one `record_notification` dated today."""
    pids = database.read(
        lambda s: list(s.scalars(select(Partnership.id).where(Partnership.code.in_(partnerships))))
    )
    rng = random.Random(11)
    today = now.date()
    ids: list[str] = []
    rows: dict[str, list[dict[str, Any]]] = {k: [] for k in TABLES}
    for i in range(n):
        one = _case_rows(rng, pids[i % len(pids)], today, now, late=False)
        case = one["case"][0]
        aware = today - timedelta(days=2)
        case.update(
            state="notification_due",
            stage="notification",
            version=1,
            aware_date=aware,
            incident_date=aware - timedelta(days=1),
            **{f: None for f in OFFSET},
        )
        one["event"] = one["event"][:1]
        one["event"][0]["to_state"] = "notification_due"
        one["deadline"] = [
            {
                "case_id": case["id"],
                "name": "panel_notification",
                "state": "pending",
                "from_date": aware,
                "due_date": aware + timedelta(days=7),
                "met_date": None,
                "on_time": None,
            }
        ]
        one["rec"], one["action"] = [], []
        for k, v in one.items():
            rows[k].extend(v)
        ids.append(str(case["id"]))

    def run(s: Session) -> None:
        for key, model in TABLES.items():
            if rows[key]:
                s.execute(insert(model.__table__), rows[key])

    database.write(run)
    return ids
