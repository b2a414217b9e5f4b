"""A generated corpus: secrets composed with many tools' syntaxes (issue 23), not a fixed list.

Each family is a set of tools times a set of ways to hand a secret over (flag styles, env
assignments, URLs, config-set commands, JSON, headers, stdin, passphrase flags, vendor
prefixes); every secret is fresh from a seeded generator, so the corpus is the same every run
and ``secret`` is greppable. ``FIXTURES`` are lines in the style of detect-secrets' own plugin
tests (config files of several languages), with values of our own.
"""

from __future__ import annotations

import itertools
import random
import string
from dataclasses import dataclass

ALNUM = string.ascii_letters + string.digits


@dataclass(frozen=True)
class Case:
    family: str
    text: str
    secret: str


def _secret(rng: random.Random, n: int, alphabet: str = ALNUM) -> str:
    while True:
        s = "".join(rng.choice(alphabet) for _ in range(n))
        if (
            any(c.isdigit() for c in s)
            and any(c.isupper() for c in s)
            and any(c.islower() for c in s)
        ):
            return s


def _password(rng: random.Random) -> str:
    """A human password: a word, digits and sometimes a symbol (not random-looking)."""
    word = rng.choice(["Summer", "hunter", "Dragon", "monkey", "Shadow", "letmein", "Tr0ub4dor"])
    return word + str(rng.randint(10, 9999)) + rng.choice(["", "!", "#", "_x", "$"])


