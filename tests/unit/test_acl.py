from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acl.filters import access_filter, normalise_labels
from acl.keys import parse_roles
from core.access import AccessFilter
from core.errors import InvalidInputError
from core.types import Principal, TenantId, tenant_id

labels = st.sets(st.sampled_from(["public", "hr", "finance", "legal", "eng"]), max_size=4)


def test_admin_reads_every_label_of_its_own_tenant_only() -> None:
    allowed = access_filter(Principal(TenantId("acme"), "ann", frozenset({"admin"})))
    assert allowed.reads_every_label
    assert allowed.allows("acme", ["anything"])
    assert not allowed.allows("globex", ["public"])


@given(roles=labels, chunk_labels=labels, tenant=st.sampled_from(["acme", "globex"]))
def test_a_chunk_is_readable_iff_it_shares_a_label_and_the_tenant(
    roles: set[str], chunk_labels: set[str], tenant: str
) -> None:
    allowed = access_filter(Principal(TenantId("acme"), "bob", frozenset(roles)))
    expected = tenant == "acme" and bool((roles | {"public"}) & chunk_labels)
    assert allowed.allows(tenant, chunk_labels) is expected


def test_unlabelled_documents_are_public() -> None:
    assert normalise_labels([]) == ("public",)
    assert normalise_labels([" hr ", "finance", "hr", ""]) == ("finance", "hr")


@pytest.mark.parametrize("bad", ["HR", "with space", "-lead"])
def test_labels_and_roles_are_validated(bad: str) -> None:
    with pytest.raises(InvalidInputError, match=repr(bad)):
        normalise_labels([bad])
    with pytest.raises(InvalidInputError, match=repr(bad)):
        parse_roles(bad)


@pytest.mark.parametrize("bad", ["", "Acme", "a" * 64, "../etc", "-x"])
def test_tenant_names_are_strict_because_they_name_directories(bad: str) -> None:
    with pytest.raises(InvalidInputError, match="tenant"):
        tenant_id(bad)


def test_empty_access_filter_reads_nothing() -> None:
    assert not AccessFilter(TenantId("acme"), frozenset()).allows("acme", ["public"])


@pytest.mark.parametrize("bad", [None, {"public"}, ["public"], "public"])
def test_an_access_filter_without_a_real_label_grant_is_refused(bad: object) -> None:
    # None once meant "every label": a decider bug that yields None must fail closed, not open.
    with pytest.raises(TypeError, match="labels"):
        AccessFilter(TenantId("acme"), bad)  # type: ignore[arg-type]
