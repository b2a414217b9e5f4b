"""What each cluster is about: c-TF-IDF terms, dominant actions, hours, a readable name.

c-TF-IDF (Grootendorst 2022): a term's frequency in a cluster, divided by the cluster's term
total, times log(1 + A / f_t), with A the mean term total per cluster and f_t the term's total
frequency. Terms are the event tokens of ``features.event_tokens`` (folders, extensions, apps,
command verbs, actions).

A cluster of shell commands is named by what it did and where: its dominant distinctive tools
(at most ``TOOLS``, each on at least ``MIN_TOOL_SHARE`` of its commands) and the host most of
them ran on or the folder most of them ran in (a history without working folders: followed
through its ``cd`` and ``ssh``, ``untimed.context_terms``): "git and pytest in ~/src/shop",
"systemctl and journalctl on web01". Never a category, which a shell's varied work would all
fall into. Clusters of file and application events keep their kinds (coding, writing, ...).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from selflow_qt.analyze.dataset import EventTable
from selflow_qt.analyze.features import FeatureSet
from selflow_qt.analyze.untimed import context_terms

HIDDEN_PREFIXES = ("depth:", "nargs:", "flag:")
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


@dataclass
class ClusterProfile:
    label: int
    name: str
    kind: str
    place: str
    event_count: int
    top_terms: list[tuple[str, float]]
    term_vector: dict[str, float]
    dominant_actions: dict[str, float]
    sources: dict[str, float]
    hour_profile: list[float]
    confidence: float
    supporters: list[str] = field(default_factory=list)
    first_ts: float | None = None  # the time of the cluster's first event
    last_ts: float | None = None  # ... and of its last


def ctfidf(counts: np.ndarray) -> np.ndarray:
    """(clusters, terms) counts -> c-TF-IDF weights."""
    totals = counts.sum(axis=1, keepdims=True)
    tf = counts / np.maximum(totals, 1e-12)
    A = float(totals.mean()) if len(totals) else 0.0
    f = counts.sum(axis=0)
    return tf * np.log1p(A / np.maximum(f, 1e-12))


def _share(counter: Counter, n: int, top: int = 5) -> dict[str, float]:
    return {k: round(v / max(n, 1), 3) for k, v in counter.most_common(top)}


def _place(shares: dict[str, float]) -> str:
    """The deepest folder (at most ~/a/b) that at least 60% of events touch or work in."""
    by_folder: dict[str, float] = {}
    for term, share in shares.items():
        if term.startswith(("dir:", "cwd:")):
            folder = term.split(":", 1)[1]
            by_folder[folder] = by_folder.get(folder, 0.0) + share
    best, best_depth = "", -1
    for folder, share in by_folder.items():
        depth = folder.count("/")
        if share >= 0.6 and depth <= 2 and depth > best_depth and folder not in ("~", "/"):
            best, best_depth = folder, depth
    return best


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

    place = _place(shares)
    where = f" in {place}" if place else ""
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
    if kind == "downloads":
        tidy = shares.get("act:fs/move", 0.0) + shares.get("act:fs/delete", 0.0)
        return ("Downloads tidy-up" if tidy > 0.05 else "Downloads", kind, place)
    if kind == "coding":
        lang = code_lang[1] if code_lang[0] > 0.05 else ""
        return (f"{lang + ' ' if lang else ''}coding{where}".capitalize(), kind, place)
    if kind == "design":
        return (f"Design assets{where}", kind, place)
    if kind == "writing":
        return (f"Writing documents{where}", kind, place)
    verbs = [t.split(":", 1)[1] for t in shares if t.startswith("verb:") and t != "verb:sudo"]
    detail = f" ({', '.join(verbs[:3])})" if verbs else where
    return (f"System administration{detail}", kind, place)


def describe_clusters(
    table: EventTable,
    features: FeatureSet,
    labels: np.ndarray,
    confidence: np.ndarray,
    *,
    support: dict[int, list[str]] | None = None,
    n_algorithms: int = 1,
    top_n: int = 12,
) -> dict[int, ClusterProfile]:
    """A profile of every non-noise cluster in ``labels``."""
    clusters = [int(c) for c in np.unique(labels) if c >= 0]
    if not clusters:
        return {}
    n_sig = features.terms.shape[0]
    per_cluster = np.stack(
        [np.bincount(features.inverse[labels == c], minlength=n_sig) for c in clusters]
    ).astype(np.float64)
    counts = np.asarray((features.terms.T @ per_cluster.T).T)  # (k, V): events carrying each term
    weights = ctfidf(counts)
    hours = table.local_hours().astype(int) % 24
    # a shell command's app is the machine it ran on: never a name
    hosts = frozenset(
        a.lower()[:40]
        for a, src in zip(table.app, table.source, strict=True)
        if src == "shell" and a
    )
    src_act = np.array([f"{s}/{a}" for s, a in zip(table.source, table.action, strict=True)])
    where = _where(table)
    out: dict[int, ClusterProfile] = {}
    for row, c in enumerate(clusters):
        idx = np.flatnonzero(labels == c)
        n = len(idx)
        order = np.argsort(-weights[row])
        visible = [j for j in order if _shown(features.vocab[j])]
        top_terms = [(features.vocab[j], round(float(weights[row, j]), 4)) for j in visible[:top_n]]
        vector = {
            features.vocab[j]: float(weights[row, j]) for j in order[:40] if weights[row, j] > 0
        }
        shares = {
            features.vocab[j]: float(counts[row, j] / n)
            for j in np.argsort(-counts[row])[:60]
            if counts[row, j] > 0
        }
        places = Counter(t for i in idx.tolist() for t in where[i])
        name, kind, place = name_cluster(
            shares,
            [features.vocab[j] for j in visible[:30]],
            hosts,
            {t: k / n for t, k in places.items()},
        )
        hp = np.bincount(hours[idx], minlength=24).astype(float)
        sup = (support or {}).get(c, [])
        conf = float(confidence[idx].mean()) * (
            len(sup) / n_algorithms if support is not None else 1.0
        )
        out[c] = ClusterProfile(
            label=c,
            name=name,
            kind=kind,
            place=place,
            event_count=n,
            top_terms=top_terms,
            term_vector=vector,
            dominant_actions=_share(Counter(src_act[idx].tolist()), n),
            sources=_share(Counter(table.source[i] for i in idx), n),
            hour_profile=(hp / max(hp.sum(), 1.0)).round(4).tolist(),
            confidence=round(conf, 4),
            supporters=sup,
            first_ts=float(table.ts[idx].min()),
            last_ts=float(table.ts[idx].max()),
        )
    _dedupe_names(out, hosts)
    return out


def _shown(term: str) -> bool:
    """A term that may describe a pattern to its user: not how a command was typed (depth,
    argument count, flags), nor an argument that is an identifier (``best_key``, ``user_id``):
    a name from inside the user's files reads as code; its tools and folders say the work."""
    if term.startswith(HIDDEN_PREFIXES):
        return False
    return not (term.startswith("arg:") and "_" in term.strip("_"))


