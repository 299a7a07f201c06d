"""POST /v1/ingest/jobs (multipart files or JSON records) and GET /v1/ingest/jobs/{id}."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from acl.filters import WriteGrant, check_ingest, normalise_labels
from api.deps import CallerDep, RuntimeDep, WriterDep
from api.schemas import JobAcceptedOut, JobItemOut, JobOut, RecordsJobIn
from api.uploads import SpooledFile, UploadSpool, receive_upload
from core.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError
from core.metadata import Metadata, check_metadata
from core.settings import IngestSettings
from ingest.document import Source
from ingest.sources import BadSource, read_jsonl, record_source, upload_source, with_metadata

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])
UPLOADS_DIR = "uploads"  # under the data dir: uploads waiting for their job, removed when it settles

_BODY_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "minItems": 1,
                        },
                        "labels": {"type": "string", "description": "comma-separated ACL labels"},
                        "doc_id": {"type": "string", "description": "id for a single uploaded file"},
                        "metadata": {
                            "type": "string",
                            "description": "JSON object of metadata for every document of the upload "
                            "(a record's own values win)",
                        },
                    },
                    "required": ["files"],
                }
            },
            "application/json": {"schema": RecordsJobIn.model_json_schema()},
        },
        "required": True,
    }
}


@router.post("/jobs", status_code=202, response_model=JobAcceptedOut, openapi_extra=_BODY_DOC)
async def create_job(
    request: Request,
    caller: WriterDep,
    runtime: RuntimeDep,
    labels: Annotated[
        str | None,
        Query(
            max_length=4000,
            description="comma-separated ACL labels of a multipart upload, checked before any of the body "
            "is read (instead of the 'labels' part)",
        ),
    ] = None,
) -> JobAcceptedOut:
    principal, grant = caller.principal, caller.write
    limits = runtime.settings.ingest
    multipart = _is_multipart(request)
    spool = UploadSpool(runtime.settings.data_dir / UPLOADS_DIR) if multipart else None
    try:
        if spool is not None:
            items, job_labels = await _from_multipart(request, grant, limits, spool, labels)
        else:
            items, job_labels = await _from_json(request, labels)
        if len(items) > limits.max_files_per_job * 100:
            raise PayloadTooLargeError(
                f"a job holds at most {limits.max_files_per_job * 100} items, got {len(items)}"
            )
        check_ingest(grant, job_labels)
        job_id = await run_in_threadpool(
            runtime.jobs.create, principal.tenant, principal.user, items, job_labels
        )
        settled = request.app.state.job_runner.submit(job_id, principal.tenant, items, job_labels, grant)
    except BaseException:
        if spool is not None:
            spool.remove()
        raise
    if spool is not None:
        # Also runs when shutdown cancels a queued job: the spooled files never outlive their job.
        settled.add_done_callback(lambda _: spool.remove())
    return JobAcceptedOut(job_id=job_id, status="queued", total=len(items), href=f"/v1/ingest/jobs/{job_id}")


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, caller: CallerDep, runtime: RuntimeDep) -> JobOut:
    view = runtime.jobs.get_readable(caller.read, job_id)
    job = view.job
    return JobOut(
        job_id=job.id,
        status=job.status,
        total=job.total,
        counts=view.counts(),
        labels=job.labels,
        created_at=job.created_at,
        finished_at=job.finished_at,
        items=[
            JobItemOut(
                position=i.position,
                name=i.name,
                status=i.status,
                doc_id=i.doc_id,
                version=i.version,
                chunks=i.chunks,
                error=i.error,
            )
            for i in view.items
        ],
    )


def _is_multipart(request: Request) -> bool:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        return True
    if content_type.startswith("application/json"):
        return False
    raise UnsupportedMediaError(
        f"send multipart/form-data or application/json, got {content_type or 'nothing'!r}"
    )


async def _from_json(
    request: Request, query_labels: str | None
) -> tuple[list[Source | BadSource], tuple[str, ...]]:
    if query_labels is not None:
        raise InvalidInputError("a JSON body names its labels in 'labels', not in the query")
    return _from_records(await request.body())


async def _from_multipart(
    request: Request,
    grant: WriteGrant,
    limits: IngestSettings,
    spool: UploadSpool,
    query_labels: str | None,
) -> tuple[list[Source | BadSource], tuple[str, ...]]:
    if query_labels is not None:
        check_ingest(grant, _labels(query_labels))

    def check_field(name: str, value: str) -> None:
        # Parts arrive in the order sent: labels placed before the files are refused before those are read.
        if name == "labels":
            if query_labels is not None:
                raise InvalidInputError("send labels once: in the query or in the 'labels' part")
            check_ingest(grant, _labels(value))

    upload = await receive_upload(
        request,
        spool,
        max_file_bytes=limits.max_file_bytes,
        max_files=limits.max_files_per_job,
        on_field=check_field,
    )
    if not upload.files:
        raise InvalidInputError("multipart body has no 'files' parts")
    job_labels = _labels(query_labels if query_labels is not None else upload.fields.get("labels", ""))
    job_metadata = _form_metadata(upload.fields.get("metadata"))
    doc_id = upload.fields.get("doc_id")
    if doc_id is not None and len(upload.files) != 1:
        raise InvalidInputError(f"doc_id names one document, but {len(upload.files)} files were sent")
    items = [item for spooled in upload.files for item in _spooled_items(spooled, limits, doc_id)]
    return with_metadata(items, job_metadata), job_labels


def _labels(raw: str) -> tuple[str, ...]:
    return normalise_labels(raw.split(","))


def _spooled_items(
    spooled: SpooledFile, limits: IngestSettings, doc_id: str | None
) -> list[Source | BadSource]:
    name = spooled.filename
    if spooled.too_large:
        return [BadSource(name, f"file is larger than the limit of {limits.max_file_bytes} bytes")]
    if name.lower().endswith(".jsonl"):
        # Records are held as text once parsed; the file itself is not needed after that.
        records = list(read_jsonl(spooled.path.read_bytes(), name))
        spooled.path.unlink()
        return records
    try:
        # The job keeps the path; the pipeline reads the bytes when it gets to this item.
        return [replace(upload_source(name, b"", doc_id), data=None, path=spooled.path)]
    except InvalidInputError as exc:
        return [BadSource(name, exc.detail)]


def _form_metadata(raw: object) -> Metadata:
    """The optional ``metadata`` part: a JSON object given to every document of the upload."""
    if raw is None:
        return {}
    if not isinstance(raw, str):
        raise InvalidInputError("the 'metadata' part must be a JSON object, not a file")
    try:
        parsed = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"the 'metadata' part is not valid JSON (column {exc.colno})") from None
    except RecursionError:
        raise InvalidInputError("the 'metadata' part is nested too deeply to be metadata") from None
    if not isinstance(parsed, dict):
        raise InvalidInputError("the 'metadata' part must be a JSON object")
    return check_metadata(parsed)


def _from_records(body: bytes) -> tuple[list[Source | BadSource], tuple[str, ...]]:
    try:
        parsed = RecordsJobIn.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InvalidInputError(f"{where}: {first['msg']}") from None
    items: list[Source | BadSource] = []
    for i, record in enumerate(parsed.records):
        name = f"records[{i}]"
        try:
            items.append(record_source(json.loads(record.model_dump_json()), origin="api", name=name))
        except InvalidInputError as exc:
            items.append(BadSource(name, exc.detail))
    return items, normalise_labels(parsed.labels)
