"""Certificate PDF: one A4 page, deterministic bytes, Arabic shaped, token and proof attached."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zlib
from pathlib import Path

import msgspec
import pytest
from pypdf import PdfReader
from reportlab.pdfgen.canvas import Canvas

from attestations.certificate import (
    LABELS,
    CertificateData,
    FamilyResult,
    extract_attachments,
    extract_log_proof,
    extract_token,
    render_certificate,
    shape_arabic,
)
from attestations.errors import InvalidInput

PROVIDER_AR = "خدمات الخليج السحابية"


@pytest.fixture
def data(token: str) -> CertificateData:
    return CertificateData.from_token(token, provider_name_ar=PROVIDER_AR, log_proof=b'{"version": 1}')


@pytest.fixture
def pdf(data: CertificateData) -> bytes:
    return render_certificate(data)


def test_same_input_gives_the_same_bytes(data: CertificateData, pdf: bytes) -> None:
    assert render_certificate(data) == pdf
    assert render_certificate(msgspec.structs.replace(data, serial="ATT-2026-000043")) != pdf


def test_one_a4_page_with_metadata_from_the_attestation(pdf: bytes) -> None:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    box = reader.pages[0].mediabox
    assert (round(float(box.width)), round(float(box.height))) == (595, 842)
    assert reader.metadata is not None
    assert reader.metadata.title == "Attestation ATT-2026-000042"
    assert reader.metadata["/CreationDate"] == "D:20260101000000+00'00'"


def test_token_and_log_proof_are_attached(pdf: bytes, token: str) -> None:
    assert extract_token(pdf) == token
    assert extract_log_proof(pdf) == b'{"version": 1}'
    assert sorted(extract_attachments(pdf)) == ["attestation.jwt", "log-proof.json"]


def test_certificate_without_proof_has_only_the_token(data: CertificateData, token: str) -> None:
    pdf = render_certificate(msgspec.structs.replace(data, log_proof=None))
    assert extract_attachments(pdf) == {"attestation.jwt": token.encode()}
    assert extract_log_proof(pdf) is None


def test_page_text_has_the_facts(pdf: bytes, data: CertificateData) -> None:
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for fact in (
        "Gulf Cloud Services W.L.L.",
        "CR-123456",
        "Cloud service provider",
        "BH",
        "CSP-BASELINE version 2025.1",
        "Level 2",
        "2026-01-01 to 2027-01-01",
        "ATT-2026-000042",
        data.key_id,
        "https://portal.example/attestations/ATT-2026-000042",
        "Remediate the penetration test findings (due 2026-06-30)",
    ):
        assert fact in text, fact


def test_results_per_family_category_and_level_are_printed_in_words(token: str) -> None:
    data = CertificateData.from_token(
        token,
        category=("Cloud and hosting provider", "مزوّد خدمات سحابية واستضافة"),
        family_titles={"AC": "Access control"},
    )
    assert data.results == (
        FamilyResult(
            family="AC",
            title="Access control",
            counts={"controls": 12, "implemented": 11, "partial": 1},
        ),
    )
    text = (
        PdfReader(io.BytesIO(render_certificate(msgspec.structs.replace(data, level="conditional"))))
        .pages[0]
        .extract_text()
    )
    assert "Cloud and hosting provider" in text
    # family, title, then the counts per column (controls, implemented; "partial" is not one of the columns)
    assert "AC\nAccess control\n12\n11\n–\n–\n–\n–\n" in text
    assert "Conditional" in text and "Result per control family" in text
    for arabic in ("مزوّد خدمات سحابية واستضافة", "مشروطة"):
        assert shape_arabic(arabic) in text or shape_arabic(arabic)[::-1] in text, arabic


def test_conditions_that_do_not_fit_say_how_many_more_there_are(data: CertificateData) -> None:
    many = tuple(f"Condition number {n} with a long description of what the provider must still do" for n in range(40))
    text = (
        PdfReader(io.BytesIO(render_certificate(msgspec.structs.replace(data, conditions=many))))
        .pages[0]
        .extract_text()
    )
    assert "1. Condition number 0" in text
    shown = [n for n in range(40) if f"{n + 1}. Condition number {n} " in text]
    assert shown == list(range(len(shown))) and 5 <= len(shown) < 40
    assert f"… and {40 - len(shown)} more: see the attestation page (scan the code)." in text


def test_arabic_is_shaped_right_to_left_with_harakat_kept() -> None:
    # "مزوّد" (provider) in visual order: isolated dal with its shadda, isolated waw, final zain, initial meem.
    shaped = shape_arabic("مزوّد")
    assert "\u0651" in shaped  # the shadda survives shaping
    assert shaped == "\ufea9\u0651\ufeed\ufeb0\ufee3"  # dal, shadda, waw, final zain, initial meem
    assert all(not "\u0621" <= c <= "\u064a" for c in shaped)  # only presentation forms remain


def _content_stream(pdf: bytes) -> bytes:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    contents = page.get_contents()
    assert contents is not None
    return contents.get_data()


def test_arabic_glyphs_are_in_the_page(pdf: bytes) -> None:
    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    for label in ("provider", "validity", "results"):
        shaped = shape_arabic(LABELS[label][1])
        # Extraction returns the glyphs as drawn; the visual string or its reverse must be present.
        assert shaped in text or shaped[::-1] in text, label
    assert shape_arabic(PROVIDER_AR) in text or shape_arabic(PROVIDER_AR)[::-1] in text
    assert b"Amiri" in pdf  # the bundled font is embedded, no system font needed
    assert len(_content_stream(pdf)) > 1000


def test_qr_code_and_link_point_to_the_verification_page(pdf: bytes) -> None:
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    annotations = [a.get_object() for a in page.get("/Annots", [])]
    assert [a["/A"]["/URI"] for a in annotations] == ["https://portal.example/attestations/ATT-2026-000042"]


def test_the_qr_code_read_by_an_independent_decoder_is_the_verification_url(pdf: bytes) -> None:
    import pypdfium2
    import zxingcpp

    page = pypdfium2.PdfDocument(pdf)[0].render(scale=2).to_pil()
    codes = zxingcpp.read_barcodes(page)
    assert [(c.format, c.text) for c in codes] == [
        (zxingcpp.BarcodeFormat.QRCode, "https://portal.example/attestations/ATT-2026-000042")
    ]


def test_pdf_without_attachment_is_a_clear_error() -> None:
    out = io.BytesIO()
    canvas = Canvas(out, invariant=1)
    canvas.drawString(72, 72, "no attachment here")
    canvas.save()
    with pytest.raises(InvalidInput, match=r"has no attestation.jwt attachment \(attachments: none\)"):
        extract_token(out.getvalue())


@pytest.mark.parametrize("blob", [b"%PDF-1.4 truncated", b"not a pdf at all", zlib.compress(b"x")])
def test_unreadable_pdf_is_a_clear_error(blob: bytes) -> None:
    with pytest.raises(InvalidInput):
        extract_token(blob)


def test_bytes_are_the_same_in_another_process(pdf: bytes, token: str, tmp_path: Path) -> None:
    script = (
        "import sys\n"
        "from attestations.certificate import CertificateData, render_certificate\n"
        "token = open(sys.argv[1]).read()\n"
        f"data = CertificateData.from_token(token, provider_name_ar={PROVIDER_AR!r},\n"
        "    log_proof=b'{\"version\": 1}')\n"
        "sys.stdout.buffer.write(render_certificate(data))\n"
    )
    (tmp_path / "token.jwt").write_text(token)
    completed = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "token.jwt")],
        capture_output=True,
        check=True,
        timeout=60,
        env={**os.environ, "PYTHONHASHSEED": "12345"},
    )
    assert completed.stdout == pdf
