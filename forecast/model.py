"""The hit forecast's model: two logistic regressions (scikit-learn) on forecast.features.FEATURES,
standardized: P(pays back) and P(hit). Kept as JSON (forecast/model.json: the scaler, the
coefficients, the training seeds, a version), built by `make forecast-model` from a fixed seed
list; scored by scikit-learn from those numbers.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from forecast.features import FEATURES

MODEL = Path(__file__).resolve().parent / "model.json"
LABELS = ("pays_back", "hit")
C = 0.3                          # inverse regularization: few training titles, many features


class Forecast:
    """P(pays back) and P(hit) for feature vectors."""

    def __init__(self, spec: dict):
        from sklearn.linear_model import LogisticRegression
        from sklearn.preprocessing import StandardScaler
        if spec["features"] != list(FEATURES):
            raise ValueError("forecast/model.json was built for other features: run `make forecast-model`")
        self.spec = spec
        self.version = spec["version"]
        self.threshold = spec["hit_threshold"]
        self.scaler = StandardScaler()
        self.scaler.mean_, self.scaler.scale_ = np.array(spec["mean"]), np.array(spec["scale"])
        self.scaler.n_features_in_ = len(FEATURES)
        self.models = {}
        for label in LABELS:
            if spec[label] is None:         # no training title carried the label: not scored
                continue
            model = LogisticRegression()
            model.classes_ = np.array([0, 1])
            model.coef_ = np.array([spec[label]["coef"]])
            model.intercept_ = np.array([spec[label]["intercept"]])
            model.n_features_in_ = len(FEATURES)
            self.models[label] = model

    def probabilities(self, vectors: list[list[float]]) -> dict[str, np.ndarray]:
        """label → P(label) per vector, for each label the model was trained on (spec[label] not None)."""
        x = self.scaler.transform(np.asarray(vectors, dtype=float))
        return {label: model.predict_proba(x)[:, 1] for label, model in self.models.items()}

    def scores(self, vectors: list[list[float]]) -> list[tuple[float | None, float | None]]:
        """(P(pays back), P(hit)) per vector; None for a label the model was not trained on."""
        p = self.probabilities(vectors)
        return [tuple(float(p[label][n]) if label in p else None for label in LABELS) for n in range(len(vectors))]

    @classmethod
    def load(cls, path: Path = MODEL) -> "Forecast":
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing: `make forecast-model` builds it")
        return cls(json.loads(path.read_text()))


def train(vectors: list[list[float]], labels: dict[str, list[bool]], seeds: list[int], version: str,
          hit_threshold: float) -> dict:
    """Fit both regressions; the model's JSON spec."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler
    x = np.asarray(vectors, dtype=float)
    scaler = StandardScaler().fit(x)
    scaler.scale_[scaler.scale_ == 0] = 1.0
    spec = {"version": version, "features": list(FEATURES), "training_seeds": seeds, "samples": len(x),
            "hit_threshold": hit_threshold, "mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}
    for label in LABELS:
        y = np.asarray(labels[label], dtype=int)
        if y.min() == y.max():          # a regression cannot be fitted: the label is left unscored
            spec[label] = None
            continue
        model = LogisticRegression(C=C, max_iter=5000)
        model.fit(scaler.transform(x), y)
        spec[label] = {"coef": model.coef_[0].tolist(), "intercept": float(model.intercept_[0]),
                       "positives": int(y.sum())}
    return spec
