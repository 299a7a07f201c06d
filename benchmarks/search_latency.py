"""Search latency through the real API, next to the bare cost of embedding the query, in one run.

Builds a large index fast: a few thousand real SciFact texts are embedded once and every synthetic
chunk reuses one of them (vector plus a little gaussian noise, re-normalised), spread over tenants,
with matching provenance rows so the search re-check keeps every hit. Then ``tessera serve`` runs on
that data directory and POST /v1/search is timed, one request after another on one keep-alive
connection, for each mode; the query-embedding baseline runs in this process while the server idles.

With ``--baseline-tree`` (another checkout, e.g. ``git archive main | tar -x -C /tmp/main``) or
``--compare-fusion`` a second server runs on a copy of the index, and every round also times the bare
embedding and hybrid on both servers query by query, in a rotating order, so that all three see the
same load on a shared machine ("side by side" rows; their ratios use the side-by-side embedding).

    python -m benchmarks.search_latency --corpus ../shared/data/scifact/corpus.jsonl \\
        --queries ../shared/data/scifact/queries_train.jsonl [--chunks 100000 --tenants 10] [--json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import re
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from contextlib import ExitStack, closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

import numpy as np

from benchmarks.search_index import (
    BuildTimes,
    IndexBuilder,
    build_index,
    embed_base,
    issue_keys,
    log,
    read_base_texts,
    read_queries,
)
from benchmarks.search_server import QUIET_CORES, CpuWatch, free_port, running_server, wait_until_quiet
from core.offline import enforce_offline
from core.settings import Settings
from core.types import tenant_id
from retrieval.embedders import SentenceTransformerEmbedder

TARGET_P50_RATIO = 1.3  # HTTP hybrid p50 / bare embed_query p50
TARGET_P95_MS = 60.0  # HTTP hybrid p95
MODES = ("hybrid", "dense", "bm25")
THIS_TREE = Path(__file__).resolve().parents[1]
SIDE_BY_SIDE = "side by side"
_METRIC_RE = re.compile(
    r'^tessera_http_request_seconds_(sum|count)\{method="POST",route="/v1/search"\} (\S+)$', re.M
)


# --- measurements -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    n: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float


def summarise(seconds: Sequence[float]) -> Summary:
    ms = np.asarray(seconds) * 1000.0
    p50, p95, p99 = np.percentile(ms, [50, 95, 99])
    return Summary(len(ms), float(ms.mean()), float(p50), float(p95), float(p99))


Headers = dict[str, str]


class SearchClient:
    """Sequential POST /v1/search on one keep-alive connection, round-robin over the tenants' keys.

    Plain ``http.client``: a full-featured client spends about a millisecond of its own per request,
    which would be counted as the service's latency.
    """

    def __init__(self, base: str, tokens: Sequence[str], k: int) -> None:
        address = urlsplit(base)
        host = address.hostname or "127.0.0.1"
        self._connection = http.client.HTTPConnection(host, address.port, timeout=60)
        self._auth = [{"Authorization": f"Bearer {t}", "Content-Type": "application/json"} for t in tokens]
        self._k = k

    def _call(self, method: str, path: str, body: bytes | None, headers: Headers) -> tuple[int, bytes]:
        try:
            return self._exchange(method, path, body, headers)
        except (BrokenPipeError, ConnectionResetError, http.client.RemoteDisconnected):
            # The server closes idle keep-alive connections (uvicorn: after 5 s); open a new one.
            self._connection.close()
            return self._exchange(method, path, body, headers)

    def _exchange(self, method: str, path: str, body: bytes | None, headers: Headers) -> tuple[int, bytes]:
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        return response.status, response.read()

    def search(self, i: int, query: str, mode: str) -> tuple[float, bytes]:
        body = json.dumps({"query": query, "k": self._k, "mode": mode}).encode()
        started = time.perf_counter()
        status, payload = self._call("POST", "/v1/search", body, self._auth[i % len(self._auth)])
        elapsed = time.perf_counter() - started
        if status != 200:
            raise SystemExit(f"search failed with {status}: {payload[:500]!r}")
        return elapsed, payload

    def run(self, queries: Sequence[str], mode: str) -> list[float]:
        return [self.search(i, q, mode)[0] for i, q in enumerate(queries)]

    def server_seconds(self) -> tuple[float, int]:
        """Sum and count of /v1/search time as the app's own middleware measured it (Prometheus)."""
        _, metrics = self._call("GET", "/metrics", None, {})
        found = dict(_METRIC_RE.findall(metrics.decode()))
        return float(found.get("sum", 0.0)), int(float(found.get("count", 0)))

    def check(self, query: str) -> None:
        """The synthetic rows must agree with the index: k hits survive the re-check, offsets hold."""
        hit_lists = [json.loads(self.search(i, query, "hybrid")[1])["hits"] for i in range(len(self._auth))]
        for hits in hit_lists:
            if len(hits) != self._k:
                raise SystemExit(f"expected {self._k} hits, got {len(hits)}: index and database disagree")
        hit = hit_lists[0][0]
        where = urlencode({"start": hit["char_start"], "end": hit["char_end"]})
        path = f"/v1/documents/{quote(hit['doc_id'], safe='')}/versions/{hit['version']}/text?{where}"
        _, payload = self._call("GET", path, None, self._auth[0])
        stored = json.loads(payload)
        if stored.get("text") != hit["text"]:
            raise SystemExit(f"stored text at the hit's offsets differs from the hit: {stored}")

    def close(self) -> None:
        self._connection.close()


