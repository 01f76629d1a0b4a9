"""The Faust app and its agents: events from Kafka → metrics in ClickHouse."""
