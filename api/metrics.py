"""Prometheus metrics for HTTP traffic; one registry per process (the default one)."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from prometheus_client import Counter, Histogram

from api.problems import problem

log = logging.getLogger(__name__)

REQUESTS = Counter("tessera_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "tessera_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


async def trace_and_measure(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Give every request a trace id (echoed in ``X-Trace-Id``) and record its latency by route template."""
    request.state.trace_id = uuid.uuid4().hex
    started = time.perf_counter()
    try:
        response = await call_next(request)
    except Exception as exc:  # answer here so even a crash carries the trace id and is counted
        log.error("unhandled error", exc_info=exc)
        response = problem(
            request, 500, "Internal error", "the service could not complete the request", "internal"
        )
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, template, str(response.status_code)).inc()
    response.headers["X-Trace-Id"] = request.state.trace_id
    return response
