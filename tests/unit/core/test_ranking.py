"""The Beta interval shown beside every predictor: exact, and without scipy in the tray."""

from __future__ import annotations

import subprocess
import sys

import pytest

from selflow_qt.core.ranking import beta_interval, beta_quantile


@pytest.mark.parametrize(
    "successes,attempts", [(0, 1), (1, 1), (3, 10), (9, 10), (50, 100), (1, 1000), (4000, 10000)]
)
def test_the_beta_quantiles_match_scipy(successes, attempts):
    from scipy.special import betaincinv

    a, b = successes + 1, attempts - successes + 1
    for p in (0.025, 0.5, 0.975):
        assert beta_quantile(a, b, p) == pytest.approx(float(betaincinv(a, b, p)), abs=1e-10)


def test_an_untried_predictor_has_the_whole_interval():
    assert beta_interval(0, 0) == (0.0, 1.0)
    lo, hi = beta_interval(8, 10)
    assert 0.0 < lo < 0.75 < hi < 1.0


def test_the_interval_needs_no_scipy():
    code = (
        "import sys; from selflow_qt.core.ranking import beta_interval; beta_interval(3, 10); "
        "print('scipy' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "False", out.stderr
