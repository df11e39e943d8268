"""Outgoing mail: an SMTP server when PORTAL_SMTP_URL is set, otherwise .eml files in PORTAL_DATA_DIR/outbox.

The outbox is how a development portal (and the test suite) delivers mail: each message is one RFC 5322 file,
written whole (temporary file, then rename), readable with any mail client or ``cat``.
"""

from __future__ import annotations

import asyncio
import email.errors
import email.utils
import logging
import os
import smtplib
import ssl
import tempfile
from email.headerregistry import Address
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import unquote, urlsplit

from portal.settings import Settings

log = logging.getLogger("portal.mail")


class Mailer:
    def __init__(self, settings: Settings) -> None:
        host = urlsplit(settings.issuer).hostname or "localhost"
        self.sender = settings.mail_from or f"no-reply@{host}"
        self.smtp_url = settings.smtp_url
        self.outbox = settings.data_path / "outbox"

    def message(self, to: str, subject: str, body: str) -> EmailMessage:
        message = EmailMessage()
        message["From"] = self.sender
        message["To"] = to
        message["Subject"] = " ".join(subject.split())  # one header line, whatever a name in it holds
        message["Date"] = email.utils.formatdate(usegmt=True)
        message["Message-ID"] = email.utils.make_msgid(domain=self.sender.rpartition("@")[2] or None)
        message.set_content(body, cte="8bit")  # links stay whole, as a person reading the file expects
        return message

    async def send(self, to: str, subject: str, body: str) -> None:
        """Deliver one plain-text message; a failure is logged (without the body, which may hold a secret)."""
        if not deliverable(to):
            log.error("mail to an address that cannot be written in a header was not sent (%s)", subject)
            return
        message = self.message(to, subject, body)
        try:
            await asyncio.to_thread(self._smtp if self.smtp_url else self._file, message)
        except (OSError, smtplib.SMTPException) as exc:
            log.error("mail to %s (%s) was not delivered: %s", to, subject, exc.__class__.__name__)

    def _file(self, message: EmailMessage) -> None:
        self.outbox.mkdir(parents=True, exist_ok=True, mode=0o700)
        descriptor, temporary = tempfile.mkstemp(dir=self.outbox, prefix=".", suffix=".tmp")
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(message.as_bytes())
        name = str(message["Message-ID"]).strip("<>").replace("/", "_")
        os.replace(temporary, self.outbox / f"{name}.eml")

    def _smtp(self, message: EmailMessage) -> None:
        url = urlsplit(self.smtp_url)
        port = url.port or (465 if url.scheme == "smtps" else 587)
        context = ssl.create_default_context()
        if url.scheme == "smtps":
            server: smtplib.SMTP = smtplib.SMTP_SSL(url.hostname or "localhost", port, context=context, timeout=30)
        else:
            server = smtplib.SMTP(url.hostname or "localhost", port, timeout=30)
        with server:
            if url.scheme == "smtp" and server.has_extn("starttls"):
                server.starttls(context=context)
            if url.username:
                server.login(unquote(url.username), unquote(url.password or ""))
            server.send_message(message)


def deliverable(address: str) -> bool:
    """Whether ``address`` is one mailbox the standard library can put in a To header (an address our email
    pattern lets through may still be a group or comment syntax, e.g. ``a:b@c.de``, that no one can mail)."""
    try:
        parsed = Address(addr_spec=address)
    except (ValueError, IndexError, email.errors.MessageError):
        return False
    return parsed.addr_spec == address


def outbox_messages(outbox: Path) -> list[EmailMessage]:
    """The messages in an outbox, oldest first (for tests and ``portal`` users reading their dev mail)."""
    from email import policy
    from email.parser import BytesParser

    files = sorted(outbox.glob("*.eml"), key=lambda path: path.stat().st_mtime_ns) if outbox.exists() else []
    parser = BytesParser(policy=policy.default)
    return [parser.parsebytes(path.read_bytes()) for path in files]
