"""The street in a given year: which objects lie there then, and in what state.

A case is drawn once but describes a street over time: the sewer of the works (`planned`), a heat
network laid later (`built: 2028`), a gas main taken out of service (`disused: 2030`) and dug out
(`removed: 2035`), space reserved until its network comes (a reservation's `claim: 2028`). `as_of`
returns the section as it stands in one year:

- an object built after that year is not there yet; one removed in or before it is gone;
- one built before it (and drawn as planned) is already in the ground (`existing`); one built in it
  is that year's works (`planned`, judged);
- one disused in or before it is `disused` (it takes space; an operator's rules leave it alone);
- a reservation whose claim year has come is gone: its network, when the case draws it, takes its place.

The year is the one asked for (`check --at YEAR`), else the year of the works (`planned`); a case
without either is taken as drawn. Asking for a year other than the works' also judges the rules in
force then: the section's `planned` date becomes 1 January of that year. Holders and house
connections keep only references to objects still there.
"""

from __future__ import annotations

from dataclasses import replace

from checker.model.section import Obj, Section


def present(obj: Obj, year: int) -> bool:
    """Tell whether an object lies in the street in `year`."""
    if obj.built is not None and obj.built > year:
        return False
    if obj.removed is not None and obj.removed <= year:
        return False
    return not (obj.claim is not None and obj.claim <= year)


def state(obj: Obj, year: int) -> Obj:
    """Return the object with the status it has in `year` (it must be present then)."""
    status = obj.status
    if obj.disused is not None and obj.disused <= year:
        status = "disused"
    elif obj.built is not None and obj.built < year and status == "planned":
        status = "existing"
    return obj if status == obj.status else replace(obj, status=status)


def as_of(section: Section, at: int | None = None) -> Section:
    """Return the section as it stands in year `at` (default: the year of its works; as drawn without one)."""
    year = at if at is not None else (int(section.planned[:4]) if section.planned else None)
    if year is None:
        return section
    timed = any(o.built is not None or o.disused is not None or o.removed is not None or o.claim is not None
                for o in section.objects)
    if not timed and at is None:
        return section
    kept = [state(o, year) for o in section.objects if present(o, year)]
    ids = {o.id for o in kept}
    objects = tuple(
        replace(o, holds=tuple(h for h in o.holds if h in ids),
                connects=o.connects if o.connects in ids else None)
        if any(h not in ids for h in o.holds) or (o.connects is not None and o.connects not in ids) else o
        for o in kept)
    if at is None:
        return replace(section, objects=objects)
    planned = f"{at}-01-01"
    tags = tuple(("planned", float(at)) if key == "planned" else (key, value) for key, value in section.tags)
    if all(key != "planned" for key, _ in section.tags):
        tags += (("planned", float(at)),)
    return replace(section, objects=objects, planned=planned, tags=tags, moment=at)
