"""One example per event type, built from the records: schemas/README.md shows these."""
from __future__ import annotations

from schemas import events as ev

ENVELOPE = dict(event_time="2026-01-05T12:00:00.250Z", app_id="reelshort-like", user_id="u-1042", title_id="t-7")
CONTENT = dict(event_time="2026-01-05T09:00:00Z", app_id="reelshort-like", title_id="t-7")

EXAMPLES = [
    ev.ScriptCreated(event_id="e-01", **CONTENT, trope="billionaire_heiress", genre="romance", origin="ai",
                     adaptation="localized"),
    ev.EpisodeReleased(event_id="e-02", **CONTENT, episode=6, production_cost_usd=50000.0, virtual_actors=True),
    ev.TitleLaunched(event_id="e-03", **CONTENT, episodes_total=80, free_episodes=5),
    ev.TeaserImpression(event_id="e-04", **ENVELOPE, channel="tiktok", campaign_id="c-7-tt", cost_usd=0.018),
    ev.TeaserView(event_id="e-05", **ENVELOPE, channel="tiktok", campaign_id="c-7-tt", watch_ms=4200),
    ev.TeaserClick(event_id="e-06", **ENVELOPE, channel="tiktok", campaign_id="c-7-tt"),
    ev.Install(event_id="e-07", **ENVELOPE, channel="tiktok", campaign_id="c-7-tt"),
    ev.EpisodeStart(event_id="e-08", **ENVELOPE, episode=1, session_id="s-1", startup_ms=640),
    ev.EpisodeComplete(event_id="e-09", **ENVELOPE, episode=1, session_id="s-1", watch_s=92.5, rebuffer_ms=0),
    ev.EpisodeExit(event_id="e-10", **ENVELOPE, episode=2, session_id="s-1", position_s=31.2, rebuffer_ms=800),
    ev.PaywallShown(event_id="e-11", **ENVELOPE, episode=6),
    ev.EpisodeUnlocked(event_id="e-12", **ENVELOPE, episode=6, method="coins", coins_spent=60),
    ev.Purchase(event_id="e-13", **ENVELOPE, product="coins_pack", amount_usd=4.99, coins=500),
    ev.AdImpression(event_id="e-14", **ENVELOPE, placement="rewarded", revenue_usd=0.014),
    ev.AdClick(event_id="e-15", **ENVELOPE, placement="rewarded"),
    ev.Like(event_id="e-16", **ENVELOPE, episode=3),
    ev.Share(event_id="e-17", **ENVELOPE, episode=3),
    ev.Comment(event_id="e-18", **ENVELOPE, episode=3),
    ev.Rating(event_id="e-19", **ENVELOPE, episode=3, stars=5),
    ev.UserProfile(event_id="e-20", event_time="2026-01-05T11:59:00Z", app_id="reelshort-like", user_id="u-1042",
                   gender="female", age_band="45-54", country="US"),
]
