"""A policy change or key revocation takes effect on the very next request of every API process.

Two real API processes (fake models, each its own embedded index holding the same documents) share one
PostgreSQL database; the change is made by a third party through ``PolicyAdmin``, as the CLI does.
With the database as the version source and with Redis (counter plus casbin's Redis watcher).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import sqlalchemy as sa

from acl.admin import Actor, PolicyAdmin
from acl.enforcer import AccessControl
from acl.policies import Op, RuleOp
from acl.rules import Action, Assignment, Effect, Permission
from acl.versions import RedisVersions
from api.runtime import AccessServices, build_access_services
from core.db import make_engine, migrate
from core.settings import Settings
from core.types import TenantId
from tests.integration.test_server_process import free_port

pytestmark = pytest.mark.postgres

ACME = TenantId("acme")
ADMIN = Actor(ACME, "test")
REDIS_URL = os.environ.get("TESSERA_TEST_REDIS_URL", "redis://127.0.0.1:6379/13")


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """An empty database of its own: the servers below share it."""
    name = f"prop_{os.getpid()}_{time.monotonic_ns() % 10**9}"
    admin = sa.create_engine(postgres_server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield postgres_server_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def redis_url() -> Iterator[str]:
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as exc:
        pytest.skip(f"Redis not reachable at {REDIS_URL} ({type(exc).__name__}); set TESSERA_TEST_REDIS_URL")
    client.flushdb()  # version counters of earlier runs would be ahead of this fresh database
    try:
        yield REDIS_URL
    finally:
        client.flushdb()
        client.close()


@dataclass
class Server:
    base: str
    process: subprocess.Popen[bytes]

    def client(self, token: str) -> httpx.Client:
        return httpx.Client(base_url=self.base, headers={"Authorization": f"Bearer {token}"}, timeout=30)


def start_server(data_dir: Path, database_url: str, redis: str | None) -> Server:
    port = free_port()
    env = {
        **os.environ,
        "TESSERA_DATA_DIR": str(data_dir),
        "TESSERA_DATABASE_URL": database_url,
        "TESSERA_INGEST__REDACTION_WORKERS": "0",
    }
    env.pop("TESSERA_REDIS_URL", None)
    if redis is not None:
        env["TESSERA_REDIS_URL"] = redis
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.fake_server", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    for _ in range(600):
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return Server(base, process)
        except httpx.TransportError:
            time.sleep(0.1)
    process.terminate()
    raise AssertionError("server did not become ready")


@dataclass
class Cluster:
    admin: AccessServices
    servers: list[Server]
    root: str  # admin key
    ann: str  # holds role hr
    ann_key_id: str


def ingest(server: Server, token: str, records: list[dict[str, Any]], labels: list[str]) -> None:
    with server.client(token) as client:
        accepted = client.post("/v1/ingest/jobs", json={"records": records, "labels": labels})
        assert accepted.status_code == 202, accepted.text
        for _ in range(600):
            job = client.get(accepted.json()["href"]).json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.05)
        assert job["status"] == "succeeded", job


def make_cluster(tmp_path: Path, database_url: str, redis: str | None) -> Iterator[Cluster]:
    services = build_access_services(
        Settings(data_dir=tmp_path / "cli", database_url=database_url, redis_url=redis)
    )
    with ExitStack() as stack:
        stack.callback(services.close)
        root = services.admin.issue_key(ADMIN, "root", roles=("admin",)).token
        issued = services.admin.issue_key(ADMIN, "ann", roles=("hr",))
        # The same documents in each process's own embedded index: ingested once, then the index is
        # copied (an ingest into the second would find the documents unchanged and write nothing there).
        first = start_server(tmp_path / "server0", database_url, redis)
        ingest(first, root, [{"id": "pay", "text": "Salary bands for hr staff."}], ["hr"])
        ingest(first, root, [{"id": "hello", "text": "Welcome to the staff handbook."}], ["public"])
        first.process.terminate()
        first.process.wait(30)
        shutil.copytree(tmp_path / "server0", tmp_path / "server1")
        servers = [start_server(tmp_path / f"server{i}", database_url, redis) for i in range(2)]
        for server in servers:
            stack.callback(server.process.wait, 30)
            stack.callback(server.process.terminate)
        yield Cluster(services, servers, root, issued.token, issued.key_id)


@pytest.fixture(params=["database", pytest.param("redis", marks=pytest.mark.redis)])
def cluster(request: pytest.FixtureRequest, tmp_path: Path, postgres_url: str) -> Iterator[Cluster]:
    redis = request.getfixturevalue("redis_url") if request.param == "redis" else None
    yield from make_cluster(tmp_path, postgres_url, redis)


def sees(client: httpx.Client) -> set[str]:
    response = client.post("/v1/search", json={"query": "staff", "k": 10, "mode": "dense"})
    assert response.status_code == 200, response.text
    return {hit["doc_id"] for hit in response.json()["hits"]}


def test_a_removed_role_is_denied_by_every_process_on_its_next_request(cluster: Cluster) -> None:
    with ExitStack() as stack:
        clients = [stack.enter_context(s.client(cluster.ann)) for s in cluster.servers]
        for _ in range(3):  # warm: decisions and the key are cached in both processes
            for client in clients:
                assert sees(client) == {"pay", "hello"}
                assert client.get("/v1/documents/pay").status_code == 200
        cluster.admin.admin.change(
            ADMIN, [RuleOp(Op.REMOVE, Assignment("ann", "hr", ACME))], reason="left hr"
        )
        for client in reversed(clients):
            assert sees(client) == {"hello"}
            assert client.get("/v1/documents/pay").status_code == 404
            assert client.get("/v1/documents/pay/versions/1/text").status_code == 404
        # and back, then a deny rule wins over the role's allow, again at once everywhere
        cluster.admin.admin.change(ADMIN, [RuleOp(Op.ADD, Assignment("ann", "hr", ACME))], reason="back")
        assert [sees(c) for c in clients] == [{"pay", "hello"}] * 2
        deny = Permission("ann", ACME, "hr", Action.READ, Effect.DENY)
        cluster.admin.admin.change(ADMIN, [RuleOp(Op.ADD, deny)], reason="deny")
        assert [sees(c) for c in clients] == [{"hello"}] * 2


def test_a_revoked_key_is_refused_by_every_process_on_its_next_request(cluster: Cluster) -> None:
    with ExitStack() as stack:
        clients = [stack.enter_context(s.client(cluster.ann)) for s in cluster.servers]
        for _ in range(3):
            for client in clients:
                assert sees(client) == {"pay", "hello"}
        cluster.admin.admin.revoke_key(ADMIN, cluster.ann_key_id)
        for client in clients:
            response = client.post("/v1/search", json={"query": "staff"})
            assert response.status_code == 401, response.text
            assert response.headers["content-type"] == "application/problem+json"
            assert client.get("/v1/documents").status_code == 401


@pytest.mark.redis
def test_the_redis_watcher_brings_other_processes_up_to_date_before_their_next_request(
    postgres_url: str, redis_url: str
) -> None:
    """Not needed for correctness (every request asks the counter), but it is what makes the first
    request after a change cheap: the other process has already replayed the change."""
    engine = make_engine(postgres_url)
    migrate(engine)
    pulled: list[AccessControl] = []
    other_versions = RedisVersions(engine, redis_url, on_change=lambda: [a.refresh_all() for a in pulled])
    other = AccessControl(engine, other_versions)
    pulled.append(other)
    writer = AccessControl(engine, RedisVersions(engine, redis_url, on_change=lambda: None))
    try:
        admin = PolicyAdmin(engine, writer)
        admin.issue_key(ADMIN, "ann", roles=("hr",))
        before = other.decide(ACME, "ann")
        assert "hr" in before.read.labels  # type: ignore[operator]
        change = admin.change(ADMIN, [RuleOp(Op.REMOVE, Assignment("ann", "hr", ACME))], reason="left")
        deadline = time.monotonic() + 5
        while other.loaded_version(ACME) != change.version and time.monotonic() < deadline:
            time.sleep(0.01)
        assert other.loaded_version(ACME) == change.version  # pulled without a request
        after = other.decide(ACME, "ann")
        assert after.version == change.version and "hr" not in after.read.labels  # type: ignore[operator]
    finally:
        other.close()
        writer.close()
        engine.dispose()
