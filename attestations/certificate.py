"""The bilingual (English / Arabic) certificate PDF, with the signed token embedded for offline checks.

One A4 page: provider, category, country, scope, catalogue, level, validity, serial, key id, conditions,
and a QR code to ``{issuer}/attestations/{serial}``. The token is attached as ``attestation.jwt`` (and a
log proof as ``log-proof.json`` when given), so ``python -m attestations verify certificate.pdf`` needs
nothing else but the JWKS.

Arabic is shaped with arabic-reshaper (harakat kept) and reordered with python-bidi, because reportlab
draws glyphs in the order given and does no OpenType shaping itself. The font, Amiri (SIL OFL 1.1), ships
in ``attestations/fonts`` so rendering never depends on system fonts. The same input gives the same bytes:
reportlab's invariant mode, and the document date is the attestation's issue time.
"""

from __future__ import annotations

import io
import itertools
import time
from functools import cache
from pathlib import Path

import arabic_reshaper
import msgspec
from bidi import get_display
from pypdf import PdfReader
from pypdf.errors import PdfReadError
from reportlab.graphics.barcode import qrencoder
from reportlab.lib.colors import Color, HexColor
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import TimeStamp
from reportlab.pdfbase import pdfdoc, pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from attestations._jose import parse_compact
from attestations.errors import InvalidInput
from attestations.tokens import unverified_claims

TOKEN_ATTACHMENT = "attestation.jwt"  # noqa: S105 - a file name, not a secret
PROOF_ATTACHMENT = "log-proof.json"
FONT_DIR = Path(__file__).parent / "fonts"
FONT = "Amiri"
FONT_BOLD = "Amiri-Bold"

INK = HexColor("#1b2a3a")
MUTED = HexColor("#5b6b7b")
ACCENT = HexColor("#0b5d4b")
RULE = HexColor("#c9d3dc")

# Labels: English, Arabic. Harakat (the shadda in مزوّد, معرّف) are kept on purpose.
LABELS: dict[str, tuple[str, str]] = {
    "title": ("Provider Attestation Certificate", "شهادة اعتماد مزوّد الخدمة"),
    "provider": ("Provider", "مزوّد الخدمة"),
    "registration": ("Registration, country", "رقم التسجيل والدولة"),
    "category": ("Category", "الفئة"),
    "scope": ("Scope", "النطاق"),
    "catalog": ("Control catalogue", "دليل الضوابط"),
    "level": ("Level", "المستوى"),
    "key_id": ("Signing key id", "معرّف مفتاح التوقيع"),
    "conditions": ("Conditions", "الشروط"),
    "validity": ("Valid", "مدة الصلاحية"),
    "results": ("Result per control family", "النتيجة لكل مجموعة ضوابط"),
    "verify": ("Scan to verify", "امسح الرمز للتحقق"),
    "offline": (
        "This certificate is digitally signed and can be verified offline.",
        "الشهادة موقّعة رقمياً ويمكن التحقق منها دون اتصال بالشبكة.",
    ),
}


# The table of results per family: a column per outcome, as the token's ``result`` claim counts them.
RESULT_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("controls", "Controls", "الضوابط"),
    ("implemented", "Implemented", "مطبّق"),
    ("partially_implemented", "Partial", "جزئياً"),
    ("planned", "Planned", "مخطّط"),
    ("not_implemented", "Not impl.", "غير مطبّق"),
    ("not_applicable", "N/A", "لا ينطبق"),
)

# Levels as words; a level the table does not know is printed as it is.
LEVEL_WORDS: dict[str, tuple[str, str]] = {
    "full": ("Full", "كاملة"),
    "conditional": ("Conditional", "مشروطة"),
}


class FamilyResult(msgspec.Struct, frozen=True):
    """One line of the results table: a control family and its counts by outcome."""

    family: str
    title: str
    counts: dict[str, int]


