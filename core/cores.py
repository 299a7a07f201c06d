"""How many cores the in-process encoder may use while worker processes are busy beside it.

torch splits every operation evenly over its threads and waits for the slowest. When a redaction
worker takes one of the cores, the thread left sharing that core finishes last and the whole
operation waits for it: measured here on 2 cores, the encoder with 2 threads beside a busy worker ran
2.1x slower than alone, and slower than with 1 thread. So workers report how many cores they occupy
and the encoder asks, before each batch, how many are left.
"""

from __future__ import annotations

import threading


class CoreShare:
    def __init__(self) -> None:
        self._busy: dict[int, int] = {}
        self._lock = threading.Lock()

    def occupy(self, owner: object, cores: int) -> None:
        """Record that ``owner``'s processes now keep ``cores`` cores busy (0 when idle)."""
        with self._lock:
            if cores > 0:
                self._busy[id(owner)] = cores
            else:
                self._busy.pop(id(owner), None)

    def busy(self) -> int:
        with self._lock:
            return sum(self._busy.values())

    def left_of(self, threads: int) -> int:
        """Threads to use out of ``threads``: what the workers leave, and never fewer than one."""
        return max(1, threads - self.busy())
