"""A deterministic short-drama market: titles, campaigns, viewers, sessions, paywall, ads.

`World(seed, start, users_per_day).stream()` yields Emission(topic, key, value, emit_time) in
emission order. The same seed, start and parameters give the same stream, byte for byte,
whatever the pace it is consumed at: everything random comes from one seeded generator,
drawn in emission order. Fault injection (duplicates, late, out-of-order, malformed) is part
of the stream and seeded too. See simulator/CALIBRATION.md for the figures it reproduces.
"""
from __future__ import annotations

import heapq
import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterator, NamedTuple

import orjson

from producer import key_of
from schemas.events import EVENT_TYPES
from simulator import calibration as cal

TROPES = (  # (trope, genre, adaptation)
    ("billionaire_heiress", "romance", "localized"), ("marriage_before_love", "romance", "native"),
    ("werewolf_romance", "fantasy", "western"), ("vampire_romance", "fantasy", "western"),
    ("inheritance_war", "drama", "localized"), ("cinderella_revenge", "revenge", "native"),
    ("white_house_romance", "romance", "localized"), ("wall_street_revenge", "revenge", "localized"),
    ("hidden_ceo", "romance", "native"), ("mafia_bride", "romance", "western"),
    ("second_chance_mom", "family", "localized"), ("alpha_king", "fantasy", "western"),
)
ALLOWED_LATENESS_S = 3600
MONEY_EVENTS = frozenset(("purchase", "ad_impression", "teaser_impression"))     # a slate title's truth
RELEASE_TO_LAUNCH = timedelta(minutes=30)        # script_created → title_launched


class Emission(NamedTuple):
    topic: str
    key: bytes | None
    value: bytes
    emit_time: datetime
    event_type: str          # "" for a malformed message

    def line(self) -> bytes:
        """The message as a line of `--file` NDJSON (what streams.load reads): topic, key, and the
        value as text, or as hex when it is not UTF-8 (a malformed message)."""
        record = {"topic": self.topic, "key": self.key.decode() if self.key else None}
        try:
            record["value"] = self.value.decode()
        except UnicodeDecodeError:
            record["value_hex"] = self.value.hex()
        return orjson.dumps(record) + b"\n"


@dataclass(frozen=True)
class Cohort:
    """One sampled day of a long horizon: its newcomers only (arriving over `days`), followed through
    their whole life; `catalog` emits the titles (once per horizon); the hit is `hit_age_days` old,
    its popularity decayed by exp(-age / HIT_POPULARITY_DAYS). Ids carry the label, titles do not."""
    label: str
    hit_age_days: float
    catalog: bool = False
    days: float = 1.0


@dataclass(frozen=True)
class Faults:
    duplicates: float = 0.0     # share of events sent twice (same event_id, same bytes)
    late: float = 0.0           # share held back beyond ALLOWED_LATENESS (counted as late)
    out_of_order: float = 0.0   # share held back up to ten minutes (still counted)
    malformed: float = 0.0      # malformed messages added, per event


NAME_OPENERS = ("The Billionaire's", "My Secret", "The Runaway", "Reborn as the", "The CEO's", "Married to the",
                "The Hidden", "Revenge of the", "The Alpha's", "Falling for the", "The Lost", "Divorced by the")
NAME_ENDINGS = ("Contract Bride", "Twin Heirs", "Luna", "Substitute Wife", "Forbidden Heir", "Last Chance",
                "Midnight Deal", "Second Marriage", "Fated Mate", "Crown Princess", "Bodyguard", "Cinderella")


def title_name(title_id: str, parent_name: str = "") -> str:
    """A plausible name for a title, the same for the same id (its own RNG: the world's stream is
    untouched, so calibration does not move); a derived title is its parent's sequel."""
    rng = random.Random(title_id)
    if parent_name:
        return f"{parent_name}: {rng.choice(('The Return', 'Part Two', 'Reborn', 'The Revenge', 'New Blood'))}"[:200]
    return f"{rng.choice(NAME_OPENERS)} {rng.choice(NAME_ENDINGS)}"


