"""``fake_gcp()``: an offline, stateful fake of the Compute Engine REST resources the GCP adapter uses.

It serves ``compute.googleapis.com`` through ``responses`` and drives Google's own client libraries
(REST transport, anonymous credentials): instance templates, regional managed instance groups and
their managed instances, instances, zones, regions (with quotas) and operations, which finish after
``polls`` reads. Instances boot (PROVISIONING -> STAGING -> RUNNING) and stop (STOPPING -> TERMINATED)
on the fake's clock. With ``validate=True`` every body is checked against ``compute.v1``'s discovery
schemas and problems are collected in ``schema_errors``::

    with fake_gcp() as cloud:
        s = cdb.connect(gcp={"project_id": "demo", "credentials": "anonymous"})
        cloud.inject("stockout")            # the next resize's operation fails with ZONE_RESOURCE_POOL_EXHAUSTED
        cloud.set_quota("CPUS", 8)
        cloud.advance("1min")               # instances boot
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .fake_cloud import FakeCloud, Handler

__all__ = ["FakeGcp", "fake_gcp", "serving"]

HOST = "https://compute.googleapis.com/compute/v1/projects/"
BOOT_SECONDS = 20.0  # PROVISIONING -> STAGING after half of it, RUNNING after all
STOP_SECONDS = 10.0
VCPUS = {"e2-micro": 2, "e2-small": 2, "e2-medium": 2, "e2-standard-2": 2, "e2-standard-4": 4, "n2-standard-2": 2}
_ACTIVE: list[FakeGcp] = []


def serving() -> bool:
    """True while a ``fake_gcp()`` serves Google's endpoints (anonymous credentials are allowed then)."""
    return bool(_ACTIVE)


def _error(code: int, status: str, reason: str, message: str) -> tuple[int, dict[str, str], str]:
    body = {"error": {"code": code, "message": message, "status": status, "errors": [{"reason": reason, "message": message}]}}
    return code, {"Content-Type": "application/json"}, json.dumps(body)


def _rfc3339(ts: Any) -> str:
    return str(ts.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "-00:00")


