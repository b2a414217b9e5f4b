"""A cluster's name: what it did and where, in the user's words.

A cluster of shell commands is named by what it did and where: its dominant distinctive tools
(at most ``TOOLS``, each on at least ``MIN_TOOL_SHARE`` of its commands) and the host most of
them ran on or the folder most of them ran in (a history without working folders: followed
through its ``cd`` and ``ssh``, ``untimed.context_terms``): "git and pytest in ~/src/shop",
"systemctl and journalctl on web01". Never a category, which a shell's varied work would all
fall into. Clusters of file and application events keep their kinds (coding, writing, ...) and
say the same: the application or command most of their events used and the folder most of
those with a folder were in, or the two that hold most of them ("Writing documents with
obsidian in ~/Documents/notes", "Writing documents in ~/tmp and ~/Desktop", "System
administration with gnome-terminal").
"""

from __future__ import annotations

CODE_EXTS = {
    ".py": "Python",
    ".js": "JavaScript",
    ".ts": "TypeScript",
    ".tsx": "TypeScript",
    ".rs": "Rust",
    ".go": "Go",
    ".java": "Java",
    ".kt": "Kotlin",
    ".c": "C",
    ".h": "C",
    ".cpp": "C++",
    ".rb": "Ruby",
    ".php": "PHP",
    ".swift": "Swift",
    ".cs": "C#",
}
CODE_VERBS = {"git", "pytest", "make", "cargo", "npm", "yarn", "go", "python", "node", "tox"}
DESIGN_EXTS = {".svg", ".png", ".psd", ".xcf", ".ai", ".kra", ".fig", ".sketch", ".blend"}
DESIGN_APPS = {"gimp", "inkscape", "krita", "blender", "figma", "eog", "darktable"}
DOC_EXTS = {".docx", ".doc", ".odt", ".md", ".tex", ".rtf", ".pages", ".txt"}
DOC_APPS = {"libreoffice-writer", "obsidian", "typora", "word", "pages", "gedit", "zotero"}
ADMIN_VERBS = {
    "sudo", "systemctl", "ssh", "apt", "apt-get", "dnf", "journalctl", "df", "du", "top", "htop",
    "free", "vim", "nano", "mount", "ps", "kill", "docker", "ufw", "crontab",
}  # fmt: skip


def _folders(shares: dict[str, float], located: bool) -> tuple[dict[str, float], float]:
    """The share of events in each folder, and the share 60% of which makes a place: all
    events, or (``located``) those with a folder (an application's focus has none); every
    such event has one top folder (~, /etc, ...), so their sum counts them."""
    by_folder: dict[str, float] = {}
    for term, share in shares.items():
        if term.startswith(("dir:", "cwd:")):
            folder = term.split(":", 1)[1]
            by_folder[folder] = by_folder.get(folder, 0.0) + share
    tops = sum(v for f, v in by_folder.items() if "/" not in f.lstrip("/"))
    return by_folder, min(tops, 1.0) if located and tops > 0 else 1.0


def _place(shares: dict[str, float], located: bool = False) -> str:
    """The deepest folder (at most ~/a/b) that at least 60% of events touch or work in."""
    by_folder, base = _folders(shares, located)
    best, best_depth = "", -1
    for folder, share in by_folder.items():
        depth = folder.count("/")
        if share >= 0.6 * base and depth <= 2 and depth > best_depth and folder not in ("~", "/"):
            best, best_depth = folder, depth
    return best


def _two_places(shares: dict[str, float]) -> str:
    """No one folder holds 60% of the located events, two apart do: "~/tmp and ~/Desktop"."""
    by_folder, base = _folders(shares, located=True)
    below = [f for f in by_folder if f not in ("~", "/") and f.count("/") <= 2]
    below.sort(key=lambda f: (-by_folder[f], -f.count("/")))
    for i, a in enumerate(below):
        for b in below[i + 1 :]:
            apart = not (a.startswith(b + "/") or b.startswith(a + "/"))
            if apart and by_folder[a] + by_folder[b] >= 0.6 * base:
                return f"{a} and {b}"
    return ""


