"""One typed settings tree, read once from the environment (prefix ``TESSERA_``, nested with ``__``)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import ConfigurationError

ENV_PREFIX = "TESSERA_"


def env_name(*path: str) -> str:
    """The environment variable that sets a nested setting: ``env_name("chunking", "max_tokens")``."""
    return ENV_PREFIX + "__".join(path).upper()


class QdrantSettings(BaseModel):
    """Where vectors live. ``url`` unset means the embedded engine under ``data_dir``."""

    url: str | None = None
    api_key: SecretStr | None = None
    collection_prefix: str = "tessera"
    timeout_s: float = 10.0
    # Embedded engine only (docs/memory.md). "cold": a shard's vectors, graphs, payloads and indexes
    # are memory-mapped and read when first touched, so an ingest of any size runs in bounded memory;
    # "cached": read in when a shard opens (faster first searches; memory grows with the shard).
    memory: Literal["cold", "cached"] = "cold"
    # Cap on one segment's vectors; an index build covers one segment, so its memory follows the cap.
    # 64 keeps a 60,000-chunk tenant at the 2 segments (and the search latency) it had uncapped; 32
    # lowers a bulk ingest's peak further but makes large tenants' searches ~1.7x slower (docs/memory.md).
    max_segment_mb: int = Field(default=64, ge=4, le=65536)


class EmbeddingSettings(BaseModel):
    """The dense encoder. ``model_path`` unset means the all-MiniLM-L6-v2 shipped as a package."""

    model_path: str | None = None
    # Small batches: on CPU they cost no more per text than big ones (less padding), and the encoder
    # re-checks between batches how many cores the redaction workers leave it (core.cores).
    batch_size: int = Field(default=8, ge=1, le=1024)
    device: str = "cpu"


class ChunkingSettings(BaseModel):
    """Chunk size in encoder tokens; MiniLM truncates at 256, so chunks stay under it."""

    max_tokens: int = Field(default=200, ge=16, le=512)
    # 20 rather than 40: 5 % fewer tokens to embed for SciFact train hybrid nDCG@10 0.7118 vs 0.7151
    # (dense equal, BM25 0.6824 vs 0.6798); see docs/benchmarks.md.
    overlap_tokens: int = Field(default=20, ge=0, le=256)

    @model_validator(mode="after")
    def _overlap_inside_the_chunk(self) -> ChunkingSettings:
        if self.overlap_tokens >= self.max_tokens:
            raise ValueError(
                f"{env_name('chunking', 'overlap_tokens')} ({self.overlap_tokens}) must be less than "
                f"{env_name('chunking', 'max_tokens')} ({self.max_tokens})"
            )
        return self


class IngestSettings(BaseModel):
    max_file_bytes: int = Field(default=25 * 1024 * 1024, ge=1)
    max_files_per_job: int = Field(default=1000, ge=1)
    max_request_bytes: int = Field(default=256 * 1024 * 1024, ge=1024)  # whole HTTP body
    redact: bool = True
    # Redaction runs in worker processes so it overlaps with embedding on the other core.
    redaction_workers: int = Field(default=1, ge=0, le=16)
    # Documents per pipeline window; the encoder sorts a window's chunks by length before batching, so
    # bigger windows pad less (SciFact chunks: 3.9 % padding at 64 against 5.8 % at 32).
    pipeline_batch_docs: int = Field(default=64, ge=1, le=1024)
    # API processes renew their open jobs this often; a job not renewed for 6 beats is settled as
    # interrupted by any other process (its own process died).
    job_heartbeat_seconds: float = Field(default=10.0, gt=0, le=3600)


class FeedbackSettings(BaseModel):
    """Pseudo-relevance feedback (retrieval.feedback): a second engine query moved toward the first
    one's best chunks. ``docs`` 0 turns it off."""

    docs: int = Field(default=0, ge=0, le=50)
    terms: int = Field(default=10, ge=1, le=200)  # RM3 expansion terms taken from those chunks
    # RM3: the original BM25 query's share of the expanded one (1 = BM25 query left as it is).
    query_weight: float = Field(default=0.5, ge=0, le=1)
    # Rocchio: weight of the chunks' mean dense vector against the query's 1 (0 = dense left as it is).
    dense_weight: float = Field(default=0.0, ge=0, le=10)


class SearchSettings(BaseModel):
    default_k: int = Field(default=10, ge=1, le=100)
    max_k: int = Field(default=100, ge=1, le=1000)
    # Candidates fetched per retriever before fusion, as a multiple of k.
    candidate_multiplier: int = Field(default=4, ge=1, le=20)
    # How hybrid search merges the dense and the BM25 ranking; see docs/benchmarks.md for the figures.
    fusion: Literal["dbsf", "rrf"] = "dbsf"
    rrf_k: int = Field(default=60, ge=1)
    rrf_dense_weight: float = Field(default=1.0, gt=0, le=100)  # RRF only; BM25 weighs 1
    feedback: FeedbackSettings = FeedbackSettings()

    @model_validator(mode="after")
    def _default_within_max(self) -> SearchSettings:
        if self.default_k > self.max_k:
            raise ValueError(
                f"{env_name('search', 'default_k')} ({self.default_k}) must not exceed "
                f"{env_name('search', 'max_k')} ({self.max_k})"
            )
        return self


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    data_dir: Path = Path("./data")
    database_url: str | None = None  # None → SQLite file under data_dir
    qdrant: QdrantSettings = QdrantSettings()
    embedding: EmbeddingSettings = EmbeddingSettings()
    chunking: ChunkingSettings = ChunkingSettings()
    ingest: IngestSettings = IngestSettings()
    search: SearchSettings = SearchSettings()
    # Set, policy versions are read from Redis and changes are broadcast with casbin's Redis watcher;
    # unset, every request reads the version from the database. Either way a change (or a revoked
    # key) takes effect on the next request in every API process sharing the database.
    redis_url: str | None = None
    log_level: str = "INFO"

    def check_encoder_window(self, window: int) -> None:
        """Chunks must fit the encoder: tokens past its window would be cut off without a word."""
        if self.chunking.max_tokens > window:
            raise ConfigurationError(
                f"{env_name('chunking', 'max_tokens')} ({self.chunking.max_tokens}) must not exceed the "
                f"encoder's window of {window} tokens"
            )

    @field_validator("data_dir")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'tessera.db').resolve()}"

    @property
    def shards_dir(self) -> Path:
        return self.data_dir / "shards"


def load_settings() -> Settings:
    """Settings from the environment, or one line naming the first bad variable."""
    try:
        return Settings()
    except ValidationError as exc:
        first = exc.errors()[0]
        where = env_name(*(str(part) for part in first["loc"])) if first["loc"] else "settings"
        message = str(first["msg"]).removeprefix("Value error, ")
        detail = message if message.startswith(ENV_PREFIX) else f"{where}: {message}"
        raise ConfigurationError(f"invalid configuration: {detail}") from None


@lru_cache
def get_settings() -> Settings:
    return load_settings()
