"""Multipart uploads streamed to disk: memory stays bounded, and fields are acted on as they arrive.

Each ``files`` part goes straight into a file of the request's spool directory, so an upload of any
size holds one network chunk in memory at a time. Small text fields (``labels``, ``doc_id``,
``metadata``) are handed to ``on_field`` the moment their part ends: a caller that may not write the
labels it names is refused before the file parts behind them are read.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from core.errors import InvalidInputError, PayloadTooLargeError

FILES_FIELD = "files"
TEXT_FIELDS = frozenset({"labels", "doc_id", "metadata"})
MAX_FIELD_BYTES = 1024 * 1024  # metadata tops out near 64 keys x 2,000 characters


class UploadSpool:
    """One request's uploaded files on disk; ``remove`` once the job that reads them has settled."""

    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.directory = Path(tempfile.mkdtemp(prefix="upload-", dir=root))
        self._count = 0

    def new_path(self) -> Path:
        self._count += 1
        return self.directory / f"{self._count:06d}"

    def remove(self) -> None:
        shutil.rmtree(self.directory, ignore_errors=True)


@dataclass
class SpooledFile:
    filename: str
    path: Path
    size: int = 0
    too_large: bool = False  # the rest of the part was discarded once it passed the limit


@dataclass
class Upload:
    files: list[SpooledFile] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)


class _Receiver:
    """Turns the parser's callbacks into spooled files and finished text fields."""

    def __init__(
        self,
        spool: UploadSpool,
        *,
        max_file_bytes: int,
        max_files: int,
        on_field: Callable[[str, str], None],
    ) -> None:
        self.upload = Upload()
        self._spool = spool
        self._max_file_bytes = max_file_bytes
        self._max_files = max_files
        self._on_field = on_field
        self._headers: dict[bytes, bytes] = {}
        self._header_name = b""
        self._header_value = b""
        self._file: SpooledFile | None = None
        self._sink: BinaryIO | None = None
        self._field: str | None = None
        self._buffer = bytearray()

    def on_part_begin(self) -> None:
        self._headers = {}

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        self._headers[self._header_name.lower()] = self._header_value
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self._headers.get(b"content-disposition", b""))
        name = options.get(b"name", b"").decode("utf-8", errors="replace")
        if name == FILES_FIELD:
            self._begin_file(options.get(b"filename", b"").decode("utf-8", errors="replace"))
        elif name in TEXT_FIELDS:
            if name in self.upload.fields:
                raise InvalidInputError(f"send the '{name}' part once")
            self._field, self._buffer = name, bytearray()
        # any other part is read past and dropped, as before

    def _begin_file(self, filename: str) -> None:
        if len(self.upload.files) >= self._max_files:
            raise PayloadTooLargeError(f"a job holds at most {self._max_files} files")
        self._file = SpooledFile(filename=filename or "upload", path=self._spool.new_path())
        self._sink = self._file.path.open("wb")
        self.upload.files.append(self._file)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is not None and self._sink is not None:
            self._file.size += end - start
            if self._file.size <= self._max_file_bytes:
                self._sink.write(data[start:end])
            elif not self._file.too_large:
                self._file.too_large = True  # keep counting, stop storing, give back the disk
                self._sink.truncate(0)
        elif self._field is not None:
            if len(self._buffer) + end - start > MAX_FIELD_BYTES:
                raise PayloadTooLargeError(f"the '{self._field}' part is larger than {MAX_FIELD_BYTES} bytes")
            self._buffer += data[start:end]

    def on_part_end(self) -> None:
        if self._sink is not None:
            self._sink.close()
            self._file, self._sink = None, None
        elif self._field is not None:
            name, self._field = self._field, None
            try:
                value = self._buffer.decode("utf-8")
            except UnicodeDecodeError:
                raise InvalidInputError(f"the '{name}' part must be UTF-8 text") from None
            self.upload.fields[name] = value
            self._on_field(name, value)

    @property
    def inside_a_part(self) -> bool:
        return self._sink is not None or self._field is not None

    def close(self) -> None:
        if self._sink is not None:
            self._sink.close()


async def receive_upload(
    request: Request,
    spool: UploadSpool,
    *,
    max_file_bytes: int,
    max_files: int,
    on_field: Callable[[str, str], None],
) -> Upload:
    """Stream the multipart body of ``request`` into ``spool``; raises a typed error on a bad body."""
    _, options = parse_options_header(request.headers.get("content-type", ""))
    boundary = options.get(b"boundary")
    if not boundary:
        raise InvalidInputError("multipart/form-data needs a boundary parameter")
    receiver = _Receiver(spool, max_file_bytes=max_file_bytes, max_files=max_files, on_field=on_field)
    callbacks = {
        name: getattr(receiver, name)
        for name in (
            "on_part_begin",
            "on_part_data",
            "on_part_end",
            "on_header_field",
            "on_header_value",
            "on_header_end",
            "on_headers_finished",
        )
    }
    parser = MultipartParser(boundary, callbacks)  # type: ignore[arg-type]
    try:
        async for chunk in request.stream():
            try:
                parser.write(chunk)
            except FormParserError as exc:
                raise InvalidInputError(f"malformed multipart body ({exc})") from None
        parser.finalize()
        if receiver.inside_a_part:
            raise InvalidInputError("the multipart body ended inside a part")
    finally:
        receiver.close()
    return receiver.upload