@dataclass
class Title:
    title_id: str
    trope: str
    genre: str
    adaptation: str
    origin: str
    episodes: int
    weight: float
    hit: bool = False
    parent_title_id: str = ""
    appeal: float = 1.0                      # latent, never sent: a slate title's draw from APPEAL_SIGMA
    slate: bool = False                      # launched during the run (the release slate)
    marketing: float = 1.0                   # its share of the teaser budget, × (0: paid acquisition stopped)
    reached: int = 0                         # the organic installs its shares have brought (word of mouth)
    signal_id: str = ""
    name: str = ""
    launched_at: datetime | None = None      # a sequel's launch; None: the catalog's, on air from the start

    def __post_init__(self):
        self.name = self.name or title_name(self.title_id)


@dataclass
class User:
    user_id: str
    gender: str
    age_band: str
    country: str
    pay_propensity: float
    money: float                          # ad revenue multiplier by country
    coins: int = 0
    subscribed_until: datetime | None = None
    progress: dict = field(default_factory=dict)    # title_id → last episode watched
    unlocked: set = field(default_factory=set)      # (title_id, episode)
    payer: bool = False
    sessions_left: int = 1


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def pick(rng: random.Random, weighted) -> str:
    names, weights = zip(*weighted)
    return rng.choices(names, weights)[0]


def studio_marketing(p_payback: float | None, p_hit: float | None, hit_threshold: float) -> float:
    """The studio's rule: a likely hit (P(hit) at the model's threshold) or a likely payer
    (P(pays back) ≥ STUDIO_BOOST_ABOVE) gets STUDIO_BOOST × its share of the teaser budget; a likely
    loss (P(pays back) < STUDIO_STOP_BELOW) gets none; anything else keeps its share."""
    likely_hit = p_hit is not None and p_hit >= hit_threshold
    if likely_hit or (p_payback is not None and p_payback >= cal.STUDIO_BOOST_ABOVE):
        return cal.STUDIO_BOOST
    if p_payback is not None and p_payback < cal.STUDIO_STOP_BELOW:
        return 0.0
    return 1.0