def time_embedding(
    embedder: SentenceTransformerEmbedder, queries: Sequence[str], warmup: Sequence[str]
) -> list[float]:
    for query in warmup:
        embedder.embed_query(query)
    seconds = []
    for query in queries:
        started = time.perf_counter()
        embedder.embed_query(query)
        seconds.append(time.perf_counter() - started)
    return seconds


@dataclass(frozen=True)
class Phase:
    """Where the timing runs: which processes are ours, and how long to wait for others to calm down."""

    pids: tuple[int, ...]
    quiet_wait_s: float
    attempts: int = 3

    def measure(self, timed: Callable[[], list[float]]) -> dict[str, Any]:
        """Time ``timed`` on a quiet machine; repeat it (up to ``attempts``) if others got busy meanwhile."""
        best: dict[str, Any] = {}
        for attempt in range(self.attempts):
            wait_until_quiet(self.pids, self.quiet_wait_s)
            watch = CpuWatch(self.pids)
            seconds = timed()
            result = {**asdict(summarise(seconds)), "foreign_cores": watch.foreign_cores()}
            if not best or result["foreign_cores"] < best["foreign_cores"]:
                best = result
            if result["foreign_cores"] < QUIET_CORES:
                break
            log(f"  other processes used {result['foreign_cores']:.2f} cores (attempt {attempt + 1})")
        return best


def time_embed(
    phase: Phase, embedder: SentenceTransformerEmbedder, queries: Sequence[str], warmup: Sequence[str]
) -> dict[str, Any]:
    return phase.measure(lambda: time_embedding(embedder, queries, warmup))