@dataclass
class FakeGcp(FakeCloud):
    """The fake's state: plain dicts of the REST resources, keyed by name."""

    FAULTS = frozenset({"stockout", "quota", "throttle", "server_error"})

    project: str = "demo"
    region: str = "us-central1"
    zones: tuple[str, ...] = ("us-central1-a", "us-central1-b", "us-central1-c", "us-central1-f")
    validate: bool = False
    schema_errors: list[str] = field(default_factory=list)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    groups: dict[str, dict[str, Any]] = field(default_factory=dict)
    instances: dict[str, dict[str, Any]] = field(default_factory=dict)  # name -> Instance body (+ "_since")
    operations: dict[str, dict[str, Any]] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000000000000000001))

    def __post_init__(self) -> None:
        self.quotas.setdefault("CPUS", 24.0)
        self.quotas.setdefault("INSTANCES", 1000.0)
        self.quotas.setdefault("INSTANCE_GROUP_MANAGERS", 50.0)

    # -- plumbing ---------------------------------------------------------------
    def _id(self) -> str:
        return str(next(self._ids))

    def _ok(self, method: str, url: str, body: Any) -> tuple[int, dict[str, str], str]:
        if self.validate:
            from .discovery import Discovery

            self.schema_errors += Discovery.load("compute.v1").check(method, url, body, "response")
        return 200, {"Content-Type": "application/json"}, json.dumps(body)

    def _not_found(self, what: str) -> tuple[int, dict[str, str], str]:
        return _error(404, "NOT_FOUND", "notFound", f"The resource '{what}' was not found")

    def _operation(self, kind: str, target: str, scope: str, error: tuple[str, str, int] | None = None) -> dict[str, Any]:
        """A new operation on ``target``, in ``scope`` (``global`` or ``regions/<r>``), done after ``polls`` reads."""
        name = f"operation-{self._id()}"
        op: dict[str, Any] = {
            "kind": "compute#operation",
            "id": self._id(),
            "name": name,
            "operationType": kind,
            "targetLink": target,
            "status": "RUNNING" if self.polls else "DONE",
            "progress": 0,
            "insertTime": _rfc3339(self.now),
            "selfLink": f"{HOST}{self.project}/{scope}/operations/{name}",
            "_reads": self.polls,
        }
        if scope != "global":
            op["region"] = f"{HOST}{self.project}/{scope}"
        if error is not None:
            code, message, status = error
            op["error"] = {"errors": [{"code": code, "message": message}]}
            op["httpErrorStatusCode"] = status
            op["httpErrorMessage"] = "FORBIDDEN" if status == 403 else "SERVICE UNAVAILABLE"
        self.operations[name] = op
        return op

    def _public(self, resource: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in resource.items() if not k.startswith("_")}

    def _settle(self) -> None:
        """Move instances along their lifecycle on the fake's clock."""
        now = self.now
        for inst in self.instances.values():
            age = (now - inst["_since"]).total_seconds()
            if inst["status"] in ("PROVISIONING", "STAGING"):
                inst["status"] = "RUNNING" if age >= BOOT_SECONDS else "STAGING" if age >= BOOT_SECONDS / 2 else "PROVISIONING"
            elif inst["status"] == "STOPPING" and age >= STOP_SECONDS:
                inst["status"] = "TERMINATED"

    def _cpus_in_use(self) -> float:
        return sum(
            VCPUS.get(i["machineType"].rsplit("/", 1)[-1], 2) for i in self.instances.values() if i["status"] != "TERMINATED"
        )

    # -- routes ---------------------------------------------------------------------
    def routes(self) -> Iterator[tuple[str, re.Pattern[str], Handler]]:
        p = re.escape(HOST) + r"(?P<project>[^/]+)/"
        rg = p + r"regions/(?P<region>[^/]+)/instanceGroupManagers"
        table: list[tuple[str, str, Any]] = [
            ("POST", p + r"global/instanceTemplates$", self._insert_template),
            ("GET", p + r"global/instanceTemplates/(?P<name>[^/?]+)$", self._get_template),
            ("DELETE", p + r"global/instanceTemplates/(?P<name>[^/?]+)$", self._delete_template),
            ("GET", p + r"global/operations/(?P<name>[^/?]+)$", self._get_operation),
            ("GET", p + r"regions/[^/]+/operations/(?P<name>[^/?]+)$", self._get_operation),
            ("GET", p + r"regions/(?P<region>[^/?]+)$", self._get_region),
            ("GET", p + r"zones$", self._list_zones),
            ("POST", rg + r"$", self._insert_group),
            ("GET", rg + r"$", self._list_groups),
            ("GET", rg + r"/(?P<name>[^/?]+)$", self._get_group),
            ("DELETE", rg + r"/(?P<name>[^/?]+)$", self._delete_group),
            ("PATCH", rg + r"/(?P<name>[^/?]+)$", self._patch_group),
            ("POST", rg + r"/(?P<name>[^/?]+)/resize$", self._resize),
            ("POST", rg + r"/(?P<name>[^/?]+)/listManagedInstances$", self._list_managed),
            ("POST", rg + r"/(?P<name>[^/?]+)/(?P<verb>stopInstances|startInstances|deleteInstances)$", self._act),
            ("GET", p + r"zones/(?P<zone>[^/]+)/instances$", self._list_zone_instances),
            ("GET", p + r"zones/(?P<zone>[^/]+)/instances/(?P<name>[^/?]+)$", self._get_instance),
            ("GET", p + r"aggregated/instances$", self._aggregated_instances),
        ]
        for method, pattern, fn in table:
            compiled = re.compile(pattern.replace("$", r"(\?.*)?$"))
            yield method, compiled, self._handler(method, compiled, fn)

    def _handler(self, method: str, pattern: re.Pattern[str], fn: Any) -> Handler:
        def handle(request: Any) -> tuple[int, dict[str, str], str]:
            body = json.loads(request.body) if request.body else None
            if self.validate and body is not None:
                from .discovery import Discovery

                self.schema_errors += Discovery.load("compute.v1").check(method, request.url, body, "request")
            fault = self.take_fault({"throttle", "server_error"}, request.url)
            if fault == "throttle":
                return _error(429, "RESOURCE_EXHAUSTED", "rateLimitExceeded", "Rate Limit Exceeded")
            if fault == "server_error":
                return _error(503, "UNAVAILABLE", "backendError", "The service is currently unavailable")
            self._settle()
            match = pattern.match(request.url)
            assert match is not None
            query = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
            status, headers, out = fn(body, query, **{k: v for k, v in match.groupdict().items() if k != "project"})
            return status, headers, out

        return handle

    def _reply(self, method: str, url: str, body: dict[str, Any]) -> tuple[int, dict[str, str], str]:
        return self._ok(method, url, self._public(body))

    # templates
    def _template_url(self, name: str) -> str:
        return f"{HOST}{self.project}/global/instanceTemplates/{name}"

    def _insert_template(self, body: dict[str, Any], query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        name = body["name"]
        if name in self.templates:
            return _error(409, "ALREADY_EXISTS", "alreadyExists", f"The resource '{self._template_url(name)}' already exists")
        self.templates[name] = {
            **body,
            "kind": "compute#instanceTemplate",
            "id": self._id(),
            "selfLink": self._template_url(name),
            "creationTimestamp": _rfc3339(self.now),
        }
        return self._reply(
            "POST", self._template_url("").rstrip("/"), self._operation("insert", self._template_url(name), "global")
        )

    def _get_template(self, body: Any, query: dict[str, str], name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.templates:
            return self._not_found(f"projects/{self.project}/global/instanceTemplates/{name}")
        return self._reply("GET", self._template_url(name), self.templates[name])

    def _delete_template(self, body: Any, query: dict[str, str], name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.templates:
            return self._not_found(f"projects/{self.project}/global/instanceTemplates/{name}")
        if any(g["instanceTemplate"] == self._template_url(name) for g in self.groups.values()):
            return _error(
                400, "FAILED_PRECONDITION", "resourceInUseByAnotherResource", f"The instance template '{name}' is in use"
            )
        del self.templates[name]
        return self._reply("DELETE", self._template_url(name), self._operation("delete", self._template_url(name), "global"))

    # operations, regions, zones
    def _get_operation(self, body: Any, query: dict[str, str], name: str) -> tuple[int, dict[str, str], str]:
        op = self.operations.get(name)
        if op is None:
            return self._not_found(name)
        if op["status"] != "DONE":
            op["_reads"] -= 1
            if op["_reads"] <= 0:
                op.update(status="DONE", progress=100, endTime=_rfc3339(self.now))
        return self._reply("GET", op["selfLink"], op)

    def _get_region(self, body: Any, query: dict[str, str], region: str) -> tuple[int, dict[str, str], str]:
        if region != self.region:
            return self._not_found(f"projects/{self.project}/regions/{region}")
        usage = {
            "CPUS": self._cpus_in_use(),
            "INSTANCES": float(len(self.instances)),
            "INSTANCE_GROUP_MANAGERS": float(len(self.groups)),
        }
        url = f"{HOST}{self.project}/regions/{region}"
        body = {
            "kind": "compute#region",
            "id": "1000",
            "name": region,
            "status": "UP",
            "selfLink": url,
            "zones": [f"{HOST}{self.project}/zones/{z}" for z in self.zones],
            "quotas": [{"metric": m, "limit": lim, "usage": usage.get(m, 0.0)} for m, lim in sorted(self.quotas.items())],
        }
        return self._reply("GET", url, body)

    def _list_zones(self, body: Any, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        url = f"{HOST}{self.project}/zones"
        items = [
            {
                "kind": "compute#zone",
                "id": str(2000 + i),
                "name": z,
                "status": "UP",
                "region": f"{HOST}{self.project}/regions/{self.region}",
                "selfLink": f"{url}/{z}",
            }
            for i, z in enumerate(self.zones)
        ]
        return self._reply("GET", url, {"kind": "compute#zoneList", "id": url, "items": items, "selfLink": url})

    # groups
    def _group_url(self, name: str) -> str:
        return f"{HOST}{self.project}/regions/{self.region}/instanceGroupManagers/{name}"

    def _scope(self) -> str:
        return f"regions/{self.region}"

    def _members(self, group: str) -> list[dict[str, Any]]:
        return [i for i in self.instances.values() if i["_group"] == group]

    def _group_body(self, g: dict[str, Any]) -> dict[str, Any]:
        members = self._members(g["name"])
        creating = sum(1 for i in members if i["status"] in ("PROVISIONING", "STAGING"))
        stopping = sum(1 for i in members if i["status"] == "STOPPING")
        actions = {"none": len(members) - creating - stopping, "creating": creating, "stopping": stopping}
        stable = creating == 0 and stopping == 0
        return {**g, "currentActions": actions, "status": {"isStable": stable}}

    def _insert_group(self, body: dict[str, Any], query: dict[str, str], region: str) -> tuple[int, dict[str, str], str]:
        name = body["name"]
        if name in self.groups:
            return _error(409, "ALREADY_EXISTS", "alreadyExists", f"The resource '{self._group_url(name)}' already exists")
        if len(self.groups) + 1 > self.quotas["INSTANCE_GROUP_MANAGERS"]:
            op = self._operation(
                "insert",
                self._group_url(name),
                self._scope(),
                ("QUOTA_EXCEEDED", "Quota 'INSTANCE_GROUP_MANAGERS' exceeded.", 403),
            )
            return self._reply("POST", self._group_url("").rstrip("/"), op)
        template = body["instanceTemplate"].rsplit("/", 1)[-1]
        if template not in self.templates:
            return _error(
                400,
                "INVALID_ARGUMENT",
                "invalid",
                f"Invalid value for field 'resource.instanceTemplate': '{body['instanceTemplate']}'",
            )
        self.groups[name] = {
            **body,
            "kind": "compute#instanceGroupManager",
            "id": self._id(),
            "selfLink": self._group_url(name),
            "region": f"{HOST}{self.project}/regions/{self.region}",
            "creationTimestamp": _rfc3339(self.now),
            "targetSize": 0,
            "targetStoppedSize": 0,
            "baseInstanceName": body.get("baseInstanceName", name),
            "fingerprint": "ZmFrZQ==",
        }
        error = self._grow(name, int(body.get("targetSize", 0)))
        return self._reply(
            "POST", self._group_url("").rstrip("/"), self._operation("insert", self._group_url(name), self._scope(), error)
        )

    def _grow(self, group: str, size: int) -> tuple[str, str, int] | None:
        """Set ``group``'s target size, creating or deleting instances; an error when quota or stock runs out."""
        g = self.groups[group]
        members = sorted(self._members(group), key=lambda i: i["creationTimestamp"])
        if size < len(members):
            for inst in members[size:]:
                del self.instances[inst["name"]]
            g["targetSize"] = size
            return None
        template = self.templates[g["instanceTemplate"].rsplit("/", 1)[-1]]["properties"]
        machine = template["machineType"]
        need = VCPUS.get(machine, 2) * (size - len(members))
        if self.take_fault({"stockout"}, self._group_url(group)):
            return (
                "ZONE_RESOURCE_POOL_EXHAUSTED",
                f"The zone '{self.zones[0]}' does not have enough resources available to fulfill the request. "
                "Try a different zone, or try again later.",
                503,
            )
        if self.take_fault({"quota"}, self._group_url(group)) or self._cpus_in_use() + need > self.quotas["CPUS"]:
            return ("QUOTA_EXCEEDED", f"Quota 'CPUS' exceeded. Limit: {self.quotas['CPUS']:g} in region {self.region}.", 403)
        zones = [z.rsplit("/", 1)[-1] for z in (z["zone"] for z in g.get("distributionPolicy", {}).get("zones", []))] or list(
            self.zones
        )
        for k in range(len(members), size):
            zone = zones[k % len(zones)]
            name = f"{g['baseInstanceName']}-{int(self._id()) % 0xFFFF:04x}"
            self.instances[name] = {
                "kind": "compute#instance",
                "id": self._id(),
                "name": name,
                "zone": f"{HOST}{self.project}/zones/{zone}",
                "machineType": f"{HOST}{self.project}/zones/{zone}/machineTypes/{machine}",
                "status": "PROVISIONING",
                "creationTimestamp": _rfc3339(self.now),
                "labels": dict(template.get("labels", {})),
                "scheduling": dict(template.get("scheduling", {})),
                "networkInterfaces": [{"networkIP": f"10.128.{len(self.instances) // 250}.{len(self.instances) % 250 + 2}"}],
                "selfLink": f"{HOST}{self.project}/zones/{zone}/instances/{name}",
                "_group": group,
                "_since": self.now,
            }
        g["targetSize"] = size
        return None

    def _list_groups(self, body: Any, query: dict[str, str], region: str) -> tuple[int, dict[str, str], str]:
        url = self._group_url("")[:-1]
        items = [self._public(self._group_body(g)) for _, g in sorted(self.groups.items())]
        return self._ok(
            "GET", url, {"kind": "compute#regionInstanceGroupManagerList", "id": url, "items": items, "selfLink": url}
        )

    def _get_group(self, body: Any, query: dict[str, str], region: str, name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.groups:
            return self._not_found(f"projects/{self.project}/regions/{region}/instanceGroupManagers/{name}")
        return self._reply("GET", self._group_url(name), self._group_body(self.groups[name]))

    def _delete_group(self, body: Any, query: dict[str, str], region: str, name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.groups:
            return self._not_found(f"projects/{self.project}/regions/{region}/instanceGroupManagers/{name}")
        for inst in self._members(name):
            del self.instances[inst["name"]]
        del self.groups[name]
        return self._reply("DELETE", self._group_url(name), self._operation("delete", self._group_url(name), self._scope()))

    def _patch_group(
        self, body: dict[str, Any], query: dict[str, str], region: str, name: str
    ) -> tuple[int, dict[str, str], str]:
        if name not in self.groups:
            return self._not_found(f"projects/{self.project}/regions/{region}/instanceGroupManagers/{name}")
        g = self.groups[name]
        g.update({k: v for k, v in body.items() if k not in ("targetSize",)})
        if "versions" in body:
            g["instanceTemplate"] = body["versions"][0]["instanceTemplate"]
        error = self._grow(name, int(body["targetSize"])) if "targetSize" in body else None
        return self._reply("PATCH", self._group_url(name), self._operation("patch", self._group_url(name), self._scope(), error))

    def _resize(self, body: Any, query: dict[str, str], region: str, name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.groups:
            return self._not_found(f"projects/{self.project}/regions/{region}/instanceGroupManagers/{name}")
        error = self._grow(name, int(query["size"]))
        return self._reply(
            "POST",
            self._group_url(name) + "/resize",
            self._operation("compute.instanceGroupManagers.resize", self._group_url(name), self._scope(), error),
        )

    def _list_managed(self, body: Any, query: dict[str, str], region: str, name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.groups:
            return self._not_found(f"projects/{self.project}/regions/{region}/instanceGroupManagers/{name}")
        action = {"PROVISIONING": "CREATING", "STAGING": "CREATING", "STOPPING": "STOPPING"}
        items = [
            {
                "instance": i["selfLink"],
                "id": i["id"],
                "instanceStatus": i["status"],
                "currentAction": action.get(i["status"], "NONE"),
                "version": {"instanceTemplate": self.groups[name]["instanceTemplate"]},
            }
            for i in sorted(self._members(name), key=lambda i: i["name"])
        ]
        return self._ok("POST", self._group_url(name) + "/listManagedInstances", {"managedInstances": items})

    def _act(
        self, body: dict[str, Any], query: dict[str, str], region: str, name: str, verb: str
    ) -> tuple[int, dict[str, str], str]:
        if name not in self.groups:
            return self._not_found(f"projects/{self.project}/regions/{region}/instanceGroupManagers/{name}")
        g = self.groups[name]
        for url in body.get("instances", []):
            inst = self.instances.get(url.rsplit("/", 1)[-1])
            if inst is None or inst["_group"] != name:
                return _error(400, "INVALID_ARGUMENT", "invalid", f"The instance '{url}' is not a member of '{name}'")
            if verb == "stopInstances" and inst["status"] != "TERMINATED":
                inst.update(status="STOPPING", _since=self.now)
                g["targetStoppedSize"] += 1
            elif verb == "startInstances" and inst["status"] == "TERMINATED":
                inst.update(status="PROVISIONING", _since=self.now)
                g["targetStoppedSize"] -= 1
            elif verb == "deleteInstances":
                if inst["status"] in ("STOPPING", "TERMINATED"):
                    g["targetStoppedSize"] -= 1
                del self.instances[inst["name"]]
                g["targetSize"] -= 1
        return self._reply(
            "POST", self._group_url(name) + f"/{verb}", self._operation(verb, self._group_url(name), self._scope())
        )

    # instances
    def _list_zone_instances(self, body: Any, query: dict[str, str], zone: str) -> tuple[int, dict[str, str], str]:
        url = f"{HOST}{self.project}/zones/{zone}/instances"
        items = [self._public(i) for i in self.instances.values() if i["zone"].endswith(f"/{zone}")]
        return self._ok("GET", url, {"kind": "compute#instanceList", "id": url, "items": items, "selfLink": url})

    def _get_instance(self, body: Any, query: dict[str, str], zone: str, name: str) -> tuple[int, dict[str, str], str]:
        inst = self.instances.get(name)
        if inst is None or not inst["zone"].endswith(f"/{zone}"):
            return self._not_found(f"projects/{self.project}/zones/{zone}/instances/{name}")
        return self._reply("GET", inst["selfLink"], inst)

    def _aggregated_instances(self, body: Any, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        url = f"{HOST}{self.project}/aggregated/instances"
        wanted = re.fullmatch(r'name\s*=\s*"?([^"]+)"?', query.get("filter", "").strip())
        items: dict[str, Any] = {}
        for inst in self.instances.values():
            if wanted and inst["name"] != wanted.group(1):
                continue
            items.setdefault("zones/" + inst["zone"].rsplit("/", 1)[-1], {"instances": []})["instances"].append(
                self._public(inst)
            )
        return self._ok("GET", url, {"kind": "compute#instanceAggregatedList", "id": url, "items": items, "selfLink": url})

    @contextmanager
    def serving(self) -> Iterator[FakeGcp]:
        with super().serving():
            _ACTIVE.append(self)
            try:
                yield self
            finally:
                _ACTIVE.remove(self)


@contextmanager
def fake_gcp(**options: Any) -> Iterator[FakeGcp]:
    """Serve a fresh ``FakeGcp(**options)`` for the block (``project``, ``region``, ``polls``, ``latency``, ``validate``)."""
    with FakeGcp(**options).serving() as cloud:
        yield cloud
