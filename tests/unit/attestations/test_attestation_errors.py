"""The one error hierarchy: everything the library raises on purpose is an AttestationError."""

from __future__ import annotations

import pytest

from attestations import canonical
from attestations.canonical import canonical_json
from attestations.errors import (
    AttestationError,
    CanonicalisationError,
    InvalidInput,
    InvalidSignature,
    KeyNotFound,
    KeyPurposeMismatch,
    StatusListExpired,
)


def test_canonicalisation_error_is_under_the_root_error() -> None:
    assert CanonicalisationError.__mro__[1:4] == (InvalidInput, AttestationError, ValueError)
    # The old import path names the same class.
    assert canonical.CanonicalisationError is CanonicalisationError
    with pytest.raises(CanonicalisationError) as info:
        canonical_json({"a": [1, {"b": 1.5}]})
    assert str(info.value) == "float at .a[1].b: hashed documents use integers or strings"
    assert isinstance(info.value, AttestationError)


def test_status_list_expired_and_purpose_mismatch_have_their_own_types() -> None:
    assert StatusListExpired.__mro__[1:3] == (InvalidSignature, AttestationError)
    assert KeyPurposeMismatch.__mro__[1:4] == (KeyNotFound, AttestationError, LookupError)