class CertificateData(msgspec.Struct, frozen=True):
    """Everything printed on a certificate. Times are Unix seconds (UTC)."""

    issuer: str
    serial: str
    key_id: str
    provider_name: str
    registration: str
    category: str
    country: str
    scope_summary: str
    catalog_id: str
    catalog_version: str
    level: str
    issued_at: int
    valid_from: int
    valid_until: int
    token: str
    conditions: tuple[str, ...] = ()
    results: tuple[FamilyResult, ...] = ()
    category_ar: str | None = None
    provider_name_ar: str | None = None
    scope_summary_ar: str | None = None
    log_proof: bytes | None = None

    @property
    def verification_url(self) -> str:
        """The public verification page of this attestation."""
        return f"{self.issuer.rstrip('/')}/attestations/{self.serial}"

    @classmethod
    def from_token(
        cls,
        token: str,
        *,
        log_proof: bytes | None = None,
        provider_name_ar: str | None = None,
        scope_summary_ar: str | None = None,
        category: tuple[str, str | None] | None = None,
        family_titles: dict[str, str] | None = None,
    ) -> CertificateData:
        """Fill the certificate from a token's claims (read, not verified: the caller just signed it).

        ``category`` gives the provider category in words (English, Arabic) instead of its code, and
        ``family_titles`` each family id's title for the results table (English: a second language per family
        does not fit one page beside the counts; the column headings are in both).
        """
        claims = unverified_claims(token)
        kid = parse_compact(token).header.get("kid")
        att = claims.att
        conditions = tuple(f"{c.text} (due {c.due})" if c.due else c.text for c in att.conditions)
        titles = family_titles or {}
        results = tuple(
            FamilyResult(family=family, title=titles.get(family, family), counts=dict(counts))
            for family, counts in att.result.items()
        )
        return cls(
            issuer=claims.iss,
            serial=claims.jti,
            key_id=str(kid),
            provider_name=att.provider.name,
            registration=att.provider.registration,
            category=category[0] if category else att.provider.category,
            category_ar=category[1] if category else None,
            country=att.provider.country,
            scope_summary=att.scope.summary,
            catalog_id=att.catalog.id,
            catalog_version=att.catalog.version,
            level=att.level,
            issued_at=claims.iat,
            valid_from=claims.nbf,
            valid_until=claims.exp,
            token=token,
            conditions=conditions,
            results=results,
            provider_name_ar=provider_name_ar,
            scope_summary_ar=scope_summary_ar,
            log_proof=log_proof,
        )


@cache
def _register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_DIR / "Amiri-Regular.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(FONT_DIR / "Amiri-Bold.ttf")))


@cache
def _reshaper() -> arabic_reshaper.ArabicReshaper:
    return arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False, "support_ligatures": True})


def shape_arabic(text: str) -> str:
    """Arabic in visual order with contextual forms, ready for a renderer that does no shaping."""
    return str(get_display(_reshaper().reshape(text)))


