"""The API process under test for ``benchmarks.search_latency``, and a watch on the shared machine.

``tessera serve`` runs as a child process on the benchmark's data directory; the CPU watch tells how
busy other processes kept the cores while a phase was timed, so that noisy figures are flagged.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import httpx

from benchmarks.search_index import log

QUIET_CORES = 0.25  # other processes' CPU use (in cores) below which a measurement counts as clean


# --- the server ---------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve_command(port: int) -> list[str]:
    """``tessera serve`` from this interpreter's environment (the console script beside python)."""
    script = Path(sys.executable).parent / "tessera"
    program = [str(script)] if script.exists() else [sys.executable, "-m", "api"]
    return [*program, "serve", "--port", str(port)]


@contextmanager
def running_server(
    data_dir: Path,
    port: int,
    log_path: Path,
    timeout_s: float = 120,
    settings_env: dict[str, str] | None = None,
) -> Iterator[tuple[str, int]]:
    """Start the API on ``data_dir``; yield its base URL and pid once /readyz answers; stop it gracefully.

    ``settings_env`` overrides settings the way an operator would (``TESSERA_SEARCH__FUSION=rrf``)."""
    env = {**os.environ, **(settings_env or {}), "TESSERA_DATA_DIR": str(data_dir)}
    with log_path.open("wb") as server_log:
        process = subprocess.Popen(serve_command(port), env=env, stdout=server_log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process, log_path, timeout_s)
        yield base, process.pid
    finally:
        process.send_signal(signal.SIGINT)  # uvicorn's graceful shutdown: lifespan closes the shards
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            log("server did not stop within 30 s; killing it")
            process.kill()
            process.wait()


def _wait_ready(base: str, process: subprocess.Popen[bytes], log_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"server exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"server not ready after {timeout_s:.0f} s:\n{_tail(log_path)}")


def _tail(path: Path, lines: int = 30) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


# --- a shared machine ---------------------------------------------------------------------------


def _busy_ticks() -> int:
    """Clock ticks all CPUs spent on anything but idle/iowait since boot (Linux ``/proc/stat``)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return sum(fields) - fields[3] - fields[4]


def _process_ticks(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()  # the command name may contain spaces
    return int(fields[11]) + int(fields[12])  # utime + stime


class CpuWatch:
    """How many cores *other* processes kept busy during a phase (Linux ``/proc``): figures need ~0.

    Server and benchmark share the machine's cores, and so may anything else running on it.
    """

    def __init__(self, pids: Sequence[int]) -> None:
        self._pids = pids
        self._tick = os.sysconf("SC_CLK_TCK")
        self._start = self._sample()

    def _sample(self) -> tuple[float, int, int]:
        return time.monotonic(), _busy_ticks(), sum(_process_ticks(p) for p in self._pids)

    def foreign_cores(self) -> float:
        now, busy, ours = self._sample()
        started, busy0, ours0 = self._start
        return max(0.0, ((busy - busy0) - (ours - ours0)) / self._tick / max(now - started, 1e-9))


def wait_until_quiet(pids: Sequence[int], limit_s: float, below: float = QUIET_CORES) -> float:
    """Wait (up to ``limit_s``) for a 2-second window in which other processes use < ``below`` cores."""
    if not Path("/proc/stat").exists():
        return float("nan")
    deadline = time.monotonic() + limit_s
    while True:
        watch = CpuWatch(pids)
        time.sleep(2)
        foreign = watch.foreign_cores()
        if foreign < below or time.monotonic() >= deadline:
            if foreign >= below:
                log(f"  warning: other processes keep {foreign:.2f} cores busy; figures will be inflated")
            return foreign
        log(f"  waiting for a quiet machine (other processes use {foreign:.2f} cores)")
