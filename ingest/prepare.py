"""Parse and redact sources, inline or in worker processes so redaction overlaps with embedding.

Redaction (spaCy + regexes) is single-threaded Python; embedding is torch on every core. Running the
former in a separate process lets both make progress at once on a small machine.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol

from core.cores import CoreShare
from core.errors import InvalidInputError, TesseraError
from ingest.document import PreparedDocument, Source, join_segments
from ingest.parse import partition
from ingest.redact import NoRedactor, PresidioRedactor, Redactor


@dataclass(frozen=True)
class Prepared:
    document: PreparedDocument
    title: str  # redacted too: titles come from filenames and subjects, which can name people
    source_uri: str  # redacted: URLs carry credentials and user names


def prepare(source: Source, redactor: Redactor) -> Prepared:
    segments, media_type = partition(source)
    redactions = redactor.redact([source.title, source.source_uri, *(s.text for s in segments)])
    title, uri, bodies = redactions[0], redactions[1], redactions[2:]
    # A record's title is also its first segment: count what was found in it once.
    title_is_segment = any(s.text == source.title.strip() for s in segments)
    counts: dict[str, int] = {}
    for redaction in [*bodies, uri] if title_is_segment else redactions:
        for entity, n in redaction.counts.items():
            counts[entity] = counts.get(entity, 0) + n
    redacted = [
        type(segment)(text=body.text, kind=segment.kind, page=segment.page)
        for segment, body in zip(segments, bodies, strict=True)
    ]
    document = join_segments(redacted, media_type, counts)
    if not document.text:
        raise InvalidInputError("document has no text after parsing")
    return Prepared(document, title.text, uri.text)


Outcome = Prepared | TesseraError
log = logging.getLogger(__name__)
_WORKER_DIED = InvalidInputError("the redaction worker stopped while preparing this document; retry it")


class Preparer(Protocol):
    def start(self, sources: Sequence[Source]) -> Callable[[], list[Outcome]]:
        """Begin preparing; the returned callable waits for and returns the results in order."""
        ...

    def close(self) -> None: ...


class InlinePreparer:
    """Prepares in the calling thread when results are asked for; for small jobs and tests."""

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor

    def start(self, sources: Sequence[Source]) -> Callable[[], list[Outcome]]:
        batch = list(sources)
        return lambda: [_guarded(s, self._redactor) for s in batch]

    def close(self) -> None:
        return None


_worker_redactor: Redactor | None = None


def _init_worker(redact: bool) -> None:
    global _worker_redactor  # one redactor per worker process, built once
    _worker_redactor = PresidioRedactor() if redact else NoRedactor()


def _prepare_in_worker(source: Source) -> Outcome:
    assert _worker_redactor is not None
    return _guarded(source, _worker_redactor)


def _guarded(source: Source, redactor: Redactor) -> Outcome:
    try:
        return prepare(source, redactor)
    except TesseraError as exc:
        return exc
    except Exception as exc:  # a parser bug must fail one item, not the job; never echo content
        return InvalidInputError(f"could not prepare document ({type(exc).__name__})")


class ProcessPreparer:
    """Prepares in worker processes (spawned, so torch's threads in the parent are not forked).

    A worker that dies (out of memory, a parser crash) fails the items it held; the pool is rebuilt
    for the next batch instead of failing every later job. While documents are in flight, the cores
    the workers keep busy are reported to ``cores`` so that the encoder leaves them alone.
    """

    def __init__(self, *, workers: int, redact: bool, cores: CoreShare | None = None) -> None:
        self._workers = workers
        self._redact = redact
        self._cores = cores or CoreShare()
        self._lock = threading.Lock()
        # A pool shut down under ``_lock`` runs the cancelled futures' callbacks, which count here.
        self._count_lock = threading.Lock()
        self._in_flight = 0
        self._pool = self._new_pool()

    def _new_pool(self) -> ProcessPoolExecutor:
        context = multiprocessing.get_context("spawn")
        return ProcessPoolExecutor(
            max_workers=self._workers, mp_context=context, initializer=_init_worker, initargs=(self._redact,)
        )

    def start(self, sources: Sequence[Source]) -> Callable[[], list[Outcome]]:
        with self._lock:
            pool = self._pool
        futures: list[Future[Outcome]] = []
        try:
            for source in sources:
                future = pool.submit(_prepare_in_worker, source)
                self._count(+1)
                future.add_done_callback(lambda _: self._count(-1))
                futures.append(future)
        except BrokenProcessPool:
            self._replace(pool)
            return lambda: [_WORKER_DIED for _ in sources]
        return lambda: [self._result(pool, f) for f in futures]

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._in_flight += change
            self._cores.occupy(self, min(self._workers, self._in_flight))

    def _result(self, pool: ProcessPoolExecutor, future: Future[Outcome]) -> Outcome:
        try:
            return future.result()
        except BrokenProcessPool:
            self._replace(pool)
            return _WORKER_DIED

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                log.error("a redaction worker died; starting a new pool")
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=True, cancel_futures=True)
