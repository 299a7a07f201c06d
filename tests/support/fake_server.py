"""`tessera serve` on the fake models, for tests that need several real API processes cheaply.

python -m tests.support.fake_server PORT     (settings from TESSERA_* as usual)
"""

from __future__ import annotations

import sys

import uvicorn

from api.app import create_app
from api.runtime import build_runtime
from core.settings import get_settings
from ingest.prepare import InlinePreparer
from tests.support.fakes import FakeEmbedder, FakeRedactor


def main() -> None:
    embedder = FakeEmbedder()
    runtime = build_runtime(
        get_settings(),
        owner="tessera serve (fake models)",
        embedder=lambda: embedder,
        preparer=lambda: InlinePreparer(FakeRedactor()),
    )
    try:
        uvicorn.run(create_app(runtime=runtime), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
