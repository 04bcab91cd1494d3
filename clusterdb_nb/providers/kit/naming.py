"""Names of a fleet's cloud resources, the ownership tag, and each cloud's rules for tags.

A fleet ``web`` owns resources named ``clusterdb-web`` (a launch template, an
instance template, a scale set) carrying the ownership tag
``clusterdb:fleet = web``. Clouds spell tags differently: AWS and Azure take
``clusterdb:fleet`` as it is, GCE labels allow no ``:`` and only lowercase, so
a cloud's ``TagRules`` names its own owner key and says which tags fit::

    >>> resource_name("web"), fleet_of("clusterdb-web"), fleet_of("web")
    ('clusterdb-web', 'web', None)
    >>> labels = TagRules(owner_key="clusterdb-fleet", max_key=63, max_value=63,
    ...                   key_pattern=r"[a-z][a-z0-9_-]*", value_pattern=r"[a-z0-9_-]*", rule="GCE label rules")
    >>> labels.split({"team": "ml", "Cost Center": "42"})
    ({'team': 'ml'}, {'Cost Center': '42'})
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from ...errors import ValidationError

__all__ = ["OWNER_TAG", "PREFIX", "TagRules", "fleet_of", "resource_name"]

PREFIX = "clusterdb-"
OWNER_TAG = "clusterdb:fleet"


def resource_name(fleet: str) -> str:
    """The name of the cloud resources a fleet owns, e.g. ``clusterdb-web``."""
    return f"{PREFIX}{fleet}"


def fleet_of(name: str) -> str | None:
    """The fleet a resource named by ``resource_name`` belongs to; ``None`` for a resource not named so."""
    fleet = name.removeprefix(PREFIX)
    return fleet if fleet and fleet != name else None


@dataclass(frozen=True)
class TagRules:
    """One cloud's rules for tags (or labels): lengths, characters, prefixes it reserves, and its owner key.

    Patterns must match the whole key or value; ``rule`` says the rules in words, for errors.
    """

    owner_key: str
    max_key: int
    max_value: int
    key_pattern: str = r"(?s).+"
    value_pattern: str = r"(?s).*"
    reserved_prefixes: tuple[str, ...] = ()
    rule: str = ""

    def owner(self, fleet: str) -> dict[str, str]:
        """The ownership tag of ``fleet``'s resources."""
        return {self.owner_key: fleet}

    def fits(self, key: str, value: str) -> bool:
        """True when the cloud accepts the tag ``key = value`` from a user."""
        return (
            len(key) <= self.max_key
            and len(value) <= self.max_value
            and not key.startswith(self.reserved_prefixes)
            and re.fullmatch(self.key_pattern, key) is not None
            and re.fullmatch(self.value_pattern, value) is not None
        )

    def check(self, tags: Mapping[str, str], field: str = "tags") -> None:
        """Raise ``ValidationError`` naming the first tag the cloud would refuse, before any call."""
        for key, value in tags.items():
            if not self.fits(key, value):
                raise ValidationError(
                    f"{field}.{key}: the tag {key!r}={value!r} breaks the cloud's tag rules ({self.rule})",
                    field=f"{field}.{key}",
                    rule=self.rule,
                    solution="Shorten or rename the tag",
                )

    def split(self, tags: Mapping[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """``(tags that fit, tags that do not)``, for a cloud that carries the second kind elsewhere."""
        fit = {k: v for k, v in tags.items() if self.fits(k, v)}
        return fit, {k: v for k, v in tags.items() if k not in fit}

    def user_tags(self, tags: Mapping[str, str]) -> dict[str, str]:
        """The tags a user set: without the cloud's reserved ones and the ownership tag."""
        return {k: v for k, v in tags.items() if not k.startswith(self.reserved_prefixes) and k != self.owner_key}
