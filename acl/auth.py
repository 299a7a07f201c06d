"""Who is calling: API keys verified against the database, remembered only while nothing changed.

A verified key is remembered with the tenant's policy version it was verified under. Every request asks
the current version anyway (``acl.versions``); a revocation bumps it, so the next request in every
process verifies the key again and is refused — there is no window in which a revoked key still works.
Expiry is checked on every request from the remembered expiry time.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine

from acl.keys import authenticate
from core.clock import utcnow
from core.db import session_scope
from core.hashing import sha256_hex
from core.types import Principal

MAX_REMEMBERED = 10_000


@dataclass(frozen=True)
class Verified:
    principal: Principal
    version: int  # the tenant's policy version when the key was checked
    expires_at: datetime | None


class Authenticator:
    def __init__(self, engine: Engine, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._engine = engine
        self._clock = clock
        # sha256 of the whole key -> what the database said; the raw key is not kept
        self._remembered: OrderedDict[str, Verified] = OrderedDict()
        self._lock = threading.Lock()

    def remembered(self, token: str) -> Verified | None:
        """What the database said about this key last time, unless it has expired since (no I/O)."""
        digest = sha256_hex(token)
        with self._lock:
            entry = self._remembered.get(digest)
            if entry is None:
                return None
            if entry.expires_at is not None and entry.expires_at <= self._clock():
                del self._remembered[digest]
                return None
            return entry

    def verify(self, token: str) -> Verified:
        """Check the key in the database (blocking); raises ``UnauthenticatedError``."""
        with session_scope(self._engine) as session:
            principal, version, expires_at = authenticate(session, token)
        entry = Verified(principal, version, expires_at)
        with self._lock:
            self._remembered[sha256_hex(token)] = entry
            while len(self._remembered) > MAX_REMEMBERED:
                self._remembered.popitem(last=False)
        return entry