SHORT_FLAGS = [  # (tool line before the flag, flag, tool line after)
    ("redis-cli -h cache.internal", "-a", "ping"),
    ("mongosh --host db -u admin", "-p", "--authenticationDatabase admin"),
    ("mongodump -u backup", "-p", "--out /tmp/dump"),
    ("sshpass", "-p", "ssh deploy@10.0.0.4"),
    ("zip -r", "-P", "backup.zip docs"),
    ("unzip", "-P", "backup.zip"),
    ("ssh-keygen -t ed25519 -f ~/k", "-N", ""),
    ("ldapsearch -x -D cn=admin,dc=ex,dc=org", "-w", "-b dc=ex,dc=org"),
    ("sqlcmd -S db -U sa", "-P", "-Q 'select 1'"),
    ("mosquitto_pub -h mq -u dev", "-P", "-t t -m hi"),
    ("hydra -l admin", "-p", "ssh://10.0.0.5"),
    ("rdesktop -u admin", "-p", "10.0.0.7"),
    ("plink -ssh admin@host", "-pw", "uptime"),
    ("az login -u me@example.com", "-p", ""),
    ("doctl auth init", "-t", ""),
    ("openssl enc -aes-256-cbc -in f -out f.enc", "-k", ""),
]
ATTACHED = [
    ("mysql -u root", "-p", "shop"),
    ("mariadb -u app", "-p", "app"),
    ("7z a", "-p", "x.7z d"),
]
LONG_FLAGS = ["--password", "--token", "--api-key", "--client-secret", "--db-password"]
LONG_FLAGS += ["--auth-token", "--secret-key", "--access-token", "--passphrase", "--admin-pass"]
LONG_TOOLS = ["vercel deploy", "mytool sync", "cloudctl login", "gpg --batch --symmetric f"]
LONG_TOOLS += ["wget ftp://h/f --user=bob", "svn checkout https://svn/x --username bob"]
ENV_NAMES = ["API_TOKEN", "DB_PASSWORD", "GITHUB_TOKEN", "STRIPE_SECRET", "SLACK_BOT_TOKEN"]
ENV_NAMES += ["AUTH_KEY", "PGPASSWORD", "REDIS_PASS", "SENTRY_AUTH_TOKEN", "ApiKey"]
ENV_FORMS = ["export {n}={s}", "{n}={s} ./run.sh", "{n}='{s}' make deploy", "setenv {n} {s}"]
ENV_FORMS += ["set -gx {n} {s}", '$env:{n}="{s}"', "docker run -e {n}={s} app", "set {n}={s}"]
URL_FORMS = ["git clone https://deploy:{s}@git.example.com/r.git", "psql postgres://app:{s}@db/app"]
URL_FORMS += ["redis-cli -u redis://:{s}@cache:6379", "mongosh mongodb+srv://u:{s}@c0.mongo.net/x"]
URL_FORMS += ["curl 'https://api.example.com/v1?api_key={s}&q=1'", "open https://x.io/cb?token={s}"]
URL_FORMS += ["impacket-psexec corp/admin:{s}@10.0.0.9", "secretsdump.py admin:{s}@dc01"]
CONFIG_FORMS = ["npm config set //registry.npmjs.org/:_authToken {s}"]
CONFIG_FORMS += ["yarn config set npmAuthToken {s}", "git config --global github.token {s}"]
CONFIG_FORMS += ["poetry config pypi-token.pypi {s}", "redis-cli CONFIG SET requirepass {s}"]
CONFIG_FORMS += [
    "rclone config create r s3 secret_access_key {s}",
    "ngrok config add-authtoken {s}",
]
CONFIG_FORMS += ["composer config -g github-oauth.github.com {s}", "nuget setapikey {s}"]
CONFIG_FORMS += [
    "dotnet user-secrets set ApiKey {s}",
    "aws configure set aws_secret_access_key {s}",
]
JSON_FORMS = ["""curl -d '{{"password": "{s}"}}' https://x/login"""]
JSON_FORMS += ["""echo '{{"auth": {{"token": "{s}"}}}}' > c.json""", """http POST x apiKey={s}"""]
JSON_FORMS += ["""kubectl patch s --type merge -p '{{"data":{{"client_secret":"{s}"}}}}'"""]
JSON_FORMS += ["""jq -n '{{"{s}": "token"}}'"""]
HEADER_FORMS = ["curl -H 'Authorization: Bearer {s}' https://api", 'curl -H "X-API-Key: {s}" x']
HEADER_FORMS += ["curl -H 'PRIVATE-TOKEN: {s}' https://gitlab/api", "http GET x 'X-Auth-Token:{s}'"]
HEADER_FORMS += ["curl --header 'Cookie: session={s}' x", "wget --header='Api-Key: {s}' x"]
STDIN_FORMS = ["echo '{s}' | docker login -u me --password-stdin ghcr.io"]
STDIN_FORMS += ["echo {s} | sudo -S apt update", "printf '%s' {s} | gh auth login --with-token"]
STDIN_FORMS += ["echo 'bob:{s}' | chpasswd", "echo {s} | passwd --stdin bob"]
STDIN_FORMS += ["docker login -u me --password-stdin <<< {s}", "echo -n {s} | vault login -"]
USER_PCT_FORMS = ["smbclient //fs/share -U alice%{s}", "rpcclient -U 'corp/alice%{s}' 10.0.0.5"]
USER_PCT_FORMS += ["winexe -U admin%{s} //10.0.0.8 cmd", "net rpc user -U corp/admin%{s} -S dc"]
USER_PCT_FORMS += ["lftp -u bob,{s} ftp.example.com", "xfreerdp /u:admin /p:{s} /v:10.0.0.3"]
PASSPHRASE_FORMS = ["ssh-keygen -p -f key -P {s} -N ''", "gpg --batch --passphrase {s} -c f"]
PASSPHRASE_FORMS += ["keytool -genkey -keystore k.jks -storepass {s}", "zip -P {s} s.zip f"]
PASSPHRASE_FORMS += ["openssl pkcs12 -export -passout pass:{s} -out c.p12", "7z a -p{s} b.7z d"]
PASSPHRASE_FORMS += ["jarsigner -storepass {s} app.jar key", "wpa_passphrase homewifi {s}"]
VENDOR = ["hf_", "dop_v1_", "shpat_", "glsa_", "dckr_pat_", "lin_api_", "sk-ant-api03-", "xapp-1-"]
VENDOR += ["tskey-auth-", "hvs.", "ATATT3x", "pscale_tkn_", "whsec_", "figd_", "gsk_", "GOCSPX-"]
VENDOR += ["zz9k_", "acme_live_", "qwe-"]  # invented prefixes: no list can know them
VENDOR_FORMS = ["some-cli deploy --opt {s}", "run.sh {s}", "curl https://api.x/{s}/items"]
BARE_FORMS = ["mc alias set s3 https://s3.x AKx9Lm2Qp8Rt5Wz3 {s}", "vault login {s}"]
BARE_FORMS += ["bw unlock {s}", "tool auth {s}", "cli --opt {s}"]


