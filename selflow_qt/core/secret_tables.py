"""What the secret scan knows about tools: which flags take a password, which commands read one
from standard input, which token prefixes vendors use. Data only; ``secret_scan`` judges."""

from __future__ import annotations

import re

_MYSQL = ("mysql", "mysqldump", "mysqladmin", "mysqlsh", "mariadb", "mariadb-dump", "mysqlimport")
_MONGO = (
    "mongo",
    "mongosh",
    "mongodump",
    "mongorestore",
    "mongoexport",
    "mongoimport",
    "mongostat",
)
_LDAP = ("ldapsearch", "ldapadd", "ldapmodify", "ldapdelete", "ldappasswd", "ldapwhoami")
_ATTACK = ("hydra", "medusa", "crackmapexec", "nxc", "netexec", "evil-winrm", "kerbrute", "smbmap")

# Short flags whose next word (or =value) is a password or token, per command.
TOOL_FLAGS: dict[str, frozenset[str]] = {
    **{t: frozenset({"-p"}) for t in _MONGO},
    **{t: frozenset({"-w"}) for t in _LDAP},
    **{t: frozenset({"-p"}) for t in _ATTACK},
    "redis-cli": frozenset({"-a"}),
    "valkey-cli": frozenset({"-a"}),
    "sshpass": frozenset({"-p"}),
    "zip": frozenset({"-P"}),
    "unzip": frozenset({"-P"}),
    "ssh-keygen": frozenset({"-N", "-P"}),
    "sqlcmd": frozenset({"-P"}),
    "bcp": frozenset({"-P"}),
    "rdesktop": frozenset({"-p"}),
    "mosquitto_pub": frozenset({"-P"}),
    "mosquitto_sub": frozenset({"-P"}),
    "openssl": frozenset({"-k"}),
    "rabbitmqadmin": frozenset({"-p"}),
    "ncftp": frozenset({"-p"}),
    "ncftpput": frozenset({"-p"}),
    "ncftpget": frozenset({"-p"}),
    "plink": frozenset({"-pw"}),
    "pscp": frozenset({"-pw"}),
    "psftp": frozenset({"-pw"}),
    "cqlsh": frozenset({"-p"}),
    "cf": frozenset({"-p"}),
    "az": frozenset({"-p"}),
    "oc": frozenset({"-p", "-t"}),
    "doctl": frozenset({"-t"}),
    "influx": frozenset({"-p", "-t"}),
    "sqlplus": frozenset(),
    "keytool": frozenset(),
    "jarsigner": frozenset(),
    "winexe": frozenset(),
    "smbclient": frozenset(),
    "rpcclient": frozenset(),
    "lftp": frozenset(),
    "xfreerdp": frozenset(),
}
# Flags that take the password glued on: mysql -pSECRET, 7z a -pSECRET x.7z.
ATTACHED_FLAGS: dict[str, frozenset[str]] = {
    **{t: frozenset({"-p"}) for t in _MYSQL},
    "7z": frozenset({"-p"}),
    "7za": frozenset({"-p"}),
    "7zz": frozenset({"-p"}),
    "rar": frozenset({"-p"}),
    "unrar": frozenset({"-p"}),
    "redis-cli": frozenset({"-a"}),
    "sshpass": frozenset({"-p"}),
    "zip": frozenset({"-P"}),
}
# -p/-a/... of a tool not listed: the value goes only when it is shaped like a key.
GENERIC_SHORT_FLAGS = frozenset({"-p", "-P", "-a", "-w", "-k", "-t", "-N", "-pw", "-pass"})
# Flags whose value is "user<sep>password" (the part after the separator goes).
USER_FLAGS = frozenset({"-U", "--user", "--username", "-u"})
# (command, subcommand) -> which positional word (1-based, after the subcommand) is a secret.
POSITIONAL: dict[tuple[str, str], int] = {
    ("wpa_passphrase", ""): 2,
    ("vault", "login"): 1,
    ("bw", "unlock"): 1,
    ("bw", "login"): 2,
    ("openssl", "passwd"): 1,
    ("mkpasswd", ""): 1,
    ("ngrok", "authtoken"): 1,
    ("nuget", "setapikey"): 1,
    ("heroku", "authorizations:revoke"): 1,
}
# Commands and subcommands that set a named value: "config set KEY VALUE".
SETTING_VERBS = frozenset(
    {"config", "configure", "set", "setx", "setenv", "set-item", "add", "put", "alias", "login"}
)
# "kubectl get secret NAME": the word after "secret" is a name, not a secret.
RESOURCE_VERBS = frozenset(
    {"get", "describe", "delete", "rm", "ls", "list", "show", "view", "inspect", "edit", "read"}
    | {"rotate", "remove", "cat", "grep", "find", "man", "help", "create", "--help"}
)
# Names that say "the value is not the secret itself" (a file, a prompt, a length).
NOT_A_VALUE_NAME = re.compile(
    r"(?i)(?:file|path|dir|stdin|prompt|ask|fd|length|len|size|type|name|id|count|limit|ttl"
    r"|url|uri|endpoint|host|port|store|ring|mode|policy|method|algorithm|alg|format|expir\w*"
    r"|ref|arn|env|var|cmd|command|helper|manager|reset|policy|provider|backend)$"
    r"|^(?:no|show|print|with-?out|skip|use)[-_]|^(?:pass(?:thru|through)|passive|password-stdin)$"
)
# The command after a pipe reads a password from standard input: what was echoed is one.
STDIN_READER = re.compile(
    r"(?i)--password-stdin|--with-token|--stdin|\bchpasswd\b|\bkinit\b|\bsudo\s+(?:-\w+\s+)*-S\b"
    r"|\bvault\s+login\b|--passphrase-fd|-pass(?:in|word)?\s+stdin|\bcryptsetup\b|\bpasswd\b"
    r"|\bsecret\s+(?:put|set|create|add)\b|\bsecrets?\s+set\b|\blogin\b|\bmkpasswd\b"
)
# Vendor token prefixes no rule names (rules cover GitHub, GitLab, Slack, npm, PyPI, AWS, ...),
# with the shortest body that makes a token. Unknown prefixes are caught by shape alone.
KNOWN_PREFIXES: tuple[tuple[str, int], ...] = (
    ("hf_", 30),
    ("dop_v1_", 32),
    ("doo_v1_", 32),
    ("dor_v1_", 32),
    ("shpat_", 32),
    ("shpca_", 32),
    ("shppa_", 32),
    ("shpss_", 32),
    ("glsa_", 24),
    ("glc_", 24),
    ("dckr_pat_", 20),
    ("lin_api_", 24),
    ("sk-ant-", 24),
    ("sk-proj-", 24),
    ("xapp-", 20),
    ("xoxe", 20),
    ("tskey-", 20),
    ("hvs.", 20),
    ("hvb.", 20),
    ("hvr.", 20),
    ("ATATT", 20),
    ("ATBB", 20),
    ("pscale_tkn_", 20),
    ("pscale_pw_", 20),
    ("whsec_", 20),
    ("rk_live_", 16),
    ("rk_test_", 16),
    ("figd_", 20),
    ("ntn_", 24),
    ("secret_", 32),
    ("sntrys_", 24),
    ("sntryu_", 24),
    ("gsk_", 24),
    ("r8_", 24),
    ("xai-", 24),
    ("pplx-", 24),
    ("lsv2_pt_", 24),
    ("phx_", 24),
    ("ops_", 24),
    ("bkua_", 24),
    ("rubygems_", 24),
    ("dapi", 32),
    ("nfp_", 24),
    ("ya29.", 24),
    ("LTAI", 16),
    ("AKID", 24),
    ("PMAK-", 24),
    ("EAAC", 24),
    ("EAAB", 24),
    ("oy2", 40),
    ("key-", 32),
    ("CFPAT-", 24),
    ("dp.pt.", 24),
    ("dp.st.", 24),
    ("FLWSECK-", 24),
    ("GOCSPX-", 20),
    ("1//0", 24),
    ("AGE-SECRET-KEY-1", 32),
    ("sl.", 40),
    ("github_pat_", 20),
    ("npm_", 30),
    ("glpat-", 20),
)