def _date(epoch: int) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(epoch))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """Greedy word wrap on logical text (before any bidi reordering)."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        candidate = f"{current} {word}".strip()
        measured = shape_arabic(candidate) if _has_arabic(candidate) else candidate
        if current and pdfmetrics.stringWidth(measured, font, size) > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    return lines or [""]


def _has_arabic(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" or "\ufb50" <= c <= "\ufeff" for c in text)


def _draw_text(canvas: Canvas, x: float, y: float, text: str, *, right: bool = False) -> None:
    shaped = shape_arabic(text) if _has_arabic(text) else text
    if right:
        canvas.drawRightString(x, y, shaped)
    else:
        canvas.drawString(x, y, shaped)


def _embed_files(canvas: Canvas, files: list[tuple[str, bytes, str, str]]) -> None:
    """Attach files through the document catalogue's EmbeddedFiles name tree (PDF 32000 7.11.4)."""
    doc = canvas._doc
    names: list[object] = []
    for name, data, mime, description in sorted(files):
        stream = pdfdoc.PDFStream(
            pdfdoc.PDFDictionary(
                {
                    "Type": pdfdoc.PDFName("EmbeddedFile"),
                    # PDFName leaves "/" unescaped; a MIME type as a PDF name needs it as #2F.
                    "Subtype": "/" + mime.replace("/", "#2F"),
                    "Params": pdfdoc.PDFDictionary({"Size": len(data)}),
                }
            ),
            content=data,
            filters=[pdfdoc.PDFZCompress],
        )
        filespec = pdfdoc.PDFDictionary(
            {
                "Type": pdfdoc.PDFName("Filespec"),
                "F": pdfdoc.PDFString(name),
                "UF": pdfdoc.PDFString(name),
                "Desc": pdfdoc.PDFString(description),
                "AFRelationship": pdfdoc.PDFName("Data"),
                "EF": pdfdoc.PDFDictionary({"F": doc.Reference(stream)}),
            }
        )
        names += [pdfdoc.PDFString(name), doc.Reference(filespec)]
    tree = pdfdoc.PDFDictionary({"EmbeddedFiles": pdfdoc.PDFDictionary({"Names": pdfdoc.PDFArray(names)})})
    doc.Catalog.Names = tree
    doc.Catalog.PageMode = pdfdoc.PDFName("UseAttachments")


def _fix_date(canvas: Canvas, epoch: int) -> None:
    # reportlab stamps CreationDate/ModDate from a TimeStamp; use the attestation's own issue time.
    stamp = TimeStamp(invariant=True)
    stamp.t = epoch
    stamp.lt = time.gmtime(epoch)
    stamp.YMDhms = tuple(stamp.lt)[:6]
    canvas._doc._timeStamp = stamp


def _draw_qr(canvas: Canvas, text: str, x: float, y: float, size: float, *, border: int = 4) -> None:
    """A QR code (error correction M, the encoder's best mask) of ``text`` in a ``size`` square at (x, y), with
    a quiet zone of ``border`` modules: encoded once and drawn as one filled path of its dark runs (reportlab's
    widget encodes twice and makes a shape object per run, most of a certificate's time)."""
    code = qrencoder.QRCode(None, qrencoder.QRErrorCorrectLevel.M)
    code.addData(text)
    code.make()
    count = code.getModuleCount()
    box = size / (count + 2 * border)
    path = canvas.beginPath()
    for r, row in enumerate(code.modules):
        top = y + size - (r + border + 1) * box
        c = 0
        for dark, run in itertools.groupby(bool(m) for m in row):
            length = sum(1 for _ in run)
            if dark:
                path.rect(x + (c + border) * box, top, length * box, box)
            c += length
    canvas.saveState()
    canvas.setFillColor(Color(0, 0, 0))
    canvas.drawPath(path, stroke=0, fill=1)
    canvas.restoreState()


