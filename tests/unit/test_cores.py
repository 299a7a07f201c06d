from __future__ import annotations

import time

from hypothesis import given
from hypothesis import strategies as st

from core.cores import CoreShare
from ingest.document import Source
from ingest.prepare import ProcessPreparer


@given(threads=st.integers(1, 64), busy=st.lists(st.integers(0, 8), max_size=4))
def test_the_encoder_gets_what_workers_leave_and_never_less_than_one_thread(
    threads: int, busy: list[int]
) -> None:
    share = CoreShare()
    owners = [object() for _ in busy]
    for owner, cores in zip(owners, busy, strict=True):
        share.occupy(owner, cores)
    assert share.left_of(threads) == max(1, threads - sum(busy))


def test_an_owner_reporting_again_replaces_its_count_and_zero_releases() -> None:
    share, owner = CoreShare(), object()
    share.occupy(owner, 2)
    share.occupy(owner, 1)
    assert share.busy() == 1
    share.occupy(owner, 0)
    assert share.busy() == 0


def test_a_process_preparer_holds_a_core_while_documents_are_in_flight() -> None:
    share = CoreShare()
    preparer = ProcessPreparer(workers=1, redact=False, cores=share)
    try:
        sources = [Source(doc_id=f"d{i}", name=f"d{i}", title="t", text="some text") for i in range(3)]
        results = preparer.start(sources)
        assert share.busy() == 1  # a fresh pool is still spawning its worker: all three are waiting
        assert len(results()) == 3
        deadline = time.monotonic() + 10
        while share.busy() and time.monotonic() < deadline:  # done-callbacks run just after result()
            time.sleep(0.01)
        assert share.busy() == 0
    finally:
        preparer.close()
