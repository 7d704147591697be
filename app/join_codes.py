"""Join codes: the six digits participants type, unique among stored rooms.

The plan for the space of a million codes (issue 17 filled it in 46 minutes, when creating
rooms was unlimited): codes stay six digits, since that is what a room of people types
from a projector; room creation is rate-limited per address (rooms_created_per_hour), so one
address holds at most 60 * 24 * 30 = 43,200 codes at the default 30-day lifetime (4 % of the
space); and a code is reused as soon as it is free:

- a random code first (`random_code`), a few times: it is what keeps codes unguessable
  while the space is sparse, and it almost always succeeds (with half the space taken,
  eight draws all fail one time in 256);
- then, the space being crowded, the first free code from a random point on (`first_free`),
  walking the taken codes in order: found whenever any code is free;
- then, none being free, the caller deletes the rooms that have expired but still hold
  their codes (the hourly sweep has not reached them yet) and looks once more;
- and only then `no_join_code` (503): a million rooms are live at once.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Callable
from typing import TYPE_CHECKING

from app.clock import now_utc

if TYPE_CHECKING:
    from app.services import Services

DIGITS = 6
SPACE = 10**DIGITS
RANDOM_DRAWS = 8
# Taken codes read per query while walking a crowded space: a full walk is 100 queries.
BATCH = 10_000

# (first code, how many) -> the taken codes from that code on, ascending.
TakenFrom = Callable[[str, int], list[str]]


def as_code(number: int) -> str:
    return f"{number:0{DIGITS}d}"


def random_code() -> str:
    return as_code(secrets.randbelow(SPACE))


def first_free(taken_from: TakenFrom, start: int) -> str | None:
    """The first code from `start` on, wrapping round past 999999 to 000000, that no room
    holds; None when every code is taken. Codes are zero-padded, so their text order is
    their number order and the walk can use the join code's unique index."""
    for low, high in ((start, SPACE), (0, start)):
        cursor = low
        while cursor < high:
            taken = [int(code) for code in taken_from(as_code(cursor), BATCH) if code.isdigit()]
            for code in taken:
                if code > cursor:
                    break  # a gap: cursor is free
                cursor = max(cursor, code + 1)
            else:
                if len(taken) == BATCH:
                    continue  # a full batch of consecutive codes: read on
            if cursor < high:
                return as_code(cursor)
            break
    return None


async def candidate(attempt: int, services: Services) -> str | None:
    """The code to try at this attempt of storing a new room (see the plan above)."""
    if attempt < RANDOM_DRAWS:
        return random_code()
    start = secrets.randbelow(SPACE)
    code = await asyncio.to_thread(first_free, services.store.join_codes_from, start)
    if code is None and await services.rooms.delete_expired(now_utc()):
        code = await asyncio.to_thread(first_free, services.store.join_codes_from, start)
    return code
