"""What docs/protocol.md says a server answers, asked of a real one (issue 22): the status of
a room request whose body is not JSON, and a setting below what the limits table accepts.
tests/test_protocol_doc.py holds the doc to the code; this holds it to what the code does.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.servers import ServerProcess

DOC = Path(__file__).resolve().parent.parent / "docs" / "protocol.md"


def errors_of(endpoint: str) -> dict[int, str]:
    """What the doc says comes with each status in an endpoint's "Errors:", by status."""
    bullet = DOC.read_text(encoding="utf-8").split(f"- **`{endpoint}`**", 1)[1].split("\n- **", 1)[0]
    parts = re.split(r"`(\d{3})`", bullet.split("Errors:", 1)[1])
    said: dict[int, str] = {}
    for status, text in zip(parts[1::2], parts[2::2], strict=True):
        said[int(status)] = said.get(int(status), "") + " ".join(text.split())
    return said


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    data = tmp_path_factory.mktemp("doc")
    process = ServerProcess(f"sqlite:///{data / 'doc.db'}", data)
    process.start()
    yield process
    process.stop()


@pytest.mark.parametrize(
    ("body", "described"),
    [(b"{not json", "a body that is not JSON"), (b"[" * 100_000, "nested thousands deep")],
    ids=["not-json", "nested-too-deep"],
)
async def test_a_room_request_whose_body_is_not_json_gets_what_the_doc_says(
    server: ServerProcess, body: bytes, described: str
) -> None:
    """The doc gave a body that cannot be read as JSON 400; one that is not JSON at all gets
    422, as every other invalid request (only one the parser gives up on gets 400)."""
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        response = await http.post("/api/rooms", content=body, headers={"content-type": "application/json"})
    assert response.json()["code"] == "invalid_request"
    said = errors_of("POST /api/rooms")
    assert response.status_code in said, (response.status_code, said)
    assert said[response.status_code].startswith("`invalid_request`"), said[response.status_code]
    assert described in said[response.status_code], (response.status_code, said)


def test_the_server_does_not_start_below_the_replay_minimum_the_doc_states(tmp_path: Path) -> None:
    table = DOC.read_text(encoding="utf-8").split("\n## Limits\n", 1)[1]
    stated = re.search(r"^\| `replay_events` \| `SAMSKAPA_REPLAY_EVENTS` \| [0-9]+ \| ≥ ([0-9,]+) \|", table, re.M)
    assert stated is not None, "the limits table states no minimum for replay_events"
    minimum = int(stated.group(1).replace(",", ""))
    too_few = ServerProcess(f"sqlite:///{tmp_path / 'few.db'}", tmp_path, replay_events=str(minimum - 1))
    with pytest.raises(RuntimeError, match="exited early") as refused:
        too_few.start()
    assert "replay_events" in str(refused.value) and f"greater than or equal to {minimum}" in str(refused.value)
    enough = ServerProcess(f"sqlite:///{tmp_path / 'enough.db'}", tmp_path, replay_events=str(minimum))
    enough.start()
    enough.stop()
