"""How a failed form becomes a plain-language message beside each of its fields, in the page's language.

Every page form is validated by the API's msgspec schema (`parse_form`) and then by a service; either failure
becomes the same list of ``{"field", "message"}`` entries, which `_errors.html` summarises at the top of the
form and `field_error(name)` prints beside the field. The validator's own wording ("Expected `str` matching
regex …") never reaches a page: a field has one message that says what to enter.
"""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from portal.errors import PortalError
from portal.i18n import current_language, gettext, say
from portal.labels import N_

FieldErrors = list[dict[str, str]]

# One message per form field, saying what to enter (the validator says what it expected, in its own terms).
FIELD_MESSAGES = {
    "email": N_("Enter an email address, such as name@example.org."),
    "contact_email": N_("Enter an email address, such as name@example.org."),
    "password": N_("Choose a password of at least 12 characters that is not a common password."),
    "display_name": N_("Enter a name (at most 200 characters)."),
    "name": N_("Enter a name (at most 200 characters)."),
    "legal_name": N_("Enter the legal name as registered (at most 300 characters)."),
    "category": N_("Choose a category."),
    "country": N_("Enter the two-letter country code, such as BH."),
    "registration_number": N_("Enter the company registration number."),
    "website": N_("Enter the website address, starting with https://."),
    "role": N_("Choose a role."),
    "reason": N_("Give the provider a reason for the rejection (3 to 2,000 characters)."),
    "expires_in_days": N_("Enter a number of days from 1 to 366."),
    "catalog_id": N_("Choose a control catalog."),
    "catalog_version": N_("Choose a control catalog."),
    "title": N_("Enter a title of at most 200 characters."),
    "summary": N_("Describe what this assessment covers (at most 2,000 characters)."),
    "services": N_("Enter one service per line, each at most 200 characters."),
    "products": N_("Enter one product per line as name | model | version."),
    "sites": N_("Enter one site per line, each at most 200 characters."),
    "status": N_("Choose a status."),
    "narrative": N_("Describe how the control is (or will be) met."),
    "justification": N_("Explain why the control does not apply."),
    "planned_date": N_("Enter the date by which the control will be implemented, after today."),
    "evidence_ids": N_("Choose evidence files attached to this assessment."),
    "invitation": N_("Paste the code from your invitation link (the part after #)."),
    "totp": N_("Enter the 6-digit code from your authenticator app."),
    "confirm": N_("Tick the box to confirm."),
}
DEFAULT_MESSAGE = N_("Check this value.")

# Services' refusals that a page shows as they are: marked here so that `make messages` extracts them.
REFUSALS = (
    N_("an account with this email address already exists"),
    N_("the email address or password is wrong"),
    N_("the one-time code is wrong or has already been used"),
    N_("this invitation link is not valid or has expired"),
    N_("password must be at least 12 characters"),
    N_("password is one of the most common passwords"),
    N_("password must not be the email address"),
    N_("password must not be one character repeated"),
    N_("password must not be a run of consecutive characters or keys"),
    N_("a justification is required for not_applicable"),
    N_("describe how the control is (or will be) met"),
    N_("a planned date is required for planned"),
    N_("a planned date is required for partially_implemented"),
    N_("the planned date must be in the future"),
    N_("a planned date is only for planned or partially_implemented"),
    N_("someone else changed this answer; reload it and apply your change again"),
    N_("only verified organisations can submit; yours is pending"),
    N_("this invitation link is not valid; check that you copied all of it"),
    N_("this invitation has already been used; log in with your email address and password"),
    N_("this invitation has expired; ask your organisation's administrator for a new one"),
)

T = TypeVar("T")


def message_for(field: str) -> str:
    return gettext(FIELD_MESSAGES.get(field, DEFAULT_MESSAGE))


def _field_of(path: str) -> str:
    """The form field a msgspec path names: a list's own name (``scope.products[0].name`` → ``products``),
    else its last part (``organisation.email`` → ``email``)."""
    parts = [part for part in path.split(".") if part]
    for part in parts:
        if "[" in part:
            return part.split("[")[0]
    return parts[-1] if parts else ""


def invalid(exc: msgspec.ValidationError) -> FieldErrors:
    """A schema failure as the field's own message (msgspec reports the first failing field only)."""
    _, _, where = str(exc).partition(" - at `$.")
    field = _field_of(where.rstrip("`"))
    return [{"field": field, "message": message_for(field)}]


def refused(exc: PortalError) -> FieldErrors:
    """A service's refusal, in the page's language: its own words where they are translated, else (on a page
    not in English) the field's message, so no English sentence lands on an Arabic page beside a field."""
    field = str(exc.extra.get("field", ""))
    problems = exc.extra.get("problems")
    pairs = (
        [(str(p.get("field", "")), str(p.get("message", ""))) for p in problems]
        if isinstance(problems, list) and problems and all(isinstance(p, dict) for p in problems)
        else [(field, exc.words)]
    )
    errors = []
    for path, detail in pairs:
        name = _field_of(path)  # "user.password" names the form's "password"
        translated = say(detail)
        if translated == detail and current_language.get() != "en" and name in FIELD_MESSAGES:
            translated = message_for(name)
        errors.append({"field": name, "message": translated})
    return errors


def parse(schema: type[T], data: dict[str, Any]) -> tuple[T | None, FieldErrors]:
    """Validate a posted form with the same msgspec schema the API uses."""
    try:
        return msgspec.convert(data, schema, strict=False), []
    except msgspec.ValidationError as exc:
        return None, invalid(exc)


def error(field: str, message: str) -> FieldErrors:
    """A page's own check on one field (``message`` is an N_-marked English text)."""
    return [{"field": field, "message": gettext(message)}]
