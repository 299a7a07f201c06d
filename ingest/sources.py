"""Find what to ingest: files (folders recursively) and JSONL records of ``{id, title, text, metadata}``.

Document ids are stable: a record's ``id``; a file's path relative to the folder given (or its name
when a file is given directly); or what the caller passes with ``--doc-id`` / ``doc_id``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO, overload

from core.errors import InvalidInputError
from core.metadata import Metadata, check_metadata
from ingest.document import Source

_DOC_ID_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,512}$")


def check_doc_id(doc_id: str) -> str:
    if not _DOC_ID_RE.fullmatch(doc_id) or doc_id.strip() != doc_id:
        raise InvalidInputError(
            f"doc_id must be 1-512 printable characters without surrounding spaces, got {doc_id!r}"
        )
    return doc_id


@dataclass(frozen=True)
class BadSource:
    """An item that failed before it could become a source (unreadable file, bad JSONL line)."""

    name: str
    error: str


@dataclass(frozen=True, slots=True)
class _File:
    """A listed file. The path is kept as a string and the root shared: about 150 bytes an entry
    against 500 for a ``Path`` in a plain dataclass (a 2 GB folder of 6 kB files lists 330 000)."""

    name: str
    root: Path

    @property
    def path(self) -> Path:
        return Path(self.name)


@dataclass(frozen=True, slots=True)
class _Line:
    """One non-blank line of a JSONL file, found by its byte offset and read again when its turn comes."""

    path: Path
    offset: int
    number: int


_Entry = _File | _Line | BadSource


class Discovered(Sequence[Source | BadSource]):
    """What to ingest, listed up front and read one item at a time.

    Only paths and JSONL line offsets are held, so a job over a folder of any size has the memory of
    one pipeline window: a file's bytes are read when it is prepared (``Source.path``), a record's
    line when the pipeline reaches it.
    """

    def __init__(self, entries: list[_Entry], *, doc_id: str | None, max_bytes: int | None) -> None:
        self._entries = entries
        self._doc_id = doc_id
        self._max_bytes = max_bytes
        self._metadata: Metadata = {}

    def with_metadata(self, metadata: Metadata) -> Discovered:
        """The same items, each given the job's metadata (a record's own values win)."""
        tagged = Discovered(self._entries, doc_id=self._doc_id, max_bytes=self._max_bytes)
        tagged._metadata = metadata
        return tagged

    def __len__(self) -> int:
        return len(self._entries)

    @overload
    def __getitem__(self, index: int) -> Source | BadSource: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Source | BadSource]: ...

    def __getitem__(self, index: int | slice) -> Source | BadSource | Sequence[Source | BadSource]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        with _OpenFile() as files:
            return self._item(self._entries[index], files)

    def __iter__(self) -> Iterator[Source | BadSource]:
        with _OpenFile() as files:  # one JSONL file stays open across its lines
            for entry in self._entries:
                yield self._item(entry, files)

    def _item(self, entry: _Entry, files: _OpenFile) -> Source | BadSource:
        if isinstance(entry, BadSource):
            return entry
        if isinstance(entry, _File):
            item = _file_source(entry.path, entry.root, self._doc_id)
        else:
            item = self._record(entry, files)
        return tag(item, self._metadata)

    def _record(self, entry: _Line, files: _OpenFile) -> Source | BadSource:
        name = f"{entry.path}#{entry.number}"
        try:
            handle = files.open(entry.path)
            handle.seek(entry.offset)
            line = handle.readline(self._max_bytes + 1 if self._max_bytes else -1)
        except OSError as exc:  # gone or locked since it was listed
            return BadSource(name, f"cannot read file ({exc.strerror})")
        if self._max_bytes is not None and len(line.rstrip(b"\r\n")) > self._max_bytes:
            return BadSource(name, f"record is larger than the limit of {self._max_bytes} bytes")
        return record_line(line.decode("utf-8", errors="replace"), origin=str(entry.path), name=name)


class _OpenFile:
    """The one file being read, reopened only when the path changes."""

    def __init__(self) -> None:
        self._path: Path | None = None
        self._handle: BinaryIO | None = None

    def open(self, path: Path) -> BinaryIO:
        if self._handle is None or self._path != path:
            self.close()
            self._handle, self._path = path.open("rb"), path
        return self._handle

    def close(self) -> None:
        if self._handle is not None:
            self._handle.close()
        self._handle = self._path = None

    def __enter__(self) -> _OpenFile:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def discover(
    paths: list[Path], *, doc_id: str | None = None, max_file_bytes: int | None = None
) -> Discovered:
    """Files (folders recursively, hidden parts skipped) and JSONL records, each to become one item.

    Files larger than ``max_file_bytes`` and names that are not UTF-8 fail their own item here,
    before anything is read.
    """
    files = [(p, p.parent) for p in paths if not p.is_dir()]
    for folder in (p for p in paths if p.is_dir()):
        files += [(f, folder) for f in sorted(folder.rglob("*")) if f.is_file() and not _hidden(f, folder)]
    if doc_id is not None and len(files) != 1:
        raise InvalidInputError(f"--doc-id names one document, but {len(files)} files were given")
    entries: list[_Entry] = []
    for path, root in files:
        if not _utf8(path):
            entries.append(BadSource(_printable(path), "file name is not valid UTF-8; rename the file"))
        elif not path.exists():
            entries.append(BadSource(str(path), "no such file"))
        elif path.suffix.lower() == ".jsonl":
            entries.extend(_jsonl_lines(path))
        else:
            entries.append(_listed_file(path, root, max_file_bytes))
    return Discovered(entries, doc_id=doc_id, max_bytes=max_file_bytes)


def _utf8(path: Path) -> bool:
    try:
        str(path).encode("utf-8")
    except UnicodeEncodeError:  # the OS gave bytes that are not UTF-8 (Python kept them as surrogates)
        return False
    return True


def _printable(path: Path) -> str:
    return os.fsencode(path).decode("utf-8", errors="replace")


def _listed_file(path: Path, root: Path, max_bytes: int | None) -> _File | BadSource:
    try:
        size = path.stat().st_size
        with path.open("rb"):  # readable now; its bytes are read when its turn comes
            pass
    except OSError as exc:
        return BadSource(str(path), f"cannot read file ({exc.strerror})")
    if max_bytes is not None and size > max_bytes:
        return BadSource(str(path), f"file is larger than the limit of {max_bytes} bytes ({size} bytes)")
    return _File(str(path), root)


def _jsonl_lines(path: Path) -> list[_Line | BadSource]:
    """Where each non-blank line starts, read in pieces so that no line is held whole."""
    found: list[_Line | BadSource] = []
    try:
        with path.open("rb") as handle:
            offset, number, blank = 0, 1, True
            start = 0
            for piece in iter(lambda: handle.readline(_LINE_PIECE), b""):
                blank = blank and not piece.strip()
                offset += len(piece)
                if piece.endswith(b"\n"):
                    if not blank:
                        found.append(_Line(path, start, number))
                    start, number, blank = offset, number + 1, True
            if not blank:
                found.append(_Line(path, start, number))
    except OSError as exc:
        return [BadSource(str(path), f"cannot read file ({exc.strerror})")]
    return found


_LINE_PIECE = 1 << 20


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


def _file_source(path: Path, root: Path, doc_id: str | None) -> Source | BadSource:
    try:
        modified = datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError as exc:
        return BadSource(str(path), f"cannot read file ({exc.strerror})")
    try:
        checked_id = check_doc_id(doc_id or path.relative_to(root).as_posix())
    except InvalidInputError as exc:
        return BadSource(str(path), exc.detail)
    return Source(
        name=str(path),
        doc_id=checked_id,
        title=path.stem,
        source_uri=path.resolve().as_uri(),
        path=path,
        filename=path.name,
        source_updated_at=modified,
    )


def upload_source(filename: str, data: bytes, doc_id: str | None = None) -> Source:
    name = Path(filename).name or "upload"
    return Source(
        name=name,
        doc_id=check_doc_id(doc_id or name),
        title=Path(name).stem,
        source_uri=f"upload:{name}",
        data=data,
        filename=name,
    )


def read_jsonl(data: bytes, origin: str) -> Iterator[Source | BadSource]:
    # Lines end at "\n" only: str.splitlines would also cut at U+2028 and others, which JSON strings hold.
    for number, line in enumerate(data.split(b"\n"), start=1):
        if line.strip():
            yield record_line(
                line.decode("utf-8", errors="replace"), origin=origin, name=f"{origin}#{number}"
            )


def record_line(line: str, *, origin: str, name: str) -> Source | BadSource:
    """One JSONL line as a source, or the reason it cannot be one; never an exception."""
    try:
        return record_source(json.loads(line), origin=origin, name=name)
    except json.JSONDecodeError as exc:
        return BadSource(name, f"invalid JSON at column {exc.colno}")
    except RecursionError:  # json and repr recurse per nesting level: a line of 100k '[' overflows
        return BadSource(name, "record is nested too deeply")
    except ValueError as exc:  # e.g. an integer longer than Python converts (4300 digits)
        return BadSource(name, f"invalid JSON ({str(exc)[:120]})")
    except InvalidInputError as exc:
        return BadSource(name, exc.detail)


def record_source(record: Any, *, origin: str, name: str) -> Source:
    if not isinstance(record, dict):
        raise InvalidInputError("a record must be a JSON object with id, title, text, metadata")
    raw_id = record.get("id", record.get("_id"))
    if raw_id is None or str(raw_id) == "":
        raise InvalidInputError("record has no id")
    text = record.get("text")
    if not isinstance(text, str):
        raise InvalidInputError("record text must be a string")
    metadata = record.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise InvalidInputError("record metadata must be an object")
    return Source(
        name=name,
        doc_id=check_doc_id(str(raw_id)),
        title=str(record.get("title") or ""),
        source_uri=str(metadata.get("source_uri") or metadata.get("url") or f"{origin}#{raw_id}"),
        text=text,
        source_updated_at=_parse_time(metadata.get("updated_at")),
        metadata=check_metadata(metadata),
    )


def with_metadata(items: list[Source | BadSource], metadata: Metadata) -> list[Source | BadSource]:
    """Give every source the job's metadata; a record's own values win where both name a key."""
    return [tag(item, metadata) for item in items] if metadata else items


def tag(item: Source | BadSource, metadata: Metadata) -> Source | BadSource:
    if not metadata or isinstance(item, BadSource):
        return item
    try:
        return replace(item, metadata=check_metadata({**metadata, **item.metadata}))
    except InvalidInputError as exc:
        return BadSource(item.name, exc.detail)


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInputError(f"metadata.updated_at must be ISO 8601, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
