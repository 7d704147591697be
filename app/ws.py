"""The one WebSocket route: accept, read the hello, hand frames to the room. Thin on purpose;
the rules are in app/board.py and the ordering in app/room.py.

It is a plain ASGI endpoint that app/main.py calls before FastAPI's stack, not a FastAPI
route: a FastAPI WebSocket route keeps about 25 coroutines, 3 exit stacks and a dozen
request objects alive per open socket for as long as it is open. At thousands of sockets
those are most of what the cyclic collector walks in its full passes, which stop the event
loop (docs/performance.md). OpenAPI never describes WebSockets, so nothing is lost there.
"""

from __future__ import annotations

import asyncio
import time
from urllib.parse import parse_qsl

from pydantic import TypeAdapter, ValidationError
from pydantic_core import from_json
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from app import metrics
from app import protocol as p
from app.clock import now_utc
from app.cluster import RemoteRoom, Unavailable
from app.connection import LocalConnection, open_connection
from app.room import LiveRoom, Rejected
from app.services import Services
from app.text import is_room_id

PATH_PREFIX = "/ws/rooms/"
# `/ws/rooms/{id}?join=new`: greeted at once as a new participant, without a name (below).
JOIN_AS_NEW = ("join", "new")
HELLO_TIMEOUT_SECONDS = 10.0
CLOSE_GRACE_SECONDS = 5.0
_valid_cid: TypeAdapter[str] = TypeAdapter(p.Cid)


