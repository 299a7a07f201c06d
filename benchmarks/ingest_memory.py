"""Peak memory of ``tessera ingest`` over a folder, to show it stays bounded as the corpus grows.

Generates a synthetic folder of text files (sizes drawn from a log-normal around a few kB, as in a
wiki or ticket export; a few larger ones; nested folders), runs the real CLI on it in a subprocess, and
samples the memory of that process and all its children (the redaction workers) every
``--interval`` seconds from ``/proc`` (Linux only):

- **peak RSS**: the largest sum of resident set sizes over the tree (counts shared pages once per
  process, so it over-states; this is the figure the target is about);
- **peak PSS**: the largest sum of proportional set sizes (shared pages split between processes);
- **peak anonymous**: the largest sum of anonymous (heap) memory, without file pages mapped from disk
  (model weights, the engine's memory-mapped segments), which the kernel can drop and re-read.

``--fake-models`` swaps the encoder for a hash-seeded random one (same dimension) so that a corpus of
gigabytes can be measured on a small machine; everything else (listing, parsing, redaction unless
``--no-redact``, chunking with the real tokenizer, BM25, the engine and database writes, job rows) is
the shipped code. Give several ``--size`` values to see whether the peak grows with the corpus.
``--defer-index-builds`` (with ``--fake-models``) also keeps the embedded engine from building its
HNSW and payload indexes during the run, to tell the ingest path's memory from the engine's.

    python -m benchmarks.ingest_memory --size 2GB [--dir /tmp/corpus] [--fake-models] [--no-redact]
    python -m benchmarks.ingest_memory --size 100MB --size 400MB --fake-models --no-redact
"""

from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

