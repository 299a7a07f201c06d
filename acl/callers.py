"""Resolve a request's credential into a caller: who it is and what the policy lets it do, right now.

One call per request, on a worker thread (it may touch the database): the tenant's current policy
version is read once and used for both the key check and the decision, so they agree with each other.
"""

from __future__ import annotations

from dataclasses import dataclass

from acl.auth import Authenticator
from acl.enforcer import AccessControl, Decision
from acl.filters import WriteGrant
from acl.rules import Action
from core.access import AccessFilter
from core.errors import ForbiddenError
from core.types import Principal


@dataclass(frozen=True)
class Caller:
    principal: Principal
    decision: Decision

    @property
    def read(self) -> AccessFilter:
        return self.decision.read

    @property
    def write(self) -> WriteGrant:
        return self.decision.write

    def require(self, obj: str, action: Action) -> None:
        """The route-level check: 403 unless the policy grants ``action`` on ``obj``."""
        if not self.decision.can(obj, action):
            raise ForbiddenError(f"this needs '{action.value}' on '{obj}' in your tenant's policy")


class CallerResolver:
    def __init__(self, auth: Authenticator, access: AccessControl) -> None:
        self._auth = auth
        self._access = access

    def resolve(self, token: str) -> Caller:
        verified = self._auth.remembered(token)
        if verified is not None:
            version = self._access.version(verified.principal.tenant)
            if version != verified.version:  # something changed: the key may be revoked
                verified = None
        if verified is None:
            verified = self._auth.verify(token)
            version = self._access.version(verified.principal.tenant)
        principal = verified.principal
        return Caller(principal, self._access.decide(principal.tenant, principal.user, version=version))
