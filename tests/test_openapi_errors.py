"""The OpenAPI document declares, per route, the errors that route really answers (issue 23):
a table written here by reading each handler and what it calls, independently of the
declarations in app/; every declared error provoked against a running server; a sample of
statuses a route cannot answer shown not to happen there; and the docs' error lists held to
the declarations."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.client import RoomClient
from tests.servers import ServerProcess
from tests.test_protocol_doc_live import errors_of

ROOT = Path(__file__).resolve().parent.parent
TMC = "too_many_connections"
# Everything but the connection cap, which app/connection_caps.py applies to every route.
FACILITATOR = {401: {"unauthorized"}, 403: {"forbidden"}, 404: {"room_not_found"}}
EXPECTED: dict[tuple[str, str], dict[int, set[str]]] = {
    ("GET", "/healthz"): {503: {"store_unavailable"}},
    ("GET", "/api/templates"): {},
    ("GET", "/api/templates/{template_id}"): {404: {"template_not_found"}},
    ("POST", "/api/rooms"): {
        400: {"invalid_request"},
        413: {"too_large"},
        422: {"invalid_request", "template_not_found", "invalid_template"},
        429: {"rate_limited"},
        503: {"no_join_code"},
    },
    ("GET", "/api/join/{join_code}"): {404: {"room_not_found"}, 422: {"invalid_join_code"}, 429: {"rate_limited"}},
    ("GET", "/api/rooms/{room_id}/qr.svg"): {404: {"room_not_found"}},
    ("DELETE", "/api/rooms/{room_id}"): FACILITATOR,
    ("GET", "/api/schema/protocol.json"): {},
    ("GET", "/api/rooms/{room_id}/export"): {**FACILITATOR, 422: {"invalid_request"}},
    ("GET", "/api/schema/export.json"): {},
    ("GET", "/api/schema/export-v{version}.json"): {404: {"not_found"}, 422: {"invalid_request"}},
    ("POST", "/api/rooms/import"): {
        403: {"forbidden"},
        413: {"too_large"},
        422: {"invalid_json", "unsupported_schema_version", "invalid_export", "limit_reached"},
        429: {"rate_limited"},
        503: {"no_join_code"},
    },
    ("POST", "/api/rooms/{room_id}/facilitator-link"): FACILITATOR,
    ("POST", "/api/rooms/{room_id}/co-facilitators"): {
        **FACILITATOR,
        400: {"invalid_request"},
        409: {"too_many_co_facilitators"},
        413: {"too_large"},
        422: {"invalid_request"},
    },
    ("GET", "/api/rooms/{room_id}/co-facilitators"): FACILITATOR,
    ("DELETE", "/api/rooms/{room_id}/co-facilitators/{co_facilitator_id}"): {
        **FACILITATOR,
        404: {"room_not_found", "co_facilitator_not_found"},
    },
}


def with_the_cap(errors: dict[int, set[str]]) -> dict[int, set[str]]:
    return {**errors, 429: errors.get(429, set()) | {TMC}}


Route = tuple[str, str]
Declared = dict[Route, dict[int, set[str]]]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("openapi")
    process = ServerProcess(f"sqlite:///{data / 'openapi.db'}", data)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose per-address budgets run out at once."""
    data = tmp_path_factory.mktemp("tight")
    process = ServerProcess(
        f"sqlite:///{data / 'tight.db'}",
        data,
        rooms_created_per_hour="1",
        join_lookups_per_minute="1",
        max_connections_per_address="2",
    )
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def openapi(server: ServerProcess) -> dict[str, Any]:
    document: dict[str, Any] = httpx.get(f"{server.base_url}/openapi.json", timeout=10).json()
    return document


def declared(openapi: dict[str, Any]) -> Declared:
    return {
        (method.upper(), path): {
            int(status): set(response.get("x-error-codes", ["?"]))
            for status, response in operation["responses"].items()
            if status[0] in "45"
        }
        for path, operations in openapi["paths"].items()
        for method, operation in operations.items()
    }


