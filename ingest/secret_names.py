"""What a name says it holds: ``DB_PASSWORD`` a password, ``stripeApiKey`` a secret, ``key_name`` or
``kms_key_id`` neither.

The name is split into words (snake, kebab, dotted and camel case); trailing qualifiers such as
``_secure`` or ``3`` are dropped, and the last remaining word decides. Reading the last word rather than
any substring is what keeps ``keyword``, ``monkey``, ``password_field`` and ``secret_length`` out.
"""

from __future__ import annotations

import re
from enum import Enum


class NameKind(Enum):
    PASSWORD = "password"
    SECRET = "secret"
    OTHER = "other"


_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")
_PASSWORD_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "pw",
        "pass",
        "passphrase",
        "passcode",
        "pin",
        "pword",
        "passwort",
        "contrasena",
    }
)
_SECRET_WORDS = frozenset(
    {
        "secret",
        "secrete",
        "token",
        "key",
        "apikey",
        "accesskey",
        "secretkey",
        "privatekey",
        "authkey",
        "masterkey",
        "signingkey",
        "authtoken",
        "accesstoken",
        "refreshtoken",
        "apitoken",
        "clientsecret",
        "credential",
        "credentials",
        "creds",
        "cred",
        "auth",
        "signature",
        "sig",
        "sas",
        "session",
        "cookie",
        "jwt",
        "pat",
    }
)
# Names written as one word (`PGPASSWORD`, `MYSQLPWD`, `GITHUBTOKEN`, `STRIPESECRETKEY`) end with these.
_PASSWORD_ENDINGS = ("password", "passwd", "pwd")
_SECRET_ENDINGS = ("secret", "token", "apikey", "secretkey", "accesskey", "privatekey", "authkey")
# Words that qualify what came before without changing what it is: `my_password_secure`, `api_key_b64`.
_QUALIFIERS = frozenset(
    {
        "secure",
        "sec",
        "value",
        "val",
        "string",
        "str",
        "b64",
        "base64",
        "base",
        "hex",
        "raw",
        "enc",
        "encoded",
        "plain",
        "plaintext",
        "text",
        "data",
        "old",
        "new",
        "prod",
        "production",
        "dev",
        "test",
        "staging",
        "live",
        "sandbox",
        "override",
        "default",
        "v",
    }
)
# The last word of a name whose value is a label, not a credential, even when it looks random.
DESCRIPTORS = frozenset(
    {
        "id",
        "ids",
        "uuid",
        "guid",
        "sha",
        "hash",
        "digest",
        "checksum",
        "chksum",
        "md",
        "crc",
        "version",
        "ver",
        "rev",
        "srcrev",
        "revision",
        "etag",
        "name",
        "names",
        "url",
        "uri",
        "path",
        "file",
        "dir",
        "host",
        "hostname",
        "email",
        "user",
        "username",
        "title",
        "image",
        "tag",
        "branch",
        "label",
        "slug",
        "type",
        "class",
        "integrity",
        "fingerprint",
        "thumbprint",
    }
)


def words_of(name: str) -> list[str]:
    return [w.lower() for w in _WORDS.findall(name)]


def _meaningful(words: list[str]) -> list[str]:
    while words and (words[-1] in _QUALIFIERS or words[-1].isdigit()):
        words = words[:-1]
    return words


def kind_of(name: str) -> NameKind:
    words = _meaningful(words_of(name))
    if not words:
        return NameKind.OTHER
    last = words[-1]
    if last in _PASSWORD_WORDS or last.endswith(_PASSWORD_ENDINGS):
        return NameKind.PASSWORD
    if last in _SECRET_WORDS or last.endswith(_SECRET_ENDINGS):
        return NameKind.SECRET
    return NameKind.OTHER


def names_a_label(name: str) -> bool:
    """True for names like ``kms_key_id`` or ``MantleAPI_version`` whose value is never a credential."""
    words = _meaningful(words_of(name))
    return bool(words) and words[-1] in DESCRIPTORS
