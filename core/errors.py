"""Typed errors, each carrying its HTTP status and RFC 9457 title; one handler in ``api`` maps them.

TesseraError
├── InvalidInputError        400  the caller sent something we cannot use
│   └── UnsupportedMediaError 415
├── UnauthenticatedError     401  no or bad credential
├── ForbiddenError           403  credential valid, action not allowed
├── NotFoundError            404  absent, or belongs to another tenant
├── ConflictError            409  e.g. the embedded index is owned by another process
├── PayloadTooLargeError     413
├── BudgetExceededError      429
├── UpstreamError            502  a dependency (vector engine, model server) failed
├── UnavailableError         503  not ready yet
│   └── PolicyUnavailableError 503  the access policy could not be read: the request fails closed
└── ConfigurationError       500  the settings cannot work together; raised at start, before any work
"""

from __future__ import annotations


class TesseraError(Exception):
    status: int = 500
    title: str = "Internal error"
    type_slug: str = "internal"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInputError(TesseraError):
    status, title, type_slug = 400, "Invalid input", "invalid-input"


class UnsupportedMediaError(InvalidInputError):
    status, title, type_slug = 415, "Unsupported media type", "unsupported-media"


class UnauthenticatedError(TesseraError):
    status, title, type_slug = 401, "Unauthenticated", "unauthenticated"


class ForbiddenError(TesseraError):
    status, title, type_slug = 403, "Forbidden", "forbidden"


class NotFoundError(TesseraError):
    status, title, type_slug = 404, "Not found", "not-found"


class ConflictError(TesseraError):
    status, title, type_slug = 409, "Conflict", "conflict"


class PayloadTooLargeError(TesseraError):
    status, title, type_slug = 413, "Payload too large", "payload-too-large"


class BudgetExceededError(TesseraError):
    status, title, type_slug = 429, "Budget exceeded", "budget-exceeded"


class UpstreamError(TesseraError):
    status, title, type_slug = 502, "Upstream failure", "upstream"


class UnavailableError(TesseraError):
    status, title, type_slug = 503, "Service unavailable", "unavailable"


class PolicyUnavailableError(UnavailableError):
    title, type_slug = "Access policy unavailable", "policy-unavailable"


class ConfigurationError(TesseraError):
    status, title, type_slug = 500, "Invalid configuration", "configuration"