class TokenBucket:
    """Commands per connection: `rate` a second on average, bursts up to `burst`."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.capacity = rate, float(burst)
        self.tokens, self.updated = float(burst), time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
        self.updated = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


def parse(frame: str) -> p.Hello | p.Ping | p.Command | p.Error:
    """A client frame as a typed message, or the error to send back (never raises)."""
    try:
        # Strict: true is not the score 1 and "yes" is not true; JSON types must be right.
        return p.client_message_adapter.validate_json(frame, strict=True)
    except ValidationError as error:
        return _describe(error, frame)


def _describe(error: ValidationError, frame: str) -> p.Error:
    first = error.errors(include_url=False)[0]
    kind = first["type"]
    if kind == "json_invalid":
        # Not JSON to the validator: broken, nested too deep, or a string with an unpaired
        # surrogate escape. Nothing in it is trusted, not even a cid to echo back.
        return p.Error(code=p.ErrorCode.INVALID_JSON, message="The frame is not valid JSON.")
    cid = _cid_of(frame)
    if kind == "union_tag_invalid":
        tag = str(first.get("ctx", {}).get("tag"))[:40]
        return p.Error(code=p.ErrorCode.UNKNOWN_TYPE, message=f"Unknown message type {tag!r}.", cid=cid)
    if kind in {"union_tag_not_found", "model_attributes_type"}:
        return p.Error(
            code=p.ErrorCode.INVALID_MESSAGE,
            message="A message is a JSON object with a 'type'.",
            cid=cid,
        )
    # Union members add their own names to the path (value.constrained-int): keep fields.
    parts = [str(part) for part in first["loc"][1:] if isinstance(part, int) or str(part).isidentifier()]
    field = ".".join(parts) or "message"
    return p.Error(code=p.ErrorCode.INVALID_MESSAGE, message=f"{field}: {first['msg']}", cid=cid)


def _cid_of(frame: str) -> str | None:
    """The frame's cid if it is a valid one, to tie the error to its command. The frame is
    valid JSON here (the validator read it), and read again by the same parser, whose depth
    limit turns a nesting bomb into a ValueError instead of a RecursionError."""
    try:
        raw = from_json(frame)
        return _valid_cid.validate_python(raw.get("cid")) if isinstance(raw, dict) else None
    except (ValueError, RecursionError):  # ValidationError is a ValueError
        return None


async def _receive_text(socket: WebSocket, connection: LocalConnection, limit: int, bucket: TokenBucket) -> str | None:
    """The next text frame; None when the socket ended or a frame broke the rules. Every
    frame counts against the rate limit, whatever it is and whether or not hello came."""
    while True:
        message = await socket.receive()
        if message["type"] == "websocket.disconnect":
            if message.get("code") == p.CloseCode.MESSAGE_TOO_BIG:  # uvicorn refused a frame over ws_max_size
                metrics.limit_refused("frame_size")
            return None
        if not bucket.take():
            metrics.limit_refused("commands")
            connection.close(p.CloseCode.RATE_LIMITED, "too many messages")
            return None
        text: str | None = message.get("text")
        if text is None:
            error = p.Error(code=p.ErrorCode.INVALID_MESSAGE, message="Send JSON as text frames.")
            connection.send(error.model_dump_json())
            continue
        if len(text) > limit // 4 and len(text.encode()) > limit:
            metrics.limit_refused("frame_size")
            connection.close(p.CloseCode.MESSAGE_TOO_BIG, "frame too big")
            return None
        return text


def room_id_of(path: str) -> str | None:
    """The room id of a /ws/rooms/{room_id} path; None for any other path."""
    if not path.startswith(PATH_PREFIX):
        return None
    room_id = path[len(PATH_PREFIX) :]
    return room_id if room_id and "/" not in room_id else None


async def room_socket(scope: Scope, receive: Receive, send: Send, services: Services, room_id: str) -> None:
    settings = services.settings
    socket = WebSocket(scope, receive, send)
    await socket.accept()
    connection = open_connection(socket, settings.send_buffer_bytes, CLOSE_GRACE_SECONDS)
    room: LiveRoom | RemoteRoom | None = None
    try:
        try:
            room = await services.rooms.get(room_id) if is_room_id(room_id) else None
        except Unavailable:
            _refuse(connection, p.ErrorCode.UNAVAILABLE, "Try again in a moment.", p.CloseCode.SERVER_RESTART)
            return
        if room is None:
            _refuse(connection, p.ErrorCode.NOT_FOUND, "No such room.", p.CloseCode.ROOM_NOT_FOUND)
            return
        bucket = TokenBucket(settings.command_rate_per_second, settings.command_burst)
        hello = hello_in_url(scope) or await _await_hello(socket, connection, settings.max_frame_bytes, bucket)
        if hello is None:
            return
        chosen = p.choose_protocol(hello.speaks())
        if isinstance(chosen, p.Unsupported):
            _refuse(connection, p.ErrorCode.UNSUPPORTED_PROTOCOL, chosen.message, chosen.close_code)
            return
        # From here on the hello names the version chosen, which the welcome repeats. An owner
        # reached through the relay chooses again from the hello's list (app/cluster.py).
        hello = hello.model_copy(update={"protocol": chosen})
        address = services.addresses.client_of(scope)
        if hello.token is None and not hello.screen and not await services.identity_limiter.hit(address):
            refusal = "Too many new participants from your address; wait a minute."
            _refuse(connection, p.ErrorCode.LIMIT_REACHED, refusal, p.CloseCode.TOO_MANY_JOINS)
            return
        try:
            await room.join(connection, hello)
        except Rejected as rejected:
            connection.send(rejected.error.model_dump_json())
            connection.close(rejected.close_code, rejected.error.message)
            return
        while (frame := await _receive_text(socket, connection, settings.max_frame_bytes, bucket)) is not None:
            message = parse(frame)
            if isinstance(message, p.Error):
                connection.send(message.model_dump_json())
            elif isinstance(message, p.Ping):
                connection.send(p.Pong(cid=message.cid, server_time=now_utc()).model_dump_json())
            elif isinstance(message, p.Hello):
                error = p.Error(code=p.ErrorCode.ALREADY_GREETED, message="Hello is sent once.")
                connection.send(error.model_dump_json())
            else:
                metrics.command_received(message.type)
                await room.handle(connection, message)
    except Exception as error:  # a disconnect mid-receive, or a bug: never take the room down
        if type(error).__name__ != "WebSocketDisconnect":
            services.log.exception("socket for room %s failed", room_id)
    finally:
        if room is not None:
            room.leave(connection)
        await connection.finish(CLOSE_GRACE_SECONDS)


def hello_in_url(scope: Scope) -> p.Hello | None:
    """The hello a URL may stand for: `?join=new`, a new participant with no name, the one
    hello with nothing in it to keep out of logs. A phone opening the link for the first
    time is then greeted one round trip sooner (0.4 s on slow 3G; docs/protocol.md, "hello").
    A token or a name never goes in a URL, where every proxy's log would keep it: there is
    no way to say either here."""
    query = scope.get("query_string", b"").decode("latin-1")
    return p.Hello(type="hello") if JOIN_AS_NEW in parse_qsl(query) else None


async def _await_hello(
    socket: WebSocket, connection: LocalConnection, limit: int, bucket: TokenBucket
) -> p.Hello | None:
    try:
        async with asyncio.timeout(HELLO_TIMEOUT_SECONDS):
            while (frame := await _receive_text(socket, connection, limit, bucket)) is not None:
                message = parse(frame)
                if isinstance(message, p.Hello):
                    return message
                if isinstance(message, p.Error):
                    connection.send(message.model_dump_json())
                else:
                    error = p.Error(
                        code=p.ErrorCode.HELLO_REQUIRED,
                        message="Send hello first.",
                        cid=getattr(message, "cid", None),
                    )
                    connection.send(error.model_dump_json())
            return None
    except TimeoutError:
        connection.close(p.CloseCode.HELLO_TIMEOUT, "no hello")
        return None


def _refuse(connection: LocalConnection, code: p.ErrorCode, message: str, close_code: int) -> None:
    connection.send(p.Error(code=code, message=message).model_dump_json())
    connection.close(close_code, message)
