from __future__ import annotations

import signal
import time

import pytest

from ingest.deadline import DeadlineExceeded, deadline


def test_a_busy_loop_is_stopped_and_the_alarm_is_put_back() -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded), deadline(0.2):
        while True:
            pass
    assert 0.15 < time.monotonic() - started < 2
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    assert signal.getsignal(signal.SIGALRM) == signal.SIG_DFL


class _SlowFinaliser:
    def __del__(self) -> None:
        time.sleep(0.004)  # four ticks in five land in here, where Python ignores the exception


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_raise_swallowed_by_a_finaliser_is_repeated_until_it_counts() -> None:
    started = time.monotonic()
    with pytest.raises(DeadlineExceeded), deadline(0.1):
        while True:
            _SlowFinaliser()
            time.sleep(0.001)
    assert time.monotonic() - started < 5


def test_a_block_that_finishes_in_time_is_untouched() -> None:
    with deadline(5):
        total = sum(range(1000))
    assert total == 499500
    time.sleep(0.1)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
