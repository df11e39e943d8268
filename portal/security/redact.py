"""Invitation secrets never reach a log: paths that carry one are redacted in the access log and the audit trail.

New invitation links carry the secret after '#', which browsers never send; the redaction covers the
``POST /api/v1/invitations/{secret}/accept`` route kept for scripts, and any old-style link still in use.
"""

from __future__ import annotations

import logging
import re

# Any segment after /invitations/ but the literal endpoint /api/v1/invitations/accept.
_SECRET_IN_PATH = re.compile(r"^((?:/api/v1)?/invitations/)(?!accept(?:$|[?#]))[^/?#]+")
REDACTED = "[redacted]"


def loggable_path(path: str) -> str:
    """``path`` with an invitation secret replaced by ``[redacted]``; any other path unchanged."""
    return _SECRET_IN_PATH.sub(lambda match: match.group(1) + REDACTED, path)


class SecretPathFilter(logging.Filter):
    """For uvicorn's access log: its records carry the request path as the third argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], loggable_path(args[2]), *args[3:])
        return True


def install_access_log_filter() -> None:
    """Idempotent: uvicorn's access logger gets the filter once per process."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(existing, SecretPathFilter) for existing in access.filters):
        access.addFilter(SecretPathFilter())
