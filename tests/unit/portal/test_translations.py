"""Every Arabic translation keeps its message's placeholders, so formatting a translated refusal never fails."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from portal.errors import Message
from portal.i18n import current_language, say

CATALOG = Path(__file__).parents[3] / "portal" / "locale" / "ar" / "LC_MESSAGES" / "messages.po"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdr]")


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    wrong = [
        message.id
        for message in catalog
        if message.id
        and isinstance(message.id, str)
        and message.string
        and sorted(PLACEHOLDER.findall(message.id)) != sorted(PLACEHOLDER.findall(str(message.string)))
    ]
    assert wrong == []


def test_an_empty_value_is_not_looked_up_and_an_untranslated_template_stays_english() -> None:
    token = current_language.set("ar")
    try:
        said = say(Message("category is one of %(known)s", known=""))
        assert "Project-Id-Version" not in said and said == "الفئة واحدة من: ."
        assert say(Message("no template %(here)s in the catalog", here="x")) == "no template x in the catalog"
    finally:
        current_language.reset(token)
