"""The event contract (../shared/spec/events-v1.md) in code."""