def test_every_route_declares_exactly_the_errors_it_can_answer(openapi: dict[str, Any]) -> None:
    """Nothing a route cannot answer (a client generated from it would handle errors that
    never come), and nothing it can left out; the routes themselves are the table's."""
    found = declared(openapi)
    assert set(found) == set(EXPECTED)
    for route, errors in EXPECTED.items():
        assert found[route] == with_the_cap(errors), route


def test_each_declared_error_has_the_envelope_and_names_its_codes(openapi: dict[str, Any]) -> None:
    for path, operations in openapi["paths"].items():
        for method, operation in operations.items():
            for status, response in operation["responses"].items():
                if status[0] not in "45":
                    continue
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorBody"}, (method, path, status)
                for code in response["x-error-codes"]:
                    assert f"`{code}`" in response["description"], (method, path, status, code)


def test_fastapis_own_validation_error_shape_is_not_in_the_document(openapi: dict[str, Any]) -> None:
    """The app answers a validation error in its envelope (app/errors.py), never in
    FastAPI's `{"detail": [...]}`."""
    assert "HTTPValidationError" not in json.dumps(openapi)


# ---------------------------------------------------------------- provoking each one


@dataclass
class Servers:
    http: httpx.AsyncClient
    tight: httpx.AsyncClient
    base_url: str

    async def room(self) -> dict[str, Any]:
        response = await self.http.post("/api/rooms", json={"title": "Felen"})
        assert response.status_code == 201, response.text
        return response.json()  # type: ignore[no-any-return]


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


Provoke = Callable[[Servers], Awaitable[httpx.Response]]
ROOM = "/api/rooms/{room_id}"
CO = ROOM + "/co-facilitators"


def as_facilitator(method: str, path: str, **request: Any) -> dict[int, Provoke]:
    """401, 403 and 404 of a route that needs a key of the room."""

    async def unauthorized(s: Servers) -> httpx.Response:
        room = await s.room()
        return await s.http.request(method, path.format(room_id=room["room_id"], co_facilitator_id="x"), **request)

    async def forbidden(s: Servers) -> httpx.Response:
        room = await s.room()
        url = path.format(room_id=room["room_id"], co_facilitator_id="x")
        return await s.http.request(method, url, headers=bearer("not-the-token"), **request)

    async def missing(s: Servers) -> httpx.Response:
        room = await s.room()
        url = path.format(room_id="AAAAAAAAAAAAAAAAAAAAAAAA", co_facilitator_id="x")
        return await s.http.request(method, url, headers=bearer(room["facilitator_token"]), **request)

    return {401: unauthorized, 403: forbidden, 404: missing}


async def spend_the_room_budget(s: Servers) -> None:
    await s.tight.post("/api/rooms", json={"title": "Budget"})


async def rooms_rate_limited(s: Servers) -> httpx.Response:
    await spend_the_room_budget(s)
    return await s.tight.post("/api/rooms", json={"title": "En för mycket"})


async def joins_rate_limited(s: Servers) -> httpx.Response:
    await s.tight.get("/api/join/000000")
    return await s.tight.get("/api/join/000000")


async def imports_rate_limited(s: Servers) -> httpx.Response:
    await spend_the_room_budget(s)
    return await s.tight.post("/api/rooms/import", content=b"{}")


async def exported(s: Servers, answered: bool) -> tuple[dict[str, Any], dict[str, Any]]:
    """A room's JSON export, and the room; `answered`: a participant gave a grade first, so
    the export holds answers sealed by this deployment."""
    room = await s.room()
    if answered:
        person = RoomClient(s.base_url, room["room_id"])
        try:
            welcome = await person.connect()
            statement = welcome["snapshot"]["template"]["statements"][0]["id"]
            await person.command("set_score", statement_id=statement, value=7)
        finally:
            await person.close()
    url = f"/api/rooms/{room['room_id']}/export?format=json"
    response = await s.http.get(url, headers=bearer(room["facilitator_token"]))
    assert response.status_code == 200, response.text
    return response.json(), room


