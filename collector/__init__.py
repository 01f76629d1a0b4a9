"""The HTTP collector: events-v1 over HTTP for apps that cannot speak Kafka (`python -m collector`)."""