TOOLS = 2  # tools in a shell pattern's name
MIN_TOOL_SHARE = 0.1  # ... the first on at least this share of its commands
SECOND_TOOL_SHARE = 0.05  # ... the second on at least this
TOOL_CANDIDATES = 30  # ... among its most distinctive terms (the ones c-TF-IDF shows)
SUB_SHARE = 0.5  # "docker compose", not "docker", when most of the tool's uses are that one
HOST_SHARE = 0.5  # "on web01" where at least this share ran there
# shell housekeeping: moving about, leaving, clearing the screen; not what a pattern does
HOUSEKEEPING = frozenset(("cd", "pushd", "popd", "exit", "logout", "clear", "pwd", "sudo"))

NAME_PREFIXES = ("sub:", "verb:", "arg:", "argext:", "ext:", "dir:", "cwd:", "app:")


def distinctive_words(
    terms: list[str], shares: dict[str, float], n: int = 3, hosts: frozenset[str] = frozenset()
) -> list[str]:
    """Up to ``n`` readable words from c-TF-IDF terms, never a shell's host name.

    The ``n`` most distinctive usable terms, the most common in the cluster first (so the name
    keeps its order from one cycle to the next). A shell event's ``app`` is the
    machine it ran on, so ``app:`` terms only name clusters of application events; ``sudo`` and
    a verb already covered by its sub-command are skipped.
    """
    shell = shares.get("act:shell/command", 0.0) > 0.5
    picked: list[str] = []
    words: list[str] = []
    for term in terms:
        if not term.startswith(NAME_PREFIXES) or term == "verb:sudo":
            continue
        if term.startswith("app:") and shell:
            continue
        word = term.split(":", 1)[1]
        if term.startswith("verb:") and any(w.split(" ", 1)[0] == word for w in words):
            continue
        if word in ("~", "/") or word in words or word.lower() in hosts:
            continue  # (a host's name typed as an argument is still the host's name)
        words.append(word)
        picked.append(term)
        if len(words) == n:
            break
    order = sorted(range(len(words)), key=lambda i: -shares.get(picked[i], 0.0))
    return [words[i] for i in order]


def _tools(distinctive: list[str], shares: dict[str, float], host: str) -> list[str]:
    """Up to ``TOOLS`` commands that say what a shell cluster did, the most used first."""
    found: dict[str, float] = {}
    seen = 0
    for term in distinctive:
        if not term.startswith(("verb:", "sub:")):
            continue
        seen += 1
        if seen > TOOL_CANDIDATES:
            break
        word = term.split(":", 1)[1]
        verb = word.split(" ", 1)[0]
        if verb in HOUSEKEEPING or (host and verb == "ssh"):
            continue  # "on web01" already says it
        share = shares.get(term, 0.0)
        if term.startswith("sub:") and share < SUB_SHARE * shares.get(f"verb:{verb}", 0.0):
            word, share = verb, shares.get(f"verb:{verb}", 0.0)  # several of its sub-commands
        if share < SECOND_TOOL_SHARE or any(w.split(" ", 1)[0] == verb for w in found):
            continue
        found[word] = share
    tools = sorted(found, key=lambda w: -found[w])[:TOOLS]
    # the first on MIN_TOOL_SHARE of the commands; the next may be rarer: it still says more
    # than one word alone, and the name keeps its words when a share moves across the bar
    return tools if tools and found[tools[0]] >= MIN_TOOL_SHARE else []


TOOL_OF_ITS_KIND = 1 / 3  # an app or command named: a third of the events with one use it


