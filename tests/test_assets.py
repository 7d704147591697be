"""What a phone on a weak link gets from the real server over a real socket: text compressed
when it asks for it, assets under versioned URLs that may be kept for good, pages that are
always revalidated, and the same security headers on every answer."""

from __future__ import annotations

import gzip
import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from typing import Any

import brotli
import httpx
import pytest
from websockets.sync.client import connect

from app.export_versions import SCHEMA_VERSION
from app.pages import ASSET_SECURITY_HEADERS, SECURITY_HEADERS
from tests.servers import ROOT, ServerProcess
from tests.test_comment_free import assert_source_less_its_comments

FRONTEND = ROOT / "frontend"
IMMUTABLE = "public, max-age=31536000, immutable"
VERSIONED = re.compile(r'(?:src|href)="(/static/([0-9a-f]{12})/([^"]+))"')
GZIP = {"Accept-Encoding": "gzip"}
# What Chromium sends over TLS and on localhost.
BROWSER = {"Accept-Encoding": "gzip, deflate, br, zstd"}
IDENTITY = {"Accept-Encoding": "identity"}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data_dir = tmp_path_factory.mktemp("assets")
    process = ServerProcess(f"sqlite:///{data_dir / 'samskapa.db'}", data_dir)
    process.start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def http(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.base_url, timeout=10) as client:
        yield client


@pytest.fixture(scope="module")
def room(http: httpx.Client) -> dict[str, Any]:
    response = http.post("/api/rooms", json={"title": "Vårdenheten Solsidan"})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def raw(http: httpx.Client, path: str, headers: dict[str, str]) -> tuple[httpx.Response, bytes]:
    """The response and its body exactly as sent (httpx would otherwise decode it)."""
    with http.stream("GET", path, headers=headers) as response:
        return response, b"".join(response.iter_raw())


def assert_served_as(body: bytes, file: str) -> None:
    """A script or a style sheet goes as written less its comments; anything else as written."""
    written = (FRONTEND / file).read_bytes()
    if file.endswith((".js", ".css")):
        assert_source_less_its_comments(body, written)
        assert len(body) < len(written)
    else:
        assert body == written


def page_assets(http: httpx.Client, path: str) -> list[tuple[str, str, str]]:
    """(URL, version, file under frontend/) of everything a page links under a version."""
    return VERSIONED.findall(http.get(path).text)


def versioned(http: httpx.Client, room: dict[str, Any]) -> dict[str, str]:
    """file under frontend/ -> its URL under the version the participant page names: what
    it links, and what it carries in itself (its style sheet, the Swedish locale) too."""
    linked = page_assets(http, f"/r/{room['room_id']}")
    version = linked[0][1]
    carried = {file: f"/static/{version}/{file}" for file in ("css/app.css", "css/screen.css", "locales/sv.json")}
    return carried | {file: url for url, _, file in linked}


def without_style_hashes(policy: str) -> str:
    return re.sub(r" 'sha256-[A-Za-z0-9+/=]+'", "", policy)


# ---------------------------------------------------------------- compression


def test_a_text_asset_is_sent_gzipped_only_to_a_client_that_asks(http: httpx.Client, room: dict[str, Any]) -> None:
    assets = versioned(http, room)
    original = (FRONTEND / "css/app.css").read_bytes()

    compressed, body = raw(http, assets["css/app.css"], GZIP)
    assert compressed.status_code == 200
    assert compressed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in compressed.headers["vary"].lower()
    assert int(compressed.headers["content-length"]) == len(body) < len(original) / 3
    assert_served_as(gzip.decompress(body), "css/app.css")

    plain, body = raw(http, assets["css/app.css"], IDENTITY)
    assert "content-encoding" not in plain.headers
    assert_served_as(body, "css/app.css")
    # Not the file's own tag: the body is another than the file's.
    assert (
        plain.headers["etag"] != raw(http, assets["css/app.css"], IDENTITY | {"Range": "bytes=0-"})[0].headers["etag"]
    )


