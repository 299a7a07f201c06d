"""Access decisions at scale: one tenant with 10,000 users, 1,000 roles (some inheriting) and 100,000 rules.

Measures, on one database:
- the cold load of the whole policy (and its memory, by tracemalloc, in a separate load);
- the per-request decision (policy version read + cached decision) p95, warm;
- the first decision after a policy change, p95 over ``--changes`` changes, in a second
  ``AccessControl`` on its own engine (another process catching up from the database);
- search p50 through the Casbin path (key resolved, decision, engine filter from it) against the
  spine's path (the filter built directly, no policy) on the same index and queries, interleaved, as a
  ratio.

    python -m benchmarks.acl_decisions [--database-url postgresql://postgres@127.0.0.1:5432/test]
        [--corpus ../shared/data/scifact/corpus.jsonl --queries ../shared/data/scifact/queries_train.jsonl]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import tempfile
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from acl.admin import Actor, PolicyAdmin
from acl.auth import Authenticator
from acl.callers import CallerResolver
from acl.enforcer import AccessControl
from acl.policies import Op, RuleOp
from acl.rules import Action, Assignment, Effect, Permission, Rule
from acl.versions import DatabaseVersions
from api.runtime import build_access
from benchmarks.search_index import Base, IndexBuilder, build_index, log, read_base_texts, read_queries
from core.access import AccessFilter
from core.db import make_engine, migrate
from core.offline import enforce_offline
from core.settings import Settings
from core.types import TenantId
from provenance import store as docs
from retrieval.bm25 import QdrantBm25Encoder
from retrieval.edge import EdgeVectorStore
from retrieval.embedders import SentenceTransformerEmbedder
from retrieval.search import SearchRequest, SearchService
from tests.support.fakes import FakeEmbedder

TENANT = TenantId("bench")
ACTOR = Actor(TENANT, "benchmark")
TARGET_WARM_P95_MS = 1.0
TARGET_CHANGED_P95_MS = 20.0
TARGET_SEARCH_RATIO = 1.05
SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "scifact"


def policy(users: int, roles: int, rules: int, seed: int) -> list[Rule]:
    """Roles read ~20 labels each, a third inherit from a lower role, users hold 3 roles and a few
    rules of their own (one in ten a deny); filled up to ``rules`` with more user rules."""
    rng = random.Random(seed)
    labels = [f"l{i:04d}" for i in range(2 * roles)]
    role_names = [f"r{i:04d}" for i in range(roles)]
    out: list[Rule] = []
    for i, role in enumerate(role_names):
        if i > 10 and rng.random() < 0.33:
            out.append(Assignment(role, role_names[rng.randrange(i // 2)], TENANT))
        out += [Permission(role, TENANT, label, Action.READ) for label in rng.sample(labels, 20)]
    user_names = [f"u{i:05d}" for i in range(users)]
    for user in user_names:
        out.append(Assignment(user, "member", TENANT))
        out += [Assignment(user, role, TENANT) for role in rng.sample(role_names, 3)]
    seen = set(out)
    while len(seen) < rules:
        effect = Effect.DENY if rng.random() < 0.1 else Effect.ALLOW
        rule = Permission(rng.choice(user_names), TENANT, rng.choice(labels), Action.READ, effect)
        if rule not in seen:
            seen.add(rule)
            out.append(rule)
    return out


def ms(seconds: Sequence[float], q: float) -> float:
    return float(np.quantile(np.asarray(seconds), q) * 1000)


def timed(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def new_access(url: str) -> AccessControl:
    engine = make_engine(url)
    return AccessControl(engine, DatabaseVersions(engine))


def measure_decisions(url: str, users: int, changes: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    names = [f"u{i:05d}" for i in range(users)]
    cold = new_access(url)
    load_s = timed(lambda: cold.decide(TENANT, names[0]))
    first_s = [timed(lambda u=u: cold.decide(TENANT, u)) for u in rng.sample(names, min(2000, users))]
    for user in names:  # every user decided once: the cache is warm
        cold.decide(TENANT, user)
    warm_s = [timed(lambda u=u: cold.decide(TENANT, u)) for u in rng.choices(names, k=5000)]

    gc.collect()
    tracemalloc.start()
    probe = new_access(url)
    probe.decide(TENANT, names[0])
    memory_mb = tracemalloc.get_traced_memory()[0] / 2**20
    tracemalloc.stop()
    probe.close()

    # The writer (this process) and the other process, each with its own engine and policy in memory.
    writer = new_access(url)
    admin = PolicyAdmin(writer._engine, writer)
    other = new_access(url)
    other.decide(TENANT, names[0])
    change_s: list[float] = []
    commit_s: list[float] = []
    for _ in range(changes):
        user = rng.choice(names)
        other.decide(TENANT, user)  # cached before the change, as for a user who called a moment ago
        deny = Permission(user, TENANT, f"l{rng.randrange(2000):04d}", Action.READ, Effect.DENY)
        op = Op.REMOVE if deny in _held(other, user) else Op.ADD
        commit_s.append(timed(lambda d=deny, o=op: admin.change(ACTOR, [RuleOp(o, d)], reason="bench")))
        change_s.append(timed(lambda u=user: other.decide(TENANT, u)))
        decision = other.decide(TENANT, user)
        assert (deny.obj in decision.read.denied) == (op == Op.ADD)  # the change is in effect
    for access in (cold, writer, other):
        access.close()
    return {
        "cold_load_s": load_s,
        "policy_memory_mb": memory_mb,
        "first_decision_p95_ms": ms(first_s, 0.95),
        "warm_decision_p50_ms": ms(warm_s, 0.5),
        "warm_decision_p95_ms": ms(warm_s, 0.95),
        "after_change_p50_ms": ms(change_s, 0.5),
        "after_change_p95_ms": ms(change_s, 0.95),
        "change_commit_p50_ms": ms(commit_s, 0.5),
    }


def _held(access: AccessControl, user: str) -> set[Rule]:
    return {p for p, _ in access._policies[TENANT][0].permissions_of(user)}


def measure_search(
    settings: Settings,
    queries: list[str],
    token: str,
    spine: AccessFilter,
    rounds: int,
    *,
    real_encoder: bool,
) -> dict[str, float]:
    """Both paths on the same service and queries, alternating query by query. With ``real_encoder``
    queries are embedded by the shipped MiniLM (what a production search pays); the index's vectors
    stay the fake ones, which changes which chunks match but not what the engine has to do."""
    access = build_access(settings, make_engine(settings.resolved_database_url))
    callers = CallerResolver(Authenticator(access._engine), access)
    embedder: Any = SentenceTransformerEmbedder(None) if real_encoder else FakeEmbedder()
    store = EdgeVectorStore(settings.shards_dir, dimension=embedder.dimension, owner="acl benchmark")
    service = SearchService(
        store=store,
        embedder=lambda: embedder,
        sparse=QdrantBm25Encoder(),
        current_writes=_current_writes(access),
        settings=settings.search,
    )
    casbin_s: list[float] = []
    spine_s: list[float] = []
    resolve_s: list[float] = []

    def with_casbin(request: SearchRequest) -> None:
        started = time.perf_counter()
        allowed = callers.resolve(token).read  # key, policy version, decision: what a request pays
        resolve_s.append(time.perf_counter() - started)
        service.search(allowed, request)

    try:
        assert callers.resolve(token).read == spine  # the same filter: only the decision's cost differs
        for _ in range(rounds):
            for i, query in enumerate(queries):
                request = SearchRequest(query=query, k=10)
                paths = [
                    (casbin_s, lambda r=request: with_casbin(r)),
                    (spine_s, lambda r=request: service.search(spine, r)),
                ]
                for seconds, work in paths if i % 2 else reversed(paths):
                    seconds.append(timed(work))
    finally:
        store.close()
        access.close()
    casbin_p50, spine_p50 = ms(casbin_s, 0.5), ms(spine_s, 0.5)
    return {
        "search_casbin_p50_ms": casbin_p50,
        "search_spine_p50_ms": spine_p50,
        "ratio": casbin_p50 / spine_p50,
        "resolve_p50_ms": ms(resolve_s, 0.5),
    }


def _current_writes(access: AccessControl) -> Callable[..., dict[str, str]]:
    def current(tenant: TenantId, doc_ids: Any) -> dict[str, str]:
        with access._engine.connect() as connection:
            return docs.current_writes(connection, tenant, doc_ids)

    return current


def build_search_index(settings: Settings, corpus: Path, chunks: int) -> None:
    texts = read_base_texts(corpus, 1000, 1000)
    embedder = FakeEmbedder()
    sparse = QdrantBm25Encoder()
    base = Base(
        texts,
        np.asarray(embedder.embed_documents([t.text for t in texts]), dtype=np.float32),
        [sparse.encode_document(t.text) for t in texts],
    )
    build_index(settings, IndexBuilder(base, noise=0.02, seed=7), [TENANT], chunks, 2000)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temporary directory")
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--roles", type=int, default=1_000)
    parser.add_argument("--rules", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=200)
    parser.add_argument("--chunks", type=int, default=20_000)
    parser.add_argument("--corpus", type=Path, default=SHARED / "corpus.jsonl")
    parser.add_argument("--queries", type=Path, default=SHARED / "queries_train.jsonl")
    parser.add_argument("--search-rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--data-dir", type=Path, default=None, help="keep the database and index here (a new directory)"
    )
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--real-encoder",
        action="store_true",
        help="embed queries with the shipped MiniLM, as production search does",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    enforce_offline()
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tessera-acl-bench-") as scratch:
        tmp = args.data_dir or Path(scratch)
        if args.data_dir is not None:
            tmp.mkdir(parents=True)  # a kept directory must be new: the policy is written once
        url = args.database_url or f"sqlite:///{tmp / 'tessera.db'}"
        settings = Settings(data_dir=Path(tmp) / "data", database_url=url)
        engine = make_engine(url)
        migrate(engine)
        access = AccessControl(engine, DatabaseVersions(engine))
        admin = PolicyAdmin(engine, access)
        issued = admin.issue_key(ACTOR, "reader", roles=("r-reader",))  # creates the tenant
        rules = policy(args.users, args.roles, args.rules, args.seed)
        log(f"writing {len(rules):,} rules")
        import_s = timed(lambda: admin.change(ACTOR, [RuleOp(Op.ADD, r) for r in rules], reason="benchmark"))
        access.close()
        engine.dispose()
        log(f"  {import_s:.1f} s; measuring decisions")
        results: dict[str, Any] = {"rules": len(rules) + 7, "write_policy_s": import_s}
        results |= measure_decisions(url, args.users, args.changes, args.seed)
        log("building the search index")
        build_search_index(settings, args.corpus, args.chunks)
        spine = AccessFilter(TENANT, frozenset({"public", "r-reader"}))  # the old rule for role r-reader
        queries = read_queries(args.queries, 200)
        results |= measure_search(
            settings, queries, issued.token, spine, args.search_rounds, real_encoder=args.real_encoder
        )
    results["targets_met"] = (
        results["warm_decision_p95_ms"] <= TARGET_WARM_P95_MS
        and results["after_change_p95_ms"] <= TARGET_CHANGED_P95_MS
        and results["ratio"] <= TARGET_SEARCH_RATIO
    )
    print(json.dumps(results, indent=2) if args.json else render(results, url))
    return 0


def render(r: dict[str, Any], url: str) -> str:
    backend = url.split(":", 1)[0]
    return "\n".join(
        [
            f"access control, one tenant, {r['rules']:,} rules ({backend})",
            f"  write the policy (one change)     {r['write_policy_s']:.1f} s",
            f"  cold load of the whole policy     {r['cold_load_s'] * 1000:.0f} ms",
            f"  policy memory (tracemalloc)       {r['policy_memory_mb']:.1f} MiB",
            f"  first decision for a user p95     {r['first_decision_p95_ms']:.3f} ms",
            f"  warm decision p50 / p95           {r['warm_decision_p50_ms']:.3f} / "
            f"{r['warm_decision_p95_ms']:.3f} ms"
            f"  (target <= {TARGET_WARM_P95_MS} ms)",
            f"  after a change p50 / p95          {r['after_change_p50_ms']:.2f} / "
            f"{r['after_change_p95_ms']:.2f} ms"
            f"  (target <= {TARGET_CHANGED_P95_MS} ms)",
            f"  commit of one change p50          {r['change_commit_p50_ms']:.1f} ms",
            f"  search p50 casbin / spine         {r['search_casbin_p50_ms']:.2f} / "
            f"{r['search_spine_p50_ms']:.2f} ms"
            f"  = {r['ratio']:.3f}x (target <= {TARGET_SEARCH_RATIO}x)",
            f"  of which key + version + decision {r['resolve_p50_ms']:.3f} ms (p50)",
            f"  targets met: {r['targets_met']}",
        ]
    )


if __name__ == "__main__":
    raise SystemExit(main())
