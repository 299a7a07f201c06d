"""Synthetic secrets and hard negatives for the secret detector's tests, written for these tests.

Every value is built here from a seeded generator (no real credential, no case taken from a scanner's
test data); each secret sits in the kind of line where such values leak: ``.env`` files, YAML and JSON
config, shell history, HTTP requests, chat and tickets.
"""

from __future__ import annotations

import random
import string
import uuid

_rng = random.Random(20261201)
ALNUM = string.ascii_letters + string.digits
LOWER_ALNUM = string.ascii_lowercase + string.digits
HEX = "0123456789abcdef"
B64 = ALNUM + "+/"


def fake(n: int, alphabet: str = ALNUM) -> str:
    """A generated-looking value of ``n`` characters (re-drawn until it mixes letters and digits, when
    the alphabet has both)."""
    mixed = any(c.isdigit() for c in alphabet) and any(c.isalpha() for c in alphabet)
    while True:
        value = "".join(_rng.choice(alphabet) for _ in range(n))
        if not mixed or (any(c.isdigit() for c in value) and any(c.isalpha() for c in value)):
            return value


def fake_uuid() -> str:
    return str(uuid.UUID(int=_rng.getrandbits(128), version=4))


def _pem(kind: str) -> tuple[str, str]:
    body = "\n".join(fake(64, B64) for _ in range(3)) + "\n" + fake(20, B64) + "=="
    return f"-----BEGIN {kind}-----\n{body}\n-----END {kind}-----", body.split("\n")[0]


def _jwt() -> str:
    return "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ" + fake(40, ALNUM + "_-") + "." + fake(43, ALNUM + "_-")


_AWS_SECRET = fake(40, B64)
_AZURE_KEY = fake(86, B64) + "=="
_SAS = fake(43, ALNUM) + "%3D"
_PEM_RSA, _PEM_RSA_LINE = _pem("RSA PRIVATE KEY")
_PEM_SSH, _PEM_SSH_LINE = _pem("OPENSSH PRIVATE KEY")
_GCP_BODY = fake(64, B64)
_URL_PW = "Vq3!xT9#kL2m"
_UPPER_DIGITS = string.ascii_uppercase + string.digits
_SLACK_HOOK_PATH = f"T{fake(8, _UPPER_DIGITS)}/B{fake(8, _UPPER_DIGITS)}/{fake(24)}"

