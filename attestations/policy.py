"""Verification policies: what the verifier is told to expect, as explicit objects.

The issuer is never implied. A caller says :class:`ExpectedIssuer` with the issuer URL it trusts, or,
knowingly, :class:`UnsafeAnyIssuer`, which compares nothing, logs a warning each time it is used, and
makes the verifier report the issuer check as ``skipped``. (sigstore-python's ``UnsafeNoOp`` is the model.)
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Literal

from attestations.errors import InvalidInput

__all__ = ["CheckStatus", "ExpectedIssuer", "IssuerPolicy", "UnsafeAnyIssuer"]

logger = logging.getLogger(__name__)

# The outcome of one check of the verifier. A skipped check was not performed; it does not fail the verdict.
CheckStatus = Literal["passed", "failed", "skipped"]


class IssuerPolicy(ABC):
    """Decides whether a token's ``iss`` claim is acceptable."""

    @abstractmethod
    def check(self, iss: str) -> tuple[CheckStatus, str]:
        """The outcome for ``iss`` and the detail the checklist shows."""


@dataclass(frozen=True, slots=True)
class ExpectedIssuer(IssuerPolicy):
    """Accept exactly one issuer, compared as an exact string (no normalisation of the URL)."""

    issuer: str

    def __post_init__(self) -> None:
        if not isinstance(self.issuer, str) or not self.issuer:
            raise InvalidInput(f"the expected issuer is a non-empty string, not {self.issuer!r}")

    def check(self, iss: str) -> tuple[CheckStatus, str]:
        """``passed`` if ``iss`` is the expected issuer, else ``failed``."""
        if iss != self.issuer:
            return "failed", f"iss is {iss!r}, expected {self.issuer!r}"
        return "passed", iss


@dataclass(frozen=True, slots=True)
class UnsafeAnyIssuer(IssuerPolicy):
    """UNSAFE: accept a token from any issuer. The issuer check is reported as skipped, with a warning.

    Any holder of a key in the given JWKS can then issue attestations the verifier accepts; use it only
    when the JWKS itself is the whole statement of trust (and say so to whoever reads the verdict).
    """

    def check(self, iss: str) -> tuple[CheckStatus, str]:
        """Always ``skipped``; logs a warning naming the issuer that was not compared."""
        logger.warning("UnsafeAnyIssuer: the issuer %r was accepted without comparison", iss)
        return "skipped", f"{iss} (not compared: UnsafeAnyIssuer accepts any issuer)"
