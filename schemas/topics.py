"""The contract's topic names (events-v1.md). Which event type goes to which topic is declared
by each record in schemas/events.py (`topic=`), the single place it is said."""

CONTENT = "drama.content"
DISTRIBUTION = "drama.distribution"
VIEWING = "drama.viewing"
PAYWALL = "drama.paywall"
ADS = "drama.ads"
ENGAGEMENT = "drama.engagement"
USERS = "drama.users"
SIGNALS = "drama.signals"
DLQ = "drama.dlq"

INPUT_TOPICS = (CONTENT, DISTRIBUTION, VIEWING, PAYWALL, ADS, ENGAGEMENT, USERS)
PLATFORM_TOPICS = (SIGNALS, DLQ)
ALL_TOPICS = INPUT_TOPICS + PLATFORM_TOPICS