TENANT = "bench"
_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3}
_FILES_PER_FOLDER = 200
_MEDIAN_FILE_BYTES = 6_000
_MAX_FILE_BYTES = 2_000_000


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMG]?B?)\s*", text.upper())
    if match is None:
        raise argparse.ArgumentTypeError(f"size must look like 500MB or 2GB, got {text!r}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


# ---------------------------------------------------------------- corpus


def _sentences(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(5000)]
    return [
        " ".join(rng.choices(words, k=rng.randint(6, 24))).capitalize() + rng.choice(".!?.")
        for _ in range(count)
    ]


def _document(rng: random.Random, sentences: list[str], size: int) -> str:
    parts: list[str] = []
    length = 0
    while length < size:
        if rng.random() < 0.1:  # a config-like line now and then, as in real notes
            line = f"setting_{rng.randint(1, 99)} = {rng.randint(0, 10**6)}"
        else:
            line = " ".join(rng.choices(sentences, k=rng.randint(2, 6)))
        parts.append(line)
        parts.append("\n\n" if rng.random() < 0.5 else "\n")
        length += len(line) + 1
    return "".join(parts)[:size]


def make_corpus(folder: Path, total_bytes: int, seed: int = 7) -> tuple[int, int]:
    """Write text files until ``total_bytes``; returns (files, bytes). Reuses a folder made before."""
    marker = folder / f".corpus-{total_bytes}-{seed}"
    if marker.exists():
        existing = list(folder.rglob("*.txt"))
        return len(existing), sum(p.stat().st_size for p in existing)
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    rng = random.Random(seed)
    sentences = _sentences(rng, 20_000)
    written = files = 0
    while written < total_bytes:
        size = min(_MAX_FILE_BYTES, int(rng.lognormvariate(0, 1.0) * _MEDIAN_FILE_BYTES) + 200)
        size = min(size, total_bytes - written) or 1
        sub = folder / f"part{files // _FILES_PER_FOLDER:05d}"
        sub.mkdir(exist_ok=True)
        data = _document(rng, sentences, size).encode()
        (sub / f"doc{files:07d}.txt").write_bytes(data)
        written += len(data)
        files += 1
    marker.touch()  # hidden: not ingested
    return files, written


# ---------------------------------------------------------------- memory sampling


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found


def _tree(pid: int) -> list[int]:
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        queue += _children(current)
    return pids


def _field_kb(path: str, name: str) -> int:
    try:
        for line in Path(path).read_text().splitlines():
            if line.startswith(name):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return 0
    return 0


def _role(pid: int, root: int) -> str:
    """What a process of the tree is: the CLI itself, a spawned worker, or multiprocessing's tracker."""
    if pid == root:
        return "cli"
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return "other"
    return "tracker" if b"resource_tracker" in command else "worker"


def _mapped_kb(pid: int, shards: str) -> dict[str, int]:
    """The CLI's resident memory by what it maps: the engine's shard files (segments, WAL), other files
    (libraries, models), and anonymous memory (heaps: Python, the engine's native allocations)."""
    kinds = {"shard files": 0, "other files": 0, "anonymous": 0}
    kind = "anonymous"
    try:
        lines = Path(f"/proc/{pid}/smaps").read_text().splitlines()
    except OSError:
        return kinds
    for line in lines:
        parts = line.split()
        if parts and "-" in parts[0] and not parts[0].endswith(":"):
            name = parts[5] if len(parts) > 5 else ""
            kind = (
                "shard files"
                if name.startswith(shards)
                else "other files"
                if name.startswith("/")
                else "anonymous"
            )
        elif parts and parts[0] == "Rss:":
            kinds[kind] += int(parts[1])
    return kinds


@dataclass
class Peak:
    rss_kb: int = 0
    pss_kb: int = 0
    anon_kb: int = 0
    processes: int = 0
    by_role_kb: dict[str, int] = field(default_factory=dict)  # largest RSS seen per kind of process
    cli_kinds_kb: dict[str, int] = field(default_factory=dict)  # the CLI's RSS by kind, at its peak
    shards: str = ""
    _samples: int = 0

    def sample(self, pid: int) -> None:
        pids = _tree(pid)
        self._samples += 1
        if self._samples % 8 == 0:  # reading every mapping costs more than the totals
            kinds = _mapped_kb(pid, self.shards)
            if sum(kinds.values()) > sum(self.cli_kinds_kb.values()):
                self.cli_kinds_kb = kinds
        for p in pids:
            role = _role(p, pid)
            self.by_role_kb[role] = max(
                self.by_role_kb.get(role, 0), _field_kb(f"/proc/{p}/status", "VmRSS:")
            )
        rss = sum(_field_kb(f"/proc/{p}/status", "VmRSS:") for p in pids)
        pss = sum(_field_kb(f"/proc/{p}/smaps_rollup", "Pss:") for p in pids)
        anon = sum(_field_kb(f"/proc/{p}/smaps_rollup", "Anonymous:") for p in pids)
        self.rss_kb = max(self.rss_kb, rss)
        self.pss_kb = max(self.pss_kb, pss)
        self.anon_kb = max(self.anon_kb, anon)
        self.processes = max(self.processes, len(pids))


# ---------------------------------------------------------------- one run


@dataclass(frozen=True)
class Run:
    corpus_bytes: int
    files: int
    indexed: int
    failed: int
    seconds: float
    peak: Peak
    exit_code: int

    def line(self) -> str:
        mb = self.corpus_bytes / 1e6
        kinds = ", ".join(f"{k} {kb / 1024:.0f}" for k, kb in self.peak.cli_kinds_kb.items())
        roles = ", ".join(f"{r} {kb / 1024:.0f} MiB" for r, kb in sorted(self.peak.by_role_kb.items()))
        return (
            f"{mb:9.1f} MB {self.files:8d} files {self.indexed:8d} indexed {self.failed:5d} failed "
            f"{self.seconds:8.1f} s {mb / self.seconds:6.2f} MB/s"
            f"  peak RSS {self.peak.rss_kb / 1024:7.1f} MiB"
            f"  peak PSS {self.peak.pss_kb / 1024:7.1f} MiB"
            f"  peak anonymous {self.peak.anon_kb / 1024:7.1f} MiB"
            f"  ({self.peak.processes} processes; largest RSS: {roles}; CLI at its peak, MiB: {kinds})"
        )


def run_ingest(
    corpus: Path, *, fake_models: bool, defer: bool, redact: bool, workers: int, interval: float
) -> Run:
    files = sum(1 for _ in corpus.rglob("*.txt"))
    size = sum(p.stat().st_size for p in corpus.rglob("*.txt"))
    with tempfile.TemporaryDirectory(prefix="tessera-mem-") as data_dir:
        env = {
            **os.environ,
            "TESSERA_DATA_DIR": data_dir,
            "TESSERA_INGEST__REDACT": "true" if redact else "false",
            "TESSERA_INGEST__REDACTION_WORKERS": str(workers),
            "HF_HUB_OFFLINE": "1",
            "UNSTRUCTURED_DISABLE_NOTICE": "1",
        }
        child_flag = "--child-deferred" if defer else "--child"
        entry = ["-m", "benchmarks.ingest_memory", child_flag] if fake_models else ["-m", "api"]
        command = [sys.executable, *entry, "ingest", str(corpus), "--tenant", TENANT]
        peak = Peak(shards=str(Path(data_dir).resolve() / "shards"))
        started = time.monotonic()
        with tempfile.TemporaryFile() as out:
            process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.DEVNULL)
            while process.poll() is None:
                peak.sample(process.pid)
                time.sleep(interval)
            seconds = time.monotonic() - started
            out.seek(0)
            summary = out.read().decode(errors="replace")
    counts = re.search(r"(\d+) indexed, (\d+) unchanged, (\d+) failed", summary)
    indexed, failed = (int(counts.group(1)), int(counts.group(3))) if counts else (0, 0)
    return Run(size, files, indexed, failed, seconds, peak, process.returncode)


