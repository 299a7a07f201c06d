"""A wall-clock limit on a block of parsing code, for input crafted to keep a parser busy.

It uses ``SIGALRM``, so it works on the main thread of a process: the redaction workers, and the CLI
when it prepares inline. Elsewhere (an API process preparing inline on its job thread) the block runs
without a limit. The exception derives from ``BaseException`` so that parsers which catch every
``Exception`` to carry on cannot swallow it.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

# Python ignores an exception raised inside a ``__del__`` (python-docx's XPath calls run some), so
# once the deadline has passed the alarm repeats this often until one lands where it counts.
REPEAT_S = 0.05


class DeadlineExceeded(BaseException):
    """The block ran past its deadline."""


class _Alarm:
    def __init__(self) -> None:
        self.armed = True

    def __call__(self, _signum: int, _frame: FrameType | None) -> None:
        if self.armed:
            raise DeadlineExceeded
        signal.setitimer(signal.ITIMER_REAL, 0)  # a late tick after the block: stop ticking


def _usable() -> bool:
    return (
        hasattr(signal, "SIGALRM")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL)[0] == 0  # someone else's timer is running: leave it
    )


@contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise ``DeadlineExceeded`` inside the block once ``seconds`` have passed."""
    if not _usable():
        yield
        return
    alarm = _Alarm()
    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds, REPEAT_S)
    try:
        yield
    finally:
        while True:  # a tick can land in here too; retry until the alarm is disarmed
            try:
                alarm.armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except DeadlineExceeded:
                continue
