"""Screenshots of every view on a phone (390x844) and on a 1080p projector (1920x1080), taken
on the tour (see conftest) for people to look at: artifacts/screenshots/, ignored by git. The
README's picture of the presenter view, docs/img/presenter.png, is copied from there when
SAMSKAPA_UPDATE_DOC_IMAGES=1 is set (so that a test run leaves the checkout as it was)."""

from __future__ import annotations

import os
import shutil
import struct
from pathlib import Path

from tests.browser.conftest import SIZES, VIEWS, Tour
from tests.servers import ROOT


def png_size(path: Path) -> str:
    width, height = struct.unpack(">II", path.read_bytes()[16:24])
    return f"{width}x{height}"


def test_every_view_is_photographed_on_a_phone_and_a_projector(tour: Tour) -> None:
    assert set(tour.screenshots) == {f"{view}-{size}" for view in VIEWS for size in SIZES}
    for name, path in tour.screenshots.items():
        assert png_size(path) == name.rsplit("-", 1)[1], name
    if os.environ.get("SAMSKAPA_UPDATE_DOC_IMAGES") == "1":
        docs = ROOT / "docs" / "img"
        docs.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(tour.screenshots["presenter-spectrum-1920x1080"], docs / "presenter.png")
