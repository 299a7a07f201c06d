"""POST /v1/ingest/jobs (multipart files or JSON records) and GET /v1/ingest/jobs/{id}."""

from __future__ import annotations

import json

from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from acl.filters import check_ingest, normalise_labels
from api.deps import PrincipalDep, RuntimeDep
from api.schemas import JobAcceptedOut, JobItemOut, JobOut, RecordsJobIn
from core.errors import InvalidInputError, PayloadTooLargeError, UnsupportedMediaError
from core.metadata import Metadata, check_metadata
from core.settings import IngestSettings
from ingest.document import Source
from ingest.sources import BadSource, read_jsonl, record_source, upload_source, with_metadata

router = APIRouter(prefix="/v1/ingest", tags=["ingest"])

_BODY_DOC = {
    "requestBody": {
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "files": {"type": "array", "items": {"type": "string", "format": "binary"}},
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
async def create_job(request: Request, principal: PrincipalDep, runtime: RuntimeDep) -> JobAcceptedOut:
    content_type = request.headers.get("content-type", "")
    limits = runtime.settings.ingest
    if content_type.startswith("multipart/form-data"):
        items, labels = await _from_multipart(request, limits)
    elif content_type.startswith("application/json"):
        items, labels = _from_records(await request.body())
    else:
        raise UnsupportedMediaError(
            f"send multipart/form-data or application/json, got {content_type or 'nothing'!r}"
        )
    if len(items) > limits.max_files_per_job * 100:
        raise PayloadTooLargeError(
            f"a job holds at most {limits.max_files_per_job * 100} items, got {len(items)}"
        )
    check_ingest(principal, labels)
    job_id = await run_in_threadpool(runtime.jobs.create, principal.tenant, principal.user, items, labels)
    request.app.state.job_runner.submit(job_id, principal.tenant, items, labels)
    return JobAcceptedOut(job_id=job_id, status="queued", total=len(items), href=f"/v1/ingest/jobs/{job_id}")


@router.get("/jobs/{job_id}", response_model=JobOut)
def get_job(job_id: str, principal: PrincipalDep, runtime: RuntimeDep) -> JobOut:
    view = runtime.jobs.get(principal.tenant, job_id)
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


async def _from_multipart(
    request: Request, limits: IngestSettings
) -> tuple[list[Source | BadSource], tuple[str, ...]]:
    form = await request.form(max_files=limits.max_files_per_job, max_part_size=limits.max_file_bytes + 1)
    uploads = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    if not uploads:
        raise InvalidInputError("multipart body has no 'files' parts")
    raw_labels = form.get("labels")
    labels = normalise_labels(str(raw_labels).split(",")) if raw_labels else normalise_labels(())
    job_metadata = _form_metadata(form.get("metadata"))
    doc_id = form.get("doc_id")
    if doc_id is not None and len(uploads) != 1:
        raise InvalidInputError(f"doc_id names one document, but {len(uploads)} files were sent")
    items: list[Source | BadSource] = []
    for upload in uploads:
        name = upload.filename or "upload"
        data = await upload.read(limits.max_file_bytes + 1)
        if len(data) > limits.max_file_bytes:
            items.append(BadSource(name, f"file is larger than the limit of {limits.max_file_bytes} bytes"))
        elif name.lower().endswith(".jsonl"):
            items.extend(read_jsonl(data, name))
        else:
            try:
                items.append(upload_source(name, data, str(doc_id) if doc_id is not None else None))
            except InvalidInputError as exc:
                items.append(BadSource(name, exc.detail))
    return with_metadata(items, job_metadata), labels


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
