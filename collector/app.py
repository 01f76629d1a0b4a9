"""POST /v1/events: a JSON array or NDJSON of events → validated → Kafka, answered per event.

    200  every event has an outcome: "accepted" (Kafka acknowledged it) or "rejected" (reason)
    400  the body is not a JSON array / NDJSON, or the content type is not JSON
    401  COLLECTOR_TOKEN is set and the request does not carry it (`Authorization: Bearer <token>`)
    408  the body took longer than COLLECTOR_BODY_TIMEOUT_S to arrive (a slow-drip client)
    413  the body is larger than COLLECTOR_MAX_BODY_BYTES or holds more than COLLECTOR_MAX_EVENTS
    429  more events are in flight than COLLECTOR_MAX_IN_FLIGHT: retry after Retry-After seconds
    503  Kafka did not acknowledge some events in time: those are "failed", retry them

An event is "accepted" only once Kafka acknowledged it (acks=all, idempotent producer). A
rejected event also goes to drama.dlq with its bytes and reason (source_topic "http"), so bad
input has the same dead-letter path as on Kafka. The OpenAPI description is collector/openapi.yaml,
served at /openapi.yaml.
"""
from __future__ import annotations

import asyncio
import hmac
import logging
from pathlib import Path

import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from infra.settings import Settings, load
from producer import key_of
from schemas.topics import DLQ
from schemas.validate import MAX_MESSAGE_BYTES, Accepted, validate

OPENAPI = Path(__file__).resolve().parent / "openapi.yaml"
SEND_TIMEOUT_SECONDS = 10.0
JSON_TYPES = ("application/json", "application/x-ndjson", "application/jsonl", "application/ndjson")
log = logging.getLogger(__name__)


def split_body(body: bytes, content_type: str) -> list[bytes]:
    """The body's events as separate JSON texts; ValueError with a message for people."""
    text = body.strip()
    if content_type == "application/json" or text.startswith(b"["):
        try:
            items = orjson.loads(text)
        except orjson.JSONDecodeError as error:
            raise ValueError(f"the body is not valid JSON ({error}); send a JSON array of events, or NDJSON") from None
        if not isinstance(items, list):
            raise ValueError("the body must be a JSON array of event objects (or NDJSON, one event per line)")
        return [orjson.dumps(item) for item in items]
    return [line for line in text.split(b"\n") if line.strip()]


