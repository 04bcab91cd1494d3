"""Check REST bodies against the schemas of Google's discovery documents (shipped by google-api-python-client).

A fake validates every request body a client sends and every response body it returns, so its
fidelity is checked, not assumed::

    >>> api = Discovery.load("compute.v1")
    >>> api.check("POST", "https://compute.googleapis.com/compute/v1/projects/p/global/instanceTemplates",
    ...           {"name": "t", "colour": "red"}, "request")
    ['InstanceTemplate.colour: unknown field']
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import NotSupportedError

__all__ = ["Discovery", "Method"]

_TYPES: dict[str, Any] = {
    "string": (str,),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
    "number": (int, float),
}


@dataclass(frozen=True)
class Method:
    http: str
    pattern: re.Pattern[str]
    request: str | None
    response: str | None


@dataclass
class Discovery:
    """One API's schemas and the methods that take or return them."""

    schemas: dict[str, Any]
    methods: list[Method]
    prefix: str

    @classmethod
    @cache
    def load(cls, name: str) -> Discovery:
        """The discovery document ``name`` (``compute.v1``, ``cloudfunctions.v2``, ``monitoring.v3``)."""
        try:
            import googleapiclient  # type: ignore[import-untyped]
        except ImportError:
            raise NotSupportedError(
                "schema validation needs google-api-python-client: pip install 'clusterdb-nb[testing]'",
                operation="validate",
            ) from None
        path = Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / f"{name}.json"
        doc = json.loads(path.read_text())
        methods: list[Method] = []

        def walk(resources: dict[str, Any]) -> None:
            for res in resources.values():
                for m in res.get("methods", {}).values():
                    template = m.get("flatPath") or m["path"]
                    regex = re.sub(r"\\\{\\?\+?[^}]+\\\}", "[^/]+", re.escape(template))
                    methods.append(
                        Method(
                            m["httpMethod"],
                            re.compile(regex + "$"),
                            (m.get("request") or {}).get("$ref"),
                            (m.get("response") or {}).get("$ref"),
                        )
                    )
                walk(res.get("resources", {}))

        walk(doc.get("resources", {}))
        # literal paths first, so ".../instances/{name}" does not take ".../aggregated/instances"
        methods.sort(key=lambda m: m.pattern.pattern.count("[^/]+"))
        return cls(doc["schemas"], methods, doc["servicePath"])

    def method(self, http: str, url: str) -> Method | None:
        path = urlsplit(url).path.lstrip("/").removeprefix(self.prefix)
        for m in self.methods:
            if m.http == http and m.pattern.match(path):
                return m
        return None

    def check(self, http: str, url: str, body: Any, which: str) -> list[str]:
        """Problems of ``body`` (the ``"request"`` or ``"response"`` of the call), empty when it fits its schema."""
        m = self.method(http, url)
        if m is None:
            return [f"{http} {url}: no method of the API has this path"]
        ref = m.request if which == "request" else m.response
        if ref is None:
            return [] if body in (None, {}, "") else [f"{http} {url}: the method takes no {which} body"]
        return self._check(body, {"$ref": ref}, ref)

    def _check(self, value: Any, schema: dict[str, Any], where: str) -> list[str]:
        if "$ref" in schema:
            schema = self.schemas[schema["$ref"]]
        kind = schema.get("type", "any")
        if kind == "any":
            return []
        if kind == "integer" or (kind == "string" and schema.get("format") in ("int64", "uint64")):
            ok = isinstance(value, str) and value.lstrip("-").isdigit() or isinstance(value, int)
            return [] if ok and not isinstance(value, bool) else [f"{where}: expected {kind}, got {value!r}"]
        if kind == "string" and "enum" in schema and isinstance(value, int) and not isinstance(value, bool):
            return []  # Google's clients send enums as numbers ($alt=json;enum-encoding=int)
        if kind == "string" and "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {', '.join(schema['enum'])}"]
        if not isinstance(value, _TYPES[kind]) or (kind == "number" and isinstance(value, bool)):
            return [f"{where}: expected {kind}, got {type(value).__name__}"]
        if kind == "array":
            items: list[Any] = value
            return [p for i, v in enumerate(items) for p in self._check(v, schema["items"], f"{where}[{i}]")]
        if kind != "object":
            return []
        problems: list[str] = []
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        fields: dict[str, Any] = value
        for key, v in fields.items():
            if key in props:
                problems += self._check(v, props[key], f"{where}.{key}")
            elif extra is not None:
                problems += self._check(v, extra, f"{where}.{key}")
            else:
                problems.append(f"{where}.{key}: unknown field")
        return problems
