"""Turn a source into text segments with ``unstructured``, keeping element kinds and page numbers.

Formats are chosen by file extension so a renamed binary fails clearly instead of being guessed at.
Parser errors name the failure, never the content: raw text must not reach logs or job records.
Hostile input fails its own item: binary bytes under a text name, zip containers that unpack to far
more than they weigh, and anything that keeps a parser busy past ``PARSE_SECONDS``.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable
from typing import Any

from core.errors import InvalidInputError, UnsupportedMediaError
from ingest.deadline import DeadlineExceeded, deadline
from ingest.document import Segment, Source

# Declared rather than detected: detection is slow and logs a warning per element.
LANGUAGES = ["eng"]

# Plain text keeps its lines: in config files and logs a line is a unit (``KEY=value``), not a
# piece of a wrapped paragraph.
PLAIN_TEXT = (
    ".txt",
    ".text",
    ".log",
    ".env",
    ".ini",
    ".cfg",
    ".conf",
    ".yaml",
    ".yml",
    ".toml",
    ".properties",
)
MEDIA_TYPES: dict[str, str] = {
    **dict.fromkeys(PLAIN_TEXT, "text/plain"),
    ".md": "text/markdown",
    ".markdown": "text/markdown",
    ".html": "text/html",
    ".htm": "text/html",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".csv": "text/csv",
    ".eml": "message/rfc822",
    ".json": "application/json",
}


def supported_extension(filename: str) -> str | None:
    lowered = filename.lower()
    for extension in MEDIA_TYPES:
        if lowered.endswith(extension):
            return extension
    return None


# A text file with more of these than a log with colour codes has is binary data under a text name.
BINARY_SHARE = 0.02
_NOT_TEXT = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\ufffd]")  # C0 controls but tab, newlines, ESC
TEXT_FORMATS = frozenset({*PLAIN_TEXT, ".md", ".markdown", ".html", ".htm", ".csv", ".eml", ".json"})
ZIP_FORMATS = frozenset({".docx", ".pptx", ".xlsx"})
# Office files are zip archives; these bound what parsing one may unpack (a 25 MB .docx of text and
# pictures unpacks to well under this; a zip bomb to gigabytes).
MAX_UNPACKED_BYTES = 256 * 1024 * 1024
MAX_ZIP_ENTRIES = 10_000
# Wall time one file may take to parse; a crafted file must not hold the only ingest worker.
PARSE_SECONDS = 60.0


def partition(source: Source, *, time_limit_s: float = PARSE_SECONDS) -> tuple[list[Segment], str]:
    """Segments of the source and its media type; raises ``InvalidInputError`` for unusable input."""
    if source.text is not None:
        return _record_segments(source), "text/plain"
    extension = supported_extension(source.filename)
    if extension is None:
        supported = ", ".join(sorted(MEDIA_TYPES))
        raise UnsupportedMediaError(f"unsupported file type {source.filename!r}; supported: {supported}")
    data = source.read()
    if not data.strip():
        raise InvalidInputError("file is empty")
    _PRE_CHECKS.get(extension, _no_check)(data)
    elements = _parse(extension, data, source.filename, time_limit_s)
    segments = [_segment(e) for e in elements]
    segments = [s for s in segments if s.text.strip()]
    if not segments:
        raise InvalidInputError("no text could be extracted (corrupt, image-only or empty document)")
    return segments, MEDIA_TYPES[extension]


def _parse(extension: str, data: bytes, filename: str, time_limit_s: float) -> list[Any]:
    try:
        with deadline(time_limit_s):
            return _PARTITIONERS[extension](data, filename)
    except InvalidInputError:
        raise
    except DeadlineExceeded:
        raise InvalidInputError(
            f"parsing took longer than {time_limit_s:g} s (too complex, or crafted to stall parsers)"
        ) from None
    except RecursionError:
        raise InvalidInputError(f"{extension[1:]} file is nested too deeply to parse") from None
    except Exception as exc:  # parsers raise anything from zipfile to lxml errors
        raise InvalidInputError(f"could not parse {extension[1:]} file ({type(exc).__name__})") from None


def _record_segments(source: Source) -> list[Segment]:
    text = source.text or ""
    if not text.strip() and not source.title.strip():
        raise InvalidInputError("record has no text")
    segments = [Segment(source.title.strip(), "Title")] if source.title.strip() else []
    segments.append(Segment(text, "NarrativeText"))
    return segments


def _segment(element: Any) -> Segment:
    if isinstance(element, Segment):  # plain text is split here, not by unstructured
        return element
    page = getattr(element.metadata, "page_number", None)
    return Segment(text=str(element.text or ""), kind=str(element.category), page=page)


def _reject_encrypted_pdf(data: bytes) -> None:
    # unstructured returns zero elements for encrypted PDFs; say why instead of "no text".
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        encrypted = PdfReader(io.BytesIO(data)).is_encrypted
    except (PdfReadError, ValueError, OSError):
        raise InvalidInputError("PDF is corrupt (cannot read its structure)") from None
    if encrypted:
        raise InvalidInputError("PDF is encrypted; decrypt it before ingesting")


def _reject_binary(data: bytes) -> None:
    text = _decode(data)
    if "\x00" in text or len(_NOT_TEXT.findall(text)) > BINARY_SHARE * len(text):
        raise InvalidInputError("file holds binary data, not text; check that its name matches its content")


def _reject_zip_bomb(data: bytes) -> None:
    """Refuse, from the zip's own directory and before any parser unpacks it, what would unpack too much.

    Python's zipfile stops each member at its declared size, so the directory bounds what is read.
    """
    try:
        entries = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return  # not a zip at all: the parser names that failure
    if len(entries) > MAX_ZIP_ENTRIES:
        raise InvalidInputError(f"archive has {len(entries)} parts, more than the limit of {MAX_ZIP_ENTRIES}")
    unpacked = sum(entry.file_size for entry in entries)
    if unpacked > MAX_UNPACKED_BYTES:
        raise InvalidInputError(
            f"archive unpacks to {unpacked} bytes, more than the limit of {MAX_UNPACKED_BYTES}"
        )


_PARAGRAPH_BREAK = re.compile(r"\n(?:[ \t]*\n)+")  # blank lines; the next line keeps its indent


def _text(data: bytes, _name: str) -> list[Any]:
    """Paragraphs at blank lines, each keeping its own line breaks (``unstructured`` joins them)."""
    text = _decode(data).replace("\r\n", "\n").replace("\r", "\n")
    return [Segment(p.rstrip(), "NarrativeText") for p in _PARAGRAPH_BREAK.split(text) if p.strip()]


def _markdown(data: bytes, _name: str) -> list[Any]:
    from unstructured.partition.md import partition_md

    return list(partition_md(text=_decode(data), languages=LANGUAGES))


def _html(data: bytes, _name: str) -> list[Any]:
    from unstructured.partition.html import partition_html

    return list(partition_html(text=_decode(data), languages=LANGUAGES))


def _pdf(data: bytes, name: str) -> list[Any]:
    from unstructured.partition.pdf import partition_pdf

    return list(
        partition_pdf(file=io.BytesIO(data), strategy="fast", metadata_filename=name, languages=LANGUAGES)
    )


def _docx(data: bytes, name: str) -> list[Any]:
    from unstructured.partition.docx import partition_docx

    return list(partition_docx(file=io.BytesIO(data), metadata_filename=name, languages=LANGUAGES))


def _pptx(data: bytes, name: str) -> list[Any]:
    from unstructured.partition.pptx import partition_pptx

    return list(partition_pptx(file=io.BytesIO(data), metadata_filename=name, languages=LANGUAGES))


def _xlsx(data: bytes, name: str) -> list[Any]:
    from unstructured.partition.xlsx import partition_xlsx

    return list(partition_xlsx(file=io.BytesIO(data), metadata_filename=name, languages=LANGUAGES))


def _csv(data: bytes, name: str) -> list[Any]:
    from unstructured.partition.csv import partition_csv

    return list(partition_csv(file=io.BytesIO(data), metadata_filename=name, languages=LANGUAGES))


def _email(data: bytes, name: str) -> list[Any]:
    from unstructured.partition.email import partition_email

    return list(partition_email(file=io.BytesIO(data), metadata_filename=name, languages=LANGUAGES))


def _json(data: bytes, name: str) -> list[Any]:
    """unstructured's own element JSON is partitioned as such; any other JSON becomes path: value lines."""
    text = _decode(data)
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"invalid JSON at line {exc.lineno} column {exc.colno}") from None
    if _looks_like_elements(parsed):
        from unstructured.partition.json import partition_json

        return list(partition_json(text=text, metadata_filename=name))
    return _text("\n".join(_flatten(parsed, "")).encode("utf-8"), name)


