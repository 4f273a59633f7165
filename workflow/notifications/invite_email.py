"""The set-password link e-mailed to a person (`casereview users invite` when SMTP is
configured): plain text, the link and when it stops working, nothing else about them.
Unlike notifications it is sent at once, not through the outbox: the administrator
waiting at the command line learns whether it left, and can pass the printed link on
another way when it did not."""

from __future__ import annotations

import smtplib
import ssl
import uuid
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from workflow.context import LOCAL_ZONE
from workflow.notifications.channels import DeliveryFailed
from workflow.notifications.config import SmtpConfig

SUBJECT = "Set your password for the case review service"


def message(
    smtp: SmtpConfig, to: str, link: str, expires_at: datetime, now: datetime
) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = smtp.sender
    msg["To"] = to
    msg["Subject"] = SUBJECT
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = f"<{uuid.uuid4()}@casereview>"
    until = expires_at.astimezone(LOCAL_ZONE).strftime("%a %-d %b %Y, %H:%M")
    msg.set_content(
        "An administrator has given you an account on the case review service.\n\n"
        f"Set your password here (the link works once, until {until}):\n\n{link}\n\n"
        "If you did not expect this, ignore it and tell your partnership's administrator.\n"
    )
    return msg


def send_invite(smtp: SmtpConfig, to: str, link: str, expires_at: datetime, now: datetime) -> None:
    """Send it; DeliveryFailed (with no address or link in its words) when it did not go."""
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout_seconds) as client:
            if smtp.starttls:
                client.starttls(context=ssl.create_default_context())
            if smtp.username:
                client.login(smtp.username, smtp.password or "")
            client.send_message(message(smtp, to, link, expires_at, now))
    except smtplib.SMTPResponseException as exc:
        raise DeliveryFailed(f"SMTP {exc.smtp_code}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryFailed(f"SMTP failed ({type(exc).__name__})") from None
