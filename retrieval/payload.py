"""One mapping between chunk payloads and engine points, and one place that builds every filter.

Both adapters use these, so the fields stored and the conditions applied cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.access import AccessFilter
from core.types import TenantId
from retrieval.ports import ChunkPayload, SearchFilters

DENSE = "dense"
SPARSE = "bm25"
KEYWORD_FIELDS = ("tenant", "doc_id", "labels", "write_id")
INTEGER_FIELDS = ("version",)


def to_payload(tenant: TenantId, chunk: ChunkPayload) -> dict[str, Any]:
    return {
        "tenant": tenant,
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
        "version": chunk.version,
        "chunk_index": chunk.chunk_index,
        "title": chunk.title,
        "source_uri": chunk.source_uri,
        "text": chunk.text,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "page": chunk.page,
        "labels": list(chunk.labels),
        "content_sha256": chunk.content_sha256,
        "ingested_at": chunk.ingested_at.isoformat(),
        "source_updated_at": chunk.source_updated_at.isoformat() if chunk.source_updated_at else None,
        "element_type": chunk.element_type,
        "write_id": chunk.write_id,
        "metadata": {key: list(v) if isinstance(v, list) else v for key, v in chunk.metadata.items()},
    }


def from_payload(payload: dict[str, Any]) -> tuple[str, ChunkPayload]:
    updated = payload.get("source_updated_at")
    chunk = ChunkPayload(
        chunk_id=str(payload["chunk_id"]),
        doc_id=str(payload["doc_id"]),
        version=int(payload["version"]),
        chunk_index=int(payload["chunk_index"]),
        title=str(payload.get("title", "")),
        source_uri=str(payload.get("source_uri", "")),
        text=str(payload["text"]),
        char_start=int(payload["char_start"]),
        char_end=int(payload["char_end"]),
        page=int(payload["page"]) if payload.get("page") is not None else None,
        labels=tuple(payload.get("labels", ())),
        content_sha256=str(payload["content_sha256"]),
        ingested_at=datetime.fromisoformat(payload["ingested_at"]),
        source_updated_at=datetime.fromisoformat(updated) if updated else None,
        element_type=str(payload.get("element_type", "")),
        write_id=str(payload.get("write_id", "")),
        metadata=dict(payload.get("metadata") or {}),
    )
    return str(payload["tenant"]), chunk


@dataclass(frozen=True)
class FilterSpec:
    """Conditions that must all hold: ``equals`` on single values, ``any_of`` on value sets,
    ``below`` (integer field < value), and ``none_of`` (the field holds none of the values)."""

    equals: tuple[tuple[str, str | int], ...]
    any_of: tuple[tuple[str, tuple[str | int, ...]], ...]
    below: tuple[tuple[str, int], ...] = ()
    none_of: tuple[tuple[str, tuple[str | int, ...]], ...] = ()


def search_filter(tenant: TenantId, allowed: AccessFilter, filters: SearchFilters) -> FilterSpec:
    """The engine-side filter for a search: tenant, access labels, then the caller's narrowing."""
    if allowed.tenant != tenant:
        raise PermissionError("access filter was built for another tenant")
    any_of: list[tuple[str, tuple[str | int, ...]]] = []
    readable = allowed.label_set()
    if readable is not None:
        any_of.append(("labels", tuple(sorted(readable))))
    if filters.labels_any:
        any_of.append(("labels", tuple(filters.labels_any)))
    if filters.doc_ids:
        any_of.append(("doc_id", tuple(filters.doc_ids)))
    any_of += [(f"metadata.{key}", values) for key, values in filters.metadata_any]
    none_of = (("labels", tuple(sorted(allowed.denied))),) if allowed.denied else ()
    return FilterSpec(equals=(("tenant", tenant),), any_of=tuple(any_of), none_of=none_of)


def document_filter(
    tenant: TenantId,
    doc_id: str | None,
    *,
    version: int | None = None,
    below_version: int | None = None,
    only_write: str | None = None,
) -> FilterSpec:
    equals: list[tuple[str, str | int]] = [("tenant", tenant)]
    if doc_id is not None:
        equals.append(("doc_id", doc_id))
    if version is not None:
        equals.append(("version", version))
    if only_write is not None:
        equals.append(("write_id", only_write))
    below = (("version", below_version),) if below_version is not None else ()
    return FilterSpec(equals=tuple(equals), any_of=(), below=below)
