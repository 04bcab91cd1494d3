"""A request body size limit as ASGI middleware: a declared or streamed body over it is a 413 problem.

Starlette's own limit answers in plain text; every error of this API is ``application/problem+json``::

    >>> app.add_middleware(BodyLimit, max_bytes=16 * 1024 * 1024)
"""

from __future__ import annotations

import json

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import problems

__all__ = ["BodyLimit"]


class _TooLarge(Exception):
    pass


class BodyLimit:
    """Refuse request bodies larger than ``max_bytes`` (by Content-Length, or while they stream in)."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", ())).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, tracked)
        except _TooLarge:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = problems.plain(
            413,
            "Content Too Large",
            f"the request body is larger than {self.max_bytes:,} bytes",
            "Send a smaller body (e.g. a smaller function zip), or start the server with a larger --max-body-mb",
        )
        data = json.dumps(body).encode()
        headers = [(b"content-type", problems.MEDIA_TYPE.encode()), (b"content-length", str(len(data)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": data})
