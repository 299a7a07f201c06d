"""ProcessPreparer against real spawned workers: a failing task fails only the document behind it."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from core.errors import TesseraError
from ingest.document import Source
from ingest.prepare import Prepared, ProcessPreparer


@dataclass(frozen=True)
class _CrashingSource(Source):
    """Reads fine in the test process; in a worker it stops the way a misbehaving parser would."""

    how: str = "exit"

    def read(self) -> bytes:
        if multiprocessing.parent_process() is not None:
            if self.how == "die":
                os._exit(1)  # the worker process is gone: the pool breaks
            raise SystemExit(3)  # escapes every `except Exception` and is sent back to the parent
        return super().read()


def _text(name: str) -> Source:
    return Source(name=name, doc_id=name, filename=f"{name}.txt", data=f"notes about {name}".encode())


@pytest.fixture(scope="module")
def preparer() -> Iterator[ProcessPreparer]:
    workers = ProcessPreparer(workers=1, redact=False)
    yield workers
    workers.close()


@pytest.mark.parametrize("how", ["exit", "die"])
def test_a_failing_document_fails_alone_and_later_batches_go_on(preparer: ProcessPreparer, how: str) -> None:
    crasher = _CrashingSource(name="bad", doc_id="bad", filename="bad.txt", data=b"x", how=how)
    batch = [_text("a"), crasher, _text("b")]
    outcomes = preparer.start(batch)()
    assert [type(o).__name__ for o in outcomes] == ["Prepared", "InvalidInputError", "Prepared"]
    assert isinstance(outcomes[1], TesseraError) and "worker" in outcomes[1].detail
    later = preparer.start([_text("c"), _text("d")])()
    assert all(isinstance(o, Prepared) for o in later)
    assert [o.document.text for o in later if isinstance(o, Prepared)] == ["notes about c", "notes about d"]
