"""A check of our own, on top of schemathesis's built-in ones, and the run's tallies.

`other_partnership_refused`: whatever the `alpha` peer did successfully to one of
its cases (read it, command it, list its documents ...), the same request from the
`beta` peer must be answered 404: a case of another partnership does not exist for
you (least privilege; docs/permissions.md). The built-in object_level_authorization
check replays reads only; this one replays commands too, where a leak would change
another partnership's case."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import schemathesis
from schemathesis import Case, CheckContext, Response

PEER_HEADER = "Authorization"


@dataclass
class Tally:
    """Examples sent per phase, and the peer token the check replays with."""

    phases: Counter[str] = field(default_factory=Counter)
    operations: set[str] = field(default_factory=set)
    peer_probes: int = 0
    stateful_ok: Counter[str] = field(default_factory=Counter)  # 2xx per operation
    peer_token: str = ""
    seed: int | None = None


TALLY = Tally()


def count(case: Case) -> None:
    phase = case.meta.phase.name.value if case.meta is not None else "explicit"
    TALLY.phases[phase] += 1
    TALLY.operations.add(case.operation.label)


@schemathesis.check
def other_partnership_refused(ctx: CheckContext, response: Response, case: Case) -> bool | None:
    """A request that succeeded on an alpha case must be 404 when beta sends it."""
    case_id = (case.path_parameters or {}).get("case_id")
    if case_id is None or not 200 <= response.status_code < 300 or not TALLY.peer_token:
        return None
    if case.auth_identity != "alpha":
        return None
    probe = case.derive()  # the same request without alpha's credentials
    probe.headers[PEER_HEADER] = f"Bearer {TALLY.peer_token}"
    answer = probe.call()
    TALLY.peer_probes += 1
    if answer.status_code != 404:
        raise AssertionError(
            f"{case.method} {case.formatted_path} succeeded for partnership alpha; the same "
            f"request from partnership beta got {answer.status_code}, expected 404"
        )
    return None
