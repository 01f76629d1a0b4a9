"""How good a forecast of "pays back" or "is a hit" is, on titles it never saw, and the two
baselines it must beat at 24 h (issue 23). Pure functions over per-title arrays; scikit-learn
computes AUC and Brier.

- **Top decile**: the ceil(n / 10) titles scored highest (ties by the order given), what share of
  them carry the label (precision) and what share of the labelled titles they hold (recall): the
  titles a studio would back.
- **Lead time**: how many hours after launch the forecast first ranks the eventual hit in the top
  decile (None: never within the horizons scored).
- **Szabo–Huberman (2010)**: popularity late is popularity early times a constant, with lognormal
  noise: ln R_T = ln r_t + β_t + ε, ε ~ N(0, σ_t²). β and σ are fitted on training titles;
  P(R_T ≥ c) = Φ((ln r_t + β − ln c) / σ).
- **Hook rate alone**: a logistic regression on the teaser hook rate.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

EPSILON_USD = 0.01           # a title with no revenue yet: ln of a cent, not of zero


def top_decile(scores: Sequence[float], labels: Sequence[bool]) -> tuple[float, float]:
    """(precision, recall) of the top decile by score; recall is nan when no title carries the label."""
    scores, labels = np.asarray(scores, dtype=float), np.asarray(labels, dtype=bool)
    if len(scores) == 0:
        raise ValueError("no titles to rank")
    k = math.ceil(len(scores) / 10)
    top = np.argsort(-scores, kind="stable")[:k]
    hits = int(labels[top].sum())
    positives = int(labels.sum())
    return hits / k, (hits / positives if positives else float("nan"))


def auc(scores: Sequence[float], labels: Sequence[bool]) -> float:
    """The area under the ROC curve; nan when the titles are all of one class."""
    from sklearn.metrics import roc_auc_score
    labels = np.asarray(labels, dtype=bool)
    if labels.all() or not labels.any():
        return float("nan")
    return float(roc_auc_score(labels, np.asarray(scores, dtype=float)))


def brier(probabilities: Sequence[float], labels: Sequence[bool]) -> float:
    """The mean squared gap between each probability and its outcome (0 is perfect; always 0.5 scores 0.25)."""
    from sklearn.metrics import brier_score_loss
    return float(brier_score_loss(np.asarray(labels, dtype=int), np.asarray(probabilities, dtype=float)))


def lead_time_hours(scores_by_hour: Mapping[float, Mapping[str, float]], title_id: str) -> float | None:
    """The first horizon (hours since launch) at which `title_id` ranks in the top decile of that
    horizon's scores, or None."""
    for hours in sorted(scores_by_hour):
        scored = scores_by_hour[hours]
        if title_id not in scored:
            continue
        titles = list(scored)
        precision_rank = np.argsort(-np.asarray([scored[t] for t in titles], dtype=float), kind="stable")
        top = {titles[i] for i in precision_rank[:math.ceil(len(titles) / 10)]}
        if title_id in top:
            return hours
    return None


class SzaboHuberman:
    """The log-linear extrapolation of early revenue: fitted on training titles' revenue at the
    horizon and at 30 days, it gives each new title P(revenue at 30 days ≥ its threshold)."""

    def fit(self, early_usd: Sequence[float], final_usd: Sequence[float]) -> SzaboHuberman:
        gap = np.log(np.maximum(final_usd, EPSILON_USD)) - np.log(np.maximum(early_usd, EPSILON_USD))
        if len(gap) < 2:
            raise ValueError("Szabo–Huberman needs at least two training titles")
        self.beta, self.sigma = float(gap.mean()), float(max(gap.std(ddof=1), 1e-6))
        return self

    def predict_log(self, early_usd: Sequence[float]) -> np.ndarray:
        return np.log(np.maximum(early_usd, EPSILON_USD)) + self.beta

    def probability(self, early_usd: Sequence[float], threshold_usd: Sequence[float]) -> np.ndarray:
        from scipy.stats import norm
        z = (self.predict_log(early_usd) - np.log(np.maximum(threshold_usd, EPSILON_USD))) / self.sigma
        return norm.cdf(z)


class HookRateOnly:
    """P(label) from the teaser hook rate alone: a logistic regression on that one feature."""

    def fit(self, hook_rates: Sequence[float], labels: Sequence[bool]) -> HookRateOnly:
        from sklearn.linear_model import LogisticRegression
        labels = np.asarray(labels, dtype=int)
        self.constant = None
        if labels.min() == labels.max():          # one class in training: its rate, for every title
            self.constant = float(labels[0])
            return self
        self.model = LogisticRegression().fit(np.asarray(hook_rates, dtype=float).reshape(-1, 1), labels)
        return self

    def probability(self, hook_rates: Sequence[float]) -> np.ndarray:
        x = np.asarray(hook_rates, dtype=float).reshape(-1, 1)
        if self.constant is not None:
            return np.full(len(x), self.constant)
        return self.model.predict_proba(x)[:, 1]