# (text, the secret value that must be gone)
SECRETS: list[tuple[str, str]] = [
    (f"DB_PASSWORD={v}\nDB_HOST=db.internal", v) for v in ["hunterCorrect42"]
] + [
    ("SECRET_KEY=django-insecure-" + (v := fake(40, LOWER_ALNUM + "!@#%^&*(-_=+")), v),
    (f'client_secret: "{(v := fake(32))}"', v),
    (f"services:\n  db:\n    environment:\n      MYSQL_ROOT_PASSWORD: {(v := 'rootPw' + fake(8))}\n", v),
    (f"POST /v1/sync HTTP/1.1\nAuthorization: Basic {(v := fake(28, B64) + '==')}\n", v),
    (f"alerts go to https://hooks.slack.com/services/{(v := _SLACK_HOOK_PATH)}", v),
    (f'export AWS_SECRET_ACCESS_KEY="{_AWS_SECRET}"', _AWS_SECRET),
    (f"REDIS_URL=redis://:{(v := 'p4ss' + fake(10))}@cache.internal:6379/0", v),
    (f"DATABASE_URL=postgres://app:{_URL_PW}@db.internal:5432/prod", _URL_PW),
    (
        '{"type": "service_account", "private_key_id": "' + fake(40, HEX) + '", "private_key": '
        f'"-----BEGIN PRIVATE KEY-----\\n{_GCP_BODY}\\n{fake(64, B64)}\\n-----END PRIVATE KEY-----\\n"}}',
        _GCP_BODY,
    ),
    (
        f"DefaultEndpointsProtocol=https;AccountName=stacct01;AccountKey={_AZURE_KEY};EndpointSuffix=core.windows.net",
        _AZURE_KEY,
    ),
    (
        "Endpoint=sb://ns1.servicebus.windows.net/;SharedAccessKeyName=RootManageSharedAccessKey;"
        f"SharedAccessKey={(v := fake(43, B64) + '=')}",
        v,
    ),
    (
        "https://acct.blob.core.windows.net/c/report.csv?sv=2022-11-02&ss=b&srt=o&sp=r"
        f"&se=2030-01-01T00:00:00Z&sig={_SAS}",
        _SAS,
    ),
    (f"curl -u deploy:{(v := 'Hx7' + fake(9))} https://api.example.net/v1/items", v),
    (f"curl -s --user 'admin:{(v := fake(12))}' https://api.example.net/v1/me", v),
    (f"aws_access_key_id = {(v := 'AKIA' + fake(16, string.ascii_uppercase + string.digits))}", v),
    (f"maps key {(v := 'AIza' + fake(35, ALNUM + '_-'))} in the ticket", v),
    (f"token: {(v := 'ghp_' + fake(36))}", v),
    (f"use {(v := 'github_pat_' + fake(22) + '_' + fake(59))} for the bot", v),
    (f"GITLAB_TOKEN={(v := 'glpat-' + fake(20, ALNUM + '_-'))}", v),
    (f"runner token {(v := 'glrt-' + fake(20, ALNUM + '_-'))}", v),
    (f"deploy token {(v := 'gldt-' + fake(20, ALNUM + '_-'))}", v),
    (
        f"slack: {(v := 'xoxb-' + fake(12, string.digits) + '-' + fake(13, string.digits) + '-' + fake(24))}",
        v,
    ),
    (f"STRIPE_API_KEY={(v := 'sk_live_' + fake(24))}", v),
    (f"STRIPE_WEBHOOK_SECRET={(v := 'whsec_' + fake(32))}", v),
    (f"twilio api key {(v := 'SK' + fake(32, HEX))}", v),
    (f"SENDGRID_API_KEY={(v := 'SG.' + fake(22, ALNUM + '_-') + '.' + fake(43, ALNUM + '_-'))}", v),
    (f"OPENAI_API_KEY={(v := 'sk-proj-' + fake(48, ALNUM + '_-'))}", v),
    (f"here is my key {(v := 'sk-ant-api03-' + fake(93, ALNUM + '_-'))} thanks", v),
    (f"https://discord.com/api/webhooks/{fake(18, string.digits)}/{(v := fake(68, ALNUM + '_-'))}", v),
    (
        f"https://contoso.webhook.office.com/webhookb2/{fake_uuid()}@{fake_uuid()}/IncomingWebhook/"
        f"{(v := fake(32, HEX))}/{fake_uuid()}",
        v,
    ),
    (f"key file:\n{_PEM_RSA}\n", _PEM_RSA_LINE),
    (f"{_PEM_SSH}\n", _PEM_SSH_LINE),
    (f"session: {(v := _jwt())}", v),
    (f"api_key: {(v := fake(32, LOWER_ALNUM))}", v),
    (f'{{"username": "svc", "password": "{(v := "Winter" + fake(6) + "!")}"}}', v),
    (f"docker login -u ci -p {(v := fake(12))} registry.example.com", v),
    (f"mysql -u root -p{(v := 'R00t' + fake(8))} -h db.internal", v),
    (f"hey, the new password is {(v := 'Tr0ub4dor&' + fake(4))} until Friday", v),
    (f'-H "Authorization: Bearer {(v := fake(40, ALNUM + "._-"))}"', v),
    (f"X-API-Key: {(v := fake(24))}", v),
    (f"git clone https://oauth2:{(v := fake(20))}@gitlab.example.com/group/repo.git", v),
    (f"//registry.npmjs.org/:_authToken={(v := 'npm_' + fake(36))}", v),
    (f"AZURE_CLIENT_SECRET={(v := fake(3, ALNUM) + '8Q~' + fake(34, ALNUM + '_~.-'))}", v),
    (f"sshpass -p '{(v := 'Pw9' + fake(6))}' ssh ops@bastion", v),
    (f"PGPASSWORD={(v := fake(10))} psql -h db.internal -U app", v),
    (f"<settings><password>{(v := fake(12))}</password></settings>", v),
    (f'heroku_api_key = "{(v := fake_uuid())}"', v),
    (f"JWT_SECRET={(v := fake(48, HEX))}", v),
    (f"aws_session_token = {(v := 'IQoJb3JpZ2luX2Vj' + fake(120, B64))}", v),
    (f"apiVersion: v1\nkind: Secret\ndata:\n  password: {(v := fake(16, B64) + '==')}\n", v),
    (
        "Server=tcp:sql1.database.windows.net,1433;Database=app;User ID=admin;"
        f"Password={(v := 'Pq8#' + fake(8))};",
        v,
    ),
    (f"mongodb+srv://svc:{(v := fake(10))}@cluster0.ab1cd.mongodb.net/app", v),
    (f'if (token == "{(v := fake(24))}") {{', v),
    (f"const apiKey = '{(v := fake(32))}';", v),
    (f'settings.secret_key_base = "{(v := fake(64, HEX))}"', v),
    (f"ENCRYPTION_KEY: {(v := fake(44, B64))}", v),
    (f"deploy with --api-token {(v := fake(32))} --region eu-west-1", v),
    (f"machine api.example.net login ops@example.net password {(v := fake(14))}\n", v),
]

