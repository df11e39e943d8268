"""A small catalog in TOML and helpers shared by the controls tests."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest

from controls import Catalog, decode_catalog

REPO = Path(__file__).resolve().parents[3]
SHARED = REPO / ".." / "shared"
OSCAL_DIR = SHARED / "data" / "oscal"
SEEDS_DIR = SHARED / "seeds"

OSCAL_FILES = {
    "basic": "basic-catalog.json",
    "low": "NIST_SP-800-53_rev5_LOW-baseline-resolved-profile_catalog.json",
    "privacy": "NIST_SP-800-53_rev5_PRIVACY-baseline-resolved-profile_catalog.json",
}

SMALL_TOML = """\
id = "test-catalog"
version = "1.0.0"
title = "Test catalog"
description = "A small catalog for tests."
published = 2025-01-31

[[source_documents]]
id = "seed"
title = "The seed document"

[[families]]
id = "AAA"
title = "First family"
pillar = "security"

[[families]]
id = "BBB"
title = "Second family"
pillar = "privacy"

[[controls]]
id = "AAA-01"
family = "AAA"
pillar = "security"
title = "First control"
statement = \"\"\"\\
The provider does the first thing \\
every day.\"\"\"
guidance = "How to do the first thing."
categories = ["telecom_operator", "cloud_hosting"]
evidence_expected = ["A policy document"]
mappings = [{ framework = "iso27001_2022", ref = "A.5.1", title = "Policies for information security" }]
sources = [{ document = "seed", paragraph = "1", excerpt = "do the first thing" }]

[[controls]]
id = "BBB-01"
family = "BBB"
pillar = "privacy"
title = "Second control"
statement = "The provider records consent per purpose."
guidance = "Keep the records."
categories = ["digital_platform"]
evidence_expected = ["Consent records"]
mappings = [{ framework = "gdpr", ref = "Art. 7(1)" }]
sources = [{ document = "seed", paragraph = "2" }]

[[controls]]
id = "BBB-01.1"
family = "BBB"
pillar = "privacy"
title = "Enhancement of the second control"
statement = "The records show the notice version."
guidance = "Store the version."
categories = ["digital_platform", "software_producer"]
evidence_expected = ["A sample record"]
mappings = [{ framework = "gdpr", ref = "Art. 5(2)" }]
sources = [{ document = "seed", paragraph = "2" }]
parent = "BBB-01"
"""

SOURCE = "test.toml"


def small_dict() -> dict[str, Any]:
    """The small catalog as a plain document, for tests that break one value of it."""
    document = tomllib.loads(SMALL_TOML)
    document["published"] = document["published"].isoformat()
    return copy.deepcopy(document)


def decode_json_document(document: dict[str, Any], *, complete: bool = True) -> Catalog:
    return decode_catalog(json.dumps(document).encode(), source=SOURCE, format="json", complete=complete)


def small_catalog() -> Catalog:
    return decode_catalog(SMALL_TOML.encode(), source=SOURCE, format="toml")


def oscal_path(name: str) -> Path:
    """The shared NIST OSCAL sample ``name``; skip the test when the shared data is not there."""
    path = OSCAL_DIR / OSCAL_FILES[name]
    if not path.is_file():
        pytest.skip("../shared/data/oscal not found: the NIST OSCAL samples live outside the repo")
    return path
