"""Translation layer: Babel message catalogs (portal/locale/<lang>/LC_MESSAGES/messages.po) behind Jinja's i18n.

Catalogs are compiled from the .po text at start-up, so the repository carries no binary .mo files.
The language comes from ?lang=, then the `lang` cookie, then Accept-Language; English is the default.
"""

from __future__ import annotations

import contextvars
import functools
import io
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LANGUAGES = {"en": ("English", "ltr"), "ar": ("العربية", "rtl")}
DEFAULT = "en"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar("current_language", default=DEFAULT)


@functools.cache
def translations(language: str) -> NullTranslations:
    po = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    with po.open("rb") as handle:
        catalog = read_po(handle, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def say(text: str) -> str:
    """A service's words in the current language: a ``portal.errors.Message`` by its template, its values (a
    state, a verdict) translated where they are words of the catalog; other text by gettext as it is."""
    template = getattr(text, "template", None)
    if template is None:
        return gettext(text)
    # Only non-empty words: gettext("") is the catalog's header, not a translation.
    values = {k: gettext(v) if isinstance(v, str) and v else v for k, v in getattr(text, "values", {}).items()}
    try:
        return gettext(template) % values
    except (KeyError, ValueError, TypeError):  # a translation whose placeholders do not match: say it in English
        return str(text)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def choose_language(query: str | None, cookie: str | None, accept: str | None) -> str:
    for candidate in (query, cookie):
        if candidate in LANGUAGES:
            return candidate
    for part in (accept or "").split(","):
        code = part.split(";")[0].strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return DEFAULT


def direction(language: str) -> str:
    return LANGUAGES.get(language, LANGUAGES[DEFAULT])[1]


def install(environment: Any) -> None:
    """Give a Jinja environment the i18n extension bound to the per-request language."""
    environment.add_extension("jinja2.ext.i18n")
    environment.install_gettext_callables(gettext, ngettext, newstyle=True)
