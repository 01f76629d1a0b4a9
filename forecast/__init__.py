"""Which new titles will pay back (issue 23; metrics-v1.md, `title_forecasts`): an early forecast
from a title's first hours of feedback, scored live and evaluated on titles it never saw.

    warehouse (title features over the first hours) ──► model ──► title_forecasts, hit_forecast signals
                                                          ▲
    forecast.metrics: precision and recall of the top decile, AUC, Brier, lead time, and the two
    baselines it must beat (Szabo–Huberman's log-linear extrapolation, hook rate alone)
"""


def seeds(text: str) -> list[int]:
    """A seed list as the command lines take it: "201-205", "1,4,9" or both ("101-103,110")."""
    out = []
    for part in text.split(","):
        low, _, high = part.partition("-")
        out += list(range(int(low), int(high or low) + 1))
    return out
