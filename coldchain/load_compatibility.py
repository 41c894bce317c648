"""Which products may travel together, and in what range (pure: no database).

Each product brings its storage band: its temperature band (raised to its chilling threshold
for a chilling-sensitive product) and its humidity band. A load keeps the intersection of its
products' temperature bands; an empty intersection is refused, naming each pair that clashes;
a band narrower than 1 °C, or humidity bands that do not meet, are warned about (the planner
confirms them, coldchain.services.shipments.plan_shipment).
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations

from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from .exceptions import ColdChainError

NARROW_BAND_C = Decimal("1.0")


def plain_number(value: Decimal) -> str:
    """13.0 → "13", 12.5 → "12.5", 10 → "10" (normalize alone would print 1E+1)."""
    return f"{Decimal(value).normalize():f}"


@dataclass(frozen=True)
class StorageBand:
    """Where one product may be kept: its storage band, raised to its chilling threshold for a
    chilling-sensitive product, and its humidity band. `name` is the product's, as shown."""

    name: str
    min_temperature_c: Decimal
    max_temperature_c: Decimal
    min_humidity_pct: Decimal
    max_humidity_pct: Decimal

    @property
    def temperatures(self) -> str:
        return _("%(low)s–%(high)s °C") % {
            "low": plain_number(self.min_temperature_c),
            "high": plain_number(self.max_temperature_c),
        }

    @property
    def humidities(self) -> str:
        return _("%(low)s–%(high)s %% RH") % {
            "low": plain_number(self.min_humidity_pct),
            "high": plain_number(self.max_humidity_pct),
        }


@dataclass(frozen=True)
class LoadRange:
    """The range a load must keep: the intersection of its products' bands, and what is awkward
    about it (translated sentences, empty for an easy load)."""

    min_temperature_c: Decimal
    max_temperature_c: Decimal
    warnings: list[str] = field(default_factory=list)


def load_range(bands: Sequence[StorageBand]) -> LoadRange:
    """The range for a load of products with these bands (one per product): the highest lower
    bound to the lowest upper bound. Refused (field `lots`) when nothing is left: the message
    names each pair that cannot travel together. Warned about: a mix whose band is narrower than
    1 °C, and products whose humidity bands do not meet."""
    if not bands:
        raise ColdChainError(_("Add at least one lot."), field="lots")
    low = max(bands, key=lambda band: band.min_temperature_c)
    high = min(bands, key=lambda band: band.max_temperature_c)
    if low.min_temperature_c >= high.max_temperature_c:
        clashes = [
            _("%(first)s (%(first_range)s) and %(second)s (%(second_range)s)")
            % {
                "first": first.name,
                "first_range": first.temperatures,
                "second": second.name,
                "second_range": second.temperatures,
            }
            for first, second in combinations(bands, 2)
            if first.min_temperature_c >= second.max_temperature_c
            or second.min_temperature_c >= first.max_temperature_c
        ]
        raise ColdChainError(
            _("These products cannot travel together: %(clashes)s.")
            % {"clashes": "; ".join(clashes)},
            field="lots",
        )
    warnings = []
    if len(bands) > 1 and high.max_temperature_c - low.min_temperature_c < NARROW_BAND_C:
        setters = [low.name] if low is high else [low.name, high.name]
        warnings.append(
            _(
                "The load can only be kept at %(low)s–%(high)s °C (set by %(products)s): a band "
                "narrower than 1 °C is hard to hold."
            )
            % {
                "low": plain_number(low.min_temperature_c),
                "high": plain_number(high.max_temperature_c),
                "products": get_text_list(setters, _("and")),
            }
        )
    for first, second in combinations(bands, 2):
        if (
            first.max_humidity_pct < second.min_humidity_pct
            or second.max_humidity_pct < first.min_humidity_pct
        ):
            warnings.append(
                _(
                    "%(first)s (%(first_range)s) and %(second)s (%(second_range)s) need "
                    "different humidity: one of them will dry out or get too wet."
                )
                % {
                    "first": first.name,
                    "first_range": first.humidities,
                    "second": second.name,
                    "second_range": second.humidities,
                }
            )
    return LoadRange(low.min_temperature_c, high.max_temperature_c, warnings)
