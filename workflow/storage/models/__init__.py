"""SQLAlchemy tables, one module per area; importing this package registers them all."""

from workflow.storage.models.access import (
    ApiToken,
    FeedToken,
    Membership,
    Partnership,
    PasswordInvite,
    SignInFailures,
    User,
    UserPassword,
    WebSession,
)
from workflow.storage.models.audit import AuditChainHead, AuditRecord
from workflow.storage.models.base import Base, JSONType, UTCDateTime
from workflow.storage.models.case import (
    APPEND_ONLY_TABLES,
    Case,
    CaseAssignment,
    CaseDeadline,
    CaseEvent,
    DeadlineAdjustment,
)
from workflow.storage.models.notify import Delivery, OutboxMessage, Subscription
from workflow.storage.models.plan import (
    Action,
    ActionUpdate,
    CaseLink,
    Document,
    DocumentVersion,
    Recommendation,
    ThemeTag,
)
from workflow.storage.models.tally import CaseStageTally, CaseTally

__all__ = [
    "APPEND_ONLY_TABLES",
    "Action",
    "ActionUpdate",
    "ApiToken",
    "AuditChainHead",
    "AuditRecord",
    "Base",
    "Case",
    "CaseAssignment",
    "CaseDeadline",
    "CaseEvent",
    "CaseLink",
    "CaseStageTally",
    "CaseTally",
    "DeadlineAdjustment",
    "Delivery",
    "Document",
    "DocumentVersion",
    "FeedToken",
    "JSONType",
    "Membership",
    "OutboxMessage",
    "Partnership",
    "PasswordInvite",
    "Recommendation",
    "SignInFailures",
    "Subscription",
    "ThemeTag",
    "UTCDateTime",
    "User",
    "UserPassword",
    "WebSession",
]
