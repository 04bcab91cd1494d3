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
import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pandas as pd

from ..providers.kit import offline
from .fake_cloud import FakeCloud, Handler

__all__ = ["FakeGcp", "fake_gcp"]

HOST = "https://compute.googleapis.com/compute/v1/projects/"
MONITORING = "https://monitoring.googleapis.com/v3/projects/"
FUNCTIONS = "https://cloudfunctions.googleapis.com/v2/projects/"
UPLOADS = "https://storage.googleapis.com/"
RUN_DRIVER = """
import json, sys
sys.path.insert(0, sys.argv[1])
data = sys.stdin.buffer.read()
class Request:
    headers = {"X-Cloud-Trace-Context": sys.argv[3]}
    def get_json(self, silent=False):
        try:
            return json.loads(data)
        except ValueError:
            if silent:
                return None
            raise
    def get_data(self, as_text=False):
        return data.decode() if as_text else data
import clusterdb_entry
body, status, headers = clusterdb_entry.clusterdb_entry(Request())
with open(sys.argv[2], "w") as out:
    json.dump({"body": body, "status": status, "headers": headers}, out)
"""
CPU_METRIC = "compute.googleapis.com/instance/cpu/utilization"
SIZE_METRIC = "compute.googleapis.com/instance_group/size"
BOOT_SECONDS = 20.0  # PROVISIONING -> STAGING after half of it, RUNNING after all
STOP_SECONDS = 10.0
STABILIZATION_SECONDS = 600.0
VCPUS = {"e2-micro": 2, "e2-small": 2, "e2-medium": 2, "e2-standard-2": 2, "e2-standard-4": 4, "n2-standard-2": 2}


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
    autoscalers: dict[str, dict[str, Any]] = field(default_factory=dict)
    functions: dict[str, dict[str, Any]] = field(default_factory=dict)  # function id -> Function body (+ "_code")
    uploads: dict[str, bytes] = field(default_factory=dict)  # upload object -> the zip PUT there
    sizes: dict[str, list[tuple[Any, int, str]]] = field(default_factory=dict)  # group -> (time, size, why)
    seed: int = 0
    base_units: float = 2.5  # the load model's mean demand, in instances fully busy
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1000000000000000001))

    def __post_init__(self) -> None:
        self.quotas.setdefault("CPUS", 24.0)
        self.quotas.setdefault("INSTANCES", 1000.0)
        self.quotas.setdefault("INSTANCE_GROUP_MANAGERS", 50.0)

    # -- plumbing ---------------------------------------------------------------
    def _id(self) -> str:
        return str(next(self._ids))

    def _ok(self, method: str, url: str, body: Any, api: str = "compute.v1") -> tuple[int, dict[str, str], str]:
        if self.validate:
            from .discovery import Discovery

            self.schema_errors += Discovery.load(api).check(method, url, body, "response")
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
        for scaler in self.autoscalers.values():
            self._autoscale(scaler)

    def load(self, group: str) -> Any:
        """The local cloud's load model of ``group`` (demand in instance-units), seeded by ``seed``."""
        from ..providers.local.load import LoadModel

        return LoadModel.daily(self.seed, group, self.base_units)

    def _autoscale(self, scaler: dict[str, Any]) -> None:
        """One evaluation, at most once a minute: target CPU tracking, as Compute Engine's autoscaler does."""
        now = self.now
        if scaler.get("_evaluated") is not None and (now - scaler["_evaluated"]).total_seconds() < 60:
            return
        scaler["_evaluated"] = now
        group = scaler["target"].rsplit("/", 1)[-1]
        if group not in self.groups:
            return
        policy = scaler["autoscalingPolicy"]
        target = float(policy.get("cpuUtilization", {}).get("utilizationTarget", 0.6))
        demand = float(self.load(group).demand(np.array([now.timestamp()]))[0])
        lo, hi = int(policy.get("minNumReplicas", 1)), int(policy["maxNumReplicas"])
        lo = min(max([lo, *self._scheduled_minimums(policy, now)]), hi)
        wanted = min(max(math.ceil(demand / target), lo), hi)
        size = self.groups[group]["targetSize"]
        # Compute Engine scales in only to the highest recommendation of the last 10 minutes (stabilization)
        recent = [(t, n) for t, n in scaler.get("_recent", []) if (now - t).total_seconds() < STABILIZATION_SECONDS]
        scaler["_recent"] = [*recent, (now, wanted)]
        if wanted < size:
            wanted = min(size, max(n for _, n in scaler["_recent"]))
        scaler["recommendedSize"] = wanted
        last = self.sizes.get(group, [(self.start, 0, "")])[-1][0]
        cooled = (now - last).total_seconds() >= int(policy.get("coolDownPeriodSec", 60))
        if wanted != size and cooled and policy.get("mode", "ON") == "ON":
            cpu = 100.0 * demand / max(size, 1)
            why = f"autoscaler: CPU {min(cpu, 100):.0f}% against a target of {100 * target:.0f}%"
            error = self._grow(group, wanted, why)
            scaler["status"] = "ACTIVE" if error is None else "ERROR"
            scaler["statusDetails"] = [] if error is None else [{"message": error[1], "type": "SCALING_TARGET_DOES_NOT_EXIST"}]

    @staticmethod
    def _scheduled_minimums(policy: dict[str, Any], now: pd.Timestamp) -> list[int]:
        """``minRequiredReplicas`` of each enabled scaling schedule whose window (``durationSec`` from a
        firing of its cron line in its ``timeZone``) holds ``now``."""
        from ..models import CapacitySchedule

        out = []
        for entry in policy.get("scalingSchedules", {}).values():
            if entry.get("disabled"):
                continue
            sched = CapacitySchedule(fleet="x", cron=entry["schedule"], capacity=0, timezone=entry.get("timeZone") or "UTC")
            window = pd.Timedelta(seconds=int(entry["durationSec"]))
            if sched.runs(now - window, now):
                out.append(int(entry["minRequiredReplicas"]))
        return out

    def _cpus_in_use(self) -> float:
        return sum(
            VCPUS.get(i["machineType"].rsplit("/", 1)[-1], 2) for i in self.instances.values() if i["status"] != "TERMINATED"
        )

    # -- routes ---------------------------------------------------------------------
    def routes(self) -> Iterator[tuple[str, re.Pattern[str], Handler]]:
        p = re.escape(HOST) + r"(?P<project>[^/]+)/"
        rg = p + r"regions/(?P<region>[^/]+)/instanceGroupManagers"
        fl = re.escape(FUNCTIONS) + r"(?P<project>[^/]+)/locations/(?P<location>[^/]+)/"
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
            ("POST", p + r"regions/(?P<region>[^/]+)/autoscalers$", self._insert_autoscaler),
            ("PUT", p + r"regions/(?P<region>[^/]+)/autoscalers$", self._update_autoscaler),
            ("GET", p + r"regions/(?P<region>[^/]+)/autoscalers/(?P<name>[^/?]+)$", self._get_autoscaler),
            ("DELETE", p + r"regions/(?P<region>[^/]+)/autoscalers/(?P<name>[^/?]+)$", self._delete_autoscaler),
            ("GET", re.escape(MONITORING) + r"(?P<project>[^/]+)/timeSeries$", self._time_series),
            ("POST", fl + r"functions:generateUploadUrl$", self._upload_url),
            ("PUT", re.escape(UPLOADS) + r"(?P<bucket>gcf-v2-uploads-[^/]+)/(?P<name>[^/?]+)$", self._upload),
            ("POST", fl + r"functions$", self._create_function),
            ("GET", fl + r"functions$", self._list_functions),
            ("GET", fl + r"functions/(?P<name>[^/?:]+)$", self._get_function),
            ("PATCH", fl + r"functions/(?P<name>[^/?:]+)$", self._patch_function),
            ("DELETE", fl + r"functions/(?P<name>[^/?:]+)$", self._delete_function),
            ("GET", fl + r"operations/(?P<name>[^/?]+)$", self._get_function_operation),
            ("POST", r"https://(?P<name>[a-z0-9-]+)-(?P<hash>[a-z0-9]{10})-uc\.a\.run\.app/?$", self._invoke),
        ]
        for method, pattern, fn in table:
            compiled = re.compile(pattern.replace("$", r"(\?.*)?$"))
            api = (
                "monitoring.v3"
                if "monitoring" in pattern
                else "cloudfunctions.v2"
                if "cloudfunctions" in pattern
                else "compute.v1"
            )
            yield method, compiled, self._handler(method, compiled, fn, api)

    def _handler(self, method: str, pattern: re.Pattern[str], fn: Any, api: str) -> Handler:
        def handle(request: Any) -> tuple[int, dict[str, str], str]:
            raw = request.body
            body = (
                json.loads(raw)
                if raw and api and "run.app" not in request.url and "storage.googleapis" not in request.url
                else raw
            )
            if self.validate and body is not None and isinstance(body, dict):
                from .discovery import Discovery

                self.schema_errors += Discovery.load(api).check(method, request.url, body, "request")
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

    def _sized(self, group: str, size: int, why: str) -> None:
        self.groups[group]["targetSize"] = size
        history = self.sizes.setdefault(group, [])
        if not history or history[-1][1] != size:
            history.append((self.now, size, why))

    def _grow(self, group: str, size: int, why: str = "resize") -> tuple[str, str, int] | None:
        """Set ``group``'s target size, creating or deleting instances; an error when quota or stock runs out."""
        g = self.groups[group]
        members = sorted(self._members(group), key=lambda i: i["creationTimestamp"])
        if size < len(members):
            for inst in members[size:]:
                del self.instances[inst["name"]]
            self._sized(group, size, why)
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
        self._sized(group, size, why)
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
        if any(a["target"].endswith(f"/{name}") for a in self.autoscalers.values()):
            return _error(
                400, "FAILED_PRECONDITION", "resourceInUseByAnotherResource", f"The group '{name}' is used by an autoscaler"
            )
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
                self._sized(name, g["targetSize"] - 1, "deleteInstances")
        return self._reply(
            "POST", self._group_url(name) + f"/{verb}", self._operation(verb, self._group_url(name), self._scope())
        )

    # autoscalers
    def _scaler_url(self, name: str) -> str:
        return f"{HOST}{self.project}/regions/{self.region}/autoscalers/{name}"

    def _insert_autoscaler(self, body: dict[str, Any], query: dict[str, str], region: str) -> tuple[int, dict[str, str], str]:
        name = body["name"]
        if name in self.autoscalers:
            return _error(409, "ALREADY_EXISTS", "alreadyExists", f"The resource '{self._scaler_url(name)}' already exists")
        if body["target"].rsplit("/", 1)[-1] not in self.groups:
            return _error(400, "INVALID_ARGUMENT", "invalid", f"Invalid value for field 'resource.target': '{body['target']}'")
        self.autoscalers[name] = {
            **body,
            "kind": "compute#autoscaler",
            "id": self._id(),
            "selfLink": self._scaler_url(name),
            "region": f"{HOST}{self.project}/regions/{self.region}",
            "creationTimestamp": _rfc3339(self.now),
            "status": "ACTIVE",
        }
        op = self._operation("insert", self._scaler_url(name), self._scope())
        return self._reply("POST", self._scaler_url(name).rsplit("/", 1)[0], op)

    def _update_autoscaler(self, body: dict[str, Any], query: dict[str, str], region: str) -> tuple[int, dict[str, str], str]:
        name = query.get("autoscaler", body.get("name", ""))
        if name not in self.autoscalers:
            return self._not_found(f"projects/{self.project}/regions/{region}/autoscalers/{name}")
        for key, entry in body.get("autoscalingPolicy", {}).get("scalingSchedules", {}).items():
            if int(entry.get("durationSec", 0)) < 300:  # Compute Engine's documented minimum
                message = f"Invalid value for field 'resource.autoscalingPolicy.scalingSchedules[{key}].durationSec'"
                return _error(400, "INVALID_ARGUMENT", "invalid", message)
        self.autoscalers[name].update({k: v for k, v in body.items() if k != "name"})
        self.autoscalers[name]["_evaluated"] = None
        op = self._operation("update", self._scaler_url(name), self._scope())
        return self._reply("PUT", self._scaler_url(name).rsplit("/", 1)[0], op)

    def _get_autoscaler(self, body: Any, query: dict[str, str], region: str, name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.autoscalers:
            return self._not_found(f"projects/{self.project}/regions/{region}/autoscalers/{name}")
        return self._reply("GET", self._scaler_url(name), self.autoscalers[name])

    def _delete_autoscaler(self, body: Any, query: dict[str, str], region: str, name: str) -> tuple[int, dict[str, str], str]:
        if name not in self.autoscalers:
            return self._not_found(f"projects/{self.project}/regions/{region}/autoscalers/{name}")
        del self.autoscalers[name]
        return self._reply("DELETE", self._scaler_url(name), self._operation("delete", self._scaler_url(name), self._scope()))

    # Cloud Monitoring
    def _time_series(self, body: Any, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """CPU utilization per instance of a fleet (0..1) or a group's size, per alignment period, newest first."""
        flt = query.get("filter", "")
        metric = re.search(r'metric\.type\s*=\s*"([^"]+)"', flt)
        fleet = re.search(r'metadata\.user_labels\."?clusterdb-fleet"?\s*=\s*"([^"]+)"', flt)
        group = re.search(r'resource\.labels\.instance_group_name\s*=\s*"([^"]+)"', flt)
        step = float(query.get("aggregation.alignmentPeriod", "60s").rstrip("s"))
        lo, hi = pd.Timestamp(query["interval.startTime"]), pd.Timestamp(query["interval.endTime"])
        hi = min(hi, self.now)
        series: list[dict[str, Any]] = []

        def points(times: list[pd.Timestamp], values: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = [
                {"interval": {"startTime": _rfc3339(t - pd.Timedelta(seconds=step)), "endTime": _rfc3339(t)}, "value": v}
                for t, v in zip(times, values)
            ]
            return out[::-1]

        def grid(start: pd.Timestamp) -> list[pd.Timestamp]:
            first = pd.Timestamp(math.ceil(max(lo, start).timestamp() / step) * step, unit="s", tz="UTC")
            return list(pd.date_range(first, hi, freq=pd.Timedelta(seconds=step))) if first <= hi else []

        if metric and metric.group(1) == CPU_METRIC and fleet:
            name = f"clusterdb-{fleet.group(1)}"
            model = self.load(name)
            members = sorted(self._members(name), key=lambda i: i["name"])
            for inst in members:
                times = grid(pd.Timestamp(inst["creationTimestamp"]))
                if not times:
                    continue
                t = np.array([x.timestamp() for x in times])
                running = np.array([max(self._size_at(name, x), 1) for x in times], dtype=float)
                cpu = np.clip(model.demand(t) / running * model.instance_spread(int(inst["id"]) % (1 << 62), t), 0, 1)
                series.append(
                    {
                        "metric": {"type": CPU_METRIC, "labels": {"instance_name": inst["name"]}},
                        "resource": {
                            "type": "gce_instance",
                            "labels": {"instance_id": inst["id"], "zone": inst["zone"].rsplit("/", 1)[-1]},
                        },
                        "metricKind": "GAUGE",
                        "valueType": "DOUBLE",
                        "points": points(times, [{"doubleValue": round(float(c), 6)} for c in cpu]),
                    }
                )
        elif metric and metric.group(1) == SIZE_METRIC and group and group.group(1) in self.groups:
            name = group.group(1)
            times = grid(self.sizes[name][0][0]) if self.sizes.get(name) else []
            if times:
                series.append(
                    {
                        "metric": {"type": SIZE_METRIC},
                        "resource": {"type": "instance_group", "labels": {"instance_group_name": name}},
                        "metricKind": "GAUGE",
                        "valueType": "INT64",
                        "points": points(times, [{"int64Value": str(self._size_at(name, x))} for x in times]),
                    }
                )
        url = f"{MONITORING}{self.project}/timeSeries"
        return self._ok("GET", url, {"timeSeries": series}, "monitoring.v3")

    def _size_at(self, group: str, when: pd.Timestamp) -> int:
        size = 0
        for t, n, _ in self.sizes.get(group, []):
            if t > when:
                break
            size = n
        return size

    # Cloud Functions (2nd gen)
    def _fn_url(self, location: str, name: str = "") -> str:
        return f"{FUNCTIONS}{self.project}/locations/{location}/functions" + (f"/{name}" if name else "")

    def _fn_reply(self, method: str, url: str, body: Any) -> tuple[int, dict[str, str], str]:
        return self._ok(method, url, body, "cloudfunctions.v2")

    def _fn_operation(self, location: str, verb: str, fn: dict[str, Any] | None) -> dict[str, Any]:
        name = f"projects/{self.project}/locations/{location}/operations/operation-{self._id()}"
        op: dict[str, Any] = {
            "name": name,
            "metadata": {
                "@type": "type.googleapis.com/google.cloud.functions.v2.OperationMetadata",
                "createTime": _rfc3339(self.now),
                "target": fn["name"] if fn else "",
                "verb": verb,
                "apiVersion": "v2",
            },
            "done": False,
            "_reads": self.polls,
            "_result": self._public(fn) if fn else None,
        }
        if self.polls == 0:
            self._finish(op)
        self.operations[name] = op
        return op

    def _finish(self, op: dict[str, Any]) -> None:
        op["done"] = True
        op["response"] = (
            {"@type": "type.googleapis.com/google.cloud.functions.v2.Function", **op["_result"]}
            if op["_result"]
            else {"@type": "type.googleapis.com/google.protobuf.Empty"}
        )

    def _get_function_operation(
        self, body: Any, query: dict[str, str], location: str, name: str
    ) -> tuple[int, dict[str, str], str]:
        op = self.operations.get(f"projects/{self.project}/locations/{location}/operations/{name}")
        if op is None:
            return self._not_found(name)
        if not op["done"]:
            op["_reads"] -= 1
            if op["_reads"] <= 0:
                self._finish(op)
        return self._fn_reply("GET", f"{FUNCTIONS}{op['name'].removeprefix('projects/')}", self._public(op))

    def _upload_url(self, body: Any, query: dict[str, str], location: str) -> tuple[int, dict[str, str], str]:
        bucket, obj = f"gcf-v2-uploads-{self._id()[:12]}-{location}", f"{self._id()}.zip"
        url = f"{UPLOADS}{bucket}/{obj}?GoogleAccessId=service-fake&Expires=1&Signature=fake"
        answer = {"uploadUrl": url, "storageSource": {"bucket": bucket, "object": obj}}
        return self._fn_reply("POST", self._fn_url(location) + ":generateUploadUrl", answer)

    def _upload(self, body: Any, query: dict[str, str], bucket: str, name: str) -> tuple[int, dict[str, str], str]:
        self.uploads[name] = bytes(body or b"")
        return 200, {}, ""

    def _build(
        self, location: str, name: str, spec: dict[str, Any], old: dict[str, Any] | None
    ) -> dict[str, Any] | tuple[int, dict[str, str], str]:
        """The function resource after a create or patch, or the error answer."""
        build = {**(old or {}).get("buildConfig", {}), **spec.get("buildConfig", {})}
        service = {**(old or {}).get("serviceConfig", {}), **spec.get("serviceConfig", {})}
        source = build.get("source", {}).get("storageSource", {})
        code = self.uploads.get(source.get("object", ""), (old or {}).get("_code"))
        if code is None:
            return _error(
                400, "INVALID_ARGUMENT", "invalid", "Function source: the upload is missing; PUT the zip to the upload URL first"
            )
        count = int(re.search(r"-(\d{5})-", service.get("revision", "-00000-")).group(1)) + 1  # type: ignore[union-attr]
        digest = f"{abs(hash(name)) % 10**10:010d}"
        service.update(
            revision=f"{name}-{count:05d}-fak",
            service=f"projects/{self.project}/locations/{location}/services/{name}",
            uri=f"https://{name}-{digest}-uc.a.run.app",
        )
        return {
            **(old or {}),
            **{k: v for k, v in spec.items() if k not in ("buildConfig", "serviceConfig")},
            "name": f"projects/{self.project}/locations/{location}/functions/{name}",
            "buildConfig": build,
            "serviceConfig": service,
            "state": "ACTIVE",
            "environment": "GEN_2",
            "updateTime": _rfc3339(self.now),
            "createTime": (old or {}).get("createTime", _rfc3339(self.now)),
            "url": service["uri"],
            "_code": code,
        }

    def _create_function(self, body: dict[str, Any], query: dict[str, str], location: str) -> tuple[int, dict[str, str], str]:
        name = query.get("functionId", "")
        key = f"{location}/{name}"
        if key in self.functions:
            return _error(
                409,
                "ALREADY_EXISTS",
                "alreadyExists",
                f"Function {name} in region {location} in project {self.project} already exists",
            )
        built = self._build(location, name, body, None)
        if isinstance(built, tuple):
            return built
        self.functions[key] = built
        return self._fn_reply("POST", self._fn_url(location), self._public(self._fn_operation(location, "create", built)))

    def _patch_function(
        self, body: dict[str, Any], query: dict[str, str], location: str, name: str
    ) -> tuple[int, dict[str, str], str]:
        key = f"{location}/{name}"
        if key not in self.functions:
            return self._not_found(f"projects/{self.project}/locations/{location}/functions/{name}")
        spec: dict[str, Any] = {}
        for path in query.get("updateMask", "").split(","):  # only the fields the mask names change
            top, _, leaf = path.partition(".")
            if top in body and (not leaf or leaf in body[top]):
                spec.setdefault(top, {}) if leaf else None
                if leaf:
                    spec[top][leaf] = body[top][leaf]
                else:
                    spec[top] = body[top]
        built = self._build(location, name, spec, self.functions[key])
        if isinstance(built, tuple):
            return built
        self.functions[key] = built
        return self._fn_reply("PATCH", self._fn_url(location, name), self._public(self._fn_operation(location, "update", built)))

    def _get_function(self, body: Any, query: dict[str, str], location: str, name: str) -> tuple[int, dict[str, str], str]:
        fn = self.functions.get(f"{location}/{name}")
        if fn is None:
            return self._not_found(f"projects/{self.project}/locations/{location}/functions/{name}")
        return self._fn_reply("GET", self._fn_url(location, name), self._public(fn))

    def _list_functions(self, body: Any, query: dict[str, str], location: str) -> tuple[int, dict[str, str], str]:
        items = [self._public(f) for k, f in sorted(self.functions.items()) if k.startswith(f"{location}/")]
        return self._fn_reply("GET", self._fn_url(location), {"functions": items})

    def _delete_function(self, body: Any, query: dict[str, str], location: str, name: str) -> tuple[int, dict[str, str], str]:
        if self.functions.pop(f"{location}/{name}", None) is None:
            return self._not_found(f"projects/{self.project}/locations/{location}/functions/{name}")
        return self._fn_reply("DELETE", self._fn_url(location, name), self._public(self._fn_operation(location, "delete", None)))

    def _invoke(self, body: Any, query: dict[str, str], name: str, hash: str) -> tuple[int, dict[str, str], str]:
        """Run the deployed zip's ``clusterdb_entry`` (Functions Framework's call) in a Python subprocess."""
        import subprocess
        import sys
        import tempfile
        import zipfile
        from io import BytesIO

        fn = next((f for f in self.functions.values() if f["url"] == f"https://{name}-{hash}-uc.a.run.app"), None)
        if fn is None:
            return 404, {"Content-Type": "text/html"}, "<html>404 Page not found</html>"
        service = fn["serviceConfig"]
        with tempfile.TemporaryDirectory() as tmp:
            zipfile.ZipFile(BytesIO(fn["_code"])).extractall(tmp)
            env = {**service.get("environmentVariables", {}), "K_SERVICE": name, "K_REVISION": service["revision"], "PATH": ""}
            out = f"{tmp}/.answer.json"
            try:
                run = subprocess.run(
                    [sys.executable, "-c", RUN_DRIVER, tmp, out, self._id()],
                    input=bytes(body or b""),
                    capture_output=True,
                    env=env,
                    cwd=tmp,
                    timeout=int(service.get("timeoutSeconds", 60)),
                )
            except subprocess.TimeoutExpired:
                return 504, {"Content-Type": "text/plain"}, "upstream request timeout"
            try:
                with open(out) as f:
                    answer = json.load(f)
            except OSError:
                return 500, {"Content-Type": "text/plain", "X-Clusterdb-Logs": "1"}, run.stderr.decode(errors="replace")[-4000:]
        return int(answer["status"]), dict(answer["headers"]), str(answer["body"])

    # instances
    @staticmethod
    def _matches(inst: dict[str, Any], flt: str) -> bool:
        """Compute Engine's list filter, as far as the adapter uses it: ``name = "x"`` and ``labels.k = "v"``."""
        for key, value in re.findall(r'([\w.-]+)\s*=\s*"([^"]*)"', flt):
            have = inst["labels"].get(key.removeprefix("labels.")) if key.startswith("labels.") else inst.get(key)
            if have != value:
                return False
        return True

    def _list_zone_instances(self, body: Any, query: dict[str, str], zone: str) -> tuple[int, dict[str, str], str]:
        url = f"{HOST}{self.project}/zones/{zone}/instances"
        flt = query.get("filter", "")
        items = [self._public(i) for i in self.instances.values() if i["zone"].endswith(f"/{zone}") and self._matches(i, flt)]
        return self._ok("GET", url, {"kind": "compute#instanceList", "id": url, "items": items, "selfLink": url})

    def _get_instance(self, body: Any, query: dict[str, str], zone: str, name: str) -> tuple[int, dict[str, str], str]:
        inst = self.instances.get(name)
        if inst is None or not inst["zone"].endswith(f"/{zone}"):
            return self._not_found(f"projects/{self.project}/zones/{zone}/instances/{name}")
        return self._reply("GET", inst["selfLink"], inst)

    def _aggregated_instances(self, body: Any, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        url = f"{HOST}{self.project}/aggregated/instances"
        flt = query.get("filter", "")
        items: dict[str, Any] = {}
        for inst in self.instances.values():
            if self._matches(inst, flt):
                scope = "zones/" + inst["zone"].rsplit("/", 1)[-1]
                items.setdefault(scope, {"instances": []})["instances"].append(self._public(inst))
        return self._ok("GET", url, {"kind": "compute#instanceAggregatedList", "id": url, "items": items, "selfLink": url})

    @contextmanager
    def serving(self) -> Iterator[FakeGcp]:
        with super().serving(), offline.serving("gcp"):
            yield self


@contextmanager
def fake_gcp(**options: Any) -> Iterator[FakeGcp]:
    """Serve a fresh ``FakeGcp(**options)`` for the block (``project``, ``region``, ``polls``, ``latency``, ``validate``)."""
    with FakeGcp(**options).serving() as cloud:
        yield cloud
