"""Secret detection: real-format leaks are found, hard negatives are not, and only the value is replaced."""

from __future__ import annotations

import re
import string
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.secret_names import NameKind, kind_of
from ingest.secret_values import is_placeholder, shannon_entropy
from ingest.secrets import SECRET_ENTITIES, find_secrets
from tests.support.secret_examples import NEGATIVES, SECRETS, fake


def redacted(text: str) -> str:
    """The text as the redactor would store it, from the detector's spans alone."""
    pieces, last = [], 0
    for span in find_secrets(text):
        pieces += [text[last : span.start], f"<{span.entity}>"]
        last = span.end
    return "".join(pieces) + text[last:]


@pytest.mark.parametrize(("text", "secret"), SECRETS, ids=[f"secret-{i}" for i in range(len(SECRETS))])
def test_a_real_format_secret_is_gone(text: str, secret: str) -> None:
    assert secret not in redacted(text)


@pytest.mark.parametrize(("text", "keep"), NEGATIVES, ids=[f"negative-{i}" for i in range(len(NEGATIVES))])
def test_a_hard_negative_survives(text: str, keep: str) -> None:
    assert keep in redacted(text)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("DB_PASSWORD=hunterCorrect42\n", "DB_PASSWORD=<PASSWORD>\n"),
        ('client_secret: "Zx8vQ2mN4kL6jH9gF1dS3aP5"', 'client_secret: "<SECRET>"'),
        ("Authorization: Basic dXNlcjpQNHNzdzByZDk5", "Authorization: Basic <BASIC_AUTH>"),
        ("Authorization: Bearer Qm9vTk2xLp8Vz3Rt7Wy1", "Authorization: Bearer <BEARER_TOKEN>"),
        ("postgres://app:Vq3xT9kL2m@db:5432/x", "postgres://app:<URL_PASSWORD>@db:5432/x"),
        (
            "https://hooks.slack.com/services/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",
            "https://hooks.slack.com/services/<WEBHOOK_URL>",
        ),
        (
            "-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEAq83j2lkQ9\nzT4=\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN RSA PRIVATE KEY-----\n<PRIVATE_KEY>\n-----END RSA PRIVATE KEY-----",
        ),
        ("curl --user ops:Hx7Lq2Vp9 https://x.example", "curl --user ops:<PASSWORD> https://x.example"),
    ],
)
def test_only_the_value_is_replaced(text: str, stored: str) -> None:
    assert redacted(text) == stored


def test_every_reported_entity_is_declared() -> None:
    entities = {span.entity for text, _ in SECRETS for span in find_secrets(text)}
    assert entities <= set(SECRET_ENTITIES)


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("DB_PASSWORD", NameKind.PASSWORD),
        ("PGPASSWORD", NameKind.PASSWORD),
        ("my_password_secure", NameKind.PASSWORD),
        ("stripeApiKey", NameKind.SECRET),
        ("AWS_SECRET_ACCESS_KEY", NameKind.SECRET),
        ("bot_token3", NameKind.SECRET),
        ("secret_key_base", NameKind.SECRET),
        ("password_field", NameKind.OTHER),
        ("kms_key_id", NameKind.OTHER),
        ("max_tokens", NameKind.OTHER),
        ("keyword", NameKind.OTHER),
        ("LLM_SECRET_NAME", NameKind.OTHER),
    ],
)
def test_the_last_word_of_a_name_says_what_it_holds(name: str, kind: NameKind) -> None:
    assert kind_of(name) is kind


