"""The delivery area: a centre and a radius, checked offline with the haversine formula.

``DLOOP_DELIVERY_AREA="45.4642,9.1900,5km"`` (latitude, longitude, radius in ``km`` or
``m``) is read by :func:`parse_area`; :func:`distance_m` is the great-circle distance on
a sphere of the Earth's mean radius, which is within about 0.5% of the ellipsoid: a few
metres at a town's scale, far below how precisely a phone shares its position. No
geocoding service is called, so the check works offline and replays identically.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


class AreaError(ValueError):
    """A delivery-area text that cannot be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DeliveryArea:
    """A circle on the map: its centre and radius."""

    latitude: float
    longitude: float
    radius_m: float

    def contains(self, latitude: float, longitude: float) -> bool:
        """True when the point lies within the radius (the edge included)."""
        return distance_m(self.latitude, self.longitude, latitude, longitude) <= self.radius_m

    @property
    def radius_text(self) -> str:
        """The radius as a customer reads it: ``5 km``, ``2,5 km`` or ``800 m``."""
        if self.radius_m < 1000:
            return f"{round(self.radius_m)} m"
        km = f"{self.radius_m / 1000:.1f}".removesuffix(".0").replace(".", ",")
        return f"{km} km"


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def parse_area(text: str) -> DeliveryArea:
    """Read ``"lat,lon,radius"`` (radius ``5km``, ``2.5 km``, ``800m``); else :class:`AreaError`."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) != 3:
        raise AreaError(f"expected 'latitude,longitude,radius' (e.g. 45.4642,9.1900,5km): {text!r}")
    lat, lon = _number(parts[0], "latitude"), _number(parts[1], "longitude")
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise AreaError(f"coordinates out of range: {lat}, {lon}")
    return DeliveryArea(latitude=lat, longitude=lon, radius_m=_radius(parts[2]))


def _number(text: str, what: str) -> float:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise AreaError(f"{what} is not a number: {text!r}") from None
    if not value.is_finite():
        raise AreaError(f"{what} is not a finite number: {text!r}")
    return float(value)


def _radius(text: str) -> float:
    folded = text.replace(" ", "").lower()
    for unit, factor in (("km", 1000.0), ("m", 1.0)):
        if folded.endswith(unit):
            value = _number(folded.removesuffix(unit), "radius") * factor
            if value <= 0:
                raise AreaError(f"the radius must be positive: {text!r}")
            return value
    raise AreaError(f"the radius needs a unit, km or m: {text!r}")
