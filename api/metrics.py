"""Trace ids and Prometheus metrics for HTTP traffic, as a plain ASGI middleware.

A plain ASGI wrapper costs a few microseconds per request; Starlette's ``BaseHTTPMiddleware`` (what
``@app.middleware("http")`` builds) adds a task and a memory stream per request, which at our search
latencies is a visible share.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from prometheus_client import Counter, Histogram
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import internal_error_response

log = logging.getLogger(__name__)

REQUESTS = Counter("tessera_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram(
    "tessera_http_request_seconds",
    "HTTP request latency",
    ["method", "route"],
    buckets=(0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

ACL_FAIL_CLOSED = Counter(
    "tessera_acl_fail_closed_total",
    "Requests refused because the access policy could not be read or evaluated",
)


class TraceAndMeasure:
    """Give every request a trace id (``request.state.trace_id``, echoed in ``X-Trace-Id``), answer
    unhandled errors with a problem+json 500 that still carries it, and record latency by route."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        trace_id = uuid.uuid4().hex
        scope.setdefault("state", {})["trace_id"] = trace_id
        started = time.perf_counter()
        status = {"code": 500, "sent": False}

        async def send_with_trace(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"], status["sent"] = message["status"], True
                message.setdefault("headers", []).append((b"x-trace-id", trace_id.encode()))
            await send(message)

        try:
            await self._app(scope, receive, send_with_trace)
        except Exception as exc:
            log.error("unhandled error", exc_info=exc)
            if status["sent"]:
                raise
            response = internal_error_response(Request(scope))
            await response(scope, receive, send_with_trace)
        finally:
            self._record(scope, status["code"], time.perf_counter() - started)

    @staticmethod
    def _record(scope: Scope, status: Any, seconds: float) -> None:
        template = getattr(scope.get("route"), "path", "unmatched")
        LATENCY.labels(scope["method"], template).observe(seconds)
        REQUESTS.labels(scope["method"], template, str(status)).inc()
