"""Every event type of events-v1.md as a typed record: the single source of truth in code.

A record's annotations are the contract: its type, whether it may be absent (`Optional`), and
its constraints (`Annotated[..., Range(...)]`, `Literal[...]`). The validator
(schemas/validate.py), the JSON Schema files (schemas/jsonschema/) and the simulator's
event builders all read them from here.

    EpisodeStart(event_id="e-1", event_time="2026-01-05T12:00:00Z", app_id="reel",
                 user_id="u-1", title_id="t-1", episode=1, session_id="s-1", startup_ms=420).to_dict()
"""
from __future__ import annotations

from dataclasses import MISSING, asdict, dataclass, fields
from typing import Annotated, ClassVar, Literal, Optional, get_args, get_origin, get_type_hints

from schemas import topics


@dataclass(frozen=True)
class Range:
    """Bounds on a number (`minimum`, `maximum`, `exclusive_minimum`) or a string's length."""
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    min_length: int | None = None
    max_length: int | None = None
    pattern: str | None = None


# --- the contract's value types (events-v1.md, "Bounds") ---------------------------------
# Every value fits what the warehouse stores: no sum, window or column a metric uses can overflow.
MAX_EPISODES = 10_000
MAX_MS = 86_400_000            # one day
MAX_SECONDS = 86_400
MAX_COINS = 1_000_000_000
MAX_USD = 10_000_000
Text = Annotated[str, Range(min_length=1, max_length=128)]    # ids: app, user, title, session, campaign …
Label = Annotated[str, Range(min_length=1, max_length=200)]   # trope, genre
EventId = Annotated[str, Range(min_length=1, max_length=64)]
TitleName = Annotated[str, Range(min_length=1, max_length=200)]   # the title as audiences see it
Timestamp = Annotated[str, Range(pattern="rfc3339")]          # RFC 3339 with a zone, checked last
Episode = Annotated[int, Range(minimum=1, maximum=MAX_EPISODES)]
Episodes = Annotated[int, Range(minimum=0, maximum=MAX_EPISODES)]
Millis = Annotated[int, Range(minimum=0, maximum=MAX_MS)]
Coins = Annotated[int, Range(minimum=0, maximum=MAX_COINS)]
Seconds = Annotated[float, Range(minimum=0, maximum=MAX_SECONDS)]
Usd = Annotated[float, Range(minimum=0, maximum=MAX_USD)]
PositiveUsd = Annotated[float, Range(minimum=0, exclusive_minimum=True, maximum=MAX_USD)]
Stars = Annotated[int, Range(minimum=1, maximum=5)]
Country = Annotated[str, Range(pattern="^[A-Z]{2}$")]
Channel = Literal["tiktok", "instagram", "youtube", "facebook", "other"]
Origin = Literal["ai", "human", "hybrid"]
Adaptation = Literal["native", "localized", "western"]
UnlockMethod = Literal["coins", "subscription", "rewarded_ad"]
Product = Literal["coins_pack", "weekly_sub", "yearly_sub"]
Placement = Literal["rewarded", "interstitial", "banner"]
Gender = Literal["female", "male", "other", "unknown"]
AgeBand = Literal["18-24", "25-34", "35-44", "45-54", "55+", "unknown"]

SCHEMA_VERSION = 1
EVENT_TYPES: dict[str, type["Event"]] = {}


@dataclass(frozen=True, kw_only=True)
class Event:
    """The envelope every event carries."""
    TYPE: ClassVar[str] = ""
    TOPIC: ClassVar[str] = ""

    event_id: EventId
    event_time: Timestamp
    app_id: Text
    user_id: Text
    title_id: Text
    schema_version: Literal[1] = SCHEMA_VERSION

    def __init_subclass__(cls, type: str = "", topic: str = "", **kwargs):
        super().__init_subclass__(**kwargs)
        if type:
            cls.TYPE, cls.TOPIC = type, topic
            EVENT_TYPES[type] = cls

    def to_dict(self) -> dict:
        """The wire object: event_type included, absent optional fields left out."""
        body = {k: v for k, v in asdict(self).items() if v is not None}
        return {"event_id": body.pop("event_id"), "event_type": self.TYPE, **body}


# --- drama.content: create and re-create --------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class ContentEvent(Event):
    user_id: Optional[Text] = None


@dataclass(frozen=True, kw_only=True)
class ScriptCreated(ContentEvent, type="script_created", topic=topics.CONTENT):
    trope: Label
    genre: Label
    origin: Origin
    title_name: Optional[TitleName] = None
    adaptation: Optional[Adaptation] = None
    parent_title_id: Optional[Text] = None
    signal_id: Optional[Text] = None


@dataclass(frozen=True, kw_only=True)
class EpisodeReleased(ContentEvent, type="episode_released", topic=topics.CONTENT):
    episode: Episode
    production_cost_usd: Usd
    virtual_actors: bool