_PLACEHOLDER_WORDS = re.compile(r"(?i)your|here|todo|fixme|xxxx|dummy|enter|insert|replace|redacted|changeme")
_prefixes = st.from_regex(r"[A-Z][A-Z0-9]{1,8}(?:_[A-Z0-9]{1,8}){0,2}", fullmatch=True)
_suffixes = st.sampled_from(
    [
        "_PASSWORD",
        "_PASSWD",
        "_SECRET",
        "_TOKEN",
        "_KEY",
        "_API_KEY",
        "_ACCESS_KEY",
        "_CLIENT_SECRET",
        "_AUTH_TOKEN",
    ]
)
_values = st.text(alphabet=string.ascii_letters + string.digits, min_size=12, max_size=64).filter(
    lambda v: (
        any(c.isdigit() for c in v)
        and any(c.isalpha() for c in v)
        and len(set(v)) >= 8
        and shannon_entropy(v) >= 3.0
        and not _PLACEHOLDER_WORDS.search(v)
    )
)
_forms = st.sampled_from(["{n}={v}", "{n}: {v}", '{n}="{v}"', "{n}: '{v}'", '"{n}": "{v}"', "export {n}={v}"])


@settings(max_examples=200, deadline=None)
@given(prefix=_prefixes, suffix=_suffixes, value=_values, form=_forms)
def test_any_secret_named_assignment_loses_its_value_and_keeps_its_name(
    prefix: str, suffix: str, value: str, form: str
) -> None:
    name = prefix + suffix
    line = form.format(n=name, v=value)
    stored = redacted(f"# deploy settings\n{line}\nLOG_LEVEL=info\n")
    assert value not in stored
    assert name in stored
    assert "LOG_LEVEL=info" in stored


_names = st.builds(lambda p, s: p + s, _prefixes, _suffixes)
_placeholders = st.one_of(
    _names.map(lambda n: "${" + n + "}"),
    _names.map(lambda n: "${{ secrets." + n + " }}"),
    _names.map(lambda n: "{{ " + n.lower() + " }}"),
    _names.map(lambda n: "<your-" + n.lower().replace("_", "-") + "-here>"),
    _names.map(lambda n: "$" + n),
    _names.map(lambda n: "%" + n + "%"),
    st.integers(min_value=8, max_value=40).map(lambda k: "x" * k),
    st.integers(min_value=8, max_value=40).map(lambda k: "*" * k),
    st.sampled_from(["ghp_", "glpat-", "sk_live_", "xoxb-", "AKIA"]).map(lambda p: p + "X" * 36),
    _names.map(lambda n: f"YOUR_{n}_HERE"),
)


@settings(max_examples=200, deadline=None)
@given(name=_names, placeholder=_placeholders, form=_forms)
def test_a_placeholder_is_never_redacted(name: str, placeholder: str, form: str) -> None:
    text = form.format(n=name, v=placeholder)
    assert redacted(text) == text


def test_placeholder_judgement_reads_the_value_not_its_prefix() -> None:
    assert is_placeholder("ghp_" + "x" * 36, prefix="ghp_")
    assert not is_placeholder("ghp_" + fake(36), prefix="ghp_")


def test_prose_about_passwords_is_left_alone() -> None:
    text = (
        "Reset your password from the login page; the password must have 12 characters and the "
        "password_field widget hides it. Commit 3f2a9c81b7d64e05a1c9f8e7d6b5a4c3b2a1f0e9 fixed the "
        "token refresh, see request 9b2c4d6e-8f01-4a23-b456-7890abcdef12."
    )
    assert find_secrets(text) == []


_pieces = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        ["password", "=", ": ", '"', "'", "\n", "://", "@", "Authorization: Bearer ", "-u ", "ghp_"]
    ),
    st.text(alphabet=string.ascii_letters + string.digits + "+/=_-.~", min_size=8, max_size=70),
)


@settings(max_examples=200, deadline=None)
@given(pieces=st.lists(_pieces, max_size=12))
def test_spans_are_ordered_disjoint_and_inside_any_text(pieces: list[str]) -> None:
    text = "".join(pieces)
    spans = find_secrets(text)
    assert all(0 <= s.start < s.end <= len(text) for s in spans)
    assert all(a.end <= b.start for a, b in pairwise(spans))
    assert all(s.entity in SECRET_ENTITIES for s in spans)
