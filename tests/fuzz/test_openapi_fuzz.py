"""Schemathesis against the OpenAPI schema, in-process: every operation, every check,
the examples, coverage and fuzzing phases per operation, then the stateful phase
that follows the schema's links through real case lifecycles (api/openapi_links.py).

How to run, reproduce a seed and read a failure: docs/testing.md."""

from __future__ import annotations

import os
from typing import Any

import hypothesis
import pytest
import schemathesis
from schemathesis import Case, GenerationMode
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.fuzz.checks import TALLY, count
from tests.fuzz.conftest import select

# The fixture's own filters are not kept by `from_fixture`: select here too.
schema = select(schemathesis.pytest.from_fixture("fuzz_schema"))
# Scenarios of the stateful phase (each up to `max-steps` calls); `make fuzz` raises it.
STATEFUL_EXAMPLES = int(os.environ.get("CASEREVIEW_FUZZ_STATEFUL_EXAMPLES", "60"))


# One pytest test runs every operation (as subtests): more than the suite's 300 s default.
@pytest.mark.timeout(1200)
@schema.parametrize()
def test_operation(case: Case) -> None:
    count(case)
    case.call_and_validate()


# Opening a case needs facts no random draw hits (a partnership of the caller, a date
# order, dates before today, an age or `unborn` but not both, text without control
# characters): the stateful phase opens valid incidents, so that its walks reach real
# cases. Only schema-valid (positive) drafts are adjusted; the other phases send what
# the generator drew.
INCIDENT_DATES = {"incident_date": "2026-01-02", "aware_date": "2026-01-05"}
# A command's dates: after the incident's, before the fixed clock (tests: NOW, 15 Jan).
COMMAND_DATE = "2026-01-06"
CONTROL = dict.fromkeys(c for c in range(32) if chr(c) not in "\n\r\t")


def _printable(value: Any) -> Any:
    if isinstance(value, str):
        return value.translate(CONTROL)
    if isinstance(value, dict):
        return {_printable(k): _printable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_printable(v) for v in value]
    return value


def realistic_draft(case: Case) -> None:
    positive = case.meta is None or case.meta.generation.mode is GenerationMode.POSITIVE
    if not positive or not isinstance(case.body, dict):
        return
    if case.operation.label.startswith("POST /api/v1/cases/{case_id}/"):
        body = _printable(case.body)
        case.body = {k: COMMAND_DATE if k.endswith("_date") else v for k, v in body.items()}
    elif case.operation.label == "POST /api/v1/incidents":  # a copy: the drawn value stays as drawn
        body = {k: v for k, v in _printable(case.body).items() if k != "rulebook"}
        criteria = body.get("criteria")
        if isinstance(criteria, dict) and criteria.get("unborn"):
            criteria.pop("child_age_years", None)
        elif isinstance(criteria, dict):
            criteria["unborn"] = False
            if criteria.get("child_age_years") is None:
                criteria["child_age_years"] = 7
        case.body = {**body, "partnership": "alpha", **INCIDENT_DATES}


@pytest.mark.timeout(1200)
def test_stateful(fuzz_schema: OpenApiSchema) -> None:
    """Random walks along the links: open a case, read it, command it with its ETag."""
    config = fuzz_schema.config
    machine = fuzz_schema.as_state_machine()

    class Lifecycles(machine):  # type: ignore[misc,valid-type]
        def before_call(self, case: Case) -> None:
            super().before_call(case)
            realistic_draft(case)

        def after_call(self, response: schemathesis.Response, case: Case) -> None:
            super().after_call(response, case)
            TALLY.phases["stateful"] += 1
            if 200 <= response.status_code < 300:
                TALLY.stateful_ok[case.operation.label] += 1

    settings = hypothesis.settings(
        max_examples=STATEFUL_EXAMPLES,
        stateful_step_count=config.phases.stateful.max_steps or 10,
        derandomize=config.generation.deterministic,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    hypothesis.seed(config.seed)(Lifecycles)
    Lifecycles.run(settings=settings)
