"""Which policy version is current for a tenant: asked on every request, so no stale grant outlives a change.

Every API process keeps the policy in memory and asks here, once per request, whether it is still the
newest. Two sources:

- ``DatabaseVersions`` reads ``policy_heads`` (one indexed single-row SELECT);
- ``RedisVersions`` reads a per-tenant counter in Redis, and rides casbin's Redis watcher: a process
  that changes a policy publishes on the watcher's channel, and every other process pulls the change
  right away, so the request after it finds the policy already current.

A writer announces the version it is about to commit *before* committing: a reader that sees the new
number early re-reads the database and finds the old policy (still right until the commit), while a
reader can never see the old number after the commit. Any error reaching the source fails the request
closed (``PolicyUnavailableError``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import redis
from redis_watcher import WatcherOptions, new_watcher
from sqlalchemy import Engine, bindparam, select
from sqlmodel import col

from acl.policy_models import PolicyHead
from core.errors import PolicyUnavailableError
from core.types import TenantId

log = logging.getLogger(__name__)

CHANNEL = "tessera:acl:changes"

# Sets the counter only upwards, so two writers announcing out of order never move it back.
_RAISE_TO = """
local now = tonumber(redis.call('GET', KEYS[1]) or '-1')
if tonumber(ARGV[1]) > now then redis.call('SET', KEYS[1], ARGV[1]) return tonumber(ARGV[1]) end
return now
"""


class PolicyVersions(Protocol):
    def current(self, tenant: TenantId) -> int: ...

    def announce(self, tenant: TenantId, version: int) -> None:
        """Called with the version a writer is about to commit."""

    def published(self, tenant: TenantId, version: int) -> None:
        """Called once that version is committed."""

    def close(self) -> None: ...


# Built once: this runs on every request, and composing the statement cost more than running it.
_HEAD = select(col(PolicyHead.version)).where(col(PolicyHead.tenant) == bindparam("tenant"))


def database_head(engine: Engine, tenant: TenantId) -> int:
    with engine.connect() as connection:
        version = connection.execute(_HEAD, {"tenant": tenant}).scalar_one_or_none()
    return int(version) if version is not None else 0


class DatabaseVersions:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def current(self, tenant: TenantId) -> int:
        try:
            return database_head(self._engine, tenant)
        except Exception as error:
            raise PolicyUnavailableError("the access policy version could not be read") from error

    def announce(self, tenant: TenantId, version: int) -> None:
        """The database head *is* the announcement: it commits with the change."""

    def published(self, tenant: TenantId, version: int) -> None:
        """Nothing to tell: readers ask the database."""

    def close(self) -> None:
        """Nothing held."""


class RedisVersions:
    def __init__(self, engine: Engine, url: str, *, on_change: Callable[[], None] | None = None) -> None:
        self._engine = engine
        self._redis = redis.Redis.from_url(url, socket_timeout=2.0, socket_connect_timeout=2.0)
        self._raise_to = self._redis.register_script(_RAISE_TO)
        self._watcher: Any = None
        if on_change is not None:
            self._watcher = _start_watcher(url, on_change)

    @staticmethod
    def key(tenant: TenantId) -> str:
        return f"tessera:acl:version:{tenant}"

    def current(self, tenant: TenantId) -> int:
        try:
            raw = self._redis.get(self.key(tenant))
            if raw is not None:
                return int(raw)
            # Redis keeps nothing on disk: after a restart the database says where we are.
            version = database_head(self._engine, tenant)
            return int(self._raise_to(keys=[self.key(tenant)], args=[version]))
        except Exception as error:
            raise PolicyUnavailableError("the access policy version could not be read") from error

    def announce(self, tenant: TenantId, version: int) -> None:
        try:
            self._raise_to(keys=[self.key(tenant)], args=[version])
        except Exception as error:
            raise PolicyUnavailableError(
                "the policy change could not be announced; nothing was changed"
            ) from error

    def published(self, tenant: TenantId, version: int) -> None:
        if self._watcher is not None:
            self._watcher.update()

    def close(self) -> None:
        watcher, self._watcher = self._watcher, None
        if watcher is not None:
            _stop_watcher(watcher)
        self._redis.close()


def _stop_watcher(watcher: Any) -> None:
    """End the watcher's thread by closing the pub/sub connection it blocks on. The thread then closes
    that connection again itself, and inside redis-py the two closes race (one may find the connection
    already gone), so an error of ours here only means the thread got there first."""
    watcher.close = True
    try:
        if watcher.sub_client is not None:
            watcher.sub_client.close()
    except (AttributeError, OSError, redis.RedisError):
        pass
    watcher.subscribe_thread.join(timeout=2.0)
    if watcher.pub_client is not None:
        watcher.pub_client.close()


def _start_watcher(url: str, on_change: Callable[[], None]) -> Any:
    """casbin's Redis watcher, told to call ``on_change`` on every message of our channel."""
    parts = urlsplit(url)
    options = WatcherOptions()
    options.host = parts.hostname or "localhost"
    options.port = str(parts.port or 6379)
    options.password = parts.password
    options.ssl = parts.scheme == "rediss"
    options.channel = CHANNEL
    options.optional_update_callback = lambda _message: on_change()
    return new_watcher(options, logger=log)
