"""A TCP proxy that a test controls, to cut a client off the network as a partition would.

    client ──► 127.0.0.1:listen_port ──Proxy──► 127.0.0.1:target_port (Kafka's PROXIED listener)

`cut()` makes it a black hole: bytes already sent are dropped and new connections are accepted
and never answered, so the client's requests time out, as on a partitioned host (not the quick
refusal of a host that is down). `heal()` resets every connection held during the cut and
forwards new ones again. Runs its own event loop in a thread; `close()` stops it.
"""
from __future__ import annotations

import asyncio
import socket
import struct
import threading

CHUNK = 64 * 1024


class Proxy:
    def __init__(self, listen_port: int, target_port: int, host: str = "127.0.0.1"):
        self.host, self.listen_port, self.target_port = host, listen_port, target_port
        self.is_cut = False
        self.connections = 0                  # accepted in all
        self.held: set[asyncio.StreamWriter] = set()
        self.loop = asyncio.new_event_loop()
        self.server: asyncio.AbstractServer | None = None
        self.thread = threading.Thread(target=self.loop.run_forever, name="proxy", daemon=True)
        self.thread.start()
        self._call(self._start())

    def _call(self, coroutine, timeout: float = 10.0):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _start(self) -> None:
        self.server = await asyncio.start_server(self._serve, self.host, self.listen_port, reuse_address=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self.held.add(writer)
        upstream_writer = None
        try:
            if self.is_cut:
                await reader.read()           # a black hole: nothing goes through, until healed
                return
            upstream_reader, upstream_writer = await asyncio.open_connection(self.host, self.target_port)
            self.held.add(upstream_writer)
            await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))
        except OSError:
            pass
        finally:
            for w in (writer, upstream_writer):
                if w is not None:
                    self.held.discard(w)
                    w.close()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(CHUNK):
                if self.is_cut:
                    continue                  # dropped, as a partition drops packets
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()

    def cut(self) -> None:
        self.is_cut = True

    def heal(self) -> None:
        """Reset what was held during the cut (its bytes are gone), then forward again."""
        async def reset():
            for writer in list(self.held):
                sock = writer.get_extra_info("socket")
                if sock is not None:          # RST, not FIN: as a connection that timed out
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                writer.close()
            self.held.clear()
            self.is_cut = False
        self._call(reset())

    def close(self) -> None:
        async def stop():
            self.server.close()
            for writer in list(self.held):
                writer.close()
        self._call(stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
