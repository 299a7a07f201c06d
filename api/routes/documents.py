"""Documents of the caller's tenant: list, provenance with versions, exact text ranges, delete."""

from __future__ import annotations

from fastapi import APIRouter, Response

from api.deps import CallerDep, RuntimeDep, WriterDep
from api.params import EndChar, FirstChar, PageLimit, PageOffset, VersionNumber
from api.schemas import DocumentListOut, DocumentOut, DocumentSummaryOut, TextOut, VersionOut

router = APIRouter(prefix="/v1/documents", tags=["documents"])

# doc ids may contain '/', so they are ``path`` parameters; the most specific route is declared first.


@router.get("/{doc_id:path}/versions/{version}/text", response_model=TextOut)
def version_text(
    doc_id: str,
    version: VersionNumber,
    caller: CallerDep,
    runtime: RuntimeDep,
    start: FirstChar = None,
    end: EndChar = None,
) -> TextOut:
    text = runtime.documents.text(caller.read, doc_id, version, start, end)
    return TextOut(
        doc_id=text.doc_id,
        version=text.version,
        start=text.start,
        end=text.end,
        text=text.text,
        content_sha256=text.content_sha256,
    )


@router.get("", response_model=DocumentListOut)
def list_documents(
    caller: CallerDep, runtime: RuntimeDep, limit: PageLimit = 100, offset: PageOffset = 0
) -> DocumentListOut:
    total, rows = runtime.documents.list(caller.read, limit=limit, offset=offset)
    return DocumentListOut(
        total=total,
        limit=limit,
        offset=offset,
        documents=[
            DocumentSummaryOut(
                doc_id=r.doc_id, current_version=r.current_version, title=r.title, source_uri=r.source_uri
            )
            for r in rows
        ],
    )


@router.get("/{doc_id:path}", response_model=DocumentOut)
def get_document(doc_id: str, caller: CallerDep, runtime: RuntimeDep) -> DocumentOut:
    document = runtime.documents.get(caller.read, doc_id)
    return DocumentOut(
        doc_id=document.doc_id,
        current_version=document.current_version,
        title=document.title,
        source_uri=document.source_uri,
        versions=[
            VersionOut(
                version=v.version,
                title=v.title,
                source_uri=v.source_uri,
                media_type=v.media_type,
                content_sha256=v.content_sha256,
                labels=v.labels,
                redaction_counts=v.redaction_counts,
                metadata=v.doc_metadata,
                chunk_count=v.chunk_count,
                page_count=v.page_count,
                characters=len(v.text),
                ingested_at=v.ingested_at,
                source_updated_at=v.source_updated_at,
            )
            for v in document.versions
        ],
    )


@router.delete("/{doc_id:path}", status_code=204)
def delete_document(doc_id: str, caller: WriterDep, runtime: RuntimeDep) -> Response:
    runtime.documents.authorize_delete(caller.read, caller.write, doc_id)
    runtime.documents.delete(caller.principal.tenant, doc_id)
    return Response(status_code=204)
