"""The registry's read-model row, built from an attestation by one pure function (the bench seeder uses it too).

Only what is public goes in: the provider's identity, the attested scope, catalog, level, per-family results,
dates and status. Never answers, narratives, evidence, findings, comments or people's names.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import unicodedata
import uuid
from typing import Any

import msgspec

# Arabic letters written several ways are searched as one: alef forms, teh marbuta, alef maksura.
_ARABIC_FOLD = str.maketrans({"أ": "ا", "إ": "ا", "آ": "ا", "ٱ": "ا", "ة": "ه", "ى": "ي", "ـ": None})
_SEPARATORS = re.compile(r"[^\w\-./]+|_+")


def normalise(text: str) -> str:
    """Lower-cased, accents and Arabic diacritics removed, punctuation to single spaces.

    The same function prepares the stored search text and every query, so they meet; ``%`` and ``_`` never
    survive it, so a query term is safe inside a LIKE pattern.
    """
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c)).translate(_ARABIC_FOLD)
    return " ".join(_SEPARATORS.sub(" ", bare).split())


def terms(query: str) -> list[str]:
    """The words of a query; a registry entry matches when its serial or its search text contains every one."""
    return normalise(query).split()[:8]


# What ``normalise`` makes of any serial ``PA-<year>-<6 digits>`` (``issuance.rules.SERIAL_FORM``) is drawn from
# these; a term with any other character is in no serial, so a search need not look there.
SERIAL_CHARACTERS = frozenset("pa-0123456789")


def may_be_in_serial(term: str) -> bool:
    return set(term) <= SERIAL_CHARACTERS


class RegistryRow(msgspec.Struct, kw_only=True):
    """One ``registry_entry`` row, column for column (``RegistryEntry(**msgspec.structs.asdict(row))``)."""

    serial: str
    organisation: uuid.UUID
    status: str
    level: str
    provider_name: str
    provider_name_ar: str
    legal_name: str
    registration_number: str
    category: str
    country: str
    catalog_id: str
    catalog_version: str
    document: dict[str, Any]
    text: uuid.UUID  # the ``registry_text`` row: search text, category and country (``text_key``)
    sort_name: str
    valid_from: dt.datetime
    expires_at: dt.datetime
    superseded_by: str | None
    updated_at: dt.datetime


def public_document(document: dict[str, Any], *, name_ar: str) -> dict[str, Any]:
    """The public part of an attestation's document, with the provider's Arabic name."""
    provider = document["provider"]
    scope = document.get("scope", {})
    return {
        "provider": {
            "name": provider["name"],
            "name_ar": name_ar,
            "legal_name": provider.get("legal_name", ""),
            "category": provider.get("category", ""),
            "country": provider.get("country", ""),
            "registration": provider.get("registration", ""),
        },
        "scope": {
            "summary": scope.get("summary", ""),
            "services": list(scope.get("services", [])),
            "products": [
                {"name": p.get("name", ""), "model": p.get("model", ""), "version": p.get("version", "")}
                for p in scope.get("products", [])
            ],
            "sites": list(scope.get("sites", [])),
        },
        "catalog": {"id": document["catalog"]["id"], "version": document["catalog"]["version"]},
        "level": document.get("level", ""),
        "result": document.get("result", {}),
    }


def search_text(public: dict[str, Any]) -> str:
    """What a query matches besides the serial: the provider's names and registration, the scope's services and
    products. Many attestations share one (a provider's renewals), so it is stored once, with the provider's
    category and country, in ``registry_text``."""
    provider, scope = public["provider"], public["scope"]
    words = [
        provider["name"],
        provider["name_ar"],
        provider["legal_name"],
        provider["registration"],
        *scope["services"],
        *(f"{p['name']} {p['model']} {p['version']}" for p in scope["products"]),
    ]
    return normalise(" | ".join(w for w in words if w))


def text_key(text: str, *, category: str, country: str) -> uuid.UUID:
    """The id of a provider's searchable profile (its search text, category and country): the first 128 bits of
    its SHA-256, so equal profiles share a row without a lookup."""
    return uuid.UUID(bytes=hashlib.sha256(f"{category}\n{country}\n{text}".encode()).digest()[:16])


def registry_row(
    *,
    serial: str,
    organisation: uuid.UUID,
    document: dict[str, Any],
    name_ar: str,
    status: str,
    level: str,
    valid_from: dt.datetime,
    expires_at: dt.datetime,
    superseded_by: str | None,
    updated_at: dt.datetime,
) -> RegistryRow:
    """The row for one attestation: its stored public ``document`` (``attestation.document``), its lifecycle
    columns and the organisation's Arabic name. Pure: build many, then insert them in one statement."""
    public = public_document(document, name_ar=name_ar)
    provider = public["provider"]
    return RegistryRow(
        serial=serial,
        organisation=organisation,
        status=status,
        level=level,
        provider_name=provider["name"],
        provider_name_ar=name_ar,
        legal_name=provider["legal_name"],
        registration_number=provider["registration"],
        category=provider["category"],
        country=provider["country"],
        catalog_id=public["catalog"]["id"],
        catalog_version=public["catalog"]["version"],
        document=public,
        text=text_key(search_text(public), category=provider["category"], country=provider["country"]),
        sort_name=normalise(provider["name"])[:200],
        valid_from=valid_from,
        expires_at=expires_at,
        superseded_by=superseded_by,
        updated_at=updated_at,
    )
