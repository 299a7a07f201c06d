"""The FastAPI application: built by ``create_app``; the runtime is created in the lifespan."""

from __future__ import annotations

import logging
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import problems
from api.limits import BodyLimit
from api.metrics import TraceAndMeasure
from api.routes import admin, documents, health, ingest, search
from api.routes.ingest import UPLOADS_DIR
from api.runtime import Runtime, build_runtime
from core.settings import Settings, get_settings
from ingest.jobs import JobRunner

log = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> FastAPI:
    """``runtime`` lets tests hand in a pre-built one (fakes, temp dirs); otherwise settings decide."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = runtime is None
        active = runtime or build_runtime(settings or get_settings(), owner="tessera serve")
        if owned and active.settings.qdrant.url is None:
            # Embedded mode: this process owns the index, so any job still open was ours and died with us.
            interrupted = active.jobs.fail_interrupted()
            if interrupted:
                log.warning("marked %d interrupted ingest job(s) as failed", interrupted)
            # ... and so were uploads still waiting on disk (a kill -9 skips their removal).
            shutil.rmtree(active.settings.data_dir / UPLOADS_DIR, ignore_errors=True)
        app.state.runtime = active
        app.state.job_runner = JobRunner(
            active.jobs, heartbeat_s=active.settings.ingest.job_heartbeat_seconds
        )
        try:
            yield
        finally:
            app.state.job_runner.close()
            if owned:
                active.close()

    app = FastAPI(
        title="Tessera",
        version="0.1.0",
        summary="Tenant-isolated retrieval with provenance",
        lifespan=lifespan,
    )
    limit = (runtime.settings if runtime else (settings or get_settings())).ingest.max_request_bytes
    app.add_middleware(BodyLimit, max_bytes=limit)
    app.add_middleware(TraceAndMeasure)
    problems.install(app)
    for router in (health.router, search.router, ingest.router, documents.router, admin.router):
        app.include_router(router)
    return app
