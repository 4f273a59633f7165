"""E-mail over SMTP (smtplib): a short plain-text message about the event, without
personal data; the same Message-ID on every retry (the message's id), so a mail
system or reader can recognise a repeat."""

from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime

from workflow.notifications.channels import DeliveryFailed, Outgoing
from workflow.notifications.config import SmtpConfig
from workflow.notifications.outbox import DEADLINE_APPROACHING, DEADLINE_MISSED, STAGE_CHANGED


def render(item: Outgoing) -> tuple[str, str]:
    """(subject, body) of a notification."""
    p = item.payload
    ref = p["case"]["reference"]
    if item.topic == STAGE_CHANGED:
        subject = f"Case {ref} moved to {p['to_state']}"
        text = f"Case {ref} moved from {p['from_state'] or '(new)'} to {p['to_state']}"
        text += f" (stage {p['stage']})."
    elif item.topic in (DEADLINE_APPROACHING, DEADLINE_MISSED):
        d = p["deadline"]
        if item.topic == DEADLINE_MISSED:
            subject = f"Deadline missed: {d['name']} (case {ref})"
            text = f"The {d['name']} deadline of case {ref} was due on {d['due_date']}"
            text += f" and is {p['working_days']} working day(s) late."
        else:
            subject = f"Deadline approaching: {d['name']} (case {ref})"
            text = f"The {d['name']} deadline of case {ref} is due on {d['due_date']}"
            text += f", in {p['working_days']} working day(s)."
    else:  # pragma: no cover - every topic is rendered above
        subject, text = f"{item.topic} (case {ref})", ""
    text += f"\n\nCase id: {p['case']['id']}\nNotification id: {p['id']}\n"
    return subject, text


NO_RECIPIENTS = "no recipients: no active member holding the role has an e-mail address"


class EmailChannel:
    def __init__(self, smtp: SmtpConfig) -> None:
        self.smtp = smtp

    def send(self, item: Outgoing, now: datetime) -> None:
        """To the subscription's address, or to its role's members (`item.target` is
        then their addresses, comma-separated; empty when none has one)."""
        if not item.target:
            raise DeliveryFailed(NO_RECIPIENTS)
        subject, text = render(item)
        msg = EmailMessage()
        msg["From"] = self.smtp.sender
        msg["To"] = item.target
        msg["Subject"] = subject
        msg["Date"] = format_datetime(now)
        msg["Message-ID"] = f"<{item.message_id}@casereview>"
        msg["X-Casereview-Message-Id"] = str(item.message_id)
        msg.set_content(text)
        try:
            with smtplib.SMTP(
                self.smtp.host, self.smtp.port, timeout=self.smtp.timeout_seconds
            ) as client:
                if self.smtp.starttls:
                    client.starttls(context=ssl.create_default_context())
                if self.smtp.username:
                    client.login(self.smtp.username, self.smtp.password or "")
                client.send_message(msg)
        except smtplib.SMTPResponseException as exc:
            raise DeliveryFailed(f"SMTP {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryFailed(f"SMTP failed ({type(exc).__name__})") from None
