"""The real presidio redactor: what we promise to remove is removed, for every input we can think of."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.redact import PresidioRedactor


@pytest.fixture(scope="module")
def redactor() -> PresidioRedactor:
    return PresidioRedactor()


@pytest.mark.parametrize(
    ("text", "secret", "entity"),
    [
        (
            "Contact: jane.roe@northwind-robotics.com today",
            "jane.roe@northwind-robotics.com",
            "EMAIL_ADDRESS",
        ),
        ("Her phone number is 212-555-0198.", "212-555-0198", "PHONE_NUMBER"),
        ("card 4111 1111 1111 1111 on file", "4111 1111 1111 1111", "CREDIT_CARD"),
        ("ssn 536-90-4399 in the HR form", "536-90-4399", "US_SSN"),
        ("Pay to DE89 3704 0044 0532 0130 00 please", "DE89 3704 0044 0532 0130 00", "IBAN_CODE"),
        ("the server at 10.20.30.40 is down", "10.20.30.40", "IP_ADDRESS"),
        ("Maria Gonzalez approved the change.", "Maria Gonzalez", "PERSON"),
        ("aws key AKIAIOSFODNN7EXAMPLE leaked", "AKIAIOSFODNN7EXAMPLE", "AWS_ACCESS_KEY"),
        (
            "token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789 used",
            "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
            "GITHUB_TOKEN",
        ),
        ("slack xoxb-123456789012-abcdefghijkl works", "xoxb-123456789012-abcdefghijkl", "SLACK_TOKEN"),
        ("dsn postgres://app:s3cretPass@db:5432/x", "s3cretPass", "URL_PASSWORD"),
        ("Authorization: Bearer abcdefghijklmnop1234567890", "abcdefghijklmnop1234567890", "BEARER_TOKEN"),
        ("password = Tr0ub4dor&3x", "Tr0ub4dor&3x", "PASSWORD"),
        (
            "key:\n-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\nq83j2lk\n"
            "-----END RSA PRIVATE KEY-----\nend",
            "MIIEpAIBAAKCAQEA",
            "PRIVATE_KEY",
        ),
    ],
)
def test_each_promised_entity_is_removed_and_counted(
    redactor: PresidioRedactor, text: str, secret: str, entity: str
) -> None:
    [result] = redactor.redact([text])
    assert secret not in result.text
    assert f"<{entity}>" in result.text
    assert result.counts.get(entity, 0) >= 1


def test_a_loose_name_span_cannot_swallow_a_secret(redactor: PresidioRedactor) -> None:
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    text = f"Ann Lee wrote: token {jwt}"
    [result] = redactor.redact([text])
    assert "<JWT>" in result.text and "eyJ" not in result.text


def test_plain_text_passes_through_unchanged(redactor: PresidioRedactor) -> None:
    text = "The reactor is cooled by liquid sodium at 550 degrees."
    assert redactor.redact([text])[0].text == text


filler = st.text(alphabet=string.ascii_lowercase + " .,", min_size=0, max_size=80)


def _generated(value: str) -> bool:
    """Real keys and passwords are not runs of one character (``AKIA000…``, ``******``): those are
    placeholders, which redaction rightly keeps."""
    most = max((value.count(c) for c in set(value)), default=0)
    return len(set(value)) >= 6 and most <= len(value) / 2 and "**" not in value and not value.startswith("$")


aws_keys = (
    st.text(alphabet=string.ascii_uppercase + string.digits, min_size=16, max_size=16)
    .filter(_generated)
    .map(lambda s: "AKIA" + s)
)
github_tokens = (
    st.text(alphabet=string.ascii_letters + string.digits, min_size=36, max_size=40)
    .filter(_generated)
    .map(lambda s: "ghp_" + s)
)
url_passwords = st.text(
    alphabet=string.ascii_letters + string.digits + "!$%^*", min_size=6, max_size=20
).filter(_generated)


@settings(max_examples=60, deadline=None)
@given(before=filler, after=filler, secret=st.one_of(aws_keys, github_tokens))
def test_tokens_never_leak_whatever_surrounds_them(
    redactor: PresidioRedactor, before: str, after: str, secret: str
) -> None:
    [result] = redactor.redact([f"{before} {secret} {after}"])
    assert secret not in result.text


@settings(max_examples=60, deadline=None)
@given(before=filler, password=url_passwords, user=st.sampled_from(["app", "deploy", "svc_ro"]))
def test_passwords_in_connection_strings_never_leak(
    redactor: PresidioRedactor, before: str, password: str, user: str
) -> None:
    [result] = redactor.redact([f"{before} mysql://{user}:{password}@db.internal:3306/app"])
    assert f":{password}@" not in result.text
    assert f"mysql://{user}:<URL_PASSWORD>@db.internal" in result.text  # only the password goes


@settings(max_examples=40, deadline=None)
@given(local=st.text(alphabet=string.ascii_lowercase, min_size=3, max_size=12), before=filler, after=filler)
def test_email_addresses_never_leak(redactor: PresidioRedactor, local: str, before: str, after: str) -> None:
    address = f"{local}.ops@northwind-robotics.com"
    [result] = redactor.redact([f"{before} {address} {after}"])
    assert address not in result.text
