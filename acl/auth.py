"""Who is calling: API keys verified against the database, good ones remembered for a few seconds.

Every request needs its key checked, and a database round trip per request is a real share of a
search's latency. A key that verified recently is trusted for ``ttl_s`` more seconds, so a key revoked
with ``tessera keys revoke`` stops working within ``ttl_s`` in running API processes. ``ttl_s = 0``
checks the database on every request.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from sqlalchemy import Engine

from acl.keys import authenticate
from core.db import session_scope
from core.hashing import sha256_hex
from core.types import Principal

MAX_REMEMBERED = 10_000


class Authenticator:
    def __init__(self, engine: Engine, *, ttl_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self._engine = engine
        self._ttl_s = ttl_s
        self._clock = clock
        # sha256 of the whole key -> (principal, when it stops being trusted); the raw key is not kept
        self._remembered: OrderedDict[str, tuple[Principal, float]] = OrderedDict()
        self._lock = threading.Lock()

    def remembered(self, token: str) -> Principal | None:
        """The principal behind a recently verified key, without I/O; None means call ``verify``."""
        if self._ttl_s <= 0:
            return None
        digest = sha256_hex(token)
        with self._lock:
            entry = self._remembered.get(digest)
            if entry is None:
                return None
            if entry[1] <= self._clock():
                del self._remembered[digest]
                return None
            return entry[0]

    def verify(self, token: str) -> Principal:
        """Check the key in the database (blocking); raises ``UnauthenticatedError``."""
        with session_scope(self._engine) as session:
            principal = authenticate(session, token)
        if self._ttl_s > 0:
            with self._lock:
                self._remembered[sha256_hex(token)] = (principal, self._clock() + self._ttl_s)
                while len(self._remembered) > MAX_REMEMBERED:
                    self._remembered.popitem(last=False)
        return principal
