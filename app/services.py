"""What the routes share for the app's lifetime, built once in the lifespan (no globals)."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.addresses import ClientAddresses
from app.bus import Bus
from app.limits import AddressLimit
from app.rooms import RoomRegistry
from app.sealing import Sealer
from app.settings import Settings
from app.store import Store


@dataclass
class Services:
    settings: Settings
    store: Store
    bus: Bus
    rooms: RoomRegistry
    sealer: Sealer
    join_limiter: AddressLimit
    identity_limiter: AddressLimit
    room_limiter: AddressLimit
    # Whose address a request is, for every per-address limit (app/addresses.py).
    addresses: ClientAddresses = field(default_factory=ClientAddresses)
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("samskapa"))
