"""Sizes assumed for a network named without one, and the limits on what a capacity question may ask.

`ligging fit` and `ligging rules lint --networks` take networks as `water:160mm` or just
`water`; a bare name gets the typical outer diameter below. These are illustrative sizes
of Dutch distribution networks (a 50 mm cable or duct, a 110 mm PE/PVC main, a 250 mm
pre-insulated heat pipe, a 400 mm concrete sewer), not values from a standard: both
commands print the diameters they assumed, so a user can pass the real ones.
"""

from __future__ import annotations

from checker.model.section import CABLE_THEMAS

TYPICAL_DIAMETER: dict[str, float] = {
    "datatransport": 0.05,
    "laagspanning": 0.05,
    "middenspanning": 0.07,
    "hoogspanning": 0.15,
    "landelijkHoogspanningsnet": 0.20,
    "gasLageDruk": 0.11,
    "gasHogeDruk": 0.16,
    "water": 0.11,
    "warmte": 0.25,
    "rioolVrijverval": 0.40,
    "rioolOnderOverOfOnderdruk": 0.20,
}
# the most lines one capacity question may place (each line adds a row of pairwise binaries to the solver)
MAX_LINES = 40
# the most copies one `N x` may ask for, and the largest diameter a line may have
MAX_COPIES = 20
MAX_DIAMETER = 2.5


def typical_diameter(network: str) -> float:
    """Return the diameter assumed for a network named without a size (metres)."""
    return TYPICAL_DIAMETER.get(network, 0.05 if network in CABLE_THEMAS else 0.11)
