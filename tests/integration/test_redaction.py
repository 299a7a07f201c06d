"""The real presidio redactor: what we promise to remove is removed, for every input we can think of."""

from __future__ import annotations

import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.payments import luhn_valid
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


@pytest.mark.parametrize(
    ("text", "value", "entity"),
    [
        ("Call 450 0840 today", "450 0840", "PHONE_NUMBER"),
        ("or on 60-56-85-91 after six", "60-56-85-91", "PHONE_NUMBER"),
        ("card 4111 1111 1111 1111 110 on file", "4111 1111 1111 1111 110", "CREDIT_CARD"),
        ("iban gb82west12345698765432 please", "gb82west12345698765432", "IBAN_CODE"),
        ("Ella: see you at the gate\nTom: ok", "Ella", "PERSON"),
        ("What's your name? Ottilie Brandtner", "Ottilie Brandtner", "PERSON"),
    ],
)
def test_formats_real_leaks_take_are_removed(
    redactor: PresidioRedactor, text: str, value: str, entity: str
) -> None:
    [result] = redactor.redact([text])
    assert value not in result.text
    assert result.counts.get(entity, 0) >= 1


@pytest.mark.parametrize(
    "text",
    [
        "Akt, TRPML1 and KIF3A were measured.",
        "Cells were treated with PD 0332991 (1 uM) between 1995-2005.",
        "Aurora kinase B and Cas9 were expressed in Hippo pathway mutants.",
    ],
)
def test_gene_names_and_compound_codes_stay(redactor: PresidioRedactor, text: str) -> None:
    assert redactor.redact([text])[0].text == text


def test_the_fast_path_finds_exactly_what_presidios_engine_finds(redactor: PresidioRedactor) -> None:
    texts = [
        "Her phone number is 212-555-0198, card 4111 1111 1111 1111, ssn 536-90-4399.",
        "Maria Gonzalez wrote to jane.roe@northwind-robotics.com from 10.20.30.40.",
        "Ella: call me on 467 3395\nTom: token ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789",
        "Akt and TRPML1 levels in the phone survey (telephone number field) were low.",
        "",
    ]
    assert redactor.analyze(texts) == redactor.analyze_with_presidio(texts)


_segments = st.text(alphabet=string.ascii_letters + "_-", min_size=1, max_size=12)
_people = st.sampled_from(["Tom Hanks", "Maria Gonzalez", "Ella", "JohnSmith", "ann.lee"])


@settings(max_examples=40, deadline=None)
@given(
    scheme=st.sampled_from(["https://wiki.example.com/", "file:///srv/notes/", "s3://bucket/", ""]),
    path=st.lists(st.one_of(_segments, _people), min_size=1, max_size=4).map("/".join),
    extension=st.sampled_from([".md", ".pdf", "", "#12"]),
)
def test_uris_are_never_rewritten_unless_they_hold_a_credential(
    redactor: PresidioRedactor, scheme: str, path: str, extension: str
) -> None:
    uri = f"{scheme}{path}{extension}"
    assert redactor.redact_identifiers([uri])[0].text == uri


def test_credentials_and_addresses_inside_a_uri_are_removed(redactor: PresidioRedactor) -> None:
    uris = ["https://deploy:s3cretPass@git.example.com/x.git", "mailto:ann.lee@example.com"]
    assert [r.text for r in redactor.redact_identifiers(uris)] == [
        "https://deploy:<URL_PASSWORD>@git.example.com/x.git",  # only the password is the secret
        "mailto:<EMAIL_ADDRESS>",
    ]


@settings(max_examples=40, deadline=None)
@given(
    body=st.text(alphabet=string.digits, min_size=15, max_size=15),
    separator=st.sampled_from(["", " ", "-"]),
    before=filler,
    after=filler,
)
def test_a_luhn_valid_card_is_always_redacted(
    redactor: PresidioRedactor, body: str, separator: str, before: str, after: str
) -> None:
    card = next(body + d for d in string.digits if luhn_valid(body + d))
    written = separator.join(card[i : i + 4] for i in range(0, 16, 4))
    [result] = redactor.redact([f"{before} {written} {after}"])
    assert written not in result.text
