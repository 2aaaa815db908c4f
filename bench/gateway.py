"""The benchmark's gateway: 7moor's answer encoded once, served as bytes on every call.

A scenario must time the client, not the server. ``moor7.testing.FakeGateway`` is built
for behaviour (signatures, nonces, the quota, faults, a record of every call), and it
serializes its answer anew on every call: about 55 ms of a 5,000-number pool's call on
this machine, a fixed cost that both sides of a ratio paid and that diluted every ratio
``docs/performance.md`` used to quote. 7moor's gateway, from the client's side, is a
socket that sends bytes; so is this one:

- each answer (the envelope around the pool, as ``FakeGateway`` writes it) is encoded
  to bytes once, when the pool is chosen, with the HTTP head in front;
- a request is read with a minimal HTTP/1.1 parser on a bare ``asyncio.Protocol``
  (keep-alive, ``Content-Length`` bodies: what aiohttp sends), its ``m7-*`` signature
  checked (an HMAC, a few microseconds), and the bytes written back.

It runs in a child process (``python -m bench.perf --serve``) so that its work does
not share the benchmark's event loop. ``tests/test_bench.py`` checks that it serves the
data ``FakeGateway`` serves and refuses a bad signature as it does.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Mapping
from typing import Any

NUMBER_POOL_PATH = "/openapi/v1/call/query/number"

__all__ = ["NUMBER_POOL_PATH", "EncodedGateway", "encode_answer", "serve_forever"]


def _response(status: int, reason: str, body: bytes) -> bytes:
    head = (
        f"HTTP/1.1 {status} {reason}\r\n"
        "Content-Type: application/json; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        f"Date: {email.utils.formatdate(time.time(), usegmt=True)}\r\n"
        "\r\n"
    )
    return head.encode("latin-1") + body


def encode_answer(data: Any, *, request_id: str = "bench0000000000000000000000000001") -> bytes:
    """The whole HTTP answer carrying *data*: status line, headers and 7moor's envelope.

    The envelope has ``FakeGateway``'s shape: ``success``, ``code``, ``message``,
    ``data``, and a ``requestInfo`` with the request id, the path, the echoed headers
    and the span, fixed at encoding time (a client reads only the request id).
    """
    now_ms = int(time.time() * 1000)
    envelope = {
        "success": True,
        "code": "200",
        "message": "requestSuccess",
        "data": data,
        "requestInfo": {
            "requestId": request_id,
            "url": NUMBER_POOL_PATH,
            "body": {},
            "headers": {"content-type": "application/json", "traceId": request_id},
            "span": {"requestStartTime": now_ms, "reqEndTime": now_ms, "bizSpan": "0ms"},
        },
    }
    return _response(200, "OK", json.dumps(envelope, ensure_ascii=False).encode())


def _rejection(status: int, code: str, message: str) -> bytes:
    envelope = {"success": False, "code": code, "message": message}
    return _response(status, "Error", json.dumps(envelope, ensure_ascii=False).encode())


_UNAUTHORIZED = _rejection(401, "401", "签名错误 invalid m7-sign")
_NOT_FOUND = _rejection(404, "404", "not found")


class EncodedGateway:
    """Serves :attr:`answer` (bytes from :func:`encode_answer`) for the number pool.

    Args:
        accounts: appkey to secret key; a request whose ``m7-sign`` does not match is
            refused with 401, as ``FakeGateway`` refuses it.
    """

    def __init__(self, accounts: Mapping[str, str]) -> None:
        self._keys = {appkey: secret.encode() for appkey, secret in accounts.items()}
        self.answer = encode_answer({})
        self.calls = 0

    def respond(self, method: str, path: str, headers: Mapping[str, str]) -> bytes:
        """The bytes to write for one request."""
        if method != "POST" or path != NUMBER_POOL_PATH:
            return _NOT_FOUND
        key = self._keys.get(headers.get("m7-appkey", ""))
        timestamp = headers.get("m7-timestamp", "")
        nonce = headers.get("m7-nonce", "")
        if key is None:
            return _UNAUTHORIZED
        message = f"{headers['m7-appkey']}{timestamp}{nonce}".encode()
        expected = base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(expected, headers.get("m7-sign", "")):
            return _UNAUTHORIZED
        self.calls += 1
        return self.answer

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> asyncio.Server:
        """Listen on *host*:*port* (0: any free port)."""
        loop = asyncio.get_running_loop()
        return await loop.create_server(lambda: _Connection(self), host, port)


class _Connection(asyncio.Protocol):
    """One keep-alive connection: requests read with a minimal HTTP/1.1 parser."""

    def __init__(self, gateway: EncodedGateway) -> None:
        self._gateway = gateway
        self._buffer = bytearray()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        assert self._transport is not None
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            request_line, *lines = bytes(self._buffer[:end]).decode("latin-1").split("\r\n")
            headers: dict[str, str] = {}
            for line in lines:
                name, _, value = line.partition(":")
                headers[name.strip().lower()] = value.strip()
            if "chunked" in headers.get("transfer-encoding", ""):
                # aiohttp sends a bytes body with Content-Length; nothing else is needed.
                self._transport.write(_rejection(411, "411", "length required"))
                self._transport.close()
                return
            length = int(headers.get("content-length", "0"))
            if len(self._buffer) < end + 4 + length:
                return  # the body has not all arrived
            del self._buffer[: end + 4 + length]
            method, path, _ = request_line.split(" ", 2)
            self._transport.write(self._gateway.respond(method, path, headers))
            if headers.get("connection", "").lower() == "close":
                self._transport.close()
                return


def serve_forever(gateway: EncodedGateway, make_data: Any) -> None:
    """Run *gateway* until stdin closes, printing its URL first.

    Commands on stdin, one a line, each answered ``ok``: ``pool SIZE [distinct]``
    encodes ``make_data(SIZE, distinct)`` as the answer from now on.
    """
    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(gateway.start())
    host, port = server.sockets[0].getsockname()[:2]
    print(f"http://{host}:{port}", flush=True)

    def read_commands() -> None:
        for line in sys.stdin:
            command, *args = line.split()
            if command == "pool":
                answer = encode_answer(make_data(int(args[0]), "distinct" in args[1:]))
                gateway.answer = answer  # one reference swapped: the loop sees old or new
            print("ok", flush=True)
        loop.call_soon_threadsafe(loop.stop)

    threading.Thread(target=read_commands, daemon=True).start()
    try:
        loop.run_forever()
    finally:
        server.close()
        loop.run_until_complete(server.wait_closed())
        loop.close()