# (text, the part that must survive verbatim)
NEGATIVES: list[tuple[str, str]] = [
    (f"Fixed in commit {(k := fake(40, HEX))}, see the changelog.", k),
    (f"cherry-pick {(k := fake(7, HEX))} onto release/2.4", k),
    (f"request {(k := fake_uuid())} failed after 3 retries", k),
    ("require golang.org/x/sys v0.30.0", "v0.30.0"),
    ("Pinned github.com/spf13/cobra@v1.9.1 after the audit.", "github.com/spf13/cobra@v1.9.1"),
    ("password_field = forms.CharField(widget=forms.PasswordInput)", "forms.CharField"),
    ("Enter your password to continue.", "Enter your password to continue."),
    ("The password policy requires 12 characters.", "The password policy requires 12 characters."),
    ("api_key: <your-token-here>", "<your-token-here>"),
    ("GITHUB_TOKEN=ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
    ('<a href="${link}">reset your password</a>', "${link}"),
    ("password: ${link}", "${link}"),
    ('stripe.api_key = os.environ["STRIPE_SECRET_KEY"]', 'os.environ["STRIPE_SECRET_KEY"]'),
    ("token: ${{ secrets.DEPLOY_TOKEN }}", "${{ secrets.DEPLOY_TOKEN }}"),
    ('password: "{{ vault_db_password }}"', "{{ vault_db_password }}"),
    ("DB_PASSWORD=changeme", "changeme"),
    ("password: ********", "********"),
    ("API_KEY=YOUR_API_KEY", "YOUR_API_KEY"),
    ("Authorization: Bearer <token>", "<token>"),
    ("Authorization: Bearer $TOKEN", "$TOKEN"),
    ("curl -u $USER:$PASS https://api.example.net", "$USER:$PASS"),
    ("docker run -u 1000:1000 app:latest", "1000:1000"),
    ("max_tokens: 4096", "4096"),
    ("key_length = 256", "256"),
    ("primary_key: user_id", "user_id"),
    ("secret_name: prod/db/credentials", "prod/db/credentials"),
    ("PASSWORD_MIN_LENGTH=12", "12"),
    ("token_type: bearer", "bearer"),
    (f"image: nginx@sha256:{(k := fake(64, HEX))}", k),
    (f'<script integrity="sha384-{(k := fake(64, B64))}"></script>', k),
    ("secretKeyRef:\n  name: db-secret\n  key: password", "key: password"),
    ("ssh_key: ~/.ssh/id_ed25519", "~/.ssh/id_ed25519"),
    ("GOOGLE_APPLICATION_CREDENTIALS=/etc/gcp/sa.json", "/etc/gcp/sa.json"),
    (f"checksum: {(k := fake(32, HEX))}", k),
    ("version: 1.2.3-rc.4+build.5", "1.2.3-rc.4+build.5"),
    ("AWS_ACCESS_KEY_ID=AKIAXXXXXXXXXXXXXXXX", "AKIAXXXXXXXXXXXXXXXX"),
    ("slack_token: xoxb-your-token-here", "xoxb-your-token-here"),
    ("password = get_password_from_vault()", "get_password_from_vault()"),
    ("token = self.settings.api_token", "self.settings.api_token"),
    ("mice with IL-2Ralpha-deficient effector CD8(+) T cells", "IL-2Ralpha-deficient"),
    ("Results: TRPML1 and KIF3A-dependent trafficking", "KIF3A-dependent"),
    ("the keyword: monkey-patching", "monkey-patching"),
    ('cache_key = "user:1234:profile"', "user:1234:profile"),
    ("bucket_key: reports-2024-q3", "reports-2024-q3"),
    (f"authorized_keys: ssh-ed25519 {(k := 'AAAAC3NzaC1lZDI1NTE5AAAAI' + fake(43, B64))} ops@bastion", k),
    (
        f"-----BEGIN CERTIFICATE-----\n{(k := fake(64, B64))}\n{fake(64, B64)}\n-----END CERTIFICATE-----",
        k,
    ),
    (f'<img src="data:image/png;base64,{(k := "iVBORw0KGgo" + fake(120, ALNUM))}">', k),
    ("the token bucket refills every second", "token bucket"),
    ("password reset links expire after 24 hours", "password reset"),
]