def build(seed: int = 23) -> list[Case]:
    rng = random.Random(seed)
    out: list[Case] = []

    def add(family: str, template: str, secret: str) -> None:
        out.append(Case(family, " ".join(template.format(s=secret).split()), secret))

    for (pre, flag, post), _ in itertools.product(SHORT_FLAGS, range(3)):
        add("flag -p X", f"{pre} {flag} {{s}} {post}", _password(rng))
    for (pre, flag, post), _ in itertools.product(ATTACHED, range(3)):
        add("flag -pX", f"{pre} {flag}{{s}} {post}", _password(rng))
    for tool, flag in itertools.product(LONG_TOOLS, LONG_FLAGS):
        add("flag --password X", f"{tool} {flag} {{s}}", _password(rng))
        add("flag --password=X", f"{tool} {flag}={{s}}", _secret(rng, rng.randint(10, 30)))
    for form, name in itertools.product(ENV_FORMS, ENV_NAMES):
        add("env assignment", form.replace("{n}", name), _secret(rng, rng.randint(12, 40)))
    for form, _ in itertools.product(URL_FORMS, range(3)):
        add("url", form, _password(rng))
    for form, _ in itertools.product(CONFIG_FORMS, range(3)):
        add("config set KEY VALUE", form, _secret(rng, rng.randint(20, 40)))
    for form, _ in itertools.product(JSON_FORMS, range(3)):
        add("json", form, _secret(rng, rng.randint(16, 40)))
    for form, _ in itertools.product(HEADER_FORMS, range(3)):
        add("header", form, _secret(rng, rng.randint(20, 48)))
    for form, _ in itertools.product(STDIN_FORMS, range(3)):
        add("stdin", form, _password(rng))
    for form, _ in itertools.product(USER_PCT_FORMS, range(3)):
        add("user%password", form, _password(rng))
    for form, _ in itertools.product(PASSPHRASE_FORMS, range(3)):
        add("passphrase flag", form, _password(rng))
    for prefix, form in itertools.product(VENDOR, VENDOR_FORMS):
        add("vendor prefix", form, prefix + _secret(rng, rng.randint(32, 44)))
    for form, _ in itertools.product(BARE_FORMS, range(3)):
        add("bare token", form, _secret(rng, rng.randint(24, 40)))
    return out


def build_fixtures(seed: int = 7) -> list[Case]:
    """detect-secrets-style fixtures: assignments in config files and code, high-entropy
    strings and vendor formats, one line each."""
    rng = random.Random(seed)
    forms = [
        'password = "{s}"',
        "password: {s}",
        "db_password={s}",
        '"api_key": "{s}",',
        "$password = '{s}';",
        'secret := "{s}"',
        'private static final String TOKEN = "{s}";',
        "<password>{s}</password>",
        "  auth_token: '{s}'",
        'aws_secret_access_key = "{s}"',
        "ENV CLIENT_SECRET={s}",
        'var apiKey = "{s}";',
        "export SECRET_KEY={s}",
        "[credentials] password = {s}",
        'config.access_key = "{s}"',
        "basic_auth = 'http://user:{s}@example.com'",
        "id = '{s}'",
        "hex_secret = '{s}'",
        'token => "{s}"',
        "passwd: {s}",
    ]
    out = []
    for form, _ in itertools.product(forms, range(3)):
        if "hex" in form:
            secret = "".join(rng.choice("0123456789abcdef") for _ in range(40))
        else:
            secret = _secret(rng, rng.randint(16, 44))
        out.append(Case("fixture", form.format(s=secret), secret))
    return out
