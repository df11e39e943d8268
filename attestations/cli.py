"""Offline verifier: ``python -m attestations verify TOKEN_OR_FILE --jwks FILE --issuer URL [...]``.

The expected issuer is required: ``--issuer URL``, or ``--unsafe-any-issuer`` to accept any issuer
(reported as a skipped check, with a warning on stderr). Checks not performed (no status list, no log
proof) are printed as ``[SKIP]``.

Exit codes: 0 the attestation is valid, 1 it is not, 2 usage or input error (unreadable file, truncated
token, PDF without attachment, JWKS with a wrong key type, status list or proof that does not decode).
Bad input never ends in a traceback: it is one line on stderr naming the problem.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NoReturn, TextIO

from attestations._jose import parse_compact
from attestations.certificate import PROOF_ATTACHMENT, extract_attachments, extract_token
from attestations.errors import AttestationError, InvalidInput, VerificationError
from attestations.keys import Keyring
from attestations.log_proof import LogProof, decode_log_proof
from attestations.policy import ExpectedIssuer, IssuerPolicy, UnsafeAnyIssuer
from attestations.status_list import parse_status_list_token
from attestations.tokens import claims_to_dict
from attestations.verify import DEFAULT_LEEWAY, VerificationResult, verify_token

EXIT_VALID, EXIT_INVALID, EXIT_USAGE = 0, 1, 2
MAX_INPUT_BYTES = 50 * 1024 * 1024
MARKS = {"passed": "PASS", "failed": "FAIL", "skipped": "SKIP"}


class UsageError(Exception):
    """Bad command line (argparse would otherwise exit the interpreter)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so the portal's CLI can show the same help)."""
    parser = _Parser(prog="attestations", description="Verify provider attestations offline.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    verify = commands.add_parser(
        "verify",
        help="verify a token, a .jwt file or a certificate PDF",
        description="Verify an attestation token, a .jwt file or a certificate PDF against a JWKS.",
    )
    verify.add_argument("subject", metavar="TOKEN_OR_FILE", help="a compact JWS, a .jwt file, a PDF, or -")
    verify.add_argument("--jwks", required=True, type=Path, help="JWKS file with the portal's public keys")
    verify.add_argument("--status-list", type=Path, help="statuslist+jwt file: also check revocation")
    verify.add_argument(
        "--checkpoint",
        "--log-proof",
        dest="log_proof",
        type=Path,
        help="log-proof.json: inclusion proof and signed checkpoint (default: the one attached to a PDF)",
    )
    issuer = verify.add_mutually_exclusive_group(required=True)
    issuer.add_argument("--issuer", metavar="URL", help="expected issuer URL (the iss claim), compared exactly")
    issuer.add_argument(
        "--unsafe-any-issuer",
        action="store_true",
        help="UNSAFE: accept any issuer; the issuer check is reported as skipped",
    )
    verify.add_argument("--now", type=int, help="verify as of this Unix time instead of the clock")
    verify.add_argument("--leeway", type=int, default=DEFAULT_LEEWAY, help="clock leeway in seconds")
    verify.add_argument("--json", action="store_true", help="print the result as JSON")
    return parser