def test_a_file_cached_for_good_is_brotli_to_a_browser_that_asks(http: httpx.Client, room: dict[str, Any]) -> None:
    assets = versioned(http, room)
    for file in ("css/app.css", "js/grading.js", "locales/sv.json"):
        response, body = raw(http, assets[file], BROWSER)
        assert response.status_code == 200
        assert response.headers["content-encoding"] == "br"
        assert response.headers["cache-control"] == IMMUTABLE
        assert "accept-encoding" in response.headers["vary"].lower()
        assert int(response.headers["content-length"]) == len(body)
        assert_served_as(brotli.decompress(body), file)
        # Smaller than what gzip makes of it; the first screen's files are ~15 % smaller.
        assert len(body) < len(raw(http, assets[file], GZIP)[1])
        # Another body than the identity's, so another tag.
        assert response.headers["etag"] != raw(http, assets[file], IDENTITY)[0].headers["etag"]


def test_brotli_only_when_asked_and_never_for_a_range_or_a_file_not_cached_for_good(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    assets = dict((file, url) for url, _, file in page_assets(http, f"/r/{room['room_id']}"))
    url = assets["js/grading.js"]
    original = (FRONTEND / "js/grading.js").read_bytes()
    refused, body = raw(http, url, {"Accept-Encoding": "br;q=0, gzip"})
    assert refused.headers["content-encoding"] == "gzip"
    assert_served_as(gzip.decompress(body), "js/grading.js")
    # A range is of the file as written, under the file's own tag.
    ranged, body = raw(http, url, BROWSER | {"Range": "bytes=0-9"})
    assert ranged.status_code == 206 and body == original[:10]
    assert "content-encoding" not in ranged.headers
    unknown, body = raw(http, url.replace(url.split("/")[2], "0" * 12), BROWSER)
    assert unknown.headers["cache-control"] == "no-cache" and unknown.headers["content-encoding"] == "gzip"
    unversioned, body = raw(http, "/static/js/grading.js", BROWSER)
    assert unversioned.headers["content-encoding"] == "gzip"
    assert_served_as(gzip.decompress(body), "js/grading.js")


def test_pages_locales_and_api_answers_are_compressed_too(http: httpx.Client, room: dict[str, Any]) -> None:
    page, body = raw(http, f"/r/{room['room_id']}", GZIP)
    assert page.headers["content-encoding"] == "gzip"
    assert b'<script type="module"' in gzip.decompress(body)
    locale, body = raw(http, "/static/locales/sv.json", GZIP)
    assert locale.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(body)) == json.loads((FRONTEND / "locales/sv.json").read_text("utf-8"))
    schema, body = raw(http, "/api/schema/export.json", GZIP)
    assert schema.headers["content-encoding"] == "gzip" and "properties" in json.loads(gzip.decompress(body))


def test_the_qr_code_and_the_export_download_survive_compression(http: httpx.Client, room: dict[str, Any]) -> None:
    qr, body = raw(http, f"/api/rooms/{room['room_id']}/qr.svg", GZIP)
    assert qr.status_code == 200 and qr.headers["content-type"].startswith("image/svg+xml")
    assert qr.headers["content-encoding"] == "gzip"
    svg = gzip.decompress(body)
    assert ElementTree.fromstring(svg).tag.endswith("svg") and room["participant_url"].encode() in svg
    assert svg == raw(http, f"/api/rooms/{room['room_id']}/qr.svg", IDENTITY)[1]

    bearer = {"Authorization": f"Bearer {room['facilitator_token']}"}
    export, body = raw(http, f"/api/rooms/{room['room_id']}/export?format=json", GZIP | bearer)
    assert export.status_code == 200 and export.headers["content-encoding"] == "gzip"
    assert export.headers["content-disposition"].startswith('attachment; filename="')
    assert export.headers["cache-control"] == "no-store"
    assert int(export.headers["content-length"]) == len(body)
    document = json.loads(gzip.decompress(body))
    assert document["schema_version"] == SCHEMA_VERSION and document["room"]["title"] == "Vårdenheten Solsidan"


