from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from acl.keys import authenticate, create_key, revoke_key
from acl.models import ApiKey
from core.db import make_engine, migrate, session_scope
from core.errors import NotFoundError, UnauthenticatedError
from core.types import TenantId


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


def test_key_authenticates_as_its_tenant_user_and_roles(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ("admin", "hr"))
    with session_scope(engine) as session:
        principal = authenticate(session, issued.token)
    assert (principal.tenant, principal.user, principal.roles) == ("acme", "ann", frozenset({"admin", "hr"}))


def test_only_a_hash_of_the_secret_is_stored(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ())
    secret = issued.token.split("_", 2)[2]
    with Session(engine) as session:
        row = session.exec(select(ApiKey)).one()
    assert row.secret_sha256 == hashlib.sha256(secret.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.model_dump().values())


@pytest.mark.parametrize("token", ["", "nonsense", "tsk_0123456789abcdef_wrongwrongwrongwrongwrong"])
def test_bad_tokens_are_unauthenticated(engine, token: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session, pytest.raises(UnauthenticatedError):
        authenticate(session, token)


def test_tampered_secret_is_refused(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ())
    tampered = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    with session_scope(engine) as session, pytest.raises(UnauthenticatedError):
        authenticate(session, tampered)


def test_revoked_key_stops_working_and_other_tenants_cannot_revoke(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ())
    with session_scope(engine) as session, pytest.raises(NotFoundError):
        revoke_key(session, TenantId("globex"), issued.key_id)
    with session_scope(engine) as session:
        revoke_key(session, TenantId("acme"), issued.key_id)
    with session_scope(engine) as session, pytest.raises(UnauthenticatedError):
        authenticate(session, issued.token)
