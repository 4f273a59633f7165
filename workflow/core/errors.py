"""Domain errors. They say what went wrong in the domain's words; api/errors.py is
the one place that maps them to HTTP."""

from __future__ import annotations

from collections.abc import Sequence


class DomainError(Exception):
    """Base class: a request the domain refuses. Nothing was changed."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class RulebookInvalid(Exception):
    """A rulebook file is inconsistent; raised at start-up, never per request."""

    def __init__(self, rulebook: str, problems: Sequence[str]) -> None:
        self.rulebook = rulebook
        self.problems = list(problems)
        listed = "\n  - ".join(self.problems)
        super().__init__(f"rulebook {rulebook!r} is invalid:\n  - {listed}")


class UnknownRulebook(DomainError):
    """No rulebook with that id (and version) is loaded."""


class CaseNotFound(DomainError):
    """The case does not exist (or the caller may not know it exists)."""


class CommandNotAllowed(DomainError):
    """The command is not a transition out of the case's current state."""

    def __init__(self, detail: str, current_state: str, allowed_actions: Sequence[str]) -> None:
        super().__init__(detail)
        self.current_state = current_state
        self.allowed_actions = list(allowed_actions)


class GuardRefused(CommandNotAllowed):
    """The command exists from this state but a rule of the rulebook refused it."""


class InvalidFacts(DomainError):
    """The command's data contradict the case's recorded facts (e.g. a date order).

    `field` names the offending input field."""

    def __init__(self, detail: str, field: str) -> None:
        super().__init__(detail)
        self.field = field


class HistoryConflict(InvalidFacts):
    """A correction that would make the case's recorded history impossible under its
    rulebook (a state it could not have reached). `field` names the corrected field."""


class InvalidCursor(DomainError):
    """A pagination cursor that this server did not issue."""


class VersionMismatch(DomainError):
    """The caller's If-Match version is not the case's current version."""

    def __init__(self, detail: str, current_version: int) -> None:
        super().__init__(detail)
        self.current_version = current_version


class PreconditionRequired(DomainError):
    """A command arrived without the version it expects to change (If-Match)."""


class NotAuthenticated(DomainError):
    """No valid credentials (missing, unknown, expired or revoked token)."""


class Forbidden(DomainError):
    """The caller can see the resource but its role does not allow the action."""


class Conflict(DomainError):
    """The request conflicts with existing data (e.g. a duplicate name)."""


class IdempotencyKeyReused(DomainError):
    """An Idempotency-Key was replayed with a different request."""


class DocumentNotFound(DomainError):
    """No such document (or version) on the case, or one the caller may not see."""


class UnsupportedDocument(InvalidFacts):
    """An upload whose content is not an allowed type, or does not match its filename."""


class DocumentTooLarge(InvalidFacts):
    """An upload over the configured size limit."""


class StorageUnavailable(DomainError):
    """The document store failed (an I/O error, a read-only or missing filesystem, or
    content not yet in place); nothing was recorded. Try again later."""


class StorageFull(StorageUnavailable):
    """The document store has no space left (ENOSPC) or its quota is used up (EDQUOT)."""


class SignOnUnavailable(DomainError):
    """The single sign-on keys could not be fetched; try again shortly."""


class RateLimited(DomainError):
    """The caller went over a rate limit; nothing was done. `retry_after_seconds`: when
    the limit's window ends (at least 1)."""

    def __init__(self, detail: str, retry_after_seconds: int) -> None:
        super().__init__(detail)
        self.retry_after_seconds = retry_after_seconds
