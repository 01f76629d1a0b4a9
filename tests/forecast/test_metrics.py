"""forecast.metrics on cases worked out by hand: what `python -m forecast evaluate` will print."""
from __future__ import annotations

import math

import numpy as np
import pytest

from forecast.metrics import HookRateOnly, SzaboHuberman, auc, brier, lead_time_hours, top_decile


def test_the_top_decile_is_the_tenth_scored_highest_rounded_up():
    scores = [0.9, 0.1, 0.8, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.05, 0.01]      # 11 titles: the top 2
    labels = [True, False, False, False, False, False, False, True, False, False, True]
    precision, recall = top_decile(scores, labels)
    assert (precision, recall) == (0.5, pytest.approx(1 / 3))     # 0.9 is a payer, 0.8 is not; 3 payers in all
    assert math.isnan(top_decile(scores, [False] * 11)[1])


def test_auc_and_brier_on_hand_worked_cases():
    assert auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75       # 3 of the 4 (payer, non-payer) pairs in order
    assert math.isnan(auc([0.1, 0.2], [1, 1]))
    assert brier([1.0, 0.0, 0.5], [1, 0, 1]) == pytest.approx(0.25 / 3)


def test_lead_time_is_the_first_horizon_that_ranks_the_hit_in_the_top_decile():
    titles = [f"t{n}" for n in range(10)]                          # top decile of 10: the first one
    by_hour = {6: {t: 1.0 if t == "t3" else 2.0 for t in titles},   # t3 last; the others tie: t0, given first
               24: {t: 3.0 if t == "t3" else 2.0 for t in titles},  # t3 first
               12: {t: 2.0 for t in titles}}
    assert lead_time_hours(by_hour, "t3") == 24                      # horizons in order, whatever the mapping's
    assert lead_time_hours(by_hour, "t0") == 6
    assert lead_time_hours(by_hour, "t5") is None
    assert lead_time_hours({6: by_hour[6]}, "t3") is None


def test_szabo_huberman_extrapolates_by_the_training_titles_mean_log_gap():
    early, final = np.array([10.0, 20.0, 40.0]), np.array([100.0, 200.0, 400.0 * math.e ** 0.3])
    model = SzaboHuberman().fit(early, final)
    assert model.beta == pytest.approx(math.log(10) + 0.1)          # gaps ln 10, ln 10, ln 10 + 0.3
    assert model.predict_log([5.0])[0] == pytest.approx(math.log(5) + math.log(10) + 0.1)
    # at its median forecast a title is even odds; far above it, certain
    median = math.exp(model.predict_log([5.0])[0])
    assert model.probability([5.0], [median])[0] == pytest.approx(0.5)
    assert model.probability([5.0], [median / 1000])[0] > 0.99
    assert model.probability([0.0], [1.0])[0] < 0.01                # no revenue yet: a cent, not an error


def test_hook_rate_alone_ranks_by_hook_rate():
    rates = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.8])
    model = HookRateOnly().fit(rates, [0, 0, 0, 1, 1, 1])
    p = model.probability([0.15, 0.75])
    assert p[0] < 0.5 < p[1]
    assert list(HookRateOnly().fit(rates, [0] * 6).probability([0.9])) == [0.0]