def _looks_like_elements(parsed: object) -> bool:
    return (
        isinstance(parsed, list)
        and bool(parsed)
        and all(isinstance(item, dict) and "type" in item and "text" in item for item in parsed)
    )


def _flatten(value: object, path: str) -> list[str]:
    if isinstance(value, dict):
        return [
            line
            for key, item in value.items()
            for line in _flatten(item, f"{path}.{key}" if path else str(key))
        ]
    if isinstance(value, list):
        return [line for i, item in enumerate(value) for line in _flatten(item, f"{path}[{i}]")]
    if value is None:
        return []
    return [f"{path}: {value}" if path else str(value)]


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _no_check(_data: bytes) -> None:
    return None


# Cheap checks of the raw bytes before a parser sees them.
_PRE_CHECKS: dict[str, Callable[[bytes], None]] = {
    ".pdf": _reject_encrypted_pdf,
    **dict.fromkeys(TEXT_FORMATS, _reject_binary),
    **dict.fromkeys(ZIP_FORMATS, _reject_zip_bomb),
}

_PARTITIONERS: dict[str, Callable[[bytes, str], list[Any]]] = {
    **dict.fromkeys(PLAIN_TEXT, _text),
    ".md": _markdown,
    ".markdown": _markdown,
    ".html": _html,
    ".htm": _html,
    ".pdf": _pdf,
    ".docx": _docx,
    ".pptx": _pptx,
    ".xlsx": _xlsx,
    ".csv": _csv,
    ".eml": _email,
    ".json": _json,
}
