"""Parse and redact sources, inline or in worker processes so redaction overlaps with embedding.

Redaction (spaCy + regexes) is single-threaded Python; embedding is torch on every core. Running the
former in a separate process lets both make progress at once on a small machine.
"""

from __future__ import annotations

import logging
import multiprocessing
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import Protocol, TypeVar

from core.cores import CoreShare
from core.errors import InvalidInputError, TesseraError
from core.metadata import Metadata, strings_of, with_strings
from ingest.document import PreparedDocument, Segment, Source, join_segments
from ingest.parse import partition
from ingest.redact import NoRedactor, PresidioRedactor, Redaction, Redactor

T = TypeVar("T")


@dataclass(frozen=True)
class Prepared:
    document: PreparedDocument
    title: str  # redacted too: titles come from filenames and subjects, which can name people
    source_uri: str  # redacted as an identifier: credentials and e-mail addresses inside, never whole
    metadata: Metadata  # its string values redacted: an "author" or "assignee" is a person's name


def prepare(source: Source, redactor: Redactor) -> Prepared:
    segments, media_type = partition(source)
    texts = _Texts.of(source, segments)
    return _assemble(source, segments, media_type, _Redactions.of(texts, redactor))


# One token with a scheme, a path separator or a fragment: "https://...", "docs/hr/a.pdf", "x.jsonl#3".
_IDENTIFIER = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:\S*|\S*[/\\#]\S*")


def is_identifier(value: str) -> bool:
    """A URI or a path, redacted as an identifier (credentials inside it, never the whole)."""
    return _IDENTIFIER.fullmatch(value) is not None


@dataclass(frozen=True)
class _Texts:
    """What of a source gets stored, split by how it is redacted: prose, or identifiers (URIs, paths)."""

    prose: frozenset[str]
    identifiers: frozenset[str]

    @classmethod
    def of(cls, source: Source, segments: list[Segment]) -> _Texts:
        values = strings_of(source.metadata)
        return cls(
            prose=frozenset(
                [source.title, *(v for v in values if not is_identifier(v)), *(s.text for s in segments)]
            ),
            identifiers=frozenset([source.source_uri, *(v for v in values if is_identifier(v))]),
        )

    def __or__(self, other: _Texts) -> _Texts:
        return _Texts(self.prose | other.prose, self.identifiers | other.identifiers)


@dataclass(frozen=True)
class _Redactions:
    """Each text's redaction, looked up by the text itself: nothing depends on the order texts were sent."""

    prose: Mapping[str, Redaction]
    identifiers: Mapping[str, Redaction]

    @classmethod
    def of(cls, texts: _Texts, redactor: Redactor) -> _Redactions:
        prose, identifiers = sorted(texts.prose), sorted(texts.identifiers)
        return cls(
            dict(zip(prose, redactor.redact(prose), strict=True)),
            dict(zip(identifiers, redactor.redact_identifiers(identifiers), strict=True)),
        )

    def of_value(self, value: str) -> Redaction:
        return self.identifiers[value] if is_identifier(value) else self.prose[value]


def _assemble(source: Source, segments: list[Segment], media_type: str, redactions: _Redactions) -> Prepared:
    """The document from its parsed segments, each stored text replaced by its redaction."""
    title, uri = redactions.prose[source.title], redactions.identifiers[source.source_uri]
    raw_values = strings_of(source.metadata)
    values = [redactions.of_value(v) for v in raw_values]
    bodies = [redactions.prose[s.text] for s in segments]
    # Count what was found in one piece of text once: a record's title is also its first segment, and
    # its metadata url is also its source_uri.
    counted = [
        *bodies,
        uri,
        *(v for raw, v in zip(raw_values, values, strict=True) if raw != source.source_uri),
    ]
    if not any(s.text == source.title.strip() for s in segments):
        counted.append(title)
    counts: dict[str, int] = {}
    for redaction in counted:
        for entity, n in redaction.counts.items():
            counts[entity] = counts.get(entity, 0) + n
    redacted = [
        type(segment)(text=body.text, kind=segment.kind, page=segment.page)
        for segment, body in zip(segments, bodies, strict=True)
    ]
    document = join_segments(redacted, media_type, counts)
    if not document.text:
        raise InvalidInputError("document has no text after parsing")
    metadata = with_strings(source.metadata, [v.text for v in values])
    return Prepared(document, title.text, uri.text, metadata)


Outcome = Prepared | TesseraError
log = logging.getLogger(__name__)
TASK_DOCS = 16
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
        return lambda: prepare_batch(batch, self._redactor)

    def close(self) -> None:
        return None


_worker_redactor: Redactor | None = None


def _init_worker(redact: bool) -> None:
    global _worker_redactor  # one redactor per worker process, built once
    _worker_redactor = PresidioRedactor() if redact else NoRedactor()


def _prepare_in_worker(sources: list[Source]) -> list[Outcome]:
    assert _worker_redactor is not None
    return prepare_batch(sources, _worker_redactor)


def _guarded(source: Source, redactor: Redactor) -> Outcome:
    return _outcome(lambda: prepare(source, redactor))


def _outcome(step: Callable[[], T]) -> T | TesseraError:
    try:
        return step()
    except TesseraError as exc:
        return exc
    except Exception as exc:  # a parser bug must fail one item, not the job; never echo content
        return InvalidInputError(f"could not prepare document ({type(exc).__name__})")


def prepare_batch(sources: Sequence[Source], redactor: Redactor) -> list[Outcome]:
    """Prepare several sources with one redaction call: spaCy's NER then runs over many documents
    at once, which took 20 % less time than one call per document (SciFact, 32 at a time)."""
    parsed = [_outcome(lambda source=source: partition(source)) for source in sources]  # type: ignore[misc]
    everything = _Texts(frozenset(), frozenset())
    for source, result in zip(sources, parsed, strict=True):
        if not isinstance(result, TesseraError):
            everything |= _Texts.of(source, result[0])
    try:
        redactions = _Redactions.of(everything, redactor)
    except Exception:  # one text broke the redactor: redact one document at a time to find it
        return [_guarded(source, redactor) for source in sources]
    outcomes: list[Outcome] = []
    for source, result in zip(sources, parsed, strict=True):
        if isinstance(result, TesseraError):
            outcomes.append(result)
            continue
        segments, media_type = result
        outcomes.append(_outcome(lambda: _assemble(source, segments, media_type, redactions)))  # noqa: B023
    return outcomes


class ProcessPreparer:
    """Prepares in worker processes (spawned, so torch's threads in the parent are not forked).

    When a task fails (a worker that dies, out of memory or in a parser crash, or any other failure),
    its documents are tried again one at a time, so only the one that caused it fails; the pool is
    rebuilt if it broke, and the rest of the job goes on. While documents are in flight, the cores
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
        # A few documents per task: redaction is cheaper in batches, and each worker gets some.
        size = max(1, min(TASK_DOCS, -(-len(sources) // self._workers)))
        tasks = [list(sources[i : i + size]) for i in range(0, len(sources), size)]
        submitted: list[tuple[Future[list[Outcome]], list[Source]]] = []
        try:
            for task in tasks:
                submitted.append((self._submit(pool, task), task))
        except BrokenProcessPool:
            self._replace(pool)
            return lambda: [_WORKER_DIED for _ in sources]
        return lambda: [outcome for f, task in submitted for outcome in self._results(pool, f, task)]

    def _submit(self, pool: ProcessPoolExecutor, task: list[Source]) -> Future[list[Outcome]]:
        future = pool.submit(_prepare_in_worker, task)
        self._count(+1)
        future.add_done_callback(lambda _: self._count(-1))
        return future

    def _count(self, change: int) -> None:
        with self._count_lock:
            self._in_flight += change
            self._cores.occupy(self, min(self._workers, self._in_flight))

    def _results(
        self, pool: ProcessPoolExecutor, future: Future[list[Outcome]], task: list[Source]
    ) -> list[Outcome]:
        failure = self._failure(pool, future)
        if isinstance(failure, list):
            return failure
        if len(task) == 1:
            return [failure]
        # One document of the task may be the cause: try each alone, so the others still get through.
        outcomes: list[Outcome] = []
        for source in task:
            with self._lock:
                current = self._pool
            try:
                alone = self._submit(current, [source])
            except BrokenProcessPool:
                self._replace(current)
                outcomes.append(failure)
                continue
            outcome = self._failure(current, alone)
            outcomes.append(outcome[0] if isinstance(outcome, list) else outcome)
        return outcomes

    def _failure(
        self, pool: ProcessPoolExecutor, future: Future[list[Outcome]]
    ) -> list[Outcome] | TesseraError:
        """The task's outcomes, or the error its documents fail with when the task itself failed."""
        try:
            return future.result()
        except BrokenProcessPool:
            self._replace(pool)
            return _WORKER_DIED
        except (Exception, SystemExit) as exc:  # raised in the worker and sent back; Ctrl-C still stops us
            log.error("a redaction worker task failed (%s)", type(exc).__name__)
            return InvalidInputError(
                f"the redaction worker failed while preparing this document ({type(exc).__name__})"
            )

    def _replace(self, broken: ProcessPoolExecutor) -> None:
        with self._lock:
            if self._pool is broken:
                log.error("a redaction worker died; starting a new pool")
                broken.shutdown(wait=False, cancel_futures=True)
                self._pool = self._new_pool()

    def close(self) -> None:
        with self._lock:
            self._pool.shutdown(wait=True, cancel_futures=True)
