"""Secrets through the real presidio redactor: the leaks named in issue 7 and the synthetic cases
reach storage without their values, and the hard negatives are not taken for secrets."""

from __future__ import annotations

import pytest

from ingest.redact import PresidioRedactor
from ingest.secrets import SECRET_ENTITIES
from tests.support.secret_examples import NEGATIVES, SECRETS


@pytest.fixture(scope="module")
def redactor() -> PresidioRedactor:
    return PresidioRedactor()


def test_the_leaks_found_in_the_hostile_trial_are_gone(redactor: PresidioRedactor) -> None:
    texts = [
        "DB_PASSWORD=Qx7vLm2Rt9Kp\nDB_USER=app",
        "SECRET_KEY=dj4n9-kq2m8vx7t3zl1p0rw6y5\n",
        'oauth:\n  client_secret: "Vb3Nc8Zt1Rw6Pj5Hs0FdGaK2"\n',
        "environment:\n  MYSQL_ROOT_PASSWORD: r00tPw4prod\n",
        "GET /api HTTP/1.1\nAuthorization: Basic c3ZjOlQ5dkxtMnF4UjQ=\n",
        "notify: https://hooks.slack.com/services/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\n",
    ]
    values = [
        "Qx7vLm2Rt9Kp",
        "dj4n9-kq2m8vx7t3zl1p0rw6y5",
        "Vb3Nc8Zt1Rw6Pj5Hs0FdGaK2",
        "r00tPw4prod",
        "c3ZjOlQ5dkxtMnF4UjQ=",
        "q7Wm2Xc9Vb4Nz6Lk1Pj8Hg3F",
    ]
    results = redactor.redact(texts)
    for result, value in zip(results, values, strict=True):
        assert value not in result.text
        assert set(result.counts) & set(SECRET_ENTITIES)
    assert results[0].text.startswith("DB_PASSWORD=<PASSWORD>\n")


def test_every_synthetic_secret_is_gone(redactor: PresidioRedactor) -> None:
    results = redactor.redact([text for text, _ in SECRETS])
    leaked = [value for (_, value), result in zip(SECRETS, results, strict=True) if value in result.text]
    assert leaked == []


def test_no_hard_negative_is_taken_for_a_secret(redactor: PresidioRedactor) -> None:
    # Only the secret entities are checked: what the PII recognizers make of these lines is theirs.
    results = redactor.redact([text for text, _ in NEGATIVES])
    flagged = [
        text
        for (text, _), result in zip(NEGATIVES, results, strict=True)
        if set(result.counts) & set(SECRET_ENTITIES)
    ]
    assert flagged == []


def test_a_letters_only_basic_credential_is_still_a_credential(redactor: PresidioRedactor) -> None:
    # base64 of "user:pass" is all letters; judging its look alone let it through.
    [stored] = redactor.redact(["Authorization: Basic dXNlcjpwYXNz\nAuthorization: Basic realm"])
    assert stored.text == "Authorization: Basic <BASIC_AUTH>\nAuthorization: Basic realm"


@pytest.mark.parametrize(
    "pinned", ["golang.org/x/sys@v0.30.0", "github.com/spf13/pflag@v1.0.6", "left-pad@1.3.0"]
)
def test_version_pins_are_not_e_mail_addresses(redactor: PresidioRedactor, pinned: str) -> None:
    [stored] = redactor.redact([f"bump {pinned} and mail ops@example.com"])
    assert stored.text == f"bump {pinned} and mail <EMAIL_ADDRESS>"
