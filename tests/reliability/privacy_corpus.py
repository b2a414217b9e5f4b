"""A corpus of planted secrets: every detect-secrets plugin family plus the shell, URL and title
shapes that leaked (issue 12). Each entry is (family, text, secret): ``secret`` is the exact
string that must never reach disk; ``text`` is how a user would type or see it.

Values are generated from a fixed seed, so they are unique, greppable and the same every run.
detect-secrets' "Public IP" family is deliberately not planted: an IP address is where a command
went, not a credential, and SelFlow keeps it (``ssh 203.0.113.7`` is a workflow step).
"""

from __future__ import annotations

import base64
import json
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits
B64 = ALNUM + "+/"
HEX = "0123456789abcdef"


@dataclass(frozen=True)
class Planted:
    family: str
    text: str
    secret: str
    oracle: bool = True  # detect-secrets is expected to flag ``text`` itself


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _gen(rng: random.Random, alphabet: str, n: int) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        # Mixed enough to look random (and to pass detect-secrets' entropy limits).
        if alphabet is not HEX or (any(c.isdigit() for c in s) and any(c.isalpha() for c in s)):
            return s


def build_corpus(seed: int = 12) -> list[Planted]:
    rng = random.Random(seed)
    out: list[Planted] = []

    def add(family: str, template: str, secret: str, oracle: bool = True) -> None:
        out.append(Planted(family, template.format(s=secret), secret, oracle))

    for _ in range(4):  # Artifactory
        tok = "AKC" + _gen(rng, ALNUM, 70)
        add("artifactory", 'curl -H "X-JFrog-Art-Api: {s}" https://art.example.com/api', tok)
        pw = "AP6" + _gen(rng, ALNUM, 20)
        add("artifactory", "jfrog rt config --password {s}", pw)
    for _ in range(5):  # AWS
        key = "AKIA" + _gen(rng, string.ascii_uppercase + string.digits, 16)
        add("aws", "aws configure set aws_access_key_id {s}", key)
        secret = _gen(rng, B64, 40)
        add("aws", "aws configure set aws_secret_access_key {s}", secret, oracle=False)
        add("aws", 'aws_secret_access_key = "{s}"', _gen(rng, B64, 40))
    for _ in range(3):  # Azure storage
        add(
            "azure",
            "az storage blob list --connection-string "
            "'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={s}'",
            _gen(rng, B64, 86) + "==",
        )
    for _ in range(5):  # basic auth in URLs (passwords with '/' and '@' included)
        pw = _gen(rng, ALNUM, 10) + "/" + _gen(rng, ALNUM, 6)
        add("basic_auth", "git clone https://dev:{s}@git.example.com/team/repo.git", pw)
        add("basic_auth", "psql postgres://admin:{s}@db.internal:5432/app", _gen(rng, ALNUM, 14))
    for _ in range(3):  # Cloudant
        acct = "acct" + _gen(rng, HEX, 4)
        add(
            "cloudant",
            "curl https://" + acct + ":{s}@" + acct + ".cloudant.com/db",
            _gen(rng, HEX, 64),
        )
        add("cloudant", 'cloudant_password = "{s}"', _gen(rng, HEX, 64))
    for _ in range(3):  # Discord
        tok = "M" + _gen(rng, ALNUM, 23) + "." + _gen(rng, ALNUM, 6) + "." + _gen(rng, ALNUM, 27)
        add("discord", "DISCORD_BOT={s} node bot.js", tok)
    for _ in range(5):  # GitHub
        add("github", "gh auth login --with-token ghp_{s}", _gen(rng, ALNUM, 36))
        add(
            "github",
            "git remote set-url origin https://ghp_{s}@github.com/o/r",
            _gen(rng, ALNUM, 36),
        )
    for _ in range(4):  # GitLab
        add("gitlab", "glab auth login --token glpat-{s}", _gen(rng, ALNUM, 20))
    for _ in range(4):  # high-entropy strings, quoted as detect-secrets wants them
        add("base64_entropy", "echo '{s}' | base64 -d > key.bin", _gen(rng, B64, 44))
        add("hex_entropy", 'export SIG="{s}"', _gen(rng, HEX, 40))
    for _ in range(3):  # IBM Cloud IAM and COS HMAC
        add("ibm_iam", 'ibm_cloud_iam_api_key = "{s}"', _gen(rng, ALNUM + "_-", 44))
        add("ibm_cos", 'ibm_cos_hmac_secret_access_key = "{s}"', _gen(rng, HEX, 48))
    for _ in range(4):  # JWT (formally valid: each part is base64url JSON)
        head = _b64url(b'{"alg":"HS256","typ":"JWT"}')
        body = _b64url(json.dumps({"sub": _gen(rng, ALNUM, 16)}).encode())
        jwt = f"{head}.{body}.{_gen(rng, ALNUM, 43)}"
        add("jwt", 'curl -H "X-Session: {s}" https://api', jwt)
    for _ in range(5):  # keyword family
        add("keyword", 'password = "{s}"', _gen(rng, ALNUM, 16))
        add("keyword", "db_pass={s} ./migrate", _gen(rng, ALNUM, 16))
        add("keyword", "api_key: {s}", _gen(rng, ALNUM, 24))
    for _ in range(3):  # Mailchimp
        add("mailchimp", "MC_KEY={s} python sync.py", _gen(rng, HEX, 32) + "-us12")
    for _ in range(3):  # npm
        add(
            "npm",
            "echo //registry.npmjs.org/:_authToken=npm_{s} >> .npmrc",
            _gen(rng, ALNUM, 36),
        )
    for _ in range(3):  # OpenAI
        tok = "sk-" + _gen(rng, ALNUM, 20) + "T3BlbkFJ" + _gen(rng, ALNUM, 20)
        add("openai", "OPENAI_API_KEY={s} python chat.py", tok)
    for kind in ("RSA PRIVATE KEY", "OPENSSH PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY"):
        body = _gen(rng, B64, 64)
        add("private_key", f"echo '-----BEGIN {kind}----- {{s}} -----END {kind}-----' > k", body)
    for _ in range(3):  # PGP private key blocks (one leaked)
        body = _gen(rng, B64, 64)
        add(
            "private_key",
            "gpg --import <<< '-----BEGIN PGP PRIVATE KEY BLOCK----- {s} "
            "-----END PGP PRIVATE KEY BLOCK-----'",
            body,
        )
    for _ in range(3):  # PyPI
        add("pypi", "twine upload -p pypi-AgEIcHlwaS5vcmc{s} dist/*", _gen(rng, ALNUM, 72))
    for _ in range(3):  # SendGrid
        tok = "SG." + _gen(rng, ALNUM, 22) + "." + _gen(rng, ALNUM, 43)
        add("sendgrid", "SENDGRID={s} ./mail.sh", tok)
    for _ in range(3):  # Slack
        add(
            "slack",
            "slack-cli --bot xoxb-{s}",
            f"{rng.randint(10**9, 10**10)}-" + _gen(rng, HEX, 24),
        )
        add(
            "slack",
            "curl -X POST https://hooks.slack.com/services/T0{s}",
            _gen(rng, ALNUM, 8) + "/B0" + _gen(rng, ALNUM, 8) + "/" + _gen(rng, ALNUM, 24),
        )
    for _ in range(3):  # SoftLayer
        add("softlayer", 'softlayer_api_key = "{s}"', _gen(rng, HEX, 64))
        add("softlayer", "curl https://api.softlayer.com/soap/v3/{s}", _gen(rng, HEX, 64))
    for _ in range(3):  # Square
        add("square", "SQUARE_SECRET=sq0csp-{s}", _gen(rng, ALNUM, 43))
    for _ in range(3):  # Stripe
        add("stripe", "stripe login --api-key sk_live_{s}", _gen(rng, ALNUM, 24))
    for _ in range(3):  # Telegram
        tok = f"{rng.randint(10**8, 10**9)}:" + _gen(rng, ALNUM, 35)
        add("telegram", "curl https://api.telegram.org/bot{s}/getMe", tok)
    for _ in range(3):  # Twilio
        add("twilio", "twilio login AC{s}", _gen(rng, HEX, 32))
        add("twilio", "TWILIO_KEY=SK{s} ./sms.sh", _gen(rng, HEX, 32))

    # The shapes of issue 12 (our own rules; detect-secrets does not know all of them).
    for _ in range(3):
        add("shell", "curl -u admin:{s} https://ci.example.com", _gen(rng, ALNUM, 12), False)
        add("shell", "docker login -u me -p {s} registry.example.com", _gen(rng, ALNUM, 12), False)
        add(
            "shell",
            "openssl rsa -in k.pem -passin pass:{s} -out x.pem",
            _gen(rng, ALNUM, 12),
            False,
        )
        add("shell", "htpasswd -b -c .htpasswd alice {s}", _gen(rng, ALNUM, 12), False)
        add("shell", "mysql -u root -p{s} shop", _gen(rng, ALNUM, 12), False)
        add("shell", "sshpass -p {s} ssh host", _gen(rng, ALNUM, 12), False)
        add("url", "https://accounts.example.com/cb?code={s}&state=9", _gen(rng, ALNUM, 20), False)
        add("url", "https://x.example.com/api?access_token={s}", _gen(rng, ALNUM, 20), False)
        add("title", "Vault - token: {s} - Firefox", _gen(rng, ALNUM, 16), False)
        add("title", "Reset done, password {s} saved", _gen(rng, ALNUM, 12), False)
    return out


def filename_safe(text: str) -> bool:
    return "/" not in text and "\n" not in text and len(text.encode()) < 200
