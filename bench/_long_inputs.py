"""Long adversarial texts for the privacy filter (stdlib only): 64 KB, the longest field, built
from long random tokens in the syntaxes the rules and the scan look at, and from a rule's own
command word repeated. bench/privacy.py times them; tests/reliability runs them with a hang guard.
"""

from __future__ import annotations

import random
import string
from collections.abc import Callable, Iterator

SIZE = 64 * 1024
_ALNUM = string.ascii_letters + string.digits
# A text that names a secret somewhere, so the keyword rules run on all of it.
TAILS = ("", " password", " --token x")
# Text that repeats a command word whose rule scans the arguments after it.
REPEATS = ("mysql ", "mysqlsh ", "mysql -u x ", "docker login ", "helm registry login x ")


def _shapes(rng: random.Random) -> dict[str, Callable[[int], str]]:
    def tok(n: int) -> str:
        return "".join(rng.choices(_ALNUM, k=n))

    return {
        "tok": lambda n: f"{tok(n)} ",
        '"tok"': lambda n: f'"{tok(n)}" ',
        "k=tok": lambda n: f"k{tok(3)}={tok(n)} ",
        "-p tok": lambda n: f"-p {tok(n)} ",
        "u%tok": lambda n: f"u%{tok(n)} ",
        "u:tok@h": lambda n: f"u:{tok(n)}@h ",
        "tok_": lambda n: f"{tok(n)}_",
        "hf_tok": lambda n: f"hf_{tok(n)} ",
        "password tok": lambda n: f"password {tok(n)} ",
        '"pw_tok": "x"': lambda n: f'"pw_{tok(n)}": "x", ',
        "mysql -u tok": lambda n: f"mysql -u {tok(n)} ",
    }


def long_inputs(
    seed: int = 23, lengths: tuple[int, ...] = (16, 20, 24, 40, 128, 4096)
) -> Iterator[tuple[str, str]]:
    """(name, text) pairs: every token shape at every length with every tail, each token drawn
    anew (no two alike, so no cache helps), then each repeated command word."""
    rng = random.Random(seed)
    for shape, make in _shapes(rng).items():
        for n in lengths:
            for tail in TAILS:
                parts, size = [], 0
                while size < SIZE - len(tail):
                    part = make(n)
                    parts.append(part)
                    size += len(part)
                yield f"{shape} ({n}){tail}", "".join(parts)[: SIZE - len(tail)] + tail
    for unit in REPEATS:
        yield f"{unit.strip()!r} repeated", (unit * (SIZE // len(unit) + 1))[:SIZE]
