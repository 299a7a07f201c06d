from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from ingest.emails import has_real_top_level_domain

labels = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)


@given(local=labels, host=labels, tld=st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10))
def test_an_address_with_a_letter_top_level_domain_is_kept(local: str, host: str, tld: str) -> None:
    assert has_real_top_level_domain(f"{local}@{host}.{tld}")


@given(name=labels, major=st.integers(0, 99), minor=st.integers(0, 99), patch=st.integers(0, 99))
def test_a_version_pin_is_never_an_address(name: str, major: int, minor: int, patch: int) -> None:
    assert not has_real_top_level_domain(f"{name}@v{major}.{minor}.{patch}")
    assert not has_real_top_level_domain(f"{name}@{major}.{minor}.{patch}")


def test_idn_top_level_domains_count() -> None:
    assert has_real_top_level_domain("ann@example.xn--p1ai")
