"""Build the running service from settings: database, vector store, models, pipeline, search, jobs.

Heavy things (encoder, redactor) are created on first use, once per process, so a command that
needs none of them (``keys create``, an unchanged re-ingest) starts in a blink.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Engine

from acl.admin import PolicyAdmin
from acl.auth import Authenticator
from acl.callers import CallerResolver
from acl.enforcer import AccessControl
from acl.review import AccessReview
from acl.versions import DatabaseVersions, PolicyVersions, RedisVersions
from api.metrics import ACL_FAIL_CLOSED
from core.cores import CoreShare
from core.db import make_engine, migrate
from core.offline import enforce_offline
from core.settings import Settings
from core.types import TenantId
from ingest.chunk import Chunker, HuggingFaceTokenCounter
from ingest.documents import DocumentService
from ingest.jobs import JobService
from ingest.pipeline import IngestPipeline
from ingest.prepare import InlinePreparer, Preparer, ProcessPreparer
from ingest.redact import REDACTION_POLICY_VERSION, NoRedactor, PresidioRedactor
from provenance import store as docs
from provenance.labels import ProvenanceLabels
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.edge import EdgeMemory, EdgeVectorStore
from retrieval.embedders import SentenceTransformerEmbedder, default_model_path
from retrieval.encoder_card import EncoderCard, read_encoder_card
from retrieval.ports import Embedder, VectorStore
from retrieval.search import SearchService
from retrieval.server import QdrantServerStore

T = TypeVar("T")


class Lazy(Generic[T]):
    """A value built on first call, exactly once, even when several threads ask at the same time."""

    def __init__(self, build: Callable[[], T]) -> None:
        self._build = build
        self._value: T | None = None
        self._lock = threading.Lock()

    def __call__(self) -> T:
        if self._value is None:
            with self._lock:
                if self._value is None:
                    self._value = self._build()
        return self._value

    @property
    def built(self) -> bool:
        return self._value is not None


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    access: AccessControl
    callers: CallerResolver
    admin: PolicyAdmin
    review: AccessReview
    store: VectorStore
    embedder: Lazy[Embedder]
    preparer: Lazy[Preparer]
    pipeline: IngestPipeline
    search: SearchService
    jobs: JobService
    documents: DocumentService

    def close(self) -> None:
        if self.preparer.built:
            self.preparer().close()
        self.store.close()
        self.access.close()
        self.engine.dispose()


def check_settings(settings: Settings) -> EncoderCard:
    """Everything that can be checked before work starts: the settings against the encoder they name."""
    card = read_encoder_card(settings.embedding.model_path or None)
    settings.check_encoder_window(card.window)
    return card


def build_store(settings: Settings, owner: str, *, dimension: int) -> VectorStore:
    if settings.qdrant.url:
        key = settings.qdrant.api_key.get_secret_value() if settings.qdrant.api_key else None
        return QdrantServerStore.connect(
            settings.qdrant.url,
            api_key=key,
            dimension=dimension,
            prefix=settings.qdrant.collection_prefix,
            timeout_s=settings.qdrant.timeout_s,
        )
    memory = EdgeMemory(settings.qdrant.memory, settings.qdrant.max_segment_mb)
    return EdgeVectorStore(settings.shards_dir, dimension=dimension, owner=owner, memory=memory)


def build_runtime(
    settings: Settings,
    *,
    owner: str = "tessera",
    store: VectorStore | None = None,
    embedder: Callable[[], Embedder] | None = None,
    preparer: Callable[[], Preparer] | None = None,
) -> Runtime:
    """Wire the service; tests pass fakes or pre-built adapters for any of the optional parts."""
    enforce_offline()
    card = check_settings(settings)
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    vector_store = store or build_store(settings, owner, dimension=card.dimension)
    model_path = settings.embedding.model_path or None
    cores = CoreShare()  # redaction workers report the cores they hold; the encoder leaves them
    lazy_embedder: Lazy[Embedder] = Lazy(embedder or (lambda: default_embedder(settings, cores)))
    lazy_preparer: Lazy[Preparer] = Lazy(preparer or (lambda: default_preparer(settings, cores)))
    chunker = Lazy(
        lambda: Chunker(
            HuggingFaceTokenCounter(model_path or default_model_path()),
            max_tokens=settings.chunking.max_tokens,
            overlap_tokens=settings.chunking.overlap_tokens,
        )
    )
    sparse = QdrantBm25Encoder()
    pipeline = IngestPipeline(
        engine=engine,
        store=vector_store,
        embedder=lazy_embedder,
        sparse=sparse,
        chunker=chunker,
        preparer=lazy_preparer,
        redaction_policy=REDACTION_POLICY_VERSION if settings.ingest.redact else NoRedactor.policy_version,
        window=settings.ingest.pipeline_batch_docs,
    )

    def current_writes(tenant: TenantId, doc_ids: Iterable[str]) -> dict[str, str]:
        with engine.connect() as connection:
            return docs.current_writes(connection, tenant, doc_ids)

    search = SearchService(
        store=vector_store,
        embedder=lazy_embedder,
        sparse=sparse,
        current_writes=current_writes,
        settings=settings.search,
    )
    access = build_access(settings, engine)
    return Runtime(
        settings=settings,
        engine=engine,
        access=access,
        callers=CallerResolver(Authenticator(engine), access),
        admin=PolicyAdmin(engine, access),
        review=AccessReview(engine, access, ProvenanceLabels(engine)),
        store=vector_store,
        embedder=lazy_embedder,
        preparer=lazy_preparer,
        pipeline=pipeline,
        search=search,
        jobs=JobService(engine, pipeline),
        documents=DocumentService(engine, vector_store),
    )


@dataclass
class AccessServices:
    """Access control without the index: for key and policy commands, which must work while a
    server owns the embedded index."""

    engine: Engine
    access: AccessControl
    admin: PolicyAdmin
    review: AccessReview

    def close(self) -> None:
        self.access.close()
        self.engine.dispose()


def build_access_services(settings: Settings) -> AccessServices:
    engine = make_engine(settings.resolved_database_url)
    migrate(engine)
    access = build_access(settings, engine)
    review = AccessReview(engine, access, ProvenanceLabels(engine))
    return AccessServices(engine, access, PolicyAdmin(engine, access), review)


def build_access(settings: Settings, engine: Engine) -> AccessControl:
    built: list[AccessControl] = []

    def pull_changes() -> None:
        for access in built:  # empty while the watcher starts, before the access control exists
            access.refresh_all()

    versions: PolicyVersions = DatabaseVersions(engine)
    if settings.redis_url:
        versions = RedisVersions(engine, settings.redis_url, on_change=pull_changes)
    access = AccessControl(engine, versions, on_failure=ACL_FAIL_CLOSED.inc)
    built.append(access)
    return access


def default_embedder(settings: Settings, cores: CoreShare) -> Embedder:
    embedding = settings.embedding
    return SentenceTransformerEmbedder(
        embedding.model_path or None, batch_size=embedding.batch_size, device=embedding.device, cores=cores
    )


def default_preparer(settings: Settings, cores: CoreShare) -> Preparer:
    ingest = settings.ingest
    if ingest.redaction_workers > 0:
        return ProcessPreparer(workers=ingest.redaction_workers, redact=ingest.redact, cores=cores)
    return InlinePreparer(PresidioRedactor() if ingest.redact else NoRedactor())
