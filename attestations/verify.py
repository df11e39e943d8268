"""Verify an attestation token: a numbered checklist, every step recorded.

The checklist, in order:

1. token format      three base64url parts, a JSON header, a 64-byte signature
2. algorithm         the header says EdDSA; the algorithm is pinned here, never taken from the token
3. key id            the header ``kid`` is in the given JWKS *as an attestation key* (a status list or
                     log key, or a key with no purpose, is refused); ``jku``/``jwk``/``x5u``/``x5c`` are
                     ignored
4. signature         Ed25519 over ``header.payload`` with that key
5. type              ``typ`` is ``attestation+jwt`` and no ``crit`` extension is demanded
6. claims            iss, sub, jti, iat, nbf, exp, status and att present and well typed
7. issuer            ``iss`` satisfies the issuer policy (:class:`ExpectedIssuer`); skipped, with a
                     warning, under :class:`UnsafeAnyIssuer`
8. not before        ``nbf`` (and ``iat``) not in the future, with leeway
9. expiry            ``exp`` not passed, with leeway
10. status           the signed status list (signed by a *status* key) says "valid" at the token's
                     index; skipped when no status list is given
11. log inclusion    the log proof's checkpoint is signed by a *log* key and includes this token;
                     skipped when no log proof is given

Steps 1-5 are :func:`attestations._jose.verify_compact`, the same code that checks a status list.
Every check is recorded as ``passed``, ``failed`` or ``skipped``; a skipped check does not fail the
verdict, but it is listed, so a reader sees what was not checked. The first failing step raises
:class:`VerificationError` carrying the result so far.
"""

from __future__ import annotations

import time
from datetime import datetime

import msgspec

from attestations._jose import UNTRUSTED_KEY_HEADERS, parse_compact, verify_compact
from attestations.checkpoint import Checkpoint
from attestations.errors import AttestationError, InvalidInput, VerificationError
from attestations.keys import KeyPurpose, Keyring
from attestations.log_proof import LogProof, verify_log_proof
from attestations.policy import CheckStatus, ExpectedIssuer, IssuerPolicy, UnsafeAnyIssuer
from attestations.status_list import TokenStatus, decode_status_list_token
from attestations.tokens import TOKEN_TYPE, AttestationClaims, decode_claims

__all__ = [
    "DEFAULT_LEEWAY",
    "UNTRUSTED_KEY_HEADERS",
    "Check",
    "CheckStatus",
    "ExpectedIssuer",
    "IssuerPolicy",
    "UnsafeAnyIssuer",
    "VerificationResult",
    "verify_token",
]

DEFAULT_LEEWAY = 60


class Check(msgspec.Struct, frozen=True):
    """One step of the checklist: ``passed``, ``failed``, or ``skipped`` (not performed)."""

    name: str
    status: CheckStatus
    detail: str

    @property
    def ok(self) -> bool:
        """False only for a failed check: a skipped check does not fail the verdict."""
        return self.status != "failed"


class VerificationResult(msgspec.Struct):
    """Every check run, and what was learnt on the way."""

    checks: list[Check] = msgspec.field(default_factory=list)
    header: dict[str, object] | None = None
    claims: AttestationClaims | None = None
    status: str | None = None
    checkpoint: Checkpoint | None = None

    @property
    def ok(self) -> bool:
        """True when at least one check passed and none failed."""
        return any(c.status == "passed" for c in self.checks) and all(c.ok for c in self.checks)

    @property
    def skipped(self) -> list[Check]:
        """The checks not performed (no status list, no log proof, any issuer accepted)."""
        return [check for check in self.checks if check.status == "skipped"]

    @property
    def failure(self) -> Check | None:
        """The failing check, if any."""
        return next((check for check in self.checks if not check.ok), None)


class _Checklist:
    def __init__(self) -> None:
        self.result = VerificationResult()

    def add(self, name: str, status: CheckStatus, detail: str) -> None:
        self.result.checks.append(Check(name, status, detail))

    def record(self, name: str, ok: bool, detail: str) -> None:
        """The recorder handed to :func:`verify_compact`."""
        self.add(name, "passed" if ok else "failed", detail)

    def passed(self, name: str, detail: str) -> None:
        self.add(name, "passed", detail)

    def skipped(self, name: str, detail: str) -> None:
        self.add(name, "skipped", detail)

    def failed(self, name: str, detail: str) -> VerificationError:
        self.add(name, "failed", detail)
        return VerificationError(self.result)


