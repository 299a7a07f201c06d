"""RFC 9457 problem details: every error is mapped here, once, and declared in the OpenAPI once.

``TesseraError`` subclasses carry their own status and title; FastAPI's validation errors become 422
problems; Starlette's HTTP errors (unknown path, wrong method) keep their status; anything else is a
500 whose body says nothing about the cause (the log has it, under the same trace id).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from core.errors import TesseraError

PROBLEM_TYPE_BASE = "https://tessera.dev/problems/"
MEDIA_TYPE = "application/problem+json"
HIDDEN_DETAIL = "the service could not complete the request"
log = logging.getLogger(__name__)


class ProblemField(BaseModel):
    location: str = Field(description="where in the request, e.g. body.filters.metadata.year")
    message: str


class Problem(BaseModel):
    """The body of every error response."""

    type: str = Field(description=f"{PROBLEM_TYPE_BASE}<slug>")
    title: str
    status: int = Field(ge=400, le=599)
    detail: str = Field(description="what was wrong, naming the bad value where it helps")
    instance: str = Field(description="the request path")
    trace_id: str | None = Field(default=None, description="also in the X-Trace-Id header and the logs")
    errors: list[ProblemField] | None = Field(default=None, description="every invalid field (422 only)")


def problem(
    request: Request,
    status: int,
    title: str,
    detail: str,
    slug: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    trace_id = getattr(request.state, "trace_id", None)
    if trace_id:
        body["trace_id"] = trace_id
    body.update(extra)
    headers = {**(headers or {}), **({"WWW-Authenticate": "Bearer"} if status == 401 else {})}
    return JSONResponse(body, status_code=status, media_type=MEDIA_TYPE, headers=headers or None)


def error_response(request: Request, exc: TesseraError) -> JSONResponse:
    """The one translation of a typed error; middleware that cannot raise into the app calls it too."""
    if exc.status >= 500 and exc.status != 503:  # 503 details name a dependency, nothing internal
        log.error("request failed: %s", exc.title, exc_info=exc)
        return problem(request, exc.status, exc.title, HIDDEN_DETAIL, exc.type_slug)
    return problem(request, exc.status, exc.title, exc.detail, exc.type_slug)


async def _tessera_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, TesseraError)
    return error_response(request, exc)


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"location": ".".join(str(p) for p in error.get("loc", ())), "message": error.get("msg", "")}
        for error in exc.errors()
    ]
    first = errors[0] if errors else {"location": "", "message": "invalid request"}
    detail = f"{first['location']}: {first['message']}" if first["location"] else first["message"]
    return problem(request, 422, "Invalid request", detail, "validation", errors=errors)


_HTTP_TITLES = {404: ("Not found", "not-found"), 405: ("Method not allowed", "method-not-allowed")}


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title, slug = _HTTP_TITLES.get(exc.status_code, ("HTTP error", "http"))
    if exc.status_code == 401:
        title, slug = "Unauthenticated", "unauthenticated"
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        # Starlette names the methods of the first route that matched the path; a path served by
        # several routes (GET and DELETE of a document) must list them all.
        headers["Allow"] = ", ".join(_methods_of_path(request))
    return problem(request, exc.status_code, title, str(exc.detail), slug, headers=headers)


def _methods_of_path(request: Request) -> list[str]:
    """The methods of the resource this path names: the routes that share the path template of the
    first route matching it (a document id may contain '/versions/', so a longer route can match too)."""
    path = request.scope.get("path", "")
    routes = list(_flat_routes(request.app.router.routes, ""))
    for prefix, route in routes:
        if path.startswith(prefix) and route.path_regex.match(path[len(prefix) :]):
            template = (prefix, route.path_format)
            return sorted({m for p, r in routes if (p, r.path_format) == template for m in (r.methods or ())})
    return []


def _flat_routes(routes: Any, prefix: str) -> Iterator[tuple[str, Any]]:
    # FastAPI wraps each included router; its own routes keep their full paths under the include prefix.
    for route in routes:
        inner = getattr(route, "original_router", None)
        if inner is not None:
            context = getattr(route, "include_context", None)
            yield from _flat_routes(inner.routes, prefix + str(getattr(context, "prefix", "") or ""))
        elif hasattr(route, "path_regex") and getattr(route, "methods", None):
            yield prefix, route


def internal_error_response(request: Request) -> JSONResponse:
    """The answer to an error nobody typed: a 500 that names nothing of the cause."""
    return problem(request, 500, "Internal error", HIDDEN_DETAIL, "internal")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error", exc_info=exc)
    return internal_error_response(request)


def install(app: FastAPI) -> None:
    app.add_exception_handler(TesseraError, _tessera_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    _declare(app)


_DESCRIPTIONS = {
    400: "Invalid input: the detail names the bad value",
    401: "No API key, or one that is unknown or revoked",
    403: "The tenant's policy does not allow the caller this",
    404: "No such resource in the caller's tenant (or one it may not read)",
    409: "The embedded index is held by another process, or the rule to add already exists",
    413: "The body, a file or the number of items is over its limit",
    415: "The body is not of the media type this operation takes",
    422: "The request does not match this schema: every invalid field is listed",
    500: "Internal error; the body tells nothing more, the logs do (same trace id)",
    502: "The vector engine failed",
    503: "A dependency (database, vector engine) is not reachable",
}


def _statuses(method: str, path: str) -> list[int]:
    """The problems an operation can answer with (every one is a ``Problem`` body)."""
    if path == "/readyz":
        return [500, 503]
    if not path.startswith("/v1/"):
        return []
    codes = {400, 401, 403, 409, 422, 500, 502, 503}
    if "{" in path or path.startswith("/v1/admin/"):  # admin: a rule to remove, a document to explain
        codes.add(404)
    if method in {"post", "put", "patch"}:
        codes.add(413)  # every body is capped before the route sees it
    if (method, path) in {("post", "/v1/ingest/jobs"), ("post", "/v1/admin/policies/import")}:
        codes.add(415)
    return sorted(codes)


def _declare(app: FastAPI) -> None:
    """Generate the OpenAPI as FastAPI does, then state the problem responses it cannot know of."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        problem_schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(problem_schema.pop("$defs", {}))
        components["Problem"] = problem_schema
        reference = {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema.get("paths", {}).items():
            for method, operation in operations.items():
                responses = operation.setdefault("responses", {})
                for status in _statuses(method, path):
                    responses[str(status)] = {"description": _DESCRIPTIONS[status], "content": reference}
        # FastAPI's own 422 shape is never sent: the problem above replaced it everywhere.
        components.pop("HTTPValidationError", None)
        components.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