def _where(table: EventTable) -> list[list[str]]:
    """Per event, the folder and host terms of a shell command without a working folder (a
    history's line: followed through its ``cd`` and ``ssh`` in arrival order); [] otherwise."""
    out: list[list[str]] = [[] for _ in range(len(table))]
    pick = [
        int(i)
        for i in np.argsort(table.ids, kind="stable")
        if table.source[i] == "shell" and not table.cwd[i] and table.cmd[i]
    ]
    for i, terms in zip(pick, context_terms([table.cmd[i] for i in pick]), strict=True):
        out[i] = terms
    return out


def _dedupe_names(profiles: dict[int, ClusterProfile], hosts: frozenset[str]) -> None:
    """Two clusters with one name get their most distinctive term appended."""
    seen: dict[str, list[int]] = {}
    for c, p in profiles.items():
        seen.setdefault(p.name, []).append(c)
    for name, cs in seen.items():
        if len(cs) < 2:
            continue
        for c in cs[1:]:
            p = profiles[c]
            shares = {"act:shell/command": p.sources.get("shell", 0.0)}
            words = [
                w
                for w in distinctive_words([t for t, _ in p.top_terms], shares, n=6, hosts=hosts)
                if w not in name
            ]
            p.name = f"{name} ({words[0] if words else f'#{c}'})"
