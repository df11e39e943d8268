"""The portal's one error hierarchy. Services raise these; `portal.problems` maps them to RFC 9457 once."""

from __future__ import annotations

from typing import Any


class Message(str):
    """A refusal's English words that keep their template and values, so a page can say them in its language:
    ``Conflict(Message("attestation %(serial)s is %(status)s", serial=serial, status=status))``. The API sends
    the English text (it is a ``str``); ``portal.i18n.say`` translates the template and the word-like values."""

    template: str
    values: dict[str, Any]

    def __new__(cls, template: str, **values: Any) -> Message:
        made = super().__new__(cls, template % values if values else template)
        made.template = template
        made.values = values
        return made


class PortalError(Exception):
    """Base of every error a service raises on purpose. ``kind`` is a stable slug used in problem types."""

    kind = "error"
    title = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.words = detail  # a Message when it was raised as one (see portal.i18n.say)
        self.extra = extra

    @property
    def detail(self) -> str:
        """The words as plain text, for the API and the logs."""
        return str(self.words)


class InvalidInput(PortalError):
    kind = "invalid-input"
    title = "The request is not valid"

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail, **({"field": field} if field else {}), **extra)


class BadRequest(InvalidInput):
    """Input that cannot be acted on at all (a range out of bounds, reversed): 400 rather than 422."""


class NotAuthenticated(PortalError):
    kind = "not-authenticated"
    title = "Authentication required"


class TotpRequired(PortalError):
    kind = "totp-required"
    title = "A one-time code from your authenticator is required"


class TotpEnrolmentRequired(PortalError):
    """The password was right and the account has no second factor yet: the problem carries a new seed, once."""

    kind = "totp-enrolment-required"
    title = "Set up your second factor"


class Forbidden(PortalError):
    kind = "forbidden"
    title = "Not allowed"


class NotFound(PortalError):
    kind = "not-found"
    title = "Not found"


class NeverIssued(NotFound):
    """A serial the registry never issued: distinct from revoked, suspended or expired."""

    kind = "never-issued"
    title = "No attestation with this serial was ever issued"


class Conflict(PortalError):
    kind = "conflict"
    title = "Conflict with the current state"


class PayloadTooLarge(PortalError):
    kind = "too-large"
    title = "Too large"


class PreconditionRequired(PortalError):
    kind = "precondition-required"
    title = "Send the version you are changing"


class UnsupportedMediaType(PortalError):
    kind = "unsupported-media-type"
    title = "Unsupported media type"


class RequestTimeout(PortalError):
    kind = "request-timeout"
    title = "The request took too long to arrive"


class TooManyRequests(PortalError):
    kind = "too-many-requests"
    title = "Too many attempts"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=retry_after)
        self.retry_after = retry_after