def _apps_and_tools(
    distinctive: list[str], shares: dict[str, float], hosts: frozenset[str] = frozenset()
) -> list[str]:
    """Up to ``TOOLS`` applications or commands of a cluster of file and application events,
    the most used first: each used by ``TOOL_OF_ITS_KIND`` of the events that have one (an
    app among those with an app, a command among the commands; a file change has neither)
    and by ``SECOND_TOOL_SHARE`` of all. A shell command's app is its machine: never a tool."""
    apps = sum(v for t, v in shares.items() if t.startswith("app:") and t[4:] not in hosts)
    base = {"app:": apps, "verb:": shares.get("act:shell/command", 0.0) or 1.0}
    found: dict[str, float] = {}
    for term in distinctive:
        kind = term[: term.find(":") + 1]
        word = term[len(kind) :]
        share = shares.get(term, 0.0)
        if kind not in base or word in HOUSEKEEPING or word in hosts:
            continue
        if share >= SECOND_TOOL_SHARE and share >= TOOL_OF_ITS_KIND * base[kind]:
            found[word] = share
    return sorted(found, key=lambda w: -found[w])[:TOOLS]


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def shell_name(
    shares: dict[str, float],
    distinctive: list[str],
    places: dict[str, float],
    hosts: frozenset[str] = frozenset(),
) -> tuple[str, str]:
    """(name, place) of a cluster of shell commands: its tools, and where they ran.

    ``places``: the share of its commands that ran in each folder (``folder:~/src``, from their
    working folder or followed through ``cd``) and on each host (``host:web01``, after ``ssh``).
    """
    host, host_share = max(
        ((t[5:], v) for t, v in places.items() if t.startswith("host:")),
        key=lambda hv: hv[1],
        default=("", 0.0),
    )
    host = host if host_share >= HOST_SHARE else ""
    followed = {f"dir:{t[7:]}": v for t, v in places.items() if t.startswith("folder:")}
    place = "" if host else _place({**shares, **followed})
    tools = _tools(distinctive, shares, host)
    if tools:
        what = _and(tools)
        if len(tools) == 1 and not host and not place:  # one word says too little: what with
            verb = tools[0].split(" ", 1)[0]
            more = distinctive_words(distinctive, shares, n=3, hosts=hosts)
            more = [w for w in more if w.split(" ", 1)[0] != verb and w not in HOUSEKEEPING]
            what += f" ({more[0]})" if more else ""
    else:
        words = distinctive_words(distinctive, shares, hosts=hosts)
        what = _and(words) if words else "Shell commands"
    where = f" on {host}" if host else f" in {place}" if place else ""
    return f"{what}{where}", place


def name_cluster(
    shares: dict[str, float],
    distinctive: list[str] | None = None,
    hosts: frozenset[str] = frozenset(),
    places: dict[str, float] | None = None,
) -> tuple[str, str, str]:
    """(name, kind, place) from the share of events that carry each term.

    ``distinctive``: the cluster's terms by c-TF-IDF (best first); ``places``: for shell
    commands, where they ran (see ``shell_name``).
    """

    def total(prefix: str, keys) -> float:
        return sum(shares.get(f"{prefix}:{k}", 0.0) for k in keys)

    place = _place(shares, located=True)
    where = place or _two_places(shares)
    where = f" in {where}" if where else ""
    downloads = max(
        (v for t, v in shares.items() if t.startswith("dir:") and t.endswith("/Downloads")),
        default=0.0,
    )
    code_lang = max(
        ((shares.get(f"ext:{e}", 0.0), lang) for e, lang in CODE_EXTS.items()), default=(0, "")
    )
    scores = {
        "downloads": 2.0 * downloads,
        "coding": code_lang[0] + total("verb", CODE_VERBS),
        "design": total("ext", DESIGN_EXTS) + total("app", DESIGN_APPS),
        "writing": total("ext", DOC_EXTS) + total("app", DOC_APPS),
        "admin": total("verb", ADMIN_VERBS) + 0.5 * shares.get("app:gnome-terminal", 0.0),
    }
    kind, score = max(scores.items(), key=lambda kv: kv[1])
    if shares.get("act:shell/command", 0.0) > 0.5:
        name, place = shell_name(shares, distinctive or list(shares), places or {}, hosts)
        return (name, kind if score >= 0.2 else "other", place)
    if score < 0.2:
        words = distinctive_words(distinctive or list(shares), shares, hosts=hosts)
        shell = shares.get("act:shell/command", 0.0) > 0.5
        label = ", ".join(words) if words else "Activity"
        if shell:
            label = f"Shell work: {label}"
        elif len(words) < 2:
            label = f"{label} activity"
        return (f"{label}{where}", "other", place)
    tools = _apps_and_tools(distinctive or list(shares), shares, hosts)
    with_ = f" with {_and(tools)}" if tools else ""  # the kind says the work, its tools with what
    if kind == "downloads":
        tidy = shares.get("act:fs/move", 0.0) + shares.get("act:fs/delete", 0.0)
        return ("Downloads tidy-up" if tidy > 0.05 else "Downloads", kind, place)
    if kind == "coding":
        lang = code_lang[1] if code_lang[0] > 0.05 else ""
        return (f"{lang + ' ' if lang else ''}coding{with_}{where}".capitalize(), kind, place)
    if kind == "design":
        return (f"Design assets{with_}{where}", kind, place)
    if kind == "writing":
        return (f"Writing documents{with_}{where}", kind, place)
    return (f"System administration{with_}{where}", kind, place)
