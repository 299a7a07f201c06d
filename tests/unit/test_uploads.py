"""The streaming upload receiver reads a multipart body exactly as Starlette's own form parser does."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from starlette.datastructures import UploadFile
from starlette.requests import Request

from api.uploads import TEXT_FIELDS, Upload, UploadSpool, receive_upload
from core.errors import PayloadTooLargeError

BOUNDARY = "b0undary-of-the-test"
_FIELD_TEXT = st.text(st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\n"), max_size=40)


def _body(fields: dict[str, str], files: list[tuple[str, bytes]]) -> bytes:
    parts = [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        + value.encode()
        + b"\r\n"
        for name, value in fields.items()
    ]
    parts += [
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
        for filename, content in files
    ]
    return b"".join(parts) + f"--{BOUNDARY}--\r\n".encode()


def _request(body: bytes, chunk: int) -> Request:
    chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
    messages = [
        {"type": "http.request", "body": c, "more_body": i < len(chunks) - 1} for i, c in enumerate(chunks)
    ]

    async def receive() -> Any:
        return messages.pop(0)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/",
        "headers": [(b"content-type", f"multipart/form-data; boundary={BOUNDARY}".encode())],
    }
    return Request(scope, receive)


def _receive(body: bytes, chunk: int, root: Path, **limits: int) -> Upload:
    seen: list[str] = []
    upload = asyncio.run(
        receive_upload(
            _request(body, chunk),
            UploadSpool(root),
            max_file_bytes=limits.get("max_file_bytes", 10_000),
            max_files=limits.get("max_files", 10),
            on_field=lambda name, value: seen.append(name),
        )
    )
    assert seen == list(upload.fields)  # every field was announced as it ended, in order
    return upload


async def _starlette_form(body: bytes) -> tuple[dict[str, str], list[tuple[str, bytes]]]:
    form = await _request(body, len(body) or 1).form()
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    files = [(f.filename or "", await f.read()) for f in form.getlist("files") if isinstance(f, UploadFile)]
    return fields, files


@settings(max_examples=60, deadline=None)
@given(
    fields=st.dictionaries(st.sampled_from(sorted(TEXT_FIELDS)), _FIELD_TEXT, max_size=3),
    files=st.lists(
        st.tuples(st.from_regex(r"[a-z]{1,8}\.txt", fullmatch=True), st.binary(max_size=300)),
        min_size=1,
        max_size=3,
    ),
    chunk=st.integers(min_value=1, max_value=97),
)
def test_streamed_parts_equal_starlettes_form(
    fields: dict[str, str], files: list[tuple[str, bytes]], chunk: int
) -> None:
    body = _body(fields, files)
    with tempfile.TemporaryDirectory() as root:
        upload = _receive(body, chunk, Path(root))
        streamed = [(f.filename, f.path.read_bytes()) for f in upload.files]
    assert (upload.fields, streamed) == asyncio.run(_starlette_form(body))


def test_a_file_over_the_limit_is_marked_and_not_kept(tmp_path: Path) -> None:
    body = _body({}, [("big.txt", b"x" * 5000), ("ok.txt", b"fine")])
    upload = _receive(body, 64, tmp_path, max_file_bytes=1000)
    big, ok = upload.files
    assert big.too_large and big.size == 5000 and big.path.stat().st_size == 0
    assert not ok.too_large and ok.path.read_bytes() == b"fine"


def test_too_many_files_is_refused_as_it_arrives(tmp_path: Path) -> None:
    body = _body({}, [(f"{i}.txt", b"x") for i in range(4)])
    with pytest.raises(PayloadTooLargeError, match="at most 3 files"):
        _receive(body, 64, tmp_path, max_files=3)
