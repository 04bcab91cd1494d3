"""Every unknown key of a config named at once, each with a did-you-mean.

>>> check_keys(ClusterConfig, {"compute": {"providers": {"local": {"clokc": "virtual"}}}})
ValidationError: unknown config key: compute.providers.local.clokc (did you mean 'clock'?)
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

from pydantic import BaseModel

from .errors import ValidationError

__all__ = ["check_keys", "unknown_keys"]


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The pydantic model inside ``annotation`` (``Section``, ``Section | None``), if any."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            if (model := _model_of(arg)) is not None:
                return model
    return None


def unknown_keys(model: type[BaseModel], raw: Any, where: str = "") -> list[tuple[str, list[str], type[BaseModel]]]:
    """(dotted path, close matches, the section it is in) of every key of ``raw`` that ``model`` (or a section) does not know."""
    if not isinstance(raw, dict):
        return []
    known = set(model.model_fields)
    forbids = model.model_config.get("extra") == "forbid"
    kinds: dict[str, type[BaseModel]] = getattr(model, "KIND_MODELS", {})  # provider sections may say their ``kind``
    found = []
    for key, value in raw.items():
        path = f"{where}.{key}" if where else str(key)
        section = {k: v for k, v in value.items() if k != "kind"} if kinds and isinstance(value, dict) else value
        if key in known:
            sub = _model_of(model.model_fields[key].annotation)
            if sub is not None:
                found += unknown_keys(sub, section, path)
        elif isinstance(value, dict) and value.get("kind") in kinds:
            found += unknown_keys(kinds[value["kind"]], section, path)
        elif forbids:
            found.append((path, difflib.get_close_matches(str(key), sorted(known), n=1, cutoff=0.6), model))
    return found


def check_keys(model: type[BaseModel], raw: Any) -> None:
    """Raise one ValidationError naming every unknown key of ``raw``, with a suggestion where one is close."""
    found = unknown_keys(model, raw)
    if not found:
        return
    named = [f"{path} (did you mean {close[0]!r}?)" if close else path for path, close, _ in found]
    first, _, section = found[0]
    parent = first.rpartition(".")[0] if section is not model else ""
    allowed = ", ".join(section.model_fields)
    raise ValidationError(
        f"unknown config key{'s' if len(found) > 1 else ''}: {', '.join(named)}",
        field=first,
        rule="known keys only",
        solution=f"Fix or remove the keys named; {parent or 'the top level'} takes: {allowed}",
    )