# ---------------------------------------------------------------- fake-model child


class HashEmbedder:
    """Random unit vectors seeded by each text's hash: the encoder's shape at a fraction of its cost."""

    def __init__(self, dimension: int) -> None:
        import numpy as np

        self._np = np
        self.dimension = dimension

    def _vector(self, text: str) -> list[float]:
        seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big")
        vector = self._np.random.default_rng(seed).standard_normal(self.dimension)
        return [float(v) for v in vector / self._np.linalg.norm(vector)]

    def embed_documents(self, texts: Sequence[str]) -> list[list[float]]:
        return [self._vector(t) for t in texts]

    def embed_query(self, text: str) -> list[float]:
        return self._vector(text)


def child(argv: list[str], *, defer_index_builds: bool = False) -> None:
    """The real ``tessera`` CLI, with the encoder replaced (and, if asked, the engine's index builds)."""
    from api import cli, cli_common
    from retrieval import edge

    if defer_index_builds:
        edge.OPTIMIZE_EVERY = edge.OPTIMIZE_AFTER_BATCH = sys.maxsize
    from api.runtime import Runtime, build_runtime, check_settings
    from core.settings import Settings, get_settings

    def runtime_for(settings: Settings | None = None, owner: str = "tessera cli") -> Runtime:
        chosen = settings or get_settings()
        embedder = HashEmbedder(check_settings(chosen).dimension)  # the shipped encoder's width
        return build_runtime(chosen, owner=owner, embedder=lambda: embedder)

    cli_common.runtime_for = runtime_for
    cli.runtime_for = runtime_for  # type: ignore[attr-defined]  # the name ``ingest`` calls
    sys.argv = ["tessera", *argv]
    cli.main()


# ---------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] in ("--child", "--child-deferred"):
        child(sys.argv[2:], defer_index_builds=sys.argv[1] == "--child-deferred")
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--size", type=parse_size, action="append", help="corpus size, e.g. 2GB (repeatable)")
    parser.add_argument("--dir", type=Path, help="where to generate the corpora (kept for reuse)")
    parser.add_argument("--fake-models", action="store_true", help="hash-seeded encoder instead of MiniLM")
    parser.add_argument(
        "--defer-index-builds", action="store_true", help="with --fake-models: no engine index builds"
    )
    parser.add_argument("--no-redact", action="store_true", help="TESSERA_INGEST__REDACT=false")
    parser.add_argument("--workers", type=int, default=1, help="redaction workers (default 1, as shipped)")
    parser.add_argument("--interval", type=float, default=0.25, help="seconds between memory samples")
    args = parser.parse_args()
    sizes = args.size or [parse_size("2GB")]
    base = args.dir or Path(tempfile.mkdtemp(prefix="tessera-corpus-"))
    mode = (
        f"{'fake' if args.fake_models else 'MiniLM'} encoder, redaction {'off' if args.no_redact else 'on'}"
    )
    if args.defer_index_builds:
        mode += ", engine index builds deferred"
    print(f"tessera ingest memory ({mode}, {args.workers} redaction workers)", flush=True)
    runs = []
    for size in sizes:
        folder = base / f"corpus-{size}"
        files, written = make_corpus(folder, size)
        print(f"corpus {folder}: {files} files, {written / 1e6:.1f} MB", flush=True)
        run = run_ingest(
            folder,
            fake_models=args.fake_models,
            defer=args.defer_index_builds,
            redact=not args.no_redact,
            workers=args.workers,
            interval=args.interval,
        )
        runs.append(run)
        print(run.line() + ("" if run.exit_code == 0 else f"  exit {run.exit_code}"), flush=True)
        if args.dir is None:
            shutil.rmtree(folder)
    if len(runs) > 1:
        first, last = runs[0], runs[-1]
        growth = (last.peak.rss_kb - first.peak.rss_kb) / 1024
        scale = last.corpus_bytes / first.corpus_bytes
        before, after = first.peak.rss_kb / 1024, last.peak.rss_kb / 1024
        print(f"corpus x{scale:.1f}: peak RSS {growth:+.1f} MiB ({before:.0f} -> {after:.0f} MiB)")


if __name__ == "__main__":
    main()
