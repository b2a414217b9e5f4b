"""Hypothesis profiles of the property tests: small in `make test`, long on request.

``SELFLOW_HYPOTHESIS=long`` (or a number of examples) runs the long version, e.g.
``SELFLOW_HYPOTHESIS=long .venv/bin/python -m pytest tests/unit/properties
--hypothesis-show-statistics``.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_CHOICE = os.environ.get("SELFLOW_HYPOTHESIS", "ci")
_SHARED = dict(
    deadline=None,  # a loaded 2-core machine: time is not what these tests are about
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    derandomize=_CHOICE == "ci",  # make test is reproducible; the long run explores
    print_blob=True,
    database=None,  # nothing written into the checkout; a failure prints its reproduction blob
)
settings.register_profile("ci", max_examples=40, **_SHARED)
settings.register_profile("long", max_examples=3000, **_SHARED)
if _CHOICE.isdigit():
    settings.register_profile("custom", max_examples=int(_CHOICE), **_SHARED)
    _CHOICE = "custom"
PROFILE = settings.get_profile(_CHOICE)