def _read(path: Path, what: str) -> bytes:
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_INPUT_BYTES + 1)
    except OSError as exc:
        raise InvalidInput(f"cannot read the {what} {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_INPUT_BYTES:
        raise InvalidInput(f"the {what} {path} is larger than {MAX_INPUT_BYTES} bytes")
    return data


def _text(data: bytes, what: str) -> str:
    try:
        return data.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the {what} is not text") from exc


def load_subject(subject: str, stdin: TextIO | None = None) -> tuple[str, bytes | None]:
    """The token (and an attached log proof, for a PDF) from a token string, a file path or ``-``."""
    if subject == "-":
        return (stdin or sys.stdin).read().strip(), None
    path = Path(subject)
    # A compact JWS never contains "/" (base64url) and never ends in a short file suffix.
    looks_like_file = path.suffix.lower() in (".jwt", ".jws", ".pdf", ".txt") or "/" in subject
    try:
        is_file = path.is_file()
    except (OSError, ValueError):  # a token is longer than any file name may be
        is_file = False
    if is_file:
        data = _read(path, "file")
        if data.startswith(b"%PDF-"):
            return extract_token(data), extract_attachments(data).get(PROOF_ATTACHMENT)
        return _text(data, f"file {path}"), None
    if looks_like_file:
        raise InvalidInput(f"no such file: {subject}")
    return subject.strip(), None


def _inputs(args: argparse.Namespace, stdin: TextIO | None) -> dict[str, Any]:
    token, attached_proof = load_subject(args.subject, stdin)
    parse_compact(token)  # a malformed token is an input error (exit 2), not a verdict
    jwks = Keyring.from_json(_read(args.jwks, "JWKS"))
    status_list_token = None
    if args.status_list is not None:
        status_list_token = _text(_read(args.status_list, "status list"), "status list")
        parse_status_list_token(status_list_token)
    log_proof: LogProof | None = None
    if args.log_proof is not None:
        log_proof = decode_log_proof(_read(args.log_proof, "log proof"))
    elif attached_proof is not None:
        log_proof = decode_log_proof(attached_proof)
    return {"token": token, "jwks": jwks, "status_list_token": status_list_token, "log_proof": log_proof}


def _report(result: VerificationResult, *, as_json: bool, out: TextIO) -> None:
    valid = result.ok
    if as_json:
        document = {
            "valid": valid,
            "verdict": "valid" if valid else "not valid",
            "checks": [
                {"step": n, "name": c.name, "status": c.status, "ok": c.ok, "detail": c.detail}
                for n, c in enumerate(result.checks, start=1)
            ],
            "skipped": [c.name for c in result.skipped],
            "status": result.status,
            "claims": claims_to_dict(result.claims) if result.claims else None,
            "error": None,
        }
        out.write(json.dumps(document, indent=2, ensure_ascii=False) + "\n")
        return
    claims = result.claims
    serial = f"attestation {claims.jti}" if claims else "token"
    if valid:
        out.write(f"VALID: {serial}\n")
    else:
        failed = result.failure
        out.write(f"NOT VALID: {serial}: {failed.name if failed else 'no check ran'}\n")
    for number, check in enumerate(result.checks, start=1):
        out.write(f"  {number:>2}. [{MARKS[check.status]}] {check.name}: {check.detail}\n")
    if claims and valid:
        att = claims.att
        out.write(
            f"  provider: {att.provider.name} ({att.provider.country}, {att.provider.category})\n"
            f"  level: {att.level}; catalogue {att.catalog.id} {att.catalog.version}\n"
        )


def issuer_policy(args: argparse.Namespace, err: TextIO) -> IssuerPolicy:
    """``--issuer URL`` or, said out loud, ``--unsafe-any-issuer`` (argparse requires one of them)."""
    if args.unsafe_any_issuer:
        err.write("warning: --unsafe-any-issuer: the token's issuer is not checked\n")
        return UnsafeAnyIssuer()
    return ExpectedIssuer(args.issuer)


def verify_command(args: argparse.Namespace, *, out: TextIO, err: TextIO, stdin: TextIO | None = None) -> int:
    """Run ``verify`` on parsed arguments; returns the exit code."""
    try:
        issuer = issuer_policy(args, err)
        inputs = _inputs(args, stdin)
    except (AttestationError, OSError, ValueError) as exc:
        if args.json:
            document = {"valid": False, "verdict": "error", "checks": [], "error": str(exc)}
            out.write(json.dumps(document, indent=2) + "\n")
        err.write(f"error: {exc}\n")
        return EXIT_USAGE
    try:
        result = verify_token(
            inputs["token"],
            inputs["jwks"],
            issuer=issuer,
            now=args.now,
            leeway=args.leeway,
            status_list_token=inputs["status_list_token"],
            log_proof=inputs["log_proof"],
        )
    except VerificationError as exc:
        _report(exc.result, as_json=args.json, out=out)
        return EXIT_INVALID
    except (AttestationError, RecursionError, OverflowError, ValueError) as exc:
        err.write(f"error: the input cannot be verified: {exc.__class__.__name__}: {exc}\n")
        return EXIT_USAGE
    _report(result, as_json=args.json, out=out)
    return EXIT_VALID


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None, err: TextIO | None = None) -> int:
    """Entry point; ``argv`` defaults to ``sys.argv[1:]``. Returns the exit code (0, 1 or 2)."""
    stdout = out or sys.stdout
    stderr = err or sys.stderr
    for stream in (stdout, stderr):
        # A provider name with non-ASCII letters must not crash a verifier on an ASCII terminal.
        if isinstance(stream, type(sys.stdout)) and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    try:
        args = build_parser().parse_args(list(sys.argv[1:] if argv is None else argv))
    except UsageError as exc:
        stderr.write(f"{exc}\n")
        return EXIT_USAGE
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    return verify_command(args, out=stdout, err=stderr)