class Collector:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.in_flight = 0
        self.producer: AIOKafkaProducer | None = None
        self._starting = asyncio.Lock()

    async def kafka(self) -> AIOKafkaProducer:
        """The producer, started on first use so the collector comes up even while Kafka is down."""
        async with self._starting:
            if self.producer is None:
                producer = AIOKafkaProducer(bootstrap_servers=self.settings.kafka_bootstrap, acks="all",
                                            enable_idempotence=True, linger_ms=5, request_timeout_ms=5000,
                                            client_id="drama-collector")
                try:
                    await asyncio.wait_for(producer.start(), SEND_TIMEOUT_SECONDS)
                except (KafkaError, OSError, asyncio.TimeoutError):
                    await producer.stop()
                    raise
                self.producer = producer
            return self.producer

    async def close(self, _app=None) -> None:
        if self.producer is not None:
            await self.producer.stop()

    async def send(self, items: list[tuple[str, bytes | None, bytes, list]]) -> list[Exception | None]:
        """Send (topic, key, value, headers) and wait for Kafka's acknowledgement of each."""
        try:
            producer = await self.kafka()
            futures = [await producer.send(self.settings.topic(topic), value=value, key=key, headers=headers)
                       for topic, key, value, headers in items]
        except (KafkaError, OSError, asyncio.TimeoutError) as error:
            return [error] * len(items)
        results = await asyncio.wait_for(asyncio.gather(*futures, return_exceptions=True), SEND_TIMEOUT_SECONDS + 30)
        return [r if isinstance(r, BaseException) else None for r in results]

    async def post_events(self, request: web.Request) -> web.Response:
        s = self.settings
        if s.collector_token:
            given = request.headers.get("Authorization", "")
            if not hmac.compare_digest(given.encode(), f"Bearer {s.collector_token}".encode()):
                return problem(401, "this collector asks for a token: send `Authorization: Bearer <token>` "
                                    "with the value of its COLLECTOR_TOKEN", headers={"WWW-Authenticate": "Bearer"})
        content_type = request.content_type or "application/json"
        if content_type not in JSON_TYPES:
            return problem(400, f"Content-Type {content_type} is not accepted; use application/json (an array) "
                                "or application/x-ndjson (one event per line)")
        if request.content_length is not None and request.content_length > s.collector_max_body_bytes:
            return problem(413, f"the body is {request.content_length} bytes; at most {s.collector_max_body_bytes} "
                                "are accepted per request: split it")
        try:
            body = await asyncio.wait_for(self.read_body(request), s.collector_body_timeout_s)
        except asyncio.TimeoutError:
            return problem(408, f"the body took over {s.collector_body_timeout_s}s to arrive; send it at once")
        if body is None:
            return problem(413, f"the body is over {s.collector_max_body_bytes} bytes: split it")
        try:
            raws = split_body(body, content_type)
        except ValueError as error:
            return problem(400, str(error))
        if len(raws) > s.collector_max_events:
            return problem(413, f"{len(raws)} events in one request; at most {s.collector_max_events}: split it")
        if self.in_flight + len(raws) > s.collector_max_in_flight:
            return problem(429, "the collector is at capacity; retry after the Retry-After delay", retry_after=1)
        self.in_flight += len(raws)
        try:
            return await self._collect(raws)
        finally:
            self.in_flight -= len(raws)

    async def read_body(self, request: web.Request) -> bytes | None:
        """The whole body, or None as soon as it is over the size limit."""
        body = bytearray()
        while chunk := await request.content.read(64 * 1024):
            body += chunk
            if len(body) > self.settings.collector_max_body_bytes:
                return None
        return bytes(body)

    async def _collect(self, raws: list[bytes]) -> web.Response:
        results, outgoing, slots = [], [], []
        for index, raw in enumerate(raws):
            verdict = validate(raw, None)
            if isinstance(verdict, Accepted):
                results.append({"index": index, "event_id": verdict.event["event_id"], "status": "accepted"})
                outgoing.append((verdict.topic, key_of(verdict.event, verdict.topic), raw, []))
            else:
                results.append({"index": index, "status": "rejected", "reason": verdict.reason,
                                "detail": verdict.detail})
                # cut to 64 KiB as on Kafka (events-v1): a dead letter always fits the producer
                headers = [("source_topic", b"http"), ("reason", verdict.reason.encode()),
                           ("detail", verdict.detail.encode())]
                outgoing.append((DLQ, None, raw[:MAX_MESSAGE_BYTES], headers))
            slots.append(index)
        errors = await self.send(outgoing)
        failed = 0
        for index, error in zip(slots, errors):
            if error is not None:
                failed += 1
                results[index] = {**results[index], "status": "failed",
                                  "error": f"Kafka did not acknowledge: {error!r}"}
        summary = {"accepted": sum(r["status"] == "accepted" for r in results),
                   "rejected": sum(r["status"] == "rejected" for r in results), "failed": failed, "results": results}
        if failed:
            return web.json_response(summary, status=503, headers={"Retry-After": "5"}, dumps=_dumps)
        return web.json_response(summary, dumps=_dumps)


def _dumps(value) -> str:
    return orjson.dumps(value).decode()


def problem(status: int, message: str, retry_after: int | None = None, headers: dict | None = None) -> web.Response:
    headers = {**(headers or {}), **({"Retry-After": str(retry_after)} if retry_after else {})}
    return web.json_response({"error": message}, status=status, headers=headers or None)


def make_app(settings: Settings | None = None) -> web.Application:
    settings = settings or load()
    collector = Collector(settings)
    app = web.Application(client_max_size=settings.collector_max_body_bytes + 1024)
    app.router.add_post("/v1/events", collector.post_events)
    app.router.add_get("/health", lambda _: web.json_response({"status": "ok"}))
    app.router.add_get("/openapi.yaml", lambda _: web.FileResponse(OPENAPI))
    app.on_cleanup.append(collector.close)
    app["collector"] = collector
    return app