class World:
    def __init__(self, seed: int = 7, start: datetime | None = None, users_per_day: float = 2000.0,
                 titles: int = 12, faults: Faults = Faults(), app_id: str = "reelshort-like",
                 cohort: Cohort | None = None, slate_per_day: float = cal.SLATE_PER_DAY,
                 slate_until: datetime | None = None):
        self.rng = random.Random(seed)
        self.seed = seed
        self.cohort = cohort
        self.start = (start or datetime(2026, 1, 5, tzinfo=timezone.utc)).astimezone(timezone.utc)
        # Event and user ids name the seed and the start: the same run gives the same ids, and a world
        # started again later (a relaunched demo) never repeats the ids of the one before it, which
        # the worker's de-duplication would drop as resent.
        self.ids = f"sim{seed}-{self.start:%Y%m%dT%H%M%S}" + (f"-{cohort.label}" if cohort else "")
        self.users_per_day = users_per_day
        self.faults = faults
        self.app_id = app_id
        self._queue: list = []
        self._seq = itertools.count()
        self._ids = itertools.count()
        self.now = self.start
        self.users: list[User] = []
        self.titles = self._catalog(titles)
        if cohort is not None:                          # the same catalog, this cohort's own draws
            self.rng = random.Random(f"{seed}-{cohort.label}")
            self.titles[0].weight *= math.exp(-cohort.hit_age_days / cal.HIT_POPULARITY_DAYS)
        self.sequels: dict[str, datetime] = {}          # parent title_id → when its newest sequel was made
        self.slate_per_day = slate_per_day
        self.slate_until = slate_until                  # no launches after this (an evaluation's slate)
        self.slate_titles: dict[str, Title] = {}
        # The slate's own draws (when titles launch, their appeal, trope, origin, length): the same slate
        # whatever the studio does with it, so a run with the forecast on and one with it off compare.
        self.slate_rng = random.Random(f"{seed}-slate")
        self.steered = False                            # the studio moved teaser budget (answer_forecast)
        self.outcomes: dict[str, list[float]] = {}      # slate title_id → [revenue, teaser spend, first day's revenue]
        self.app_money = [0.0, 0.0]                     # with a slate: every title's revenue and teaser spend
        self.audience_scale = self._audience_scale()

    # --- the catalog and the audience scale -----------------------------------------------------
    def _catalog(self, count: int) -> list[Title]:
        """`count` titles; the first is the hit (human-shot). Origins hold the industry's mix at any
        catalog size: round(62%) `ai`, at least one human-shot title besides the hit, the rest `hybrid`."""
        ai = round(cal.ORIGINS[0][1] * count)
        human = max(1, round(cal.ORIGINS[1][1] * count) - 1)
        origins = ["ai"] * ai + ["human"] * human + ["hybrid"] * max(0, count - 1 - ai - human)
        self.rng.shuffle(origins)
        titles = []
        for n in range(count):
            trope, genre, adaptation = TROPES[n % len(TROPES)]
            hit = n == 0
            titles.append(Title(f"sim{self.seed}-t{n}", trope, genre, adaptation,
                                "human" if hit else origins[n - 1], self.rng.randint(60, 100),
                                weight=6.0 if hit else 1.0 / (1 + n) ** 0.6, hit=hit))
        return titles

    @staticmethod
    def human_episode_cost() -> float:
        actors = cal.HUMAN_EPISODE_CAST * cal.HUMAN_EPISODE_ACTOR_DAYS * cal.ACTOR_DAY_RATE_USD
        return actors + cal.HUMAN_EPISODE_OTHER_USD

    def _virtual(self, title: Title, episode: int) -> bool:
        return title.origin == "ai" or (title.origin == "hybrid" and episode % 2 == 0)

    def _real_cost(self, title: Title, episode: int) -> float:
        if title.hit:
            return cal.HIT_TITLE_COST_USD / title.episodes
        if not self._virtual(title, episode):
            return self.human_episode_cost()
        return cal.VIRTUAL_ACTOR_EPISODE_USD * (cal.SEQUEL_COST_SHARE if title.parent_title_id else 1.0)

    def _audience_scale(self) -> float:
        """The simulated audience's share of the audience the catalog's real costs are made for.

        Production costs are real (US$50k a virtual-actor episode); the audience is a sample.
        At the full audience (this one ÷ the scale), teaser spend is 70% of expenditure."""
        paid_users_per_day = self.users_per_day * self.paid_share
        cpi = cal.TEASER_CPM_USD / 1000 / (cal.TEASER_CTR * cal.INSTALL_PER_CLICK)
        spend_per_day = paid_users_per_day * cpi
        catalog_cost = sum(self._real_cost(t, e) for t in self.titles for e in range(1, t.episodes + 1))
        production_per_day = spend_per_day * (1 - cal.MARKETING_SHARE) / cal.MARKETING_SHARE
        return production_per_day * cal.AMORTIZATION_DAYS / catalog_cost

    paid_share = 0.65   # paid installs among all installs

    def _next_viral(self, after: datetime) -> datetime:
        return after + timedelta(hours=cal.VIRAL_EVERY_HOURS * self.rng.uniform(0.5, 1.5))

    # --- the queue: (emit time, seq, kind, payload) -----------------------------------------
    def _push(self, at: datetime, kind: str, payload) -> None:
        heapq.heappush(self._queue, (at, next(self._seq), kind, payload))

    def _event(self, cls_name: str, at: datetime, **fields) -> None:
        event = {"event_id": f"{self.ids}-{next(self._ids):010d}", "event_type": cls_name,
                 "event_time": rfc3339(at), "schema_version": 1, "app_id": self.app_id, **fields}
        self._push(at, "event", event)

    def stream(self, until: datetime | None = None) -> Iterator[Emission]:
        """Emissions in order, up to `until` in simulated time (forever when None)."""
        if self.cohort is None or self.cohort.catalog:
            self._push(self.start - timedelta(days=2), "catalog", None)
        if self.slate_per_day and self.cohort is None:
            self._push(self._next_launch(self.start), "slate", None)
        self._push(self.start, "arrival", None)
        self._push(self._next_viral(self.start), "viral", None)
        last_arrival = self.start + timedelta(days=self.cohort.days) if self.cohort else None
        while self._queue:
            at, _, kind, payload = heapq.heappop(self._queue)
            if until is not None and at > until and kind != "again":
                continue  # past the end: only events that happened before it, held back by a fault, still go
            self.now = max(self.now, at)
            if kind == "event":
                if self.outcomes and payload["event_type"] in MONEY_EVENTS:
                    if payload["event_type"] == "teaser_impression":
                        self.app_money[1] += payload["cost_usd"]
                    else:
                        self.app_money[0] += payload.get("amount_usd", payload.get("revenue_usd", 0.0))
                    if payload.get("title_id") in self.outcomes:
                        self._count_money(self.outcomes[payload["title_id"]], payload["event_type"], at, payload)
                yield from self._emit(at, payload)
            elif kind == "bytes":
                yield Emission(*payload, at, "")
            elif kind == "again":
                yield payload._replace(emit_time=at)
            elif kind == "catalog":
                for title in self.titles:
                    self._release(title, at + timedelta(hours=self.rng.uniform(0, 24)))
            elif kind == "arrival":
                if last_arrival is not None and at >= last_arrival:
                    continue
                self._arrival(at)
                gap = self.rng.expovariate(self.users_per_day / 86400)
                self._push(at + timedelta(seconds=gap), "arrival", None)
            elif kind == "session":
                self._session(payload, at)
            elif kind == "viral":                   # a teaser takes off: a burst of organic installs for one title
                if last_arrival is not None and at >= last_arrival:
                    continue
                title = self.rng.choice(self._on_air(at)[1:])  # the hit's own audience would drown a burst
                for _ in range(max(cal.VIRAL_MIN_USERS, round(cal.VIRAL_SHARE_OF_DAY * self.users_per_day))):
                    self._push(at + timedelta(minutes=self.rng.uniform(0, cal.VIRAL_MINUTES)), "viral_arrival", title)
                self._push(self._next_viral(at), "viral", None)
            elif kind == "viral_arrival":
                self._arrival(at, payload)
            elif kind == "slate":                   # a new original title: its script now, its launch 30 minutes on
                if self.slate_until is not None and at >= self.slate_until:
                    continue
                self._new_title(at)
                self._push(self._next_launch(at), "slate", None)

    def _emit(self, at: datetime, event: dict) -> Iterator[Emission]:
        cls = EVENT_TYPES[event["event_type"]]
        value = orjson.dumps(event)
        emission = Emission(cls.TOPIC, key_of(event, cls.TOPIC), value, at, event["event_type"])
        f, roll = self.faults, self.rng.random()
        content = cls.TOPIC == "drama.content"
        if not content and roll < f.late:
            self._push(at + timedelta(seconds=ALLOWED_LATENESS_S + self.rng.uniform(1800, 3600)), "again", emission)
            return
        if not content and roll < f.late + f.out_of_order:
            self._push(at + timedelta(seconds=self.rng.uniform(1, 600)), "again", emission)
            return
        yield emission
        if roll > 1 - f.duplicates:
            self._push(at + timedelta(seconds=self.rng.uniform(1, 120)), "again", emission)
        if self.rng.random() < f.malformed:
            self._push(at + timedelta(milliseconds=1), "bytes", self._malformed(event, cls.TOPIC))

    def _malformed(self, event: dict, topic: str) -> tuple:
        """One message that breaks a rule of events-v1, a different rule each time."""
        kind = self.rng.randrange(8)
        bad = {**event, "event_id": event["event_id"] + "-bad"}
        if kind == 0:
            return topic, None, b"\xff\xfe not json"
        if kind == 1:
            return topic, None, orjson.dumps([bad])
        if kind == 2:
            bad["schema_version"] = 2
        elif kind == 3:
            bad["event_type"] = "episode_teleport"
        elif kind == 4:
            topic = "drama.ads" if topic != "drama.ads" else "drama.viewing"
        elif kind == 5:
            bad.pop("app_id")
        elif kind == 6:
            bad["app_id"] = 42
        else:
            bad["event_time"] = bad["event_time"][:19]          # no zone
        return topic, None, orjson.dumps(bad)

    # --- create: scripts, episodes, launches -------------------------------------------------
    def _release(self, title: Title, at: datetime) -> None:
        extras = {"sim_audience_scale": self.audience_scale}
        if title.parent_title_id:
            extras.update(parent_title_id=title.parent_title_id, signal_id=title.signal_id)
        self._event("script_created", at, title_id=title.title_id, trope=title.trope, genre=title.genre,
                    origin=title.origin, adaptation=title.adaptation, title_name=title.name, **extras)
        for episode in range(1, title.episodes + 1):
            self._event("episode_released", at + timedelta(minutes=10, seconds=episode), title_id=title.title_id,
                        episode=episode, production_cost_usd=round(self._real_cost(title, episode), 2),
                        virtual_actors=self._virtual(title, episode))
        self._event("title_launched", at + RELEASE_TO_LAUNCH, title_id=title.title_id,
                    episodes_total=title.episodes, free_episodes=cal.FREE_EPISODES)

    def answer_signal(self, parent_title_id: str, signal_id: str) -> Title | None:
        """The studio's answer to a re-create signal: a sequel of the parent, launched soon, unless
        the parent got one, or was itself made, in the last STUDIO_REPEAT_DAYS (then None: the
        signal is noted; a new sequel's first rush of viewers is not a reason for another).

        A sequel is what the study calls cheap: an AI-originated script on the parent's world and
        virtual cast, storyboarded with AI, so an episode costs SEQUEL_COST_SHARE of a new one. Its
        origin keeps the studio's slate at the industry's AI share (ORIGINS): `ai` while titles
        are below it, `hybrid` (AI-originated, human-curated) otherwise."""
        parent = next((t for t in self.titles if t.title_id == parent_title_id), self.titles[0])
        last = self.sequels.get(parent.title_id)
        if last is not None and self.now - last < timedelta(days=cal.STUDIO_REPEAT_DAYS):
            return None
        self.sequels[parent.title_id] = self.now
        ai_share = sum(t.origin == "ai" for t in self.titles) / len(self.titles)
        title_id = f"{parent.title_id}-d{len(self.titles)}"
        title = Title(title_id, parent.trope, parent.genre, parent.adaptation,
                      "ai" if ai_share < cal.ORIGINS[0][1] else "hybrid", self.rng.randint(*cal.SEQUEL_EPISODES),
                      weight=cal.SEQUEL_WEIGHT, parent_title_id=parent.title_id, signal_id=signal_id,
                      name=title_name(title_id, parent.name))
        title.launched_at = self.now + timedelta(seconds=30) + RELEASE_TO_LAUNCH
        self.titles.append(title)
        self.sequels[title.title_id] = self.now
        self._release(title, self.now + timedelta(seconds=30))
        return title

    # --- the release slate: new originals, each with a latent appeal -------------------------------
    def _next_launch(self, after: datetime) -> datetime:
        return after + timedelta(seconds=self.slate_rng.expovariate(self.slate_per_day / 86400))

    def _new_title(self, at: datetime) -> Title:
        """A new original: origin in the industry's mix, 60-100 episodes, appeal from a lognormal of
        mean 1 (APPEAL_SIGMA). Its draw is SLATE_WEIGHT × appeal, fading over SLATE_NOVELTY_DAYS."""
        rng = self.slate_rng
        appeal = rng.lognormvariate(-cal.APPEAL_SIGMA ** 2 / 2, cal.APPEAL_SIGMA)
        title_id = f"{self.ids}-n{len(self.titles)}"
        trope, genre, adaptation = TROPES[rng.randrange(len(TROPES))]
        title = Title(title_id, trope, genre, adaptation, pick(rng, cal.ORIGINS), rng.randint(60, 100),
                      weight=cal.SLATE_WEIGHT * appeal, appeal=appeal, slate=True)
        title.launched_at = at + RELEASE_TO_LAUNCH
        self.titles.append(title)
        self.outcomes[title_id] = [0.0, 0.0, 0.0]
        self.slate_titles[title_id] = title
        self._release(title, at)
        return title

    def _count_money(self, money: list, event_type: str, at: datetime, fields: dict) -> None:
        """A slate title's revenue and teaser spend in its first TRUTH_DAYS (the truth, never sent)."""
        title = self.slate_titles[fields["title_id"]]
        if at - title.launched_at >= timedelta(days=cal.TRUTH_DAYS):
            return
        if event_type == "teaser_impression":
            money[1] += fields["cost_usd"]
            return
        amount = fields.get("amount_usd", fields.get("revenue_usd", 0.0))
        money[0] += amount
        if at - title.launched_at < timedelta(days=1):
            money[2] += amount

    def truth(self, until: datetime) -> list[dict]:
        """Each slate title's outcome, at the full audience: its first TRUTH_DAYS' revenue against its
        production cost plus its teaser spend. `complete` is False for a title launched less than
        TRUTH_DAYS before `until`. The truth stays on the simulator's side: only the evaluation reads it."""
        out = []
        for title in self.titles:
            if not title.slate:
                continue
            revenue, spend, first_day = self.outcomes[title.title_id]
            cost = sum(self._real_cost(title, e) for e in range(1, title.episodes + 1))
            revenue_full, spend_full = revenue / self.audience_scale, spend / self.audience_scale
            out.append({"title_id": title.title_id, "launched_at": rfc3339(title.launched_at), "origin": title.origin,
                        "appeal": round(title.appeal, 4), "production_cost_usd": round(cost, 2),
                        "teaser_spend_full_usd": round(spend_full, 2), "revenue_30d_full_usd": round(revenue_full, 2),
                        "revenue_24h_full_usd": round(first_day / self.audience_scale, 2),
                        "pays_back": revenue_full >= cost + spend_full,
                        "hit": revenue_full >= 10 * (cost + spend_full),
                        "complete": until - title.launched_at >= timedelta(days=cal.TRUTH_DAYS)})
        return out

    # --- distribute: teasers, clicks, installs ----------------------------------------------
    def _arrival(self, at: datetime, viral: Title | None = None) -> None:
        """A new user: bought by a teaser (paid_share) or organic; `viral`: organic, for that title."""
        rng = self.rng
        gender, age, country = pick(rng, cal.GENDERS), pick(rng, cal.AGE_BANDS), pick(rng, cal.COUNTRIES)
        money = 1.0 if country == "US" else cal.NON_US_MONEY_MULTIPLIER
        propensity = cal.BASE_PAY_RATE * money * (
            cal.FEMALE_45PLUS_PAY_MULTIPLIER if gender == "female" and age in ("45-54", "55+") else 1.0)
        user = User(f"{self.ids}-u{len(self.users)}", gender, age, country, propensity, money,
                    sessions_left=1 + int(rng.expovariate(1 / (cal.SESSIONS_PER_USER_MEAN - 1))))
        self.users.append(user)
        title = viral or self._popular_title(at)
        install_at = at
        if viral is None and rng.random() < self.paid_share:
            if self.steered:            # the teaser budget follows the studio's forecast: so do the users it buys
                title = self._paid_title(at)
            install_at = self._funnel(user, title, at)
        self._event("user_profile", install_at + timedelta(seconds=1), user_id=user.user_id, gender=gender,
                    age_band=age, country=country)
        self._push(install_at + timedelta(seconds=rng.uniform(5, 60)), "session", (user, title.title_id))

    def _funnel(self, user: User, title: Title, at: datetime) -> datetime:
        """The teaser impressions, views and clicks that bought this install; returns its time."""
        rng = self.rng
        channel = pick(rng, cal.CHANNELS)
        campaign = f"{title.title_id}-{channel}"
        per_install = 1 / (cal.TEASER_CTR * cal.INSTALL_PER_CLICK)
        impressions = max(1, round(rng.expovariate(1 / per_install)))
        t = at - timedelta(seconds=impressions * 2)
        base = dict(title_id=title.title_id, channel=channel, campaign_id=campaign)
        for n in range(impressions):
            t += timedelta(seconds=rng.uniform(0.5, 3.5))
            prospect = user.user_id if n == impressions - 1 else f"{user.user_id}-p{n}"
            self._event("teaser_impression", t, user_id=prospect, cost_usd=cal.TEASER_CPM_USD / 1000, **base)
            if rng.random() < cal.TEASER_VIEW_RATE:
                hook = rng.random() < cal.HOOK_RATE / cal.TEASER_VIEW_RATE * title.appeal ** cal.APPEAL_HOOK
                self._event("teaser_view", t + timedelta(milliseconds=200), user_id=prospect,
                            watch_ms=rng.randint(3000, 30000) if hook else rng.randint(200, 2999), **base)
            # clicks that did not end in an install: CTR × (1 − installs per click) of impressions
            if n < impressions - 1 and rng.random() < cal.TEASER_CTR * (1 - cal.INSTALL_PER_CLICK):
                self._event("teaser_click", t + timedelta(seconds=3), user_id=prospect, **base)
        self._event("teaser_click", t + timedelta(seconds=3), user_id=user.user_id, **base)
        self._event("install", t + timedelta(seconds=20), user_id=user.user_id, **base)
        return t + timedelta(seconds=20)

    def _on_air(self, at: datetime) -> list[Title]:
        """The titles a viewer can find at `at`: a sequel only from its launch."""
        return [t for t in self.titles if t.launched_at is None or t.launched_at <= at]

    def _popular_title(self, at: datetime) -> Title:
        titles = self._on_air(at)
        return self.rng.choices(titles, [self._draw(t, at) for t in titles])[0]

    def _paid_title(self, at: datetime) -> Title:
        titles = self._on_air(at)
        return self.rng.choices(titles, [self._draw(t, at) * t.marketing for t in titles])[0]

    def answer_forecast(self, title_id: str, p_payback: float | None, p_hit: float | None,
                        hit_threshold: float) -> float | None:
        """The studio's answer to a forecast of a new title (a `hit_forecast` signal, or a score in
        title_forecasts): the title's teaser budget (studio_marketing). The paid installs it no longer
        buys go to the other titles by their draw × budget, so the total budget stays what it was.
        The new budget, or None for a title it does not know."""
        title = self.slate_titles.get(title_id)
        if title is None:
            return None
        title.marketing = studio_marketing(p_payback, p_hit, hit_threshold)
        self.steered = self.steered or title.marketing != 1.0
        return title.marketing

    @staticmethod
    def _draw(title: Title, at: datetime) -> float:
        if not title.slate:
            return title.weight
        return title.weight * math.exp(-(at - title.launched_at).total_seconds() / 86400 / cal.SLATE_NOVELTY_DAYS)

    # --- feedback: a viewing session -----------------------------------------------------------
    def _session(self, payload, at: datetime) -> None:
        user, title_id = payload
        rng = self.rng
        title = next(t for t in self.titles if t.title_id == title_id)
        if user.progress.get(title_id, 0) >= title.episodes:
            title = self._popular_title(at)
        episode = user.progress.get(title.title_id, 0) + 1
        t = at
        ids = dict(user_id=user.user_id, title_id=title.title_id)
        session_id = f"{user.user_id}-s{user.sessions_left}"
        watched = 0
        leave = title.appeal ** -cal.APPEAL_BINGE       # 1 for the catalog: its stream is unchanged
        while episode <= title.episodes:
            if not self._unlock(user, title, episode, t):
                break
            t += timedelta(seconds=1)
            startup = int(rng.lognormvariate(math.log(cal.STARTUP_MS_MEDIAN), 0.5))
            self._event("episode_start", t, episode=episode, session_id=session_id, startup_ms=startup, **ids)
            length = rng.uniform(*cal.EPISODE_SECONDS)
            rebuffer = rng.randint(200, 4000) if rng.random() < cal.REBUFFER_CHANCE else 0
            t += timedelta(milliseconds=startup)
            if rng.random() < cal.EXIT_INSIDE_EPISODE * (2.0 if episode == 1 else 1.0) * leave:
                position = round(rng.uniform(1, length), 3)
                t += timedelta(seconds=position, milliseconds=rebuffer)
                self._event("episode_exit", t, episode=episode, session_id=session_id, position_s=position,
                            rebuffer_ms=rebuffer, **ids)
                break
            t += timedelta(seconds=length, milliseconds=rebuffer)
            self._event("episode_complete", t, episode=episode, session_id=session_id, watch_s=round(length, 3),
                        rebuffer_ms=rebuffer, **ids)
            self._feedback(user, title, episode, t)
            user.progress[title.title_id] = episode
            watched += 1
            if watched % cal.INTERSTITIAL_EVERY == 0 and not self._subscribed(user, t):
                self._ad(user, title, "interstitial", t + timedelta(seconds=1))
                t += timedelta(seconds=16)
            episode += 1
            if rng.random() > 1 - (1 - cal.NEXT_EPISODE_RATE) * leave:
                break
        user.sessions_left -= 1
        if user.sessions_left > 0:
            gap = rng.expovariate(1 / (cal.DAYS_BETWEEN_SESSIONS * 86400))
            next_title = title.title_id if rng.random() < 0.7 else self._popular_title(t).title_id
            self._push(t + timedelta(seconds=gap), "session", (user, next_title))

    def _subscribed(self, user: User, t: datetime) -> bool:
        return user.subscribed_until is not None and user.subscribed_until > t

    def _unlock(self, user: User, title: Title, episode: int, t: datetime) -> bool:
        """Free, already unlocked, or the paywall: coins, a subscription, a rewarded ad, or leave."""
        if episode <= cal.FREE_EPISODES or (title.title_id, episode) in user.unlocked:
            return True
        rng = self.rng
        ids = dict(user_id=user.user_id, title_id=title.title_id)
        if self._subscribed(user, t):
            self._event("episode_unlocked", t, episode=episode, method="subscription", coins_spent=0, **ids)
        else:
            self._event("paywall_shown", t, episode=episode, **ids)
            pays = rng.random() < (0.75 if user.payer else user.pay_propensity * title.appeal ** cal.APPEAL_PAY)
            if pays and user.coins < cal.UNLOCK_COINS and pick(rng, cal.PAY_METHODS) == "subscription":
                weekly = rng.random() < cal.WEEKLY_SUB_SHARE
                amount = cal.WEEKLY_SUB_USD if weekly else cal.YEARLY_SUB_USD
                self._event("purchase", t + timedelta(seconds=5), product="weekly_sub" if weekly else "yearly_sub",
                            amount_usd=amount, coins=0, **ids)
                user.subscribed_until = t + timedelta(days=7 if weekly else 365)
                user.payer = True
                self._event("episode_unlocked", t + timedelta(seconds=6), episode=episode, method="subscription",
                            coins_spent=0, **ids)
            elif pays:
                if user.coins < cal.UNLOCK_COINS:
                    price, coins = rng.choices(cal.COIN_PACKS, (0.6, 0.3, 0.1))[0]
                    self._event("purchase", t + timedelta(seconds=5), product="coins_pack", amount_usd=price,
                                coins=coins, **ids)
                    user.coins += coins
                    user.payer = True
                user.coins -= cal.UNLOCK_COINS
                self._event("episode_unlocked", t + timedelta(seconds=6), episode=episode, method="coins",
                            coins_spent=cal.UNLOCK_COINS, **ids)
            elif rng.random() < cal.REWARDED_AD_SHARE:
                self._ad(user, title, "rewarded", t + timedelta(seconds=2))
                self._event("episode_unlocked", t + timedelta(seconds=32), episode=episode, method="rewarded_ad",
                            coins_spent=0, **ids)
            else:
                return False
        user.unlocked.add((title.title_id, episode))
        return True

    def _ad(self, user: User, title: Title, placement: str, t: datetime) -> None:
        ids = dict(user_id=user.user_id, title_id=title.title_id)
        revenue = round(cal.ECPM_USD[placement] / 1000 * user.money, 6)
        self._event("ad_impression", t, placement=placement, revenue_usd=revenue, **ids)
        if self.rng.random() < 0.01:
            self._event("ad_click", t + timedelta(seconds=3), placement=placement, **ids)

    def _feedback(self, user: User, title: Title, episode: int, t: datetime) -> None:
        rng = self.rng
        ids = dict(user_id=user.user_id, title_id=title.title_id, episode=episode)
        boost = (1.5 if title.hit or title.parent_title_id else 1.0) * title.appeal ** cal.APPEAL_FEEDBACK
        for etype, rate in (("like", cal.LIKE_RATE), ("share", cal.SHARE_RATE), ("comment", cal.COMMENT_RATE)):
            if rng.random() < rate * boost:
                self._event(etype, t + timedelta(seconds=rng.uniform(0.1, 1)), **ids)
                if etype == "share" and title.slate:
                    self._word_of_mouth(title, t)
        if rng.random() < cal.RATING_RATE:
            stars = rng.choices((1, 2, 3, 4, 5), (1, 1, 2, 4, 6))[0]
            self._event("rating", t + timedelta(seconds=1), stars=stars, **ids)

    def _word_of_mouth(self, title: Title, t: datetime) -> None:
        """A share of a slate title brings organic installs for it, later: WORD_OF_MOUTH ×
        appeal^APPEAL_WOM on average (a geometric count), times the share of the title's market
        (WOM_MARKET_DAYS of new users) its word of mouth has not reached yet (Bass diffusion)."""
        rng = self.rng
        untouched = 1 - title.reached / (cal.WOM_MARKET_DAYS * self.users_per_day)
        mean = cal.WORD_OF_MOUTH * title.appeal ** cal.APPEAL_WOM * untouched
        if mean <= 0:
            return
        count = int(rng.expovariate(math.log1p(1 / mean)))     # geometric, of mean `mean`
        title.reached += count
        for _ in range(count):
            self._push(t + timedelta(minutes=rng.uniform(5, 720)), "viral_arrival", title)
