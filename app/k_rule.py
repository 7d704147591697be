"""The k rule on one quantity (docs/insight.md): which groups' figures may be shown beside
the whole room's, and whether a change of the figures may be released.

A quantity is one statement in one round, of one kind. Its figures are sums over people:
the whole room, each group shown, and the *rest* (the room minus the shown groups, which a
reader can work out). Every sum or difference of them is a sum over whole *atoms*: each
shown group and the rest. So nothing shown is about fewer than k grades when each atom
holds none or at least k; and a change of the figures between two moments is about
fewer than k people only if the people who changed are 1 to k-1 in some atom. Both are
decided here, from counts, when the board releases a change (app/board.py) and when an
import checks a file against its answers (app/imports.py).

Pure, from counts only: must not import the rest of the app but the aggregates.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from collections.abc import Set as AbstractSet

from app.aggregates import Aggregate


def shown_groups(whole: Aggregate | None, parts: Mapping[str, Aggregate | None], k: int) -> set[str]:
    """The groups whose figures of one quantity may be shown: each with at least k grades,
    taken largest first, while what is left outside the shown groups stays either nothing
    at all or at least k grades ("don't know" answers left alone outside would be the
    answers of people a reader can name as not in those groups). Nothing of a group is
    shown while the whole room has fewer than k grades."""
    if whole is None or whole.n < k:
        return set()
    rest_grades, rest_unknown = whole.n, whole.unknown
    shown: set[str] = set()
    candidates = sorted(((a, g) for g, a in parts.items() if a is not None and a.n >= k), key=lambda c: (-c[0].n, c[1]))
    for part, group_id in candidates:
        grades, unknown = rest_grades - part.n, rest_unknown - part.unknown
        if grades >= k or grades == unknown == 0:
            shown.add(group_id)
            rest_grades, rest_unknown = grades, unknown
    return shown


def releasable(changed: Mapping[str | None, int], atoms: AbstractSet[str], k: int) -> bool:
    """Whether the changes of the people counted in `changed` (per group, None for no
    group) may be released at once: in every atom (each group in `atoms`, the groups shown
    before or after the change, and the rest) none or at least k of them changed, so no
    difference of two moments' figures is about fewer than k."""
    counts: Counter[str | None] = Counter()
    for group, people in changed.items():
        counts[group if group in atoms else None] += people
    return all(count == 0 or count >= k for count in counts.values())
