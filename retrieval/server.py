"""Qdrant server or cluster through ``qdrant-client``: one collection per tenant, many processes may share it.

Also runs on ``QdrantClient(":memory:")`` (qdrant-client's in-process mode), which the contract tests use.
"""

from __future__ import annotations

import math
import threading
import warnings
from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient, models
from qdrant_client.http.exceptions import ResponseHandlingException, UnexpectedResponse

from core.access import AccessFilter
from core.errors import UpstreamError
from core.hashing import point_uuid
from core.types import TenantId
from retrieval.payload import (
    DENSE,
    INTEGER_FIELDS,
    KEYWORD_FIELDS,
    SPARSE,
    FilterSpec,
    document_filter,
    from_payload,
    search_filter,
    to_payload,
)
from retrieval.ports import ChunkPoint, Fusion, FusionMethod, Hit, Query


def to_qdrant_filter(spec: FilterSpec) -> models.Filter:
    must: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchValue(value=value)) for key, value in spec.equals
    ]
    must += [
        models.FieldCondition(key=key, match=models.MatchAny(any=list(values))) for key, values in spec.any_of
    ]
    must += [models.FieldCondition(key=key, range=models.Range(lt=limit)) for key, limit in spec.below]
    must_not: list[models.Condition] = [
        models.FieldCondition(key=key, match=models.MatchAny(any=list(values)))
        for key, values in spec.none_of
    ]
    return models.Filter(must=must, must_not=must_not or None)


def _server_fusion(fusion: Fusion) -> models.Query:
    if fusion.method == FusionMethod.DBSF:
        return models.FusionQuery(fusion=models.Fusion.DBSF)
    weights = None if fusion.dense_weight == 1.0 else [fusion.dense_weight, 1.0]
    return models.RrfQuery(rrf=models.Rrf(k=fusion.rrf_k, weights=weights))


