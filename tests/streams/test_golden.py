"""The golden set (../shared/golden/v1) replayed into the real stack: every row, every column."""
from tests import golden
from warehouse.client import connect


def test_the_golden_replay_matches_expected_exactly(pipeline):
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    assert golden.differences(client) == []


def ratio(num: float, den: float):
    return None if den == 0 else num / den


def test_kpi_views_are_ratios_of_sums_not_averages_of_ratios(pipeline):
    settings = pipeline()
    client = connect(settings)
    golden.replay(settings, client)
    want = golden.expected()
    sums: dict = {}
    for row in want["title_metrics_1m"]:
        day = sums.setdefault(row["title_id"], {})
        for column, value in row.items():
            if isinstance(value, (int, float)):
                day[column] = day.get(column, 0) + value
    found = {r[0]: r[1:] for r in client.execute(
        "SELECT title_id, completion_rate, hook_rate, roas, rebuffer_ms_sum_ratio FROM "
        "(SELECT title_id, completion_rate, hook_rate, roas, rebuffer_ratio AS rebuffer_ms_sum_ratio FROM title_kpis_1d)")}
    for title, s in sums.items():
        expected = (ratio(s["episode_completes"], s["episode_starts"]), ratio(s["hook_views"], s["teaser_impressions"]),
                    ratio(s["iap_revenue_usd"] + s["ad_revenue_usd"], s["ad_spend_usd"]),
                    ratio(s["rebuffer_ms_sum"], 1000 * s["watch_seconds"] + s["rebuffer_ms_sum"]))
        assert all(golden._same(a, b) for a, b in zip(found[title], expected)), (title, found[title], expected)
    revenue = {t: s["iap_revenue_usd"] + s["ad_revenue_usd"] for t, s in sums.items()}
    for title_id, roi in client.execute("SELECT title_id, roi FROM title_roi"):
        cost = next(t["production_cost_usd"] for t in want["titles"] if t["title_id"] == title_id)
        assert golden._same(roi, revenue.get(title_id, 0.0) / cost)
    assert len(client.execute("SELECT * FROM cultural_discount")) == 1