def render_certificate(data: CertificateData) -> bytes:
    """Render the certificate: one A4 page, deterministic bytes for the same ``data``."""
    _register_fonts()
    out = io.BytesIO()
    canvas = Canvas(out, pagesize=A4, invariant=1, pageCompression=1)
    _fix_date(canvas, data.issued_at)
    canvas.setTitle(f"Attestation {data.serial}")
    canvas.setAuthor(data.issuer)
    canvas.setSubject(f"{data.provider_name}: {data.level}")
    canvas.setCreator("attestations")
    width, height = A4
    margin = 48.0
    left, right = margin, width - margin

    # Title band.
    canvas.setFillColor(ACCENT)
    canvas.rect(0, height - 96, width, 96, stroke=0, fill=1)
    canvas.setFillColor(Color(1, 1, 1))
    canvas.setFont(FONT_BOLD, 20)
    _draw_text(canvas, left, height - 56, LABELS["title"][0])
    canvas.setFont(FONT_BOLD, 22)
    _draw_text(canvas, right, height - 58, LABELS["title"][1], right=True)
    canvas.setFont(FONT, 10)
    _draw_text(canvas, left, height - 80, f"Serial {data.serial}")
    _draw_text(canvas, right, height - 80, data.issuer, right=True)

    level_en, level_ar = LEVEL_WORDS.get(data.level, (data.level, None))
    rows: list[tuple[str, list[str]]] = [
        ("provider", [data.provider_name] + ([data.provider_name_ar] if data.provider_name_ar else [])),
        ("registration", [f"{data.registration}  ·  {data.country}"]),
        ("category", [data.category] + ([data.category_ar] if data.category_ar else [])),
        ("scope", [data.scope_summary] + ([data.scope_summary_ar] if data.scope_summary_ar else [])),
        ("catalog", [f"{data.catalog_id} version {data.catalog_version}"]),
        ("level", [level_en] + ([level_ar] if level_ar else [])),
        ("validity", [f"{_date(data.valid_from)} to {_date(data.valid_until)}"]),
        ("key_id", [data.key_id]),
    ]
    value_x, value_width = left + 120, right - left - 240
    y = height - 124
    for key, values in rows:
        english, arabic = LABELS[key]
        canvas.setFillColor(MUTED)
        canvas.setFont(FONT, 10)
        _draw_text(canvas, left, y, english)
        canvas.setFont(FONT, 12)
        _draw_text(canvas, right, y, arabic, right=True)
        canvas.setFillColor(INK)
        canvas.setFont(FONT_BOLD if key in ("provider", "level") else FONT, 11)
        # Each value on its own line: English from the left edge of the column, Arabic from its right edge.
        for line in [line for value in values for line in _wrap(value, FONT, 11, value_width)]:
            if _has_arabic(line):
                _draw_text(canvas, value_x + value_width, y, line, right=True)
            else:
                _draw_text(canvas, value_x, y, line)
            y -= 14
        y -= 4
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(left, y + 11, right, y + 11)

    y = _draw_results(canvas, data.results, left, right, y - 6)
    _draw_conditions(canvas, data.conditions, left, right, y - 10, bottom=206.0)

    # QR code to the public verification page.
    size = 130.0
    _draw_qr(canvas, data.verification_url, right - size, 60, size)
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 9)
    _draw_text(canvas, right - size / 2 - 30, 48, LABELS["verify"][0], right=True)
    canvas.setFont(FONT, 10)
    _draw_text(canvas, right, 48, LABELS["verify"][1], right=True)
    canvas.linkURL(data.verification_url, (right - size, 60, right, 60 + size), relative=0)

    canvas.setFont(FONT, 9)
    footer = [
        data.verification_url,
        f"The signed attestation is attached to this file as {TOKEN_ATTACHMENT}.",
        "Verify offline: python -m attestations verify certificate.pdf --jwks jwks.json",
    ]
    for index, line in enumerate(footer):
        _draw_text(canvas, left, 150 - index * 13, line)
    canvas.setFont(FONT, 10)
    _draw_text(canvas, right - size - 16, 100, LABELS["offline"][1], right=True)

    files = [(TOKEN_ATTACHMENT, data.token.encode("ascii"), "application/jwt", "Signed attestation (JWS)")]
    if data.log_proof is not None:
        files.append((PROOF_ATTACHMENT, data.log_proof, "application/json", "Transparency log proof"))
    _embed_files(canvas, files)
    canvas.showPage()
    canvas.save()
    return out.getvalue()


