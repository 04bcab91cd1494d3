"""Catalog prices for a listing: one look-up per (type, spot), NaN where the catalog has no price.

A listing of a thousand instances of three types asks the catalog three
times, and an instance type the catalog does not know (a new family, a
custom machine type) is listed with a NaN price rather than failing the
listing::

    >>> price = price_or_nan(provider.hourly_price)
    >>> price("t3.medium", False), price("x9.unknown", False)
    (0.0416, nan)
"""

from __future__ import annotations

import math
from collections.abc import Callable

from ...errors import ValidationError

__all__ = ["Price", "price_or_nan"]

Price = Callable[[str, bool], float]
"""``price(instance_type, spot)``: USD per hour."""


def price_or_nan(hourly_price: Price) -> Price:
    """``hourly_price`` memoised for one listing, NaN where it raises ``ValidationError`` (no such type or offer)."""
    memo: dict[tuple[str, bool], float] = {}

    def price(instance_type: str, spot: bool) -> float:
        key = (instance_type, spot)
        if key not in memo:
            try:
                memo[key] = hourly_price(instance_type, spot)
            except ValidationError:
                memo[key] = math.nan
        return memo[key]

    return price
