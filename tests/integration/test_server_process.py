"""The real thing: `tessera serve` in its own process, default settings (real models, redaction worker)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from acl.admin import Actor
from api.runtime import build_access_services
from core.settings import Settings
from core.types import TenantId
from tests.support.pdf import make_pdf


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, dict[str, str], Path]]:
    data = tmp_path / "data"
    services = build_access_services(Settings(data_dir=data))
    token = services.admin.issue_key(Actor(TenantId("acme"), "test"), "ann", roles=("admin",)).token
    services.close()
    port = free_port()
    env = {**os.environ, "TESSERA_DATA_DIR": str(data)}
    process = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            raise AssertionError("server did not become ready")
        yield base, {"Authorization": f"Bearer {token}"}, data
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_ingest_and_search_on_a_real_server(server: tuple[str, dict[str, str], Path]) -> None:
    base, headers, data = server
    files = [
        (
            "files",
            (
                "runbook.md",
                b"# Runbook\n\nIf the pager fires, call Maria Gonzalez at 212-555-0198.",
                "text/markdown",
            ),
        ),
        ("files", ("spec.pdf", make_pdf([["Turbine blades are inspected monthly."]]), "application/pdf")),
    ]
    with httpx.Client(base_url=base, headers=headers, timeout=60) as client:
        accepted = client.post("/v1/ingest/jobs", files=files)
        assert accepted.status_code == 202, accepted.text
        for _ in range(600):
            job = client.get(accepted.json()["href"]).json()
            if job["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert job["status"] == "succeeded", job
        hits = client.post("/v1/search", json={"query": "who do I call when the pager fires", "k": 3}).json()[
            "hits"
        ]
        assert hits[0]["doc_id"] == "runbook.md"
        assert "Maria" not in hits[0]["text"] and "212-555-0198" not in hits[0]["text"]
        assert "<PERSON>" in hits[0]["text"]
        # a CLI next to the server must not open the embedded index it owns
        clash = subprocess.run(
            [sys.executable, "-m", "api", "search", "x", "--tenant", "acme"],
            env={**os.environ, "TESSERA_DATA_DIR": str(data)},
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert clash.returncode == 1
        assert "in use by tessera serve" in clash.stderr