@dataclass(frozen=True, kw_only=True)
class TitleLaunched(ContentEvent, type="title_launched", topic=topics.CONTENT):
    episodes_total: Episode
    free_episodes: Episodes


# --- drama.distribution: teasers and paid acquisition -------------------------------------
@dataclass(frozen=True, kw_only=True)
class TeaserImpression(Event, type="teaser_impression", topic=topics.DISTRIBUTION):
    channel: Channel
    campaign_id: Text
    cost_usd: Usd


@dataclass(frozen=True, kw_only=True)
class TeaserView(Event, type="teaser_view", topic=topics.DISTRIBUTION):
    channel: Channel
    campaign_id: Text
    watch_ms: Millis


@dataclass(frozen=True, kw_only=True)
class TeaserClick(Event, type="teaser_click", topic=topics.DISTRIBUTION):
    channel: Channel
    campaign_id: Text


@dataclass(frozen=True, kw_only=True)
class Install(Event, type="install", topic=topics.DISTRIBUTION):
    channel: Channel
    campaign_id: Text


# --- drama.viewing: playback ---------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class EpisodeStart(Event, type="episode_start", topic=topics.VIEWING):
    episode: Episode
    session_id: Text
    startup_ms: Millis


@dataclass(frozen=True, kw_only=True)
class EpisodeComplete(Event, type="episode_complete", topic=topics.VIEWING):
    episode: Episode
    session_id: Text
    watch_s: Seconds
    rebuffer_ms: Millis


@dataclass(frozen=True, kw_only=True)
class EpisodeExit(Event, type="episode_exit", topic=topics.VIEWING):
    episode: Episode
    session_id: Text
    position_s: Seconds
    rebuffer_ms: Millis


# --- drama.paywall: unlocks and money ------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class PaywallShown(Event, type="paywall_shown", topic=topics.PAYWALL):
    episode: Episode


@dataclass(frozen=True, kw_only=True)
class EpisodeUnlocked(Event, type="episode_unlocked", topic=topics.PAYWALL):
    episode: Episode
    method: UnlockMethod
    coins_spent: Coins          # 0 unless method is "coins" (checked by the validator)


@dataclass(frozen=True, kw_only=True)
class Purchase(Event, type="purchase", topic=topics.PAYWALL):
    product: Product
    amount_usd: PositiveUsd
    coins: Coins                # coins credited; 0 for subscriptions (checked by the validator)


# --- drama.ads: ad monetization ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class AdImpression(Event, type="ad_impression", topic=topics.ADS):
    placement: Placement
    revenue_usd: Usd


@dataclass(frozen=True, kw_only=True)
class AdClick(Event, type="ad_click", topic=topics.ADS):
    placement: Placement


# --- drama.engagement: feedback ------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class Like(Event, type="like", topic=topics.ENGAGEMENT):
    episode: Episode


@dataclass(frozen=True, kw_only=True)
class Share(Event, type="share", topic=topics.ENGAGEMENT):
    episode: Episode


@dataclass(frozen=True, kw_only=True)
class Comment(Event, type="comment", topic=topics.ENGAGEMENT):
    episode: Episode


@dataclass(frozen=True, kw_only=True)
class Rating(Event, type="rating", topic=topics.ENGAGEMENT):
    episode: Episode
    stars: Stars


# --- drama.users: profiles -----------------------------------------------------------------
@dataclass(frozen=True, kw_only=True)
class UserProfile(Event, type="user_profile", topic=topics.USERS):
    title_id: Optional[Text] = None
    gender: Gender
    age_band: AgeBand
    country: Country


# --- reading the annotations ---------------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    """One field of one event type, as the validator and the JSON Schema see it."""
    name: str
    kind: type                   # str, int, float (any JSON number) or bool
    required: bool
    choices: tuple = ()
    bounds: Range = Range()


def _spec(name: str, hint, has_default: bool) -> FieldSpec:
    required = not has_default
    if get_origin(hint) is Optional or (get_origin(hint) is not None and type(None) in get_args(hint)):
        hint = next(arg for arg in get_args(hint) if arg is not type(None))
        required = False
    bounds = Range()
    if get_origin(hint) is Annotated:
        hint, bounds = get_args(hint)[0], get_args(hint)[1]
    if get_origin(hint) is Literal:
        choices = get_args(hint)
        return FieldSpec(name, type(choices[0]), required, choices, bounds)
    return FieldSpec(name, hint, required, (), bounds)


def field_specs(event_class: type[Event]) -> tuple[FieldSpec, ...]:
    hints = get_type_hints(event_class, include_extras=True)
    specs = [_spec(f.name, hints[f.name], f.default is not MISSING and f.name != "schema_version")
             for f in fields(event_class)]
    return tuple(specs)
