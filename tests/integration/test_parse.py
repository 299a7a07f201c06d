"""Every supported format through the real unstructured partitioners, and every kind of bad file."""

from __future__ import annotations

import io
import json

import pytest

from core.errors import InvalidInputError, UnsupportedMediaError
from ingest.document import Source
from ingest.parse import partition
from tests.support.pdf import make_pdf


def source(filename: str, data: bytes) -> Source:
    return Source(name=filename, doc_id=filename, filename=filename, data=data)


def docx_bytes() -> bytes:
    from docx import Document

    document = Document()
    document.add_heading("Quarterly report", 0)
    document.add_paragraph("Revenue grew in the northern region.")
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def pptx_bytes() -> bytes:
    from pptx import Presentation

    deck = Presentation()
    for title in ("Roadmap", "Hiring plan"):
        slide = deck.slides.add_slide(deck.slide_layouts[1])
        slide.shapes.title.text = title
        slide.placeholders[1].text = f"{title} details for next year"
    buffer = io.BytesIO()
    deck.save(buffer)
    return buffer.getvalue()


def xlsx_bytes() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["region", "revenue"])
    sheet.append(["north", 1200])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EML = (
    b"From: a@b.com\nTo: c@d.com\nSubject: Outage\nContent-Type: text/plain\n\n"
    b"The billing service was down for an hour.\n"
)

GOOD = [
    ("notes.txt", b"Plain text notes about the billing service.", "billing service", "text/plain"),
    ("guide.md", b"# Guide\n\nInstall the agent, then restart.", "restart", "text/markdown"),
    (
        "page.html",
        b"<html><body><h1>FAQ</h1><p>Refunds take five days.</p></body></html>",
        "Refunds",
        "text/html",
    ),
    ("report.pdf", make_pdf([["First page text."], ["Second page text."]]), "Second page", "application/pdf"),
    ("report.docx", docx_bytes(), "northern region", "wordprocessingml"),
    ("deck.pptx", pptx_bytes(), "Hiring plan", "presentationml"),
    ("sheet.xlsx", xlsx_bytes(), "north", "spreadsheetml"),
    ("table.csv", b"name,team\nada,platform\n", "platform", "text/csv"),
    ("mail.eml", EML, "billing service", "message/rfc822"),
    (
        "config.json",
        json.dumps({"service": "billing", "owner": {"team": "payments"}}).encode(),
        "owner.team: payments",
        "json",
    ),
]


@pytest.mark.parametrize(("filename", "data", "needle", "media"), GOOD, ids=[g[0] for g in GOOD])
def test_supported_formats_yield_text(filename: str, data: bytes, needle: str, media: str) -> None:
    segments, media_type = partition(source(filename, data))
    assert needle in " ".join(s.text for s in segments)
    assert media in media_type
    assert all(s.kind for s in segments)


def test_pdf_keeps_page_numbers() -> None:
    segments, _ = partition(source("r.pdf", make_pdf([["alpha"], ["beta"], ["gamma"]])))
    assert [(s.text, s.page) for s in segments] == [("alpha", 1), ("beta", 2), ("gamma", 3)]


def encrypted_pdf() -> bytes:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(io.BytesIO(make_pdf([["secret text"]]))).pages:
        writer.add_page(page)
    writer.encrypt("pw")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


BAD = [
    ("empty.txt", b"", InvalidInputError, "file is empty"),
    ("blank.md", b"  \n\n ", InvalidInputError, "file is empty"),
    ("corrupt.pdf", b"%PDF-1.4\nthis is not a pdf", InvalidInputError, "PDF is corrupt"),
    ("locked.pdf", encrypted_pdf(), InvalidInputError, "PDF is encrypted"),
    ("blank.pdf", make_pdf([[]]), InvalidInputError, "no text could be extracted"),
    ("broken.docx", b"PK\x03\x04 not really a zip", InvalidInputError, "could not parse docx"),
    ("broken.json", b"{oops", InvalidInputError, "invalid JSON at line 1"),
    ("program.exe", b"MZ\x90\x00", UnsupportedMediaError, "unsupported file type"),
]


@pytest.mark.parametrize(("filename", "data", "error", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_files_fail_with_a_clear_reason(
    filename: str, data: bytes, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        partition(source(filename, data))


def test_records_become_title_and_body() -> None:
    segments, media = partition(Source(name="r", doc_id="r", title="Title here", text="Body here"))
    assert [(s.kind, s.text) for s in segments] == [("Title", "Title here"), ("NarrativeText", "Body here")]
    assert media == "text/plain"
