"""titles (metrics-v1.md): the name script_created sent (the title_id when it sent none), and real-world
money beside a sampled audience (title_roi)."""
from __future__ import annotations

from datetime import datetime, timezone

import orjson
from kafka import KafkaProducer

from schemas.topics import ADS, CONTENT, PAYWALL
from tests.conftest import wait_for
from warehouse.client import connect


def script_created(run_id: str, title: str, **extra) -> dict:
    return {"event_id": f"{run_id}-{title}", "event_type": "script_created", "schema_version": 1,
            "event_time": datetime.now(timezone.utc).isoformat(), "app_id": "names", "title_id": title,
            "trope": "hidden_heiress", "genre": "romance", "origin": "ai", **extra}


def test_titles_show_the_name_sent_and_fall_back_to_the_id(worker, worker_clickhouse, run_id):
    clickhouse = worker_clickhouse
    named, unnamed, too_long = (f"names-{run_id}-{k}" for k in ("named", "unnamed", "long"))
    events = [script_created(run_id, named, title_name="The Heiress Returns"),
              script_created(run_id, unnamed),
              script_created(run_id, too_long, title_name="x" * 201)]
    producer = KafkaProducer(bootstrap_servers=worker.kafka_bootstrap, acks="all")
    for event in events:
        producer.send(worker.topic(CONTENT), key=event["title_id"].encode(), value=orjson.dumps(event))
    producer.flush()
    producer.close()

    def names():
        return dict(clickhouse.execute("SELECT title_id, title_name FROM titles WHERE title_id IN %(ids)s",
                                       {"ids": (named, unnamed, too_long)}))

    assert wait_for(names, {named: "The Heiress Returns", unnamed: unnamed}) == \
        {named: "The Heiress Returns", unnamed: unnamed}
    def rejected():
        return clickhouse.execute("SELECT reason, detail FROM events_rejected WHERE position(raw, %(id)s) > 0",
                                  {"id": too_long})

    wait_for(lambda: bool(rejected()), True, timeout=30)
    rejected = rejected()
    assert [reason for reason, _ in rejected] == ["invalid_field"], rejected
    assert "title_name" in rejected[0][1]


def test_title_roi_puts_a_sampled_audience_s_revenue_beside_the_real_cost(pipeline, run_id):
    """The simulator's money end to end: real production costs, a sample of the audience
    (sim_audience_scale), and title_roi's ROI at the full audience; a real app's title (no scale)
    and a scale that is not a positive number keep revenue ÷ cost."""
    settings = pipeline()
    now = datetime.now(timezone.utc).isoformat()
    sampled, plain, odd = (f"roi-{run_id}-{k}" for k in ("sampled", "plain", "odd"))

    def event(n: int, etype: str, title: str, **fields) -> dict:
        return {"event_id": f"{run_id}-roi-{n}", "event_type": etype, "schema_version": 1, "event_time": now,
                "app_id": "roi", "title_id": title, **fields}

    content = [script_created(f"{run_id}-s", sampled, sim_audience_scale=0.05),
               script_created(f"{run_id}-p", plain), script_created(f"{run_id}-o", odd, sim_audience_scale="big"),
               *(event(n, "episode_released", sampled, episode=n, production_cost_usd=50_000.0, virtual_actors=True)
                 for n in (1, 2)),
               event(3, "episode_released", plain, episode=1, production_cost_usd=100.0, virtual_actors=False),
               event(4, "episode_released", odd, episode=1, production_cost_usd=100.0, virtual_actors=False)]
    money = [(PAYWALL, event(5, "purchase", sampled, user_id="u1", product="coins_pack", amount_usd=9.99, coins=500)),
             (ADS, event(6, "ad_impression", sampled, user_id="u1", placement="rewarded", revenue_usd=0.5)),
             (PAYWALL, event(7, "purchase", plain, user_id="u2", product="weekly_sub", amount_usd=20.0, coins=0)),
             (PAYWALL, event(8, "purchase", odd, user_id="u3", product="weekly_sub", amount_usd=20.0, coins=0))]
    producer = KafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    for e in content:
        producer.send(settings.topic(CONTENT), key=e["title_id"].encode(), value=orjson.dumps(e))
    for topic, e in money:
        producer.send(settings.topic(topic), key=e["user_id"].encode(), value=orjson.dumps(e))
    producer.flush()
    producer.close()
    clickhouse = connect(settings)

    def roi():
        return {t: (round(cost, 6), round(revenue, 6), scale, round(full, 6), round(r, 9)) for t, cost, revenue, scale,
                full, r in clickhouse.execute("SELECT title_id, production_cost_usd, revenue_usd, audience_scale, "
                                              "revenue_full_audience_usd, roi FROM title_roi")}

    expected = {sampled: (100_000.0, 10.49, 0.05, 209.8, 0.002098),      # 10.49 ÷ 0.05 ÷ 100,000
                plain: (100.0, 20.0, 1.0, 20.0, 0.2), odd: (100.0, 20.0, 1.0, 20.0, 0.2)}
    assert wait_for(roi, expected, timeout=60) == expected
