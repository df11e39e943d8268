"""The offline verifier CLI: exit codes 0/1/2, human and JSON output, never a traceback on bad input."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from attestation_testdata import ISSUER, NOW, STATUS_URI

from attestations.certificate import CertificateData, render_certificate
from attestations.checkpoint import Checkpoint, sign_checkpoint
from attestations.cli import main
from attestations.keys import SigningKey
from attestations.log_proof import attestation_log_entry, build_log_proof, encode_log_proof, entry_leaf_hash
from attestations.merkle import MerkleTree
from attestations.status_list import StatusList, TokenStatus, sign_status_list

REPO = Path(__file__).resolve().parents[3]


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), out=out, err=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def jwks_file(tmp_path: Path, jwks_document: dict[str, Any]) -> Path:
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps(jwks_document))
    return path


@pytest.fixture
def log_proof(token: str, log_key: SigningKey) -> bytes:
    tree = MerkleTree()
    entry = attestation_log_entry(token, jti="ATT-2026-000042", event="issue", at=NOW)
    tree.append(entry_leaf_hash({"event": "key"}))
    index = tree.append(entry_leaf_hash(entry))
    checkpoint = Checkpoint("portal.example/log", tree.size, tree.root())
    return encode_log_proof(build_log_proof(tree, index, sign_checkpoint(checkpoint, log_key), checkpoint, entry))


@pytest.fixture
def certificate(tmp_path: Path, token: str, log_proof: bytes) -> Path:
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate(CertificateData.from_token(token, log_proof=log_proof)))
    return path


def status_file(tmp_path: Path, status_key: SigningKey, value: int) -> Path:
    status_list = StatusList()
    status_list.set(1234, value)
    path = tmp_path / f"status-{value}.jwt"
    path.write_text(sign_status_list(status_list, status_key, uri=STATUS_URI, iat=NOW, exp=NOW + 3600, ttl=300))
    return path


def test_valid_token_string(token: str, jwks_file: Path) -> None:
    code, out, err = run("verify", token, "--jwks", str(jwks_file), "--issuer", ISSUER, "--now", str(NOW))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == "VALID: attestation ATT-2026-000042"
    assert lines[1] == "   1. [PASS] token format: compact JWS: header, payload and 64-byte signature decode"
    assert [line.split("] ")[1].split(":")[0] for line in lines[1:10]] == [
        "token format",
        "algorithm",
        "key id",
        "signature",
        "type",
        "claims",
        "issuer",
        "not before",
        "expiry",
    ]
    assert lines[7] == "   7. [PASS] issuer: https://portal.example"
    assert lines[10:12] == [
        "  10. [SKIP] status: no status list given: revocation and suspension not checked",
        "  11. [SKIP] log inclusion: no log proof given: inclusion in the transparency log not checked",
    ]
    assert "  provider: Gulf Cloud Services W.L.L. (BH, Cloud service provider)" in lines
    assert err == ""


def test_valid_certificate_pdf_with_attached_proof_and_status(
    certificate: Path, jwks_file: Path, tmp_path: Path, status_key: SigningKey
) -> None:
    status = status_file(tmp_path, status_key, TokenStatus.VALID)
    code, out, _ = run(
        "verify",
        str(certificate),
        "--jwks",
        str(jwks_file),
        "--issuer",
        ISSUER,
        "--status-list",
        str(status),
        "--now",
        str(NOW),
        "--json",
    )
    assert code == 0
    report = json.loads(out)
    assert report["valid"] is True and report["verdict"] == "valid" and report["error"] is None
    assert [c["name"] for c in report["checks"]][-2:] == ["status", "log inclusion"]
    assert [c["step"] for c in report["checks"]] == list(range(1, 12))
    assert {(c["status"], c["ok"]) for c in report["checks"]} == {("passed", True)}
    assert report["skipped"] == []
    assert report["status"] == "valid"
    assert report["claims"]["jti"] == "ATT-2026-000042"


def test_jwt_file_and_separate_proof_file(token: str, jwks_file: Path, tmp_path: Path, log_proof: bytes) -> None:
    (tmp_path / "attestation.jwt").write_text(token + "\n")
    (tmp_path / "log-proof.json").write_bytes(log_proof)
    code, out, _ = run(
        "verify",
        str(tmp_path / "attestation.jwt"),
        "--jwks",
        str(jwks_file),
        "--issuer",
        ISSUER,
        "--checkpoint",
        str(tmp_path / "log-proof.json"),
        "--now",
        str(NOW),
    )
    assert code == 0
    assert "[PASS] log inclusion: entry 1 of 2 in portal.example/log, checkpoint signed" in out


def test_revoked_token_exits_1(token: str, jwks_file: Path, tmp_path: Path, status_key: SigningKey) -> None:
    status = status_file(tmp_path, status_key, TokenStatus.INVALID)
    code, out, _ = run(
        "verify",
        token,
        "--jwks",
        str(jwks_file),
        "--issuer",
        ISSUER,
        "--status-list",
        str(status),
        "--now",
        str(NOW),
        "--json",
    )
    assert code == 1
    report = json.loads(out)
    assert report["valid"] is False and report["verdict"] == "not valid"
    assert report["checks"][-1]["name"] == "status" and report["checks"][-1]["ok"] is False
    assert report["status"] == "revoked"


def test_expired_token_exits_1_with_the_failing_check(token: str, jwks_file: Path) -> None:
    code, out, _ = run(
        "verify", token, "--jwks", str(jwks_file), "--issuer", ISSUER, "--now", str(NOW + 2 * 365 * 86_400)
    )
    assert code == 1
    assert out.splitlines()[0] == "NOT VALID: attestation ATT-2026-000042: expiry"
    assert out.splitlines()[-1].startswith("   9. [FAIL] expiry: expired at 2027-01-01T00:00:00Z")


def test_wrong_issuer_exits_1(token: str, jwks_file: Path) -> None:
    code, out, _ = run("verify", token, "--jwks", str(jwks_file), "--issuer", "https://other.example")
    assert code == 1
    assert "NOT VALID: attestation ATT-2026-000042: issuer" in out


def test_tampered_payload_exits_1(token: str, jwks_file: Path) -> None:
    header, payload, signature = token.split(".")
    tampered = f"{header}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{signature}"
    code, out, _ = run("verify", tampered, "--jwks", str(jwks_file), "--issuer", ISSUER, "--now", str(NOW))
    assert code == 1
    assert out.startswith("NOT VALID: token: signature")


@pytest.mark.parametrize(
    ("make_args", "message"),
    [
        (
            lambda t, j, d: ["verify", t[:-5], "--jwks", j, "--issuer", ISSUER],
            "the token signature has an impossible base64url length",
        ),
        (lambda t, j, d: ["verify", t[:-4], "--jwks", j, "--issuer", ISSUER], "the token signature is 61 bytes"),
        (lambda t, j, d: ["verify", "not-a-token", "--jwks", j, "--issuer", ISSUER], "3 dot-separated parts"),
        (lambda t, j, d: ["verify", str(d / "missing.pdf"), "--jwks", j, "--issuer", ISSUER], "no such file"),
        (lambda t, j, d: ["verify", t, "--jwks", str(d / "nope.json"), "--issuer", ISSUER], "cannot read the JWKS"),
        (lambda t, j, d: ["verify", t], "the following arguments are required: --jwks"),
        (lambda t, j, d: ["frobnicate"], "invalid choice"),
        (lambda t, j, d: [], "required"),
    ],
)
def test_usage_and_input_errors_exit_2(
    make_args: Callable[[str, str, Path], list[str]],
    message: str,
    token: str,
    jwks_file: Path,
    tmp_path: Path,
) -> None:
    code, out, err = run(*make_args(token, str(jwks_file), tmp_path))
    assert code == 2
    assert message in err
    assert "Traceback" not in out + err


def test_pdf_without_attachment_exits_2(token: str, jwks_file: Path, tmp_path: Path) -> None:
    from reportlab.pdfgen.canvas import Canvas

    path = tmp_path / "plain.pdf"
    canvas = Canvas(str(path), invariant=1)
    canvas.drawString(72, 72, "hello")
    canvas.save()
    code, out, err = run("verify", str(path), "--jwks", str(jwks_file), "--issuer", ISSUER, "--json")
    assert code == 2
    assert err == "error: the PDF has no attestation.jwt attachment (attachments: none)\n"
    assert json.loads(out) == {
        "valid": False,
        "verdict": "error",
        "checks": [],
        "error": "the PDF has no attestation.jwt attachment (attachments: none)",
    }


def test_jwks_with_wrong_key_type_exits_2(token: str, tmp_path: Path) -> None:
    path = tmp_path / "rsa.json"
    path.write_text(json.dumps({"keys": [{"kty": "RSA", "n": "AQAB", "e": "AQAB", "kid": "r"}]}))
    code, _, err = run("verify", token, "--jwks", str(path), "--issuer", ISSUER)
    assert code == 2
    assert err == "error: JWKS key #1 has kty='RSA' crv=None: only OKP/Ed25519 keys are accepted\n"


def test_status_list_that_does_not_decode_exits_2(token: str, jwks_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "status.jwt"
    path.write_text(
        "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ4IiwiaWF0IjoxLCJzdGF0dXNfbGlzdCI6eyJiaXRzIjoyLCJsc3QiOiJBQUFBIn19." + "A" * 86
    )
    code, _, err = run("verify", token, "--jwks", str(jwks_file), "--issuer", ISSUER, "--status-list", str(path))
    assert code == 2
    assert err.startswith("error: the status list does not decompress")


def test_binary_file_exits_2(jwks_file: Path, tmp_path: Path) -> None:
    path = tmp_path / "token.jwt"
    path.write_bytes(b"\xff\xfe\x00garbage")
    code, _, err = run("verify", str(path), "--jwks", str(jwks_file), "--issuer", ISSUER)
    assert (code, err) == (2, f"error: the file {path} is not text\n")


def test_help_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["verify", "--help"]) == 0
    assert "TOKEN_OR_FILE" in capsys.readouterr().out


def test_python_dash_m_attestations(certificate: Path, jwks_file: Path) -> None:
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "attestations",
            "verify",
            str(certificate),
            "--jwks",
            str(jwks_file),
            "--issuer",
            ISSUER,
            "--now",
            str(NOW),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        check=False,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("VALID: attestation ATT-2026-000042\n")


def test_hostile_inputs_exit_2_without_a_traceback(tmp_path) -> None:
    """Deeply nested JSON and out-of-range times are input errors, never crashes."""
    import base64

    from attestations.cli import main

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    nested = b"[" * 100_000
    token = f"{b64(nested)}.{b64(b'{}')}.{b64(bytes(64))}"
    jwks = tmp_path / "jwks.json"
    jwks.write_bytes(nested)
    good_jwks = tmp_path / "good.json"
    good_jwks.write_text(
        '{"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}]}'
    )
    out, err = io.StringIO(), io.StringIO()
    assert main(["verify", token, "--jwks", str(good_jwks), "--issuer", ISSUER], out=out, err=err) == 2
    assert "not JSON" in err.getvalue() and "Traceback" not in err.getvalue()
    plain = f"{b64(b'{}')}.{b64(b'{}')}.{b64(bytes(64))}"
    err = io.StringIO()
    assert main(["verify", plain, "--jwks", str(jwks), "--issuer", ISSUER], out=io.StringIO(), err=err) == 2
    assert "JWKS is not JSON" in err.getvalue()


def test_an_issuer_policy_is_required(token: str, jwks_file: Path) -> None:
    code, out, err = run("verify", token, "--jwks", str(jwks_file), "--now", str(NOW))
    assert (code, out) == (2, "")
    assert err == "attestations verify: one of the arguments --issuer --unsafe-any-issuer is required\n"
    code, _, err = run("verify", token, "--jwks", str(jwks_file), "--issuer", ISSUER, "--unsafe-any-issuer")
    assert code == 2
    assert err == "attestations verify: argument --unsafe-any-issuer: not allowed with argument --issuer\n"
    code, _, err = run("verify", token, "--jwks", str(jwks_file), "--issuer", "")
    assert (code, err) == (2, "error: the expected issuer is a non-empty string, not ''\n")


def test_unsafe_any_issuer_is_loud_and_reported_as_skipped(
    token: str, jwks_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    code, out, err = run("verify", token, "--jwks", str(jwks_file), "--unsafe-any-issuer", "--now", str(NOW))
    assert code == 0
    assert err == "warning: --unsafe-any-issuer: the token's issuer is not checked\n"
    lines = out.splitlines()
    assert lines[0] == "VALID: attestation ATT-2026-000042"
    assert lines[7] == "   7. [SKIP] issuer: https://portal.example (not compared: UnsafeAnyIssuer accepts any issuer)"
    assert [r.getMessage() for r in caplog.records] == [
        "UnsafeAnyIssuer: the issuer 'https://portal.example' was accepted without comparison"
    ]


def test_json_report_lists_skipped_checks(token: str, jwks_file: Path) -> None:
    code, out, _ = run("verify", token, "--jwks", str(jwks_file), "--issuer", ISSUER, "--now", str(NOW), "--json")
    assert code == 0
    report = json.loads(out)
    assert report["valid"] is True
    assert report["skipped"] == ["status", "log inclusion"]
    assert [(c["name"], c["status"], c["ok"]) for c in report["checks"][-3:]] == [
        ("expiry", "passed", True),
        ("status", "skipped", True),
        ("log inclusion", "skipped", True),
    ]