def time_modes(
    phase: Phase, client: SearchClient, queries: Sequence[str], modes: Sequence[str], warmup: Sequence[str]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for mode in modes:
        # Steady state: untimed searches with other queries first, so the timed ones don't pay for the
        # index pages a fresh process has yet to touch (the first pass over a shard's pages is slower).
        client.run(warmup, mode)
        in_app: list[float] = []

        def timed(mode: str = mode, in_app: list[float] = in_app) -> list[float]:
            before_sum, before_n = client.server_seconds()
            seconds = client.run(queries, mode)
            after_sum, after_n = client.server_seconds()
            in_app.append((after_sum - before_sum) / max(1, after_n - before_n) * 1000.0)
            return seconds

        result = phase.measure(timed)
        results[mode] = {**result, "server_mean_ms": in_app[-1]}
        log(f"  {mode}: p50 {result['p50_ms']:.1f} ms, p95 {result['p95_ms']:.1f} ms")
    return results


# --- the run ------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True, help="BEIR corpus.jsonl (texts to reuse)")
    parser.add_argument("--queries", type=Path, required=True, help="BEIR queries .jsonl (query texts)")
    parser.add_argument("--chunks", type=int, default=100_000, help="chunks in the index")
    parser.add_argument("--tenants", type=int, default=10, help="tenants (one shard each)")
    parser.add_argument("-q", "--num-queries", type=int, default=300, help="timed queries per mode")
    parser.add_argument("-k", type=int, default=10, help="hits per search")
    parser.add_argument("--base-docs", type=int, default=3000, help="real texts embedded and reused")
    parser.add_argument("--max-chars", type=int, default=1000, help="chunk text length (~200 tokens)")
    parser.add_argument("--noise", type=float, default=0.02, help="gaussian noise per vector dimension")
    parser.add_argument("--batch", type=int, default=2000, help="points per upsert")
    parser.add_argument(
        "--warmup", type=int, default=200, help="untimed searches per mode, with other queries than the timed"
    )
    parser.add_argument("--modes", default=",".join(MODES), help="comma-separated: hybrid,dense,bm25")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rounds", type=int, default=3, help="baseline + searches, repeated; median kept")
    parser.add_argument(
        "--quiet-wait", type=float, default=120, help="seconds to wait for other processes to go idle"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    parser.add_argument("--keep", action="store_true", help="keep the temp data dir (its path is logged)")
    parser.add_argument(
        "--index", type=Path, help="data dir to build the index in and keep, or to reuse when it has one"
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    parser.add_argument(
        "--compare-fusion",
        choices=["rrf", "dbsf"],
        help="also time hybrid on a second server (a copy of the index) with this fusion, in every round",
    )
    parser.add_argument(
        "--baseline-tree",
        type=Path,
        help="also time hybrid on a second server (a copy of the index) running the code in this "
        "directory, e.g. an export of main, side by side with this tree's server in every round",
    )
    args = parser.parse_args(argv)
    if args.compare_fusion and args.baseline_tree:
        parser.error("--compare-fusion and --baseline-tree each start the second server; choose one")
    if args.baseline_tree and not (args.baseline_tree / "api" / "app.py").is_file():
        parser.error(f"--baseline-tree must be a Tessera checkout, got {args.baseline_tree}")
    if args.rounds < 1:
        parser.error(f"--rounds must be at least 1, got {args.rounds}")
    if args.chunks < args.tenants or args.tenants < 1:
        parser.error(f"--chunks must be at least --tenants (>= 1), got {args.chunks} and {args.tenants}")
    if any(m not in MODES for m in modes(args)):
        parser.error(f"--modes must name some of {','.join(MODES)} (or none), got {args.modes!r}")
    if not modes(args) and not (args.compare_fusion or args.baseline_tree):
        parser.error("--modes may be empty only when a second server is compared side by side")
    return args


def modes(args: argparse.Namespace) -> list[str]:
    return [m for m in args.modes.split(",") if m]


def code_env(tree: Path) -> dict[str, str]:
    """Run a server on the code in ``tree``: the shared environment's editable install points at the
    main checkout, and ``PYTHONPATH`` comes before it."""
    return {"PYTHONPATH": str(tree.resolve())}


def build(args: argparse.Namespace, settings: Settings, embedder: SentenceTransformerEmbedder) -> BuildTimes:
    started = time.perf_counter()
    base = embed_base(read_base_texts(args.corpus, args.base_docs, args.max_chars), embedder)
    embedded = time.perf_counter() - started
    log(f"embedded {len(base.texts)} base texts in {embedded:.1f} s; writing {args.chunks} chunks")
    builder = IndexBuilder(base, noise=args.noise, seed=args.seed)
    tenants = [tenant_id(f"tenant-{i:02d}") for i in range(args.tenants)]
    upsert_s, optimize_s, database_s = build_index(settings, builder, tenants, args.chunks, args.batch)
    return BuildTimes(embedded, upsert_s, optimize_s, database_s, time.perf_counter() - started)


def measure(
    args: argparse.Namespace, data_dir: Path, embedder: SentenceTransformerEmbedder
) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir)
    tenants = [tenant_id(f"tenant-{i:02d}") for i in range(args.tenants)]
    tokens = issue_keys(settings, tenants)
    # The warm-up queries follow the timed ones in the file (they repeat only if the file is short).
    everything = read_queries(args.queries, args.num_queries + args.warmup)
    queries, warmup = everything[: args.num_queries], everything[args.num_queries :]
    with ExitStack() as servers:
        base, server_pid = servers.enter_context(
            running_server(data_dir, free_port(), data_dir / "server.log", settings_env=code_env(THIS_TREE))
        )
        client = servers.enter_context(closing(SearchClient(base, tokens, args.k)))
        pids = [os.getpid(), server_pid]
        other: tuple[str, SearchClient] | None = None
        second = second_server(args)
        if second is not None:
            label, suffix, env = second
            copy = index_copy(data_dir, suffix)
            other_base, other_pid = servers.enter_context(
                running_server(copy, free_port(), copy / "server.log", settings_env=env)
            )
            other = (label, SearchClient(other_base, tokens, args.k))
            servers.enter_context(closing(other[1]))
            pids.append(other_pid)
        phase = Phase(tuple(pids), args.quiet_wait)
        started = time.perf_counter()
        for warming in [client] + ([other[1]] if other else []):
            warming.run(warmup, "hybrid")  # loads the model and opens every shard
            warming.check(queries[0])
        log(f"server(s) warm after {time.perf_counter() - started:.1f} s")
        # The baseline and the searches alternate: this machine's speed drifts by 10-20 % within
        # minutes, so each round's ratio compares figures taken side by side.
        rounds = []
        for number in range(1, args.rounds + 1):
            embed: dict[str, Any] | None = None
            http: dict[str, Any] = {}
            if modes(args):
                log(f"round {number}: embedding baseline (server idle)")
                embed = time_embed(phase, embedder, queries, warmup)
                log(f"round {number}: timing searches")
                http = time_modes(phase, client, queries, modes(args), warmup)
            if other is not None:
                label, compared = other
                log(f"round {number}: embedding, hybrid and {label} side by side")
                side = time_side_by_side(embedder, (client, compared), label, phase.pids, queries, warmup)
                http.update(side)
                log("  " + ", ".join(f"{name}: p50 {r['p50_ms']:.1f} ms" for name, r in side.items()))
                differing = side[f"{label} ({SIDE_BY_SIDE})"]["bodies_differing"]
                log(f"  bodies differing from {label}'s in more than the trace id: {differing}")
            # Without phases of its own (--modes ""), the side-by-side embedding is the baseline.
            rounds.append({"embed_query": embed or http[f"embed_query ({SIDE_BY_SIDE})"], "http": http})
    return median_round(rounds)


def second_server(args: argparse.Namespace) -> tuple[str, str, dict[str, str]] | None:
    """The compared server's label, index-copy suffix and environment, if one is asked for."""
    if args.compare_fusion:
        env = {**code_env(THIS_TREE), "TESSERA_SEARCH__FUSION": args.compare_fusion}
        return f"hybrid ({args.compare_fusion})", args.compare_fusion, env
    if args.baseline_tree:
        return "hybrid (baseline tree)", "baseline", code_env(args.baseline_tree)
    return None


def time_side_by_side(
    embedder: SentenceTransformerEmbedder,
    servers: tuple[SearchClient, SearchClient],
    label: str,
    pids: Sequence[int],
    queries: Sequence[str],
    warmup: Sequence[str],
) -> dict[str, Any]:
    """The bare embedding and hybrid on both servers, query by query, in an order that rotates with
    every query (each one then follows each other as often), so all three see the same load. Counts
    the queries whose two response bodies differ in more than their trace ids."""
    client, compared = servers
    for warming in servers:
        warming.run(warmup, "hybrid")
    watch = CpuWatch(pids)
    timers: list[Callable[[int, str], tuple[float, bytes]]] = [
        lambda i, q: (_timed_embedding(embedder, q), b""),
        lambda i, q: client.search(i, q, "hybrid"),
        lambda i, q: compared.search(i, q, "hybrid"),
    ]
    seconds: list[list[float]] = [[] for _ in timers]
    differing = 0
    for i, query in enumerate(queries):
        bodies: list[bytes] = [b""] * len(timers)
        for turn in range(len(timers)):
            which = (i + turn) % len(timers)
            elapsed, bodies[which] = timers[which](i, query)
            seconds[which].append(elapsed)
        differing += not same_but_trace(bodies[1], bodies[2])
    foreign = watch.foreign_cores()
    names = ["embed_query", "hybrid", label]
    rows = {
        f"{name} ({SIDE_BY_SIDE})": asdict(summarise(s)) | {"foreign_cores": foreign}
        for name, s in zip(names, seconds, strict=True)
    }
    rows[f"{label} ({SIDE_BY_SIDE})"]["bodies_differing"] = differing
    return rows


def same_but_trace(ours: bytes, theirs: bytes) -> bool:
    """Byte-equal once our trace id (top level and in every hit) is spelled as theirs."""
    trace_ours, trace_theirs = (json.loads(b)["trace_id"].encode() for b in (ours, theirs))
    return ours.replace(trace_ours, trace_theirs) == theirs


def _timed_embedding(embedder: SentenceTransformerEmbedder, query: str) -> float:
    started = time.perf_counter()
    embedder.embed_query(query)
    return time.perf_counter() - started


def index_copy(data_dir: Path, suffix: str) -> Path:
    """A fresh copy of the index (and of this run's API keys) beside ``data_dir`` for a second server:
    one process owns an embedded index."""
    copy = data_dir.with_name(f"{data_dir.name}-{suffix}")
    shutil.rmtree(copy, ignore_errors=True)
    shutil.copytree(data_dir, copy, ignore=shutil.ignore_patterns(".owner", "server.log"))
    return copy


def median_round(rounds: list[dict[str, Any]]) -> dict[str, Any]:
    """The round whose hybrid/embedding p50 ratio is the median, with every round's ratios beside it.
    Side-by-side rows are divided by the side-by-side embedding, the others by the embedding phase."""

    def ratio(r: dict[str, Any], mode: str = "hybrid") -> float:
        row = r["http"].get(mode)
        if row is None:
            return 0.0
        own = r["http"].get(f"embed_query ({SIDE_BY_SIDE})") if SIDE_BY_SIDE in mode else None
        return float(row["p50_ms"] / (own or r["embed_query"])["p50_ms"])

    main = "hybrid" if "hybrid" in rounds[0]["http"] else f"hybrid ({SIDE_BY_SIDE})"
    ranked = sorted(rounds, key=lambda r: ratio(r, main))
    compared = [m for m in rounds[0]["http"] if m.startswith("hybrid") and SIDE_BY_SIDE in m]
    return {
        **ranked[len(ranked) // 2],
        "round_ratios": [ratio(r) for r in rounds] if "hybrid" in rounds[0]["http"] else [],
        "compared_round_ratios": {m: [ratio(r, m) for r in rounds] for m in compared},
    }


def verdict(results: dict[str, Any]) -> dict[str, Any]:
    phases = [results["embed_query"], *results["http"].values()]
    busiest = max((p["foreign_cores"] for p in phases if not math.isnan(p["foreign_cores"])), default=0.0)
    hybrid, embed = results["http"].get("hybrid"), results["embed_query"]
    if hybrid is None and f"hybrid ({SIDE_BY_SIDE})" in results["http"]:
        hybrid = results["http"][f"hybrid ({SIDE_BY_SIDE})"]
        embed = results["http"][f"embed_query ({SIDE_BY_SIDE})"]
    if hybrid is None:
        return {"met": None, "clean": busiest < QUIET_CORES}
    ratio = hybrid["p50_ms"] / embed["p50_ms"]
    return {
        "hybrid_p50_over_embed_p50": ratio,
        "ratio_target": TARGET_P50_RATIO,
        "hybrid_p95_ms": hybrid["p95_ms"],
        "p95_target_ms": TARGET_P95_MS,
        "met": ratio <= TARGET_P50_RATIO and hybrid["p95_ms"] <= TARGET_P95_MS,
        # False when other processes used the cores during a phase: then the figures say little
        "clean": busiest < QUIET_CORES,
    }


def render(report: dict[str, Any]) -> str:
    cfg, build_times, targets = report["config"], report["build"], report["targets"]
    lines = [
        f"index: {cfg['chunks']} chunks, {cfg['tenants']} tenants, k={cfg['k']}, {cfg['num_queries']} queries"
        f" per mode; built in {build_times['total_s']:.0f} s (embed {build_times['embed_base_s']:.0f},"
        f" upsert+auto-optimize {build_times['upsert_s']:.0f}, optimize {build_times['optimize_s']:.0f},"
        f" db {build_times['database_s']:.0f})",
        f"{'(ms)':<44}{'p50':>8}{'p95':>8}{'p99':>8}{'mean':>8}{'in-app':>8}{'other cpu':>11}",
    ]
    rows = [("embed_query (bare)", report["embed_query"])]
    rows += [(mode if mode.startswith("embed") else f"HTTP {mode}", s) for mode, s in report["http"].items()]
    for name, s in rows:
        in_app = f"{s['server_mean_ms']:>8.2f}" if "server_mean_ms" in s else f"{'-':>8}"
        lines.append(
            f"{name:<44}{s['p50_ms']:>8.2f}{s['p95_ms']:>8.2f}{s['p99_ms']:>8.2f}{s['mean_ms']:>8.2f}"
            f"{in_app}{s.get('foreign_cores', float('nan')):>11.2f}"
        )
    if report.get("round_ratios"):
        each = ", ".join(f"{r:.2f}" for r in report["round_ratios"])
        lines.append(f"hybrid p50 / embed p50 per round: {each}; the table shows the median round")
    for mode, ratios in report.get("compared_round_ratios", {}).items():
        each = ", ".join(f"{r:.2f}" for r in ratios)
        median = sorted(ratios)[len(ratios) // 2]
        lines.append(f"{mode} p50 / embed p50 per round: {each} (median {median:.2f})")
    if targets.get("met") is not None:
        lines.append(
            f"hybrid p50 / embed p50 = {targets['hybrid_p50_over_embed_p50']:.2f} (target <= "
            f"{TARGET_P50_RATIO}); hybrid p95 = {targets['hybrid_p95_ms']:.1f} ms (target <= "
            f"{TARGET_P95_MS:.0f} ms): {'met' if targets['met'] else 'NOT met'}"
        )
    if not targets["clean"]:
        lines.append("UNRELIABLE: other processes used the CPU during a timed phase (see 'other cpu')")
    lines += [
        "in-app = mean inside the app's middleware (its Prometheus histogram), without uvicorn and HTTP;",
        "other cpu = cores that processes other than server and benchmark kept busy meanwhile (want ~0)",
    ]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    enforce_offline()
    reuse = args.index is not None and (args.index / "tessera.db").exists()
    data_dir = args.index or Path(tempfile.mkdtemp(prefix="tessera-bench-"))
    try:
        log(f"data dir {data_dir}; loading the embedding model")
        embedder = SentenceTransformerEmbedder()
        if reuse:
            log("reusing the index built there by an earlier run with the same options")
            build_times = BuildTimes(0.0, 0.0, 0.0, 0.0, 0.0)
        else:
            build_times = build(args, Settings(data_dir=data_dir), embedder)
        results = measure(args, data_dir, embedder)
    finally:
        if args.keep or args.index is not None:
            log(f"kept {data_dir}")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)
    config = {k: v for k, v in vars(args).items() if k not in ("json", "keep", "check")}
    report = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in config.items()},
        "build": asdict(build_times),
        **results,
        "targets": verdict(results),
    }
    text = render(report)
    if args.json:
        log(text)
        print(json.dumps(report))
    else:
        print(text)
    return 1 if args.check and report["targets"].get("met") is False else 0


if __name__ == "__main__":
    sys.exit(main())