def _epoch(value: int | datetime | None) -> int:
    if value is None:
        return int(time.time())
    if isinstance(value, datetime):
        return int(value.timestamp())
    return value


def verify_token(
    token: str,
    jwks: Keyring,
    *,
    issuer: IssuerPolicy,
    now: int | datetime | None = None,
    leeway: int = DEFAULT_LEEWAY,
    status_list_token: str | None = None,
    status_jwks: Keyring | None = None,
    log_proof: LogProof | None = None,
    log_jwks: Keyring | None = None,
) -> VerificationResult:
    """Run the checklist on ``token``; return the result, or raise :class:`VerificationError`.

    ``issuer`` is required and is a policy: ``ExpectedIssuer("https://...")``, or ``UnsafeAnyIssuer()``
    to accept any issuer (the check is then skipped and a warning logged). Without ``status_list_token``
    or ``log_proof`` those checks are reported as skipped. ``status_jwks`` and ``log_jwks`` default to
    ``jwks``; in any case only a status key may sign the list and only a log key the checkpoint.
    """
    if not isinstance(issuer, IssuerPolicy):
        raise TypeError(
            f"issuer must be ExpectedIssuer(url) or UnsafeAnyIssuer(), not {type(issuer).__name__}: "
            "there is no implicit 'any issuer'"
        )
    checks = _Checklist()
    current = _epoch(now)

    # 1-5. token format, algorithm, key id (an attestation key), signature, type
    try:
        jws = verify_compact(token, jwks, purpose=KeyPurpose.ATTESTATION, typ=TOKEN_TYPE, record=checks.record)
    except AttestationError:
        if len(checks.result.checks) > 1:  # the token parsed: keep its (unverified) header for the report
            checks.result.header = dict(parse_compact(token).header)
        raise VerificationError(checks.result) from None
    checks.result.header = dict(jws.header)

    # 6. claims
    try:
        claims: AttestationClaims = decode_claims(jws.payload)
    except InvalidInput as exc:
        raise checks.failed("claims", str(exc)) from None
    checks.result.claims = claims
    checks.passed("claims", f"required claims present; serial {claims.jti}, subject {claims.sub}")

    # 7. issuer
    outcome, detail = issuer.check(claims.iss)
    if outcome == "failed":
        raise checks.failed("issuer", detail)
    checks.add("issuer", outcome, detail)

    # 8. not before
    not_before = max(claims.nbf, claims.iat)
    if current + leeway < not_before:
        raise checks.failed("not before", f"not valid before {_iso(not_before)} (now {_iso(current)})")
    checks.passed("not before", f"valid from {_iso(claims.nbf)}")

    # 9. expiry
    if current >= claims.exp + leeway:
        raise checks.failed("expiry", f"expired at {_iso(claims.exp)} (now {_iso(current)})")
    checks.passed("expiry", f"valid until {_iso(claims.exp)}")

    # 10. status
    if status_list_token is None:
        checks.skipped("status", "no status list given: revocation and suspension not checked")
    else:
        reference = claims.status.status_list
        try:
            status_token = decode_status_list_token(
                status_list_token, status_jwks or jwks, uri=reference.uri, now=current, leeway=leeway
            )
            value = status_token.status_list.get(reference.idx)
        except AttestationError as exc:
            raise checks.failed("status", f"the status list cannot be used: {exc}") from None
        try:
            label = TokenStatus(value).label
        except ValueError:
            label = f"unknown status {value}"
        checks.result.status = label
        where = f"index {reference.idx} of {reference.uri}, list issued {_iso(status_token.claims.iat)}"
        if value != TokenStatus.VALID:
            raise checks.failed("status", f"{label}: {where}")
        checks.passed("status", f"valid: {where}")

    # 11. log inclusion
    if log_proof is None:
        checks.skipped("log inclusion", "no log proof given: inclusion in the transparency log not checked")
    else:
        try:
            checkpoint = verify_log_proof(log_proof, log_jwks or jwks, token=token.strip())
        except AttestationError as exc:
            raise checks.failed("log inclusion", str(exc)) from None
        checks.result.checkpoint = checkpoint
        checks.passed(
            "log inclusion",
            f"entry {log_proof.leaf_index} of {checkpoint.size} in {checkpoint.origin}, checkpoint signed",
        )

    return checks.result


def _iso(epoch: int) -> str:
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))
    except (OverflowError, OSError, ValueError):  # a time no calendar can show is still reported, not a crash
        return f"{epoch} (seconds since 1970, out of range)"
