"""API keys: hashed at rest, bound to a tenant and user, revocable and expiring with no grace window."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, select

from acl.admin import Actor, PolicyAdmin
from acl.auth import Authenticator
from acl.callers import CallerResolver
from acl.enforcer import AccessControl
from acl.keys import authenticate, create_key, revoke_key
from acl.models import ApiKey
from acl.versions import DatabaseVersions
from core.db import make_engine, migrate, session_scope
from core.errors import InvalidInputError, NotFoundError, UnauthenticatedError
from core.types import TenantId

ACME = Actor(TenantId("acme"), "test")


@pytest.fixture
def engine(tmp_path: Path):  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'keys.db'}")
    migrate(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def admin(engine) -> PolicyAdmin:  # type: ignore[no-untyped-def]
    return PolicyAdmin(engine, AccessControl(engine, DatabaseVersions(engine)))


def test_key_authenticates_as_its_tenant_and_user(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann")
    with session_scope(engine) as session:
        principal, _, expires = authenticate(session, issued.token)
    assert (principal.tenant, principal.user, principal.key_id, expires) == (
        "acme",
        "ann",
        issued.key_id,
        None,
    )


def test_only_a_hash_of_the_secret_is_stored(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann")
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
        issued = create_key(session, "acme", "ann")
    tampered = issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")
    with session_scope(engine) as session, pytest.raises(UnauthenticatedError):
        authenticate(session, tampered)


def test_revoked_key_stops_working_and_other_tenants_cannot_revoke(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann")
    with session_scope(engine) as session, pytest.raises(NotFoundError):
        revoke_key(session, TenantId("globex"), issued.key_id)
    with session_scope(engine) as session:
        revoke_key(session, TenantId("acme"), issued.key_id)
    with session_scope(engine) as session, pytest.raises(UnauthenticatedError):
        authenticate(session, issued.token)


def test_a_revocation_elsewhere_is_refused_on_the_very_next_request(engine, admin: PolicyAdmin) -> None:  # type: ignore[no-untyped-def]
    issued = admin.issue_key(ACME, "ann", roles=("hr",))
    # Two API processes: each has its own key memory and policy cache over one database.
    first = CallerResolver(Authenticator(engine), AccessControl(engine, DatabaseVersions(engine)))
    second = CallerResolver(Authenticator(engine), AccessControl(engine, DatabaseVersions(engine)))
    assert first.resolve(issued.token).principal.user == "ann"
    assert second.resolve(issued.token).read.allows("acme", ["hr"])
    admin.revoke_key(ACME, issued.key_id)
    for process in (first, second):
        with pytest.raises(UnauthenticatedError):
            process.resolve(issued.token)


def test_an_expired_key_is_refused_even_when_remembered(engine, admin: PolicyAdmin) -> None:  # type: ignore[no-untyped-def]
    soon = datetime.now(UTC) + timedelta(hours=1)
    issued = admin.issue_key(ACME, "ann", expires_at=soon)
    now = [datetime.now(UTC)]
    auth = Authenticator(engine, clock=lambda: now[0])
    assert auth.verify(issued.token).expires_at == soon
    assert auth.remembered(issued.token) is not None
    now[0] = soon + timedelta(seconds=1)
    assert auth.remembered(issued.token) is None
    with session_scope(engine) as session:
        session.get(ApiKey, issued.key_id).expires_at = datetime.now(UTC) - timedelta(seconds=1)  # type: ignore[union-attr]
    with pytest.raises(UnauthenticatedError, match="expired"):
        auth.verify(issued.token)


def test_a_key_cannot_be_issued_already_expired(admin: PolicyAdmin) -> None:
    with pytest.raises(InvalidInputError, match="expires_at must be in the future"):
        admin.issue_key(ACME, "ann", expires_at=datetime.now(UTC) - timedelta(minutes=1))


def test_failed_keys_are_not_remembered(engine) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine) as session:
        issued = create_key(session, "acme", "ann")
    auth = Authenticator(engine)
    wrong = issued.token[:-2] + ("aa" if not issued.token.endswith("aa") else "bb")
    with pytest.raises(UnauthenticatedError):
        auth.verify(wrong)
    assert auth.remembered(wrong) is None
