"""Screenshots of every view on a phone (390x844) and on a 1080p projector (1920x1080), taken
on the tour (see conftest) for people to look at: artifacts/screenshots/, ignored by git. The
README's pictures (docs/img/) are copied by tests/browser/test_screen.py, from the states it
sets up for them (the screen's code and overview, the console steering it), when
SAMSKAPA_UPDATE_DOC_IMAGES=1 is set."""

from __future__ import annotations

import struct
from pathlib import Path

from tests.browser.conftest import SIZES, VIEWS, Tour


def png_size(path: Path) -> str:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return f"{width}x{height}"


def test_every_view_is_photographed_on_a_phone_and_a_projector(tour: Tour) -> None:
    assert set(tour.screenshots) == {f"{view}-{size}" for view in VIEWS for size in SIZES}
    for name, path in tour.screenshots.items():
        assert png_size(path) == name.rsplit("-", 1)[1], name
