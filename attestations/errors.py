"""The one error hierarchy of the attestation library.

Everything the library raises on purpose derives from :class:`AttestationError`, so a caller (the portal,
the CLI) can map the whole family in one place. Verification never returns a bare ``False``: it raises
:class:`VerificationError`, which carries the full checklist that was run.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from attestations.verify import VerificationResult


class AttestationError(Exception):
    """Root of every error raised by ``attestations``."""


class InvalidInput(AttestationError, ValueError):
    """Input that cannot even be parsed: a truncated token, a JWKS with the wrong key type, a bad file."""


class CanonicalisationError(InvalidInput):
    """A document cannot be hashed canonically (for example, it contains a float)."""


class KeyNotFound(AttestationError, LookupError):
    """No key with the requested key id (or no active key for a purpose)."""


class KeyPurposeMismatch(KeyNotFound):
    """The key id is in the JWKS, but the key is published for another purpose (or for none).

    A subclass of :class:`KeyNotFound`: there is no key with that id *for the purpose asked*.
    """


class KeyStoreError(AttestationError):
    """The on-disk key store is missing, inconsistent, or the passphrase does not open it."""


class InvalidProof(AttestationError):
    """A Merkle inclusion or consistency proof does not verify."""


class InvalidSignature(AttestationError):
    """A signature (on a checkpoint or a status list) does not verify."""


class StatusListExpired(InvalidSignature):
    """A signed status list is past its ``exp``: it no longer says anything about any token.

    Under :class:`InvalidSignature` because every failed status list check has always raised that.
    """


class StatusListFull(AttestationError):
    """Every index of a status list is already allocated."""


class VerificationError(AttestationError):
    """An attestation failed verification; ``result`` lists every check run, the failing one last."""

    def __init__(self, result: VerificationResult) -> None:
        self.result = result
        failed = result.failure
        super().__init__(f"{failed.name}: {failed.detail}" if failed else "verification failed")
