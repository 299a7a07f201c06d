from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from sqlmodel import Session, select

from acl.auth import Authenticator
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


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_verified_key_is_trusted_for_the_ttl_then_checked_again(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ("reader",))
    clock = _Clock()
    auth = Authenticator(engine, ttl_s=5, clock=clock)
    assert auth.remembered(issued.token) is None  # never verified yet
    principal = auth.verify(issued.token)
    with session_scope(engine) as session:
        revoke_key(session, TenantId("acme"), principal.key_id or "")
    clock.now += 4.9
    assert auth.remembered(issued.token) == principal  # revocation elsewhere: trusted until the TTL ends
    clock.now += 0.2
    assert auth.remembered(issued.token) is None
    with pytest.raises(UnauthenticatedError):
        auth.verify(issued.token)


def test_a_zero_ttl_checks_the_database_every_time(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ())
    auth = Authenticator(engine, ttl_s=0)
    auth.verify(issued.token)
    assert auth.remembered(issued.token) is None


def test_failed_keys_are_not_remembered(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann", ())
    auth = Authenticator(engine, ttl_s=60)
    wrong = issued.token[:-2] + ("aa" if not issued.token.endswith("aa") else "bb")
    with pytest.raises(UnauthenticatedError):
        auth.verify(wrong)
    assert auth.remembered(wrong) is None
