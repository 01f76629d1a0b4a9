"""The contract's topics and which event types belong to each (events-v1.md)."""

CONTENT = "drama.content"
DISTRIBUTION = "drama.distribution"
VIEWING = "drama.viewing"
PAYWALL = "drama.paywall"
ADS = "drama.ads"
ENGAGEMENT = "drama.engagement"
USERS = "drama.users"
SIGNALS = "drama.signals"
DLQ = "drama.dlq"

EVENT_TYPES_BY_TOPIC = {
    CONTENT: ("script_created", "episode_released", "title_launched"),
    DISTRIBUTION: ("teaser_impression", "teaser_view", "teaser_click", "install"),
    VIEWING: ("episode_start", "episode_complete", "episode_exit"),
    PAYWALL: ("paywall_shown", "episode_unlocked", "purchase"),
    ADS: ("ad_impression", "ad_click"),
    ENGAGEMENT: ("like", "share", "comment", "rating"),
    USERS: ("user_profile",),
}
TOPIC_OF_EVENT_TYPE = {etype: topic for topic, types in EVENT_TYPES_BY_TOPIC.items() for etype in types}

INPUT_TOPICS = tuple(EVENT_TYPES_BY_TOPIC)
PLATFORM_TOPICS = (SIGNALS, DLQ)
ALL_TOPICS = INPUT_TOPICS + PLATFORM_TOPICS
