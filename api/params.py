"""Bounded query and path parameters, shared by the routes so the OpenAPI states every range.

The upper bounds are what the databases can hold: a number past PostgreSQL's ``INTEGER`` (or SQLite's
64 bits) would otherwise reach the driver and fail there as an overflow.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from core.errors import InvalidInputError

MAX_DB_INT = 2**31 - 1  # PostgreSQL INTEGER, the narrowest column these numbers meet
MAX_PAGE = 1000

PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"documents per page, 1..{MAX_PAGE}")]
PageOffset = Annotated[int, Query(ge=0, le=MAX_DB_INT, description="documents to skip")]
ItemLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"items per page, 1..{MAX_PAGE}")]
ItemOffset = Annotated[int, Query(ge=0, le=MAX_DB_INT, description="items to skip")]
VersionNumber = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="a version of the document, from 1")]
FirstChar = Annotated[int | None, Query(ge=0, le=MAX_DB_INT, description="first character, default 0")]
EndChar = Annotated[
    int | None, Query(ge=0, le=MAX_DB_INT, description="one past the last character, default the end")
]


def check_db_int(name: str, value: int | None, *, low: int = 0) -> None:
    """The same bound for callers that skip FastAPI's validation (the CLI)."""
    if value is not None and not low <= value <= MAX_DB_INT:
        raise InvalidInputError(f"{name} must be between {low} and {MAX_DB_INT}, got {value}")
