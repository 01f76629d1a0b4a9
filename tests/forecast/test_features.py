"""forecast.features and forecast.model: rates from the features query's sums, worked out by hand,
and the model kept as JSON scoring as the fitted regressions do."""
from __future__ import annotations

import math

import numpy as np
import pytest

from forecast import features
from forecast.model import LABELS, Forecast, train

ROW = {"title_id": "t", "hours_since_launch": 12.0, "production_cost": 99.0, "impressions": 1000, "views": 500,
       "hooks": 200, "clicks": 30, "installs": 12, "ad_spend": 18.0, "starts": 60, "completes": 45, "exits": 15,
       "watch_seconds": 3000.0, "startup_ms": 39000, "rebuffer_ms": 5000, "paywalls": 8, "purchases": 2,
       "iap_revenue": 9.98, "ad_revenue": 0.02, "likes": 6, "shares": 3, "comments": 0, "viewers": 20,
       "starts_late": 40, "installs_late": 9, "revenue_late": 5.0, "viewers_late": 15, "first_starts": 20,
       "free_completes": 10, "paywall_shown_first": 8, "paywall_unlocks_first": 2}


def test_rates_from_the_sums():
    v = dict(zip(features.FEATURES, features.vector(ROW)))
    assert v["log_hours"] == pytest.approx(math.log(12)) and v["log_cost"] == pytest.approx(math.log(100))
    assert v["log_viewers_per_hour"] == pytest.approx(math.log1p(20 / 12))
    assert (v["hook_rate"], v["ctr"], v["installs_per_click"]) == pytest.approx((0.4, 0.03, 0.4))
    assert (v["completion"], v["starts_per_viewer"]) == pytest.approx((0.75, 3))
    assert (v["free_reach"], v["pay_through"]) == pytest.approx((0.5, 0.25))
    assert v["log_revenue_per_viewer"] == pytest.approx(math.log1p(10 / 20))
    assert (v["likes_per_viewer"], v["shares_per_viewer"], v["comments_per_viewer"]) == pytest.approx((0.3, 0.15, 0))
    assert (v["startup_s"], v["rebuffer_per_minute"]) == pytest.approx((0.65, 0.1))
    late = (v["viewers_late_share"], v["installs_late_share"], v["revenue_late_share"])
    assert late == pytest.approx((0.75, 0.75, 0.5))
    assert v["log_early_roas"] == pytest.approx(math.log1p(10 / 18))


def test_a_title_with_nothing_seen_yet_has_neutral_rates_not_an_error():
    empty = {k: None for k in ROW} | {"title_id": "t", "hours_since_launch": 0.0, "production_cost": 5.0}
    v = dict(zip(features.FEATURES, features.vector(empty)))
    assert v["hook_rate"] == 0 and v["viewers_late_share"] == 0.5 and math.isfinite(v["log_hours"])


def test_the_model_kept_as_json_scores_as_the_fitted_regressions():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    rng = np.random.default_rng(3)
    x = rng.normal(size=(300, len(features.FEATURES)))
    labels = {"pays_back": (x[:, 5] + rng.normal(size=300) > 0.5).tolist(), "hit": (x[:, 5] > 1.5).tolist()}
    forecast = Forecast(train(x.tolist(), labels, [1, 2], "test", 0.5))
    scaler = StandardScaler().fit(x)
    for label in LABELS:
        fitted = LogisticRegression(C=0.3, max_iter=5000).fit(scaler.transform(x), labels[label])
        assert forecast.probabilities(x[:5].tolist())[label] == pytest.approx(
            fitted.predict_proba(scaler.transform(x[:5]))[:, 1])
    p = forecast.probabilities(x.tolist())["pays_back"]
    assert np.corrcoef(p, x[:, 5])[0, 1] > 0.8                      # it learnt the feature that matters


def test_a_model_built_for_other_features_is_refused_with_the_fix():
    spec = train(np.eye(len(features.FEATURES)).tolist() * 2, {"pays_back": [True, False] * len(features.FEATURES),
                                                               "hit": [False, True] * len(features.FEATURES)},
                 [1], "test", 0.5)
    spec["features"] = spec["features"][:-1]
    with pytest.raises(ValueError, match="make forecast-model"):
        Forecast(spec)
