"""A test double of the next release, for rehearsing a rolling upgrade
(tests/test_rolling_upgrade.py): `python -m tests.next_version serve --port N` is
`samskapa serve` patched to be one step ahead of this checkout in each contract that two
versions share during an upgrade.

- Messages between instances: every object it publishes on the bus carries a field this
  version does not know, at every depth (tests/test_relay_versions.py's `with_next_field`),
  as an additive change within relay version 1 would. Its `v` stays 1 on purpose: a raised
  `v` is by definition (app/relay.py) a change an older reader must not guess at and drops
  whole, so a release that raises it is upgraded all at once, never rolled.
- The live protocol: it speaks NEXT_PROTOCOLS, this version's and the one after, so a hello
  listing 2 is welcomed with 2 here and with 1 by this version.
- Exports: the JSON it writes (a file, or an owner's export reply on the bus) says
  NEXT_SCHEMA_VERSION and carries a field this version does not know. A room's owner
  renders its exports itself (app/cluster.py), so neither version reads the other's.

Test code only: it patches the app before the app is created, and imports of the tests
only that one helper.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Collection
from typing import Any

from app import protocol as p
from app.export_versions import SCHEMA_VERSION
from app.snapshot import BoardExport
from tests.test_relay_versions import with_next_field

NEXT_PROTOCOLS: frozenset[int] = frozenset({*p.SUPPORTED_PROTOCOLS, max(p.SUPPORTED_PROTOCOLS) + 1})
NEXT_SCHEMA_VERSION = SCHEMA_VERSION + 1
NEXT_EXPORT_FIELD = "next_version_export_field"


def as_next_export(document: dict[str, Any]) -> dict[str, Any]:
    """An export of this version as the next one writes it."""
    return {**document, "schema_version": NEXT_SCHEMA_VERSION, NEXT_EXPORT_FIELD: {"new": True}}


def as_next_message(message: str) -> str:
    """A bus message as the next version publishes it: an export reply's JSON (a document,
    or a file the owner rendered as JSON) in the next export version, and a field unknown to
    this version in every object."""
    data = json.loads(message)
    if isinstance(data, dict) and data.get("type") == "export" and isinstance(data.get("body"), str):
        name = data.get("file_name")
        if name is None or str(name).endswith(".json"):
            data["body"] = json.dumps(as_next_export(json.loads(data["body"])))
    return json.dumps(with_next_field(data))


def patch() -> None:
    """Make this process the next version."""
    from app import export as exports
    from app.bus.redis import RedisBus

    publish = RedisBus.publish

    def publish_as_next(self: RedisBus, channel: str, message: str) -> None:
        publish(self, channel, as_next_message(message))

    RedisBus.publish = publish_as_next  # type: ignore[method-assign]

    # app/ws.py calls p.choose_protocol, whose default `supported` was bound at import.
    choose = p.choose_protocol

    def choose_next(spoken: Collection[int], supported: Collection[int] = NEXT_PROTOCOLS) -> int | p.Unsupported:
        return choose(spoken, supported)

    p.choose_protocol = choose_next
    p.SUPPORTED_PROTOCOLS = NEXT_PROTOCOLS
    p.PROTOCOL_VERSION = max(NEXT_PROTOCOLS)

    render, media_type = exports.RENDERERS["json"]

    def render_next(export: BoardExport) -> bytes:
        return json.dumps(as_next_export(json.loads(render(export))), indent=2).encode()

    exports.RENDERERS["json"] = (render_next, media_type)


def main(argv: list[str]) -> None:
    from app import cli

    patch()
    cli.main(argv)


if __name__ == "__main__":
    main(sys.argv[1:])
