"""Peak memory of the API process while it takes a large multipart upload, and how fast a refusal comes.

Runs ``python -m api serve`` from ``--tree`` (a checkout: compare two by running this twice) on a
scratch data dir, streams ``--megabytes`` MB as ``--files`` files of an unsupported type (each item
fails right after it is read, so parsing, redaction and embedding stay out of the figure), and reads
the server's peak resident set (``VmHWM``) before and after (a small first job loads the models every
job needs). Then a key without a writer role sends the same body: the time to its 403.

    python -m benchmarks.upload_memory --tree . --megabytes 200 --files 8
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

from benchmarks.search_server import free_port

CHUNK = b"\x00\x01binary" * (64 * 1024 // 8)  # 64 KiB of bytes no parser accepts as text
BOUNDARY = "benchmark-boundary"


def _peak_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc status")


def _body(files: int, megabytes: int, sent: list[int]) -> Iterator[bytes]:
    per_file = megabytes * 1024 * 1024 // files
    for i in range(files):
        yield (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; filename="blob-{i}.bin"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        for _ in range(per_file // len(CHUNK)):
            sent[0] += len(CHUNK)
            yield CHUNK
        yield b"\r\n"
    yield f"--{BOUNDARY}--\r\n".encode()


def _cli(env: dict[str, str], tree: Path, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "api", *args], cwd=tree, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _run_job(
    client: httpx.Client, body: Iterator[bytes], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    response = client.post("/v1/ingest/jobs", content=body, headers=headers)
    if response.status_code != 202:
        raise SystemExit(f"upload refused: {response.text}")
    job: dict[str, Any] = response.json()
    auth = {"Authorization": headers["Authorization"]}
    while job.get("status") in ("queued", "running"):
        time.sleep(0.2)
        job = client.get(f"/v1/ingest/jobs/{job['job_id']}", headers=auth).json()
    return response.status_code, job


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, default=Path.cwd(), help="checkout whose server is measured")
    parser.add_argument("--megabytes", type=int, default=200)
    parser.add_argument("--files", type=int, default=8)
    args = parser.parse_args()
    tree = args.tree.resolve()
    data = Path(tempfile.mkdtemp(prefix="upload-bench-"))
    env = {
        **os.environ,
        "PYTHONPATH": str(tree),
        "HF_HUB_OFFLINE": "1",
        "TESSERA_DATA_DIR": str(data),
        "TESSERA_INGEST__REDACTION_WORKERS": "0",
        "TESSERA_INGEST__MAX_REQUEST_BYTES": str((args.megabytes + 16) * 1024 * 1024),
    }
    admin = _cli(env, tree, "keys", "create", "--tenant", "bench", "--user", "a", "--roles", "admin")
    member = _cli(env, tree, "keys", "create", "--tenant", "bench", "--user", "m", "--roles", "member")
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)],
        cwd=tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            for _ in range(300):
                try:
                    if client.get("/healthz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.1)
            headers = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
            admin_headers = {**headers, "Authorization": f"Bearer {admin}"}
            # A first small job loads what every job needs (the redactor's models); not part of the figure.
            _run_job(client, _body(1, 1, [0]), admin_headers)
            before = _peak_kib(server.pid)
            started = time.perf_counter()
            status, job = _run_job(client, _body(args.files, args.megabytes, [0]), admin_headers)
            seconds = time.perf_counter() - started
            after = _peak_kib(server.pid)
            print(
                f"upload {args.megabytes} MB in {args.files} files: {status}, job {job['status']} "
                f"after {seconds:.1f} s"
            )
            print(
                f"server peak RSS before {before / 1024:.0f} MB, after {after / 1024:.0f} MB "
                f"(+{(after - before) / 1024:.0f} MB)"
            )
            started = time.perf_counter()
            refused = client.post(
                "/v1/ingest/jobs",
                content=_body(args.files, args.megabytes, [0]),
                headers={**headers, "Authorization": f"Bearer {member}"},
            )
            # The client sends the whole body either way; the figure is when the answer arrives.
            print(
                f"member key, {args.megabytes} MB: {refused.status_code} after "
                f"{time.perf_counter() - started:.2f} s"
            )
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