async def import_(s: Servers, body: Any, token: str | None = None) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    headers = bearer(token) if token else {}
    return await s.http.post("/api/rooms/import", content=content, headers=headers)


async def sealed_for_someone_else(s: Servers) -> httpx.Response:
    export, _ = await exported(s, answered=True)
    return await import_(s, export, token="not-the-exported-rooms-token")


async def beyond_the_limits(s: Servers) -> httpx.Response:
    export, _ = await exported(s, answered=False)
    return await import_(s, {**export, "participants": 1_000_000})


async def twenty_first_link(s: Servers) -> httpx.Response:
    room = await s.room()
    url, key = CO.format(room_id=room["room_id"]), bearer(room["facilitator_token"])
    made = await asyncio.gather(*(s.http.post(url, json={}, headers=key) for _ in range(20)))
    assert {response.status_code for response in made} == {201}
    return await s.http.post(url, json={}, headers=key)


async def with_the_token(s: Servers, method: str, path: str, **request: Any) -> httpx.Response:
    room = await s.room()
    url = path.format(room_id=room["room_id"], co_facilitator_id="cf_none")
    headers = {**bearer(room["facilitator_token"]), **request.pop("headers", {})}
    return await s.http.request(method, url, headers=headers, **request)


def call(method: str, url: str, **request: Any) -> Provoke:
    async def provoke(s: Servers) -> httpx.Response:
        return await s.http.request(method, url, **request)

    return provoke


def at(method: str, path: str, **request: Any) -> Provoke:
    async def provoke(s: Servers) -> httpx.Response:
        return await with_the_token(s, method, path, **request)

    return provoke


JSON = {"content-type": "application/json"}
NESTED = b"[" * 100_000
OVER_2_MB = b" " * (2 * 1024 * 1024 + 1)
LONG_LABEL = {"label": "x" * 61}

PROVOKE: dict[tuple[str, str, int, str], Provoke] = {
    ("GET", "/api/templates/{template_id}", 404, "template_not_found"): call("GET", "/api/templates/finns-inte"),
    ("POST", "/api/rooms", 400, "invalid_request"): call("POST", "/api/rooms", content=NESTED, headers=JSON),
    ("POST", "/api/rooms", 413, "too_large"): call("POST", "/api/rooms", content=OVER_2_MB, headers=JSON),
    ("POST", "/api/rooms", 422, "invalid_request"): call("POST", "/api/rooms", json={"title": "   "}),
    ("POST", "/api/rooms", 422, "template_not_found"): call("POST", "/api/rooms", json={"title": "X", "template": "?"}),
    ("POST", "/api/rooms", 422, "invalid_template"): call("POST", "/api/rooms", json={"title": "X", "template": {}}),
    ("POST", "/api/rooms", 429, "rate_limited"): rooms_rate_limited,
    ("GET", "/api/join/{join_code}", 404, "room_not_found"): call("GET", "/api/join/000000"),
    ("GET", "/api/join/{join_code}", 422, "invalid_join_code"): call("GET", "/api/join/12ab56"),
    ("GET", "/api/join/{join_code}", 429, "rate_limited"): joins_rate_limited,
    ("GET", "/api/rooms/{room_id}/qr.svg", 404, "room_not_found"): call("GET", "/api/rooms/nope/qr.svg"),
    ("GET", "/api/rooms/{room_id}/export", 422, "invalid_request"): at("GET", ROOM + "/export?format=pdf"),
    ("GET", "/api/schema/export-v{version}.json", 404, "not_found"): call("GET", "/api/schema/export-v99.json"),
    ("GET", "/api/schema/export-v{version}.json", 422, "invalid_request"): call("GET", "/api/schema/export-vx.json"),
    ("POST", "/api/rooms/import", 403, "forbidden"): sealed_for_someone_else,
    ("POST", "/api/rooms/import", 413, "too_large"): call(
        "POST", "/api/rooms/import", content=b" " * (10 * 1024 * 1024 + 1), headers=JSON
    ),
    ("POST", "/api/rooms/import", 422, "invalid_json"): call("POST", "/api/rooms/import", content=b"{nope"),
    ("POST", "/api/rooms/import", 422, "unsupported_schema_version"): call(
        "POST", "/api/rooms/import", json={"schema_version": 99}
    ),
    ("POST", "/api/rooms/import", 422, "invalid_export"): call("POST", "/api/rooms/import", json=[]),
    ("POST", "/api/rooms/import", 422, "limit_reached"): beyond_the_limits,
    ("POST", "/api/rooms/import", 429, "rate_limited"): imports_rate_limited,
    ("POST", CO, 400, "invalid_request"): at("POST", CO, content=NESTED, headers=JSON),
    ("POST", CO, 409, "too_many_co_facilitators"): twenty_first_link,
    ("POST", CO, 413, "too_large"): at("POST", CO, content=OVER_2_MB, headers=JSON),
    ("POST", CO, 422, "invalid_request"): at("POST", CO, json=LONG_LABEL),
    ("DELETE", CO + "/{co_facilitator_id}", 404, "co_facilitator_not_found"): at("DELETE", CO + "/{co_facilitator_id}"),
}
FACILITATOR_ROUTES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("DELETE", ROOM, {}),
    ("GET", ROOM + "/export", {}),
    ("POST", ROOM + "/facilitator-link", {}),
    ("POST", CO, {"json": {}}),
    ("GET", CO, {}),
    ("DELETE", CO + "/{co_facilitator_id}", {}),
)
for method, path, extra in FACILITATOR_ROUTES:
    for status, provoke in as_facilitator(method, path, **extra).items():
        code = {401: "unauthorized", 403: "forbidden", 404: "room_not_found"}[status]
        PROVOKE[(method, path, status, code)] = provoke

