"""Reading and writing catalog data files (TOML for authoring, JSON for exchange).

Every failure — unreadable file, syntax error, wrong type, broken catalog rule — is a ``CatalogError``
naming the file, the place inside it and the problem.
"""

from __future__ import annotations

import functools
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

import msgspec

from controls.errors import CatalogError
from controls.models import Catalog, Framework, Pillar, ProviderCategory
from controls.translation import TranslationFile, apply_translation
from controls.validation import in_canonical_order, validate_catalog

__all__ = [
    "BUILTIN_CATALOG_DIR",
    "CatalogFormat",
    "baseline_catalog",
    "builtin_catalog_paths",
    "decode_catalog",
    "encode_catalog",
    "load_catalog",
    "translation_paths",
]

CatalogFormat = Literal["toml", "json"]

#: Where the built-in catalogs live (shipped as package data).
BUILTIN_CATALOG_DIR = Path(__file__).resolve().parent / "catalogs"
_BASELINE = "baseline.toml"

_AT_PATH = re.compile(r"^(?P<problem>.*?) - at `(?P<path>\$[^`]*)`$", re.DOTALL)
_MISSING = re.compile(r"^Object missing required field `(?P<field>[^`]+)`$")
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<field>[^`]+)`$")
_BAD_ENUM = re.compile(r"^Invalid enum value (?P<value>.+)$")
_TOML_LOCATION = re.compile(r"^(?P<problem>.*) \(at (?P<where>line \d+, column \d+|end of document)\)$")

_ENUM_BY_FIELD: dict[str, tuple[str, list[str]]] = {
    "categories": ("provider category", [member.value for member in ProviderCategory]),
    "pillar": ("pillar", [member.value for member in Pillar]),
    "framework": ("framework", [member.value for member in Framework]),
}


def _translate_validation_error(error: msgspec.ValidationError, source: str) -> CatalogError:
    """Turn msgspec's ``"<problem> - at `$.x[1]`"`` into a ``CatalogError`` with a separate path."""
    message = str(error)
    path = "$"
    match = _AT_PATH.match(message)
    if match:
        message, path = match["problem"], match["path"]
    if missing := _MISSING.match(message):
        return CatalogError("missing required field", source=source, path=f"{path}.{missing['field']}")
    if unknown := _UNKNOWN.match(message):
        return CatalogError("unknown field", source=source, path=f"{path}.{unknown['field']}")
    if bad := _BAD_ENUM.match(message):
        field = re.sub(r"\[\d+\]$", "", path).rsplit(".", 1)[-1]
        what, known = _ENUM_BY_FIELD.get(field, ("value", []))
        listing = f" (known: {', '.join(known)})" if known else ""
        return CatalogError(f"unknown {what} {bad['value']}{listing}", source=source, path=path)
    problem = message[:1].lower() + message[1:]
    return CatalogError(problem, source=source, path=path)


def _parse_toml(data: bytes, source: str) -> Any:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CatalogError(f"not UTF-8 text: {exc.reason}", source=source, path=f"byte {exc.start}") from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        located = _TOML_LOCATION.match(str(exc))
        if located:
            raise CatalogError(f"invalid TOML: {located['problem']}", source=source, path=located["where"]) from exc
        raise CatalogError(f"invalid TOML: {exc}", source=source) from exc


def decode_catalog(
    data: bytes,
    *,
    source: str,
    format: CatalogFormat,
    complete: bool = True,
) -> Catalog:
    """Decode and validate a catalog from ``data`` in ``format`` (``"toml"`` or ``"json"``).

    ``source`` names the origin (usually the file path) in error messages. ``complete`` applies the rules of
    an authored catalog (see ``validate_catalog``). The returned catalog has its controls in canonical
    order: family by family in the order of ``families``, each control followed by its children.
    Raises ``CatalogError`` for any problem.
    """
    if format not in ("toml", "json"):
        raise CatalogError(f"unknown catalog format {format!r} (expected 'toml' or 'json')", source=source)
    try:
        if format == "toml":
            catalog = msgspec.convert(_parse_toml(data, source), Catalog)
        else:
            catalog = msgspec.json.decode(data, type=Catalog)
    except msgspec.ValidationError as exc:
        raise _translate_validation_error(exc, source) from exc
    except msgspec.DecodeError as exc:
        raise CatalogError(f"invalid JSON: {exc}", source=source) from exc
    validate_catalog(catalog, source=source, complete=complete)
    return in_canonical_order(catalog)


def translation_paths(path: Path) -> list[Path]:
    """The translation files of the catalog file ``path``: ``<stem>.<language>.toml`` beside it, by name."""
    return sorted(path.parent.glob(f"{path.stem}.*.toml"))


def _read_translation(file: Path) -> TranslationFile:
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read file: {exc.strerror or exc}", source=str(file)) from exc
    try:
        return msgspec.convert(_parse_toml(data, str(file)), TranslationFile)
    except msgspec.ValidationError as exc:
        raise _translate_validation_error(exc, str(file)) from exc


def load_catalog(path: str | Path, *, complete: bool = True) -> Catalog:
    """Read and validate the catalog file at ``path``; the format follows the suffix (``.toml`` or ``.json``).

    A TOML catalog's translation files (``<stem>.<language>.toml`` beside it, see ``controls.translation``)
    are merged in and checked with it. Raises ``CatalogError`` (with the file as ``source``) if it cannot be
    read or is not a valid catalog.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise CatalogError(f"unsupported file type {suffix or '(none)'!r}: use .toml or .json", source=str(file))
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise CatalogError(f"cannot read file: {exc.strerror or exc}", source=str(file)) from exc
    fmt: CatalogFormat = "toml" if suffix == ".toml" else "json"
    catalog = decode_catalog(data, source=str(file), format=fmt, complete=complete)
    translations = translation_paths(file) if fmt == "toml" else []
    for translated in translations:
        catalog = apply_translation(catalog, _read_translation(translated), source=str(translated))
    if translations:
        validate_catalog(catalog, source=str(translations[-1]), complete=complete)
    return catalog


def encode_catalog(catalog: Catalog) -> bytes:
    """Encode ``catalog`` as indented JSON (the native exchange format), ending with a newline.

    ``decode_catalog(encode_catalog(c), format="json", ...)`` gives back an equal catalog.
    """
    return msgspec.json.format(msgspec.json.encode(catalog), indent=2) + b"\n"


def builtin_catalog_paths() -> list[Path]:
    """The data files of the catalogs shipped with the library, sorted by name."""
    # ``baseline.ar.toml`` is a translation of ``baseline.toml``, not a catalog of its own.
    return sorted(
        path for path in BUILTIN_CATALOG_DIR.iterdir() if path.suffix in (".toml", ".json") and "." not in path.stem
    )


@functools.cache
def baseline_catalog() -> Catalog:
    """The built-in baseline catalog (``ppa-baseline``), loaded and validated once per process.

    The returned object is shared: treat it as read-only.
    """
    return load_catalog(BUILTIN_CATALOG_DIR / _BASELINE)
