"""Fixtures the REST tests share: a runtime on each database and a TestClient over it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.runtime import Runtime
from tests.conftest import RuntimeFactory


@pytest.fixture
def runtime(make_runtime: RuntimeFactory, database_url: str) -> Runtime:
    return make_runtime(database_url=database_url)


@pytest.fixture
def client(runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=runtime)) as test_client:
        yield test_client