# Provoked once for every route below; or not practical against a real server, and why.
NOT_PROVOKED: dict[tuple[str, str, int, str], str] = {
    **{(method, path, 429, TMC): "refused as the connection opens, whatever the route" for method, path in EXPECTED},
    ("GET", "/healthz", 503, "store_unavailable"): "needs a database that stops answering",
    ("POST", "/api/rooms", 503, "no_join_code"): "needs all 1,000,000 join codes held by live rooms",
    ("POST", "/api/rooms/import", 503, "no_join_code"): "needs all 1,000,000 join codes held by live rooms",
}


def test_every_declared_error_is_provoked_below_or_says_why_not() -> None:
    expected = {
        (method, path, status, code)
        for (method, path), errors in EXPECTED.items()
        for status, codes in with_the_cap(errors).items()
        for code in codes
    }
    assert set(PROVOKE) | set(NOT_PROVOKED) == expected
    assert not set(PROVOKE) & set(NOT_PROVOKED)


@pytest.mark.parametrize("error", sorted(PROVOKE), ids=lambda e: f"{e[0]} {e[1]} {e[2]} {e[3]}")
async def test_each_declared_error_really_happens(
    error: tuple[str, str, int, str], server: ServerProcess, tight: ServerProcess
) -> None:
    _, _, status, code = error
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=30) as http,
        httpx.AsyncClient(base_url=tight.base_url, timeout=30) as tight_http,
    ):
        response = await PROVOKE[error](Servers(http, tight_http, server.base_url))
    assert (response.status_code, response.json()["code"]) == (status, code), response.text


async def test_too_many_connections_is_refused_before_any_route(tight: ServerProcess) -> None:
    """The cap counts the connections of one address (here 127.0.0.9): past it, the next one
    is answered 429 as it opens, before a request line names a route."""
    held = [await asyncio.open_connection("127.0.0.1", tight.port, local_addr=("127.0.0.9", 0)) for _ in range(2)]
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", tight.port, local_addr=("127.0.0.9", 0))
        async with asyncio.timeout(10):
            answer = await reader.read()
        writer.close()
    finally:
        for _, held_writer in held:
            held_writer.close()
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 429 ") and json.loads(body)["code"] == TMC