class QdrantServerStore:
    def __init__(self, client: QdrantClient, *, dimension: int, prefix: str = "tessera") -> None:
        self._client = client
        self._dimension = dimension
        self._prefix = prefix
        self._known: set[str] = set()
        self._lock = threading.Lock()

    @classmethod
    def connect(
        cls, url: str, *, api_key: str | None, dimension: int, prefix: str, timeout_s: float
    ) -> QdrantServerStore:
        client = QdrantClient(url=url, api_key=api_key, timeout=max(1, math.ceil(timeout_s)))
        return cls(client, dimension=dimension, prefix=prefix)

    def _exists(self, tenant: TenantId) -> str | None:
        """The tenant's collection name if it exists; a positive answer is remembered."""
        name = self._collection(tenant)
        if name in self._known:
            return name
        if self._call(lambda: self._client.collection_exists(name)):
            self._known.add(name)
            return name
        return None

    def _collection(self, tenant: TenantId) -> str:
        return f"{self._prefix}_{tenant}"

    def _ensure(self, tenant: TenantId) -> str:
        name = self._collection(tenant)
        if name in self._known:
            return name
        with self._lock:
            if not self._call(lambda: self._client.collection_exists(name)):
                try:
                    self._create(name)
                except UnexpectedResponse as exc:
                    if exc.status_code != 409:  # another process created it first: fine
                        raise UpstreamError("the vector engine refused to create a collection") from exc
                except (ResponseHandlingException, ConnectionError, TimeoutError) as exc:
                    raise UpstreamError("the vector engine did not accept the request") from exc
            self._known.add(name)
        return name

    def _create(self, name: str) -> None:
        self._client.create_collection(
            name,
            vectors_config={
                DENSE: models.VectorParams(size=self._dimension, distance=models.Distance.COSINE)
            },
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
        )
        # qdrant-client's in-process mode ignores payload indexes and warns; servers use them.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="Payload indexes have no effect")
            self._create_indexes(name)

    def _create_indexes(self, name: str) -> None:
        for field in KEYWORD_FIELDS:
            schema: Any = (
                models.KeywordIndexParams(type=models.KeywordIndexType.KEYWORD, is_tenant=True)
                if field == "tenant"
                else models.PayloadSchemaType.KEYWORD
            )
            self._client.create_payload_index(name, field, field_schema=schema)
        for field in INTEGER_FIELDS:
            self._client.create_payload_index(name, field, field_schema=models.PayloadSchemaType.INTEGER)

    def upsert(self, tenant: TenantId, points: Sequence[ChunkPoint]) -> None:
        if not points:
            return
        name = self._ensure(tenant)
        structs = [
            models.PointStruct(
                id=point_uuid(tenant, p.payload.chunk_id, p.payload.write_id),
                vector={
                    DENSE: list(p.dense),
                    SPARSE: models.SparseVector(indices=list(p.sparse.indices), values=list(p.sparse.values)),
                },
                payload=to_payload(tenant, p.payload),
            )
            for p in points
        ]
        self._call(lambda: self._client.upsert(name, points=structs, wait=True))

    def search(
        self, tenant: TenantId, query: Query, *, allowed: AccessFilter, k: int, candidates: int
    ) -> list[Hit]:
        name = self._exists(tenant)
        if name is None:
            return []
        flt = to_qdrant_filter(search_filter(tenant, allowed, query.filters))
        prefetch: list[models.Prefetch] = []
        if query.dense is not None:
            prefetch.append(
                models.Prefetch(query=list(query.dense), using=DENSE, filter=flt, limit=candidates)
            )
        if query.sparse is not None and query.sparse.indices:
            sparse = models.SparseVector(indices=list(query.sparse.indices), values=list(query.sparse.values))
            prefetch.append(models.Prefetch(query=sparse, using=SPARSE, filter=flt, limit=candidates))
        if not prefetch:
            return []
        if len(prefetch) == 1:
            only = prefetch[0]
            request: dict[str, Any] = {"query": only.query, "using": only.using}
        else:
            request = {"prefetch": prefetch, "query": _server_fusion(query.fusion)}
        response = self._call(
            lambda: self._client.query_points(
                name,
                query_filter=flt,
                limit=k,
                with_payload=True,
                with_vectors=[DENSE] if query.with_dense else False,
                **request,
            )
        )
        hits = []
        for point in response.points:
            point_tenant, payload = from_payload(point.payload or {})
            stored: Any = point.vector
            dense = list(stored[DENSE]) if query.with_dense and isinstance(stored, dict) else None
            hits.append(Hit(tenant=point_tenant, payload=payload, score=float(point.score), dense=dense))
        return hits

    def delete_older_versions(self, tenant: TenantId, doc_id: str, below_version: int) -> int:
        return self._delete(tenant, document_filter(tenant, doc_id, below_version=below_version))

    def delete_write(self, tenant: TenantId, doc_id: str, write_id: str) -> int:
        return self._delete(tenant, document_filter(tenant, doc_id, only_write=write_id))

    def _delete(self, tenant: TenantId, spec: FilterSpec) -> int:
        name = self._exists(tenant)
        if name is None:
            return 0
        flt = to_qdrant_filter(spec)
        doomed = int(self._call(lambda: self._client.count(name, count_filter=flt, exact=True).count))
        if doomed:
            self._call(
                lambda: self._client.delete(
                    name, points_selector=models.FilterSelector(filter=flt), wait=True
                )
            )
        return doomed

    def count(self, tenant: TenantId, doc_id: str | None = None, *, version: int | None = None) -> int:
        name = self._exists(tenant)
        if name is None:
            return 0
        flt = to_qdrant_filter(document_filter(tenant, doc_id, version=version))
        return int(self._call(lambda: self._client.count(name, count_filter=flt, exact=True).count))

    def optimize(self, tenant: TenantId) -> None:
        return None  # a Qdrant server runs its optimizers in the background

    def drop_tenant(self, tenant: TenantId) -> None:
        name = self._collection(tenant)
        with self._lock:
            self._known.discard(name)
            if self._call(lambda: self._client.collection_exists(name)):
                self._call(lambda: self._client.delete_collection(name))

    def ready(self) -> bool:
        try:
            self._call(self._client.get_collections)
        except UpstreamError:
            return False
        return True

    def close(self) -> None:
        self._client.close()

    @staticmethod
    def _call(action: Any) -> Any:
        try:
            return action()
        except (UnexpectedResponse, ResponseHandlingException, ConnectionError, TimeoutError) as exc:
            raise UpstreamError("the vector engine did not accept the request") from exc
