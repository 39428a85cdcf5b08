"""Surface zone kinds of a Dutch street profile, as NEN 7171 reasons about them.

A dwarsprofiel is divided, left to right from the facade, into surface zones
(trottoir, fietspad, rijbaan, ...). Cables and pipes are assigned to zones; NEN 7171
places the utility strip (nutsstrook) under the footway or verge and the sewer under
the carriageway. This module is the vocabulary case files and rule packs share.
"""

from __future__ import annotations

# kind -> (description, whether it normally hosts the nutsstrook for K&L)
ZONE_KINDS: dict[str, tuple[str, bool]] = {
    "trottoir": ("footway (voetpad) next to the facade", True),
    "berm": ("verge, unpaved strip", True),
    "groen": ("green strip or planted bed", False),
    "fietspad": ("cycle path", False),
    "parkeren": ("parking lane", False),
    "rijbaan": ("carriageway", False),
    "middenberm": ("central reserve", False),
    "trambaan": ("tram track", False),
    "busbaan": ("bus lane", False),
    "kade": ("quay, the strip along a quay wall", False),
    "plein": ("square, open paved space", True),
    "tuin": ("private front garden (voortuin)", False),
    "water": ("canal or other open water", False),
    "onbekend": ("surface not known (a section cut from a KLIC delivery without --zones)", False),
}
# A zone whose surface is not known: a `within` zone rule does not judge what lies under it
# (it cannot tell), and no rule names it, so it hosts no nutsstrook and counts in no capacity.
UNKNOWN_ZONE = "onbekend"


def is_zone_kind(name: str) -> bool:
    """Tell whether `name` is a known surface zone kind."""
    return name in ZONE_KINDS


def utility_zones() -> tuple[str, ...]:
    """Return the zone kinds that normally host the nutsstrook (K&L strip)."""
    return tuple(kind for kind, (_, hosts) in ZONE_KINDS.items() if hosts)


CARRIAGEWAYS = ("rijbaan", "trambaan", "busbaan")


def side_runs(kinds: list[str] | tuple[str, ...]) -> list[frozenset[int]]:
    """Return, per zone, the zones on the same side of the carriageway (a carriageway belongs to both sides).

    >>> [sorted(r) for r in side_runs(["trottoir", "parkeren", "rijbaan", "trottoir"])]
    [[0, 1, 2], [0, 1, 2], [0, 1, 2, 3], [2, 3]]
    """
    runs: list[set[int]] = [set()]
    for k, kind in enumerate(kinds):
        if kind in CARRIAGEWAYS:
            runs[-1].add(k)
            runs.append({k})
        else:
            runs[-1].add(k)
    out = []
    for k in range(len(kinds)):
        out.append(frozenset(set().union(*(r for r in runs if k in r))))
    return out