# ---------------------------------------------------------------- what does not happen

# Statuses a route cannot answer, each with a request that would bring it if it could.
UNDECLARED: list[tuple[Route, int, str, dict[str, Any]]] = [
    (("GET", "/api/templates/{template_id}"), 422, "/api/templates/" + "x" * 300, {}),
    (("GET", "/api/rooms/{room_id}/qr.svg"), 422, "/api/rooms/" + "%20" * 40 + "/qr.svg", {}),
    (("DELETE", "/api/rooms/{room_id}"), 422, "/api/rooms/" + "A" * 24, {"headers": {"Authorization": ""}}),
    (("POST", "/api/rooms/{room_id}/facilitator-link"), 400, "", {"content": NESTED, "headers": JSON}),
    (("POST", "/api/rooms/{room_id}/facilitator-link"), 422, "", {"content": b"{nope", "headers": JSON}),
    (("GET", "/api/schema/export.json"), 404, "/api/schema/export.json", {}),
    (("GET", "/api/schema/protocol.json"), 404, "/api/schema/protocol.json", {}),
    (("POST", "/api/rooms/import"), 401, "", {"headers": {"Authorization": "Basic eA=="}}),
]


@pytest.mark.parametrize(("route", "status", "url", "request_"), UNDECLARED, ids=lambda v: str(v)[:40])
async def test_a_status_a_route_does_not_declare_does_not_happen_there(
    route: Route, status: int, url: str, request_: dict[str, Any], server: ServerProcess, openapi: dict[str, Any]
) -> None:
    assert status not in declared(openapi)[route]
    method, path = route
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        s = Servers(http, http, server.base_url)
        if path == "/api/rooms/import":
            export, _ = await exported(s, answered=False)
            response = await http.post(path, content=json.dumps(export).encode(), **request_)
        elif not url:
            response = await with_the_token(s, method, path, **request_)
        else:
            response = await http.request(method, url, **request_)
    assert response.status_code != status, response.text
    assert response.status_code < 400 or response.status_code in declared(openapi)[route], response.text


# ---------------------------------------------------------------- the docs


def codes_in(text: str, known: set[str]) -> set[str]:
    return {code for code in re.findall(r"`([a-z_]+)`", text) if code in known}


DOCUMENTED = {
    "POST /api/rooms": ("POST", "/api/rooms"),
    "GET /api/join/{code}": ("GET", "/api/join/{join_code}"),
    "DELETE /api/rooms/{room_id}": ("DELETE", "/api/rooms/{room_id}"),
    "POST /api/rooms/{room_id}/facilitator-link": ("POST", "/api/rooms/{room_id}/facilitator-link"),
}


@pytest.mark.parametrize("endpoint", sorted(DOCUMENTED))
def test_the_errors_docs_protocol_md_lists_for_a_route_are_those_it_declares(
    endpoint: str, openapi: dict[str, Any]
) -> None:
    errors = {status: codes - {TMC} for status, codes in declared(openapi)[DOCUMENTED[endpoint]].items()}
    errors = {status: codes for status, codes in errors.items() if codes}
    known = {code for codes in errors.values() for code in codes}
    said = {status: codes_in(text, known) for status, text in errors_of(endpoint).items()}
    assert said == errors


def test_the_import_errors_docs_export_md_tables_are_those_it_declares(openapi: dict[str, Any]) -> None:
    text = (ROOT / "docs" / "export.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| (\d{3}) \| `([a-z_]+)` \|", text, re.MULTILINE)
    tabled: dict[int, set[str]] = {}
    for status, code in rows:
        tabled.setdefault(int(status), set()).add(code)
    errors = declared(openapi)[("POST", "/api/rooms/import")]
    assert tabled == {status: codes - {TMC} for status, codes in errors.items() if codes - {TMC}}