def test_the_room_socket_is_not_touched_by_compression(server: ServerProcess, room: dict[str, Any]) -> None:
    url = server.base_url.replace("http://", "ws://") + f"/ws/rooms/{room['room_id']}"
    with connect(url, open_timeout=10, additional_headers=GZIP) as socket:
        assert socket.response is not None and socket.response.status_code == 101
        assert "content-encoding" not in {name.lower() for name in socket.response.headers}
        socket.send(json.dumps({"type": "hello", "token": None}))
        welcome = json.loads(socket.recv(timeout=10))
    assert welcome["type"] == "welcome" and welcome["you"]["role"] == "participant"


# ---------------------------------------------------------------- caching


def test_every_page_links_its_files_under_one_version_that_is_cached_for_good(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    paths = ["/", f"/r/{room['room_id']}", f"/r/{room['room_id']}/present", f"/r/{room['room_id']}/board"]
    linked = [asset for path in paths for asset in page_assets(http, path)]
    versions = {version for _, version, _ in linked}
    assert len(versions) == 1, versions
    files = {file for _, _, file in linked}
    assert {"img/icon.svg", "js/participant.js", "js/dom.js", "js/board-page.js"} <= files
    for url, _, file in linked:
        response = http.get(url)
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == IMMUTABLE, url
        assert_served_as(response.content, file)


def test_pages_are_revalidated_every_time_and_answer_not_modified(http: httpx.Client, room: dict[str, Any]) -> None:
    path = f"/r/{room['room_id']}"
    first = http.get(path)
    assert first.status_code == 200 and first.headers["content-type"].startswith("text/html")
    assert first.headers["cache-control"] == "no-cache"
    etag = first.headers["etag"]
    again = http.get(path, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == etag and again.headers["cache-control"] == "no-cache"
    # Every live room's link is the same page; a stale validator gets the page again. (A
    # room that is not there answers 404 whatever the validator: tests/test_room_pages.py.)
    another = http.post("/api/rooms", json={"title": "Ett annat rum"}).json()["room_id"]
    assert http.get(f"/r/{another}", headers={"If-None-Match": etag}).status_code == 304
    assert http.get(path, headers={"If-None-Match": '"stale"'}).status_code == 200


def test_an_unknown_version_still_serves_the_file_but_never_for_good(http: httpx.Client, room: dict[str, Any]) -> None:
    url, version, file = page_assets(http, f"/r/{room['room_id']}")[0]
    other = "0" * 12 if version != "0" * 12 else "1" * 12
    response = http.get(url.replace(version, other))
    assert response.status_code == 200
    assert_served_as(response.content, file)
    assert response.headers["cache-control"] == "no-cache"


def test_a_missing_file_is_a_clear_404_whatever_the_version(http: httpx.Client, room: dict[str, Any]) -> None:
    _, version, _ = page_assets(http, f"/r/{room['room_id']}")[0]
    for path in (f"/static/{version}/js/nope.js", "/static/js/nope.js", f"/static/{version[:-1]}/js/dom.js"):
        response = http.get(path)
        assert response.status_code == 404, path
        assert response.json()["code"] == "not_found", path


def test_a_file_a_script_fetches_unversioned_is_fresh_briefly_then_revalidated(http: httpx.Client) -> None:
    first = http.get("/static/locales/sv.json")
    assert first.status_code == 200 and first.headers["cache-control"] == "max-age=10"
    again = http.get("/static/locales/sv.json", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["cache-control"] == "max-age=10"


def test_the_pages_carry_swedish_and_the_other_locales_are_under_the_version(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    page, body = raw(http, f"/r/{room['room_id']}", BROWSER)
    assert page.headers["content-encoding"] == "br"
    html = brotli.decompress(body).decode()
    assert 'id="locale-sv"' in html and "<style>" in html and "locales/" not in html
    version = page_assets(http, f"/r/{room['room_id']}")[0][1]
    for language in ("sv", "en", "fi"):
        assert http.get(f"/static/{version}/locales/{language}.json").headers["cache-control"] == IMMUTABLE


def test_a_page_goes_as_brotli_under_its_own_tag_and_is_revalidated_by_it(
    http: httpx.Client, room: dict[str, Any]
) -> None:
    path = f"/r/{room['room_id']}"
    compressed, body = raw(http, path, BROWSER)
    plain, written = raw(http, path, IDENTITY)
    assert brotli.decompress(body) == written and len(body) < len(written) / 3
    assert compressed.headers["etag"] != plain.headers["etag"]
    again = http.get(path, headers=BROWSER | {"If-None-Match": compressed.headers["etag"]})
    assert (
        again.status_code == 304
        and again.headers["content-security-policy"] == plain.headers["content-security-policy"]
    )


# ---------------------------------------------------------------- security headers


def test_every_kind_of_answer_keeps_the_security_headers(
    http: httpx.Client, server: ServerProcess, room: dict[str, Any]
) -> None:
    page = f"/r/{room['room_id']}"
    asset = versioned(http, room)["css/app.css"]
    version = page_assets(http, page)[0][1]
    etag = http.get(page).headers["etag"]
    asset_etag = http.get(asset).headers["etag"]
    bearer = {"Authorization": f"Bearer {room['facilitator_token']}"}
    answers = {
        "page": http.get(page, headers=GZIP),
        "page, not modified": http.get(page, headers={"If-None-Match": etag}),
        "asset, gzipped": http.get(asset, headers=GZIP),
        "asset, plain": http.get(asset, headers=IDENTITY),
        "asset, not modified": http.get(asset, headers={"If-None-Match": asset_etag}),
        "asset, unknown version": http.get(asset.replace(version, "f" * 12)),
        "asset, missing": http.get(f"/static/{version}/js/nope.js"),
        "locale": http.get("/static/locales/sv.json"),
        "api": http.get("/healthz"),
        "api error": http.get("/api/join/12ab56"),
        "qr": http.get(f"/api/rooms/{room['room_id']}/qr.svg", headers=GZIP),
        "export": http.get(f"/api/rooms/{room['room_id']}/export?format=csv", headers=GZIP | bearer),
    }
    assert answers["page, not modified"].status_code == 304
    assert answers["asset, not modified"].status_code == 304
    assert answers["asset, missing"].status_code == 404
    # Scripts, style sheets and locales are never pages: the short set, with a policy that
    # forbids everything. A 304 says no type, so it keeps the long one.
    assets = {"asset, gzipped", "asset, plain", "asset, unknown version", "asset, missing", "locale"}
    # A page's policy also allows its own style sheets, by their hashes (app/inlined_files.py).
    pages = {"page", "page, not modified"}
    for name, response in answers.items():
        for header, value in (ASSET_SECURITY_HEADERS if name in assets else SECURITY_HEADERS).items():
            sent = response.headers.get(header)
            if name in pages and header == "Content-Security-Policy" and sent is not None:
                assert sent != value and without_style_hashes(sent) == value, name
            else:
                assert sent == value, f"{name}: {header}"
        if name in assets:
            assert "cross-origin-opener-policy" not in response.headers, name
        assert "'unsafe-inline'" not in response.headers["content-security-policy"], name


def test_an_image_under_static_keeps_the_pages_security_headers(http: httpx.Client) -> None:
    """An SVG can run script when opened as a document: it is treated as one."""
    icon = http.get("/static/img/icon.svg")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    for header, value in SECURITY_HEADERS.items():
        assert icon.headers.get(header) == value, header


def test_head_requests_get_the_same_headers_without_a_body(http: httpx.Client, room: dict[str, Any]) -> None:
    assets = dict((file, url) for url, _, file in page_assets(http, f"/r/{room['room_id']}"))
    for file in ("js/page.js", "img/icon.svg"):
        head = http.head(assets[file], headers=IDENTITY)
        get, body = raw(http, assets[file], IDENTITY)
        assert head.status_code == 200 and head.content == b""
        assert head.headers["cache-control"] == IMMUTABLE
        assert head.headers["etag"] == get.headers["etag"]
        assert int(head.headers["content-length"]) == len(body)


def test_a_script_without_its_comments_is_revalidated_by_its_own_tag(http: httpx.Client, room: dict[str, Any]) -> None:
    url = dict((file, url) for url, _, file in page_assets(http, f"/r/{room['room_id']}"))["js/page.js"]
    for encoding in (IDENTITY, BROWSER):
        first, _ = raw(http, url, encoding)
        again = http.get(url, headers=encoding | {"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]
