"""`python -m collector`: serve POST /v1/events on COLLECTOR_HOST:COLLECTOR_PORT (loopback by default)."""
import logging

from aiohttp import web

from collector.app import make_app
from infra.settings import load

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load()
    web.run_app(make_app(settings), host=settings.collector_host, port=settings.collector_port)