def _draw_results(canvas: Canvas, results: tuple[FamilyResult, ...], left: float, right: float, y: float) -> float:
    """The results table: one line per family with its counts by outcome; returns the next free height."""
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 10)
    _draw_text(canvas, left, y, LABELS["results"][0])
    canvas.setFont(FONT, 12)
    _draw_text(canvas, right, y, LABELS["results"][1], right=True)
    y -= 14
    column_width = 46.0
    counts_x = right - column_width * len(RESULT_COLUMNS)
    canvas.setFont(FONT, 7.5)
    for index, (_, english, arabic) in enumerate(RESULT_COLUMNS):
        x = counts_x + column_width * (index + 1) - 4
        _draw_text(canvas, x, y, english, right=True)
        _draw_text(canvas, x, y - 9, arabic, right=True)
    y -= 20
    title_width = counts_x - left - 36
    for line in results:
        canvas.setFillColor(INK)
        canvas.setFont(FONT_BOLD, 8.5)
        _draw_text(canvas, left, y, line.family)
        canvas.setFont(FONT, 8.5)
        title = _wrap(line.title, FONT, 8.5, title_width)[0]
        if title != line.title:
            title = title.rstrip(",;:") + "…"
        _draw_text(canvas, left + 32, y, title)
        for index, (key, _, _) in enumerate(RESULT_COLUMNS):
            value = line.counts.get(key, 0)
            canvas.setFillColor(INK if value else MUTED)
            _draw_text(canvas, counts_x + column_width * (index + 1) - 4, y, str(value) if value else "–", right=True)
        y -= 11
    if not results:
        canvas.setFont(FONT, 9)
        _draw_text(canvas, left + 10, y, "No family results recorded.")
        y -= 11
    canvas.setStrokeColor(RULE)
    canvas.line(left, y + 6, right, y + 6)
    return y


def _draw_conditions(
    canvas: Canvas, conditions: tuple[str, ...], left: float, right: float, y: float, *, bottom: float
) -> None:
    """Numbered conditions with their due dates; when they do not all fit, say how many more there are."""
    canvas.setFillColor(MUTED)
    canvas.setFont(FONT, 10)
    _draw_text(canvas, left, y, LABELS["conditions"][0])
    canvas.setFont(FONT, 12)
    _draw_text(canvas, right, y, LABELS["conditions"][1], right=True)
    canvas.setFillColor(INK)
    canvas.setFont(FONT, 9.5)
    y -= 14
    if not conditions:
        _draw_text(canvas, left + 10, y, "None.")
        return
    for number, condition in enumerate(conditions, start=1):
        lines = _wrap(f"{number}. {condition}", FONT, 9.5, right - left - 20)
        if y - 12 * len(lines) < bottom:
            remaining = len(conditions) - number + 1
            _draw_text(canvas, left + 10, y, f"… and {remaining} more: see the attestation page (scan the code).")
            return
        for line in lines:
            _draw_text(canvas, left + 10, y, line)
            y -= 12


def extract_attachments(pdf: bytes) -> dict[str, bytes]:
    """Every embedded file of a PDF by name; :class:`InvalidInput` if it is not a readable PDF."""
    try:
        reader = PdfReader(io.BytesIO(pdf), strict=False)
        attachments = reader.attachments
        return {name: contents[0] for name, contents in attachments.items() if contents}
    except (PdfReadError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InvalidInput(f"not a readable PDF: {exc}") from exc


def extract_token(pdf: bytes) -> str:
    """The ``attestation.jwt`` attached to a certificate PDF."""
    attachments = extract_attachments(pdf)
    if TOKEN_ATTACHMENT not in attachments:
        found = ", ".join(sorted(attachments)) or "none"
        raise InvalidInput(f"the PDF has no {TOKEN_ATTACHMENT} attachment (attachments: {found})")
    try:
        return attachments[TOKEN_ATTACHMENT].decode("ascii").strip()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"the {TOKEN_ATTACHMENT} attachment is not a JWS") from exc


def extract_log_proof(pdf: bytes) -> bytes | None:
    """The ``log-proof.json`` attached to a certificate PDF, if any."""
    return extract_attachments(pdf).get(PROOF_ATTACHMENT)
