from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acl.filters import WriteGrant, check_delete, check_ingest, check_writer, normalise_labels
from acl.keys import parse_roles
from core.access import AccessFilter
from core.errors import ForbiddenError, InvalidInputError
from core.types import TenantId, tenant_id
from tests.support.policy import access_filter, legacy, may_write, write_grant

labels = st.sets(st.sampled_from(["public", "hr", "finance", "legal", "eng", "member", "ingest"]), max_size=4)


def test_admin_reads_every_label_of_its_own_tenant_only() -> None:
    allowed = access_filter(legacy(TenantId("acme"), "ann", {"admin"}))
    assert allowed.reads_every_label
    assert allowed.allows("acme", ["anything"])
    assert not allowed.allows("globex", ["public"])


@given(roles=labels, chunk_labels=labels, tenant=st.sampled_from(["acme", "globex"]))
def test_a_chunk_is_readable_iff_it_shares_a_label_and_the_tenant(
    roles: set[str], chunk_labels: set[str], tenant: str
) -> None:
    allowed = access_filter(legacy(TenantId("acme"), "bob", roles))
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


roles_with_writers = st.sets(
    st.sampled_from(["public", "hr", "finance", "eng", "ingest", "admin", "member"]), max_size=4
)


@given(roles=roles_with_writers, doc_labels=labels)
def test_admin_writes_everything_ingest_what_it_holds_and_nobody_else_anything(
    roles: set[str], doc_labels: set[str]
) -> None:
    principal = legacy(TenantId("acme"), "ivy", roles)
    if not doc_labels:
        expected = False  # a document always has a label: an empty set is a caller bug, refused
    elif "admin" in roles:
        expected = True
    else:
        expected = "ingest" in roles and doc_labels <= roles | {"public"}
    assert may_write(principal, doc_labels) is expected
    assert write_grant(principal).permits("acme", doc_labels) is expected
    assert not write_grant(principal).permits("globex", doc_labels or {"public"})


@given(roles=roles_with_writers, doc_labels=labels)
def test_whatever_a_key_may_write_it_may_also_read(roles: set[str], doc_labels: set[str]) -> None:
    # Otherwise a writer could publish or overwrite text it could never see itself.
    principal = legacy(TenantId("acme"), "ivy", roles)
    if may_write(principal, doc_labels):
        assert access_filter(principal).allows("acme", doc_labels)


def test_a_write_grant_without_a_real_label_grant_is_refused() -> None:
    with pytest.raises(TypeError, match="labels"):
        WriteGrant(TenantId("acme"), None)  # type: ignore[arg-type]


def test_ingesting_names_the_labels_the_key_does_not_hold() -> None:
    writer = legacy(TenantId("acme"), "ivy", {"ingest", "eng"})
    check_ingest(writer.write, ["eng", "public"])
    with pytest.raises(ForbiddenError, match="cannot label documents finance, hr"):
        check_ingest(writer.write, ["eng", "hr", "finance"])
    with pytest.raises(ForbiddenError, match="needs write permission on at least one label"):
        check_ingest(legacy(TenantId("acme"), "sam", {"eng"}).write, ["public"])
    with pytest.raises(ForbiddenError, match="deleting documents needs write permission"):
        check_writer(legacy(TenantId("acme"), "sam", {"eng"}).write, "deleting documents")


@given(roles=roles_with_writers, versions=st.lists(labels.filter(bool), min_size=1, max_size=4))
def test_a_delete_needs_every_versions_labels(roles: set[str], versions: list[set[str]]) -> None:
    principal = legacy(TenantId("acme"), "ivy", roles)
    if all(may_write(principal, v) for v in versions):
        check_delete(write_grant(principal), "doc", versions)
    else:
        with pytest.raises(ForbiddenError, match="all its versions"):
            check_delete(write_grant(principal), "doc", versions)
