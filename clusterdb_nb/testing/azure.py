"""An offline Azure: the ARM resources the Azure adapter uses, served at ``management.azure.com``.

No emulator exists for ARM compute, so this fake holds Flexible VM scale sets, their VMs (with
instance views and power states), regional vCPU usages and long-running operations in plain dicts
and answers Microsoft's own SDK clients through ``responses``::

    with fake_azure() as cloud:
        s = clusterdb_nb.connect(azure=cloud.config())        # credentials: anonymous
        s.create_fleet(FleetConfig("web", capacity=3, provider="azure"))
        cloud.inject("allocation_failed")                       # the next create/scale/start fails so
        cloud.inject("deployment_failed")                       # the next function build fails (Kudu status 3)
        cloud.set_quota("cores", 8)                             # Total Regional vCPUs
        cloud.advance("5min")                                   # operations finish, VMs settle

A long-running operation answers ``InProgress`` to ``polls`` reads (or until its time on the fake's
clock has passed), then ``Succeeded``; its effect (VMs running, deallocated, deleted) lands then.
Requests with another ``api-version`` than the pinned SDK sends are refused, as ARM refuses unknown ones.
"""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import pandas as pd

from .. import catalog
from ..autoscaling.fleet import fleet_cpu
from ..errors import ValidationError
from ..providers.kit import offline
from ..providers.local.load import LoadModel
from .fake_cloud import FakeCloud, Handler

__all__ = ["FakeAzure", "Operation", "arm_error", "fake_azure"]

HOST = "https://management.azure.com"
ALLOCATION_FAILED = (
    "AllocationFailed",
    "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.",
)
API_VERSIONS = {
    "Microsoft.Compute": "2026-04-01",
    "Microsoft.Insights/autoscalesettings": "2022-10-01",
    "Microsoft.Insights/eventtypes": "2015-04-01",
    "Microsoft.Insights/metrics": "2024-02-01",
    "Microsoft.CostManagement": "2025-03-01",
    "Microsoft.Web": "2025-05-01",
    "Microsoft.Storage": "2026-09-01",
    "Microsoft.Network": "2026-03-01",
}
"""The api-version each resource type is served at: the one the pinned SDK sends."""
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
SSH_PUBLIC_KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEIpZJQIt2axds9eJAoeBpT4SrbURvHUmHv84dFt5Evc fake-azure"
"""The admin key ``config()`` gives: a well-formed Ed25519 public key whose private half nobody holds."""
NO_LINUX_AUTH = (
    "InvalidParameter",
    "Authentication using either SSH or by user name and password must be enabled in Linux profile.",
)
PAGE = 100
BOOT_SECONDS = 40.0
STOP_SECONDS = 20.0
USAGE_NAMES = {
    "cores": "Total Regional vCPUs",
    "lowPriorityCores": "Total Regional Low-priority vCPUs",
    "virtualMachines": "Virtual Machines",
    "virtualMachineScaleSets": "Virtual Machine Scale Sets",
}
Response = tuple[int, dict[str, str], str]
PRIVATE = frozenset({"power", "since", "pending", "runs"})  # the fake's own bookkeeping on a VM


def _iso(t: pd.Timestamp) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%S.%f0+00:00")


def _json(status: int, body: Any, headers: dict[str, str] | None = None) -> Response:
    return status, {"Content-Type": "application/json; charset=utf-8", **(headers or {})}, json.dumps(body)


def arm_error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    """ARM's error answer: ``{"error": {"code": ..., "message": ...}}``."""
    return _json(status, {"error": {"code": code, "message": message}}, headers)


def _linux_auth_error(body: dict[str, Any]) -> Response | None:
    """ARM's 400 for a Linux profile with neither a password nor an SSH key at ``/home/<admin>/.ssh/authorized_keys``."""
    os_profile = ((body.get("properties") or {}).get("virtualMachineProfile") or {}).get("osProfile") or {}
    linux = os_profile.get("linuxConfiguration") or {}
    keys = (linux.get("ssh") or {}).get("publicKeys") or []
    if not keys and (linux.get("disablePasswordAuthentication") or not os_profile.get("adminPassword")):
        return _json(400, {"error": {"code": NO_LINUX_AUTH[0], "message": NO_LINUX_AUTH[1], "target": "linuxConfiguration"}})
    wanted = f"/home/{os_profile.get('adminUsername')}/.ssh/authorized_keys"
    for key in keys:
        if key.get("path") != wanted:
            return _json(
                400,
                {
                    "error": {
                        "code": "InvalidParameter",
                        "message": f"Destination path for SSH public keys is currently limited to its default value {wanted} "
                        "due to a known issue in Linux provisioning agent.",
                        "target": "linuxConfiguration.ssh.publicKeys.path",
                    }
                },
            )
    return None


@dataclass
class Operation:
    """A long-running operation: ``InProgress`` until polled ``polls`` times or its time has passed."""

    id: str
    started: pd.Timestamp
    seconds: float
    polls_left: int
    effect: Callable[[], None]
    error: tuple[str, str] | None = None
    done: bool = False


@dataclass
class FakeAzure(FakeCloud):
    """The fake's state and handle (see the module's docstring); ``resource_groups`` that exist."""

    FAULTS = frozenset({"allocation_failed", "quota", "throttle", "server_error", "deployment_failed"})

    subscription_id: str = SUBSCRIPTION
    location: str = "eastus"
    resource_groups: set[str] = field(default_factory=lambda: {"clusterdb"})
    scale_sets: dict[str, dict[str, Any]] = field(default_factory=dict)
    vms: dict[str, dict[str, Any]] = field(default_factory=dict)
    operations: dict[str, Operation] = field(default_factory=dict)
    autoscale_settings: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    past_runs: list[dict[str, Any]] = field(default_factory=list)
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    plans: dict[str, dict[str, Any]] = field(default_factory=dict)
    accounts: dict[str, dict[str, Any]] = field(default_factory=dict)
    billing: bool = True
    cost_page: int = 1000
    loads: dict[str, LoadModel] = field(default_factory=dict)
    seed: int = 0
    _engines: dict[str, Any] = field(default_factory=dict)
    _evaluated: pd.Timestamp | None = None
    _at: pd.Timestamp | None = None
    _ids: Iterator[int] = field(default_factory=itertools.count)
    nics: dict[str, dict[str, Any]] = field(default_factory=dict)
    _addresses: Iterator[int] = field(default_factory=lambda: itertools.count(4))  # Azure keeps a subnet's first 4

    def __post_init__(self) -> None:
        self.quotas = {"cores": 100.0, "lowPriorityCores": 100.0, "virtualMachines": 25000.0, "virtualMachineScaleSets": 2500.0}

    def config(self, **overrides: Any) -> dict[str, Any]:
        """An ``azure:`` config section for this fake (anonymous credentials, no polling delay)."""
        subnet = (
            f"/subscriptions/{self.subscription_id}/resourceGroups/clusterdb/providers/Microsoft.Network"
            "/virtualNetworks/clusterdb/subnets/default"
        )
        return {
            "subscription_id": self.subscription_id,
            "resource_group": "clusterdb",
            "location": self.location,
            "subnet_id": subnet,
            "credentials": "anonymous",
            "ssh_public_key": SSH_PUBLIC_KEY,
            "poll_interval": 0,
            **overrides,
        }

    def set_quota(self, metric: str, limit: float) -> None:
        """Set a regional usage limit: ``cores`` (Total Regional vCPUs), ``lowPriorityCores``, ``virtualMachines``."""
        if metric not in USAGE_NAMES:
            raise ValidationError(
                f"metric: {metric!r} is not one of {', '.join(USAGE_NAMES)}", field="metric", rule=" | ".join(USAGE_NAMES)
            )
        super().set_quota(metric, limit)

    # -- the model ---------------------------------------------------------------
    def _rg_prefix(self, rg: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Compute"

    def _vcpus(self, size: str) -> int:
        try:
            return catalog.lookup(size, provider="azure").vcpu
        except ValidationError:
            return 2

    def usage(self) -> dict[str, float]:
        """Current use of each quota: vCPUs of VMs not deallocated (spot ones count as low-priority)."""
        used = {name: 0.0 for name in USAGE_NAMES}
        for vm in self.vms.values():
            used["virtualMachines"] += 1
            if vm["power"] in ("deallocated", "deallocating") and not vm.get("pending"):
                continue
            key = "lowPriorityCores" if vm["properties"].get("priority") == "Spot" else "cores"
            used[key] += self._vcpus(vm["properties"]["hardwareProfile"]["vmSize"])
        used["virtualMachineScaleSets"] = float(len(self.scale_sets))
        return used

    def _quota_error(self, extra_cores: float, spot: bool) -> Response | None:
        key = "lowPriorityCores" if spot else "cores"
        used, limit = self.usage()[key], self.quotas[key]
        if used + extra_cores <= limit:
            return None
        return arm_error(
            409,
            "OperationNotAllowed",
            f"Operation could not be completed as it results in exceeding approved {USAGE_NAMES[key]} quota. "
            f"Location: {self.location}, Current Limit: {limit:g}, Current Usage: {used:g}, "
            f"Additional Required: {extra_cores:g}, (Minimum) New Limit Required: {used + extra_cores:g}.",
        )

    def _refuse_quota(self, extra_cores: float, spot: bool, url: str) -> Response | None:
        """ARM's quota refusal when ``extra_cores`` more vCPUs exceed the limit, or an injected ``quota`` fault."""
        if self.take_fault({"quota"}, url):
            key = "lowPriorityCores" if spot else "cores"
            return self._quota_error(self.quotas[key] + 1, spot)
        return self._quota_error(extra_cores, spot)

    def _operation(
        self, seconds: float, effect: Callable[[], None], error: tuple[str, str] | None = None
    ) -> tuple[str, dict[str, str]]:
        op_id = str(uuid.UUID(int=next(self._ids) + 1))
        self.operations[op_id] = Operation(op_id, self.at, seconds, self.polls, effect, error)
        url = (
            f"{HOST}/subscriptions/{self.subscription_id}/providers/Microsoft.Compute/locations/{self.location}"
            f"/operations/{op_id}?api-version={API_VERSIONS['Microsoft.Compute']}"
        )
        return op_id, {"Azure-AsyncOperation": url, "Location": f"{url}&monitor=true"}

    def _settle(self, op: Operation) -> None:
        if not op.done:
            op.done = True
            op.effect()

    @property
    def at(self) -> pd.Timestamp:
        """The time of what happens now: the minute being evaluated while catching up, else ``now``."""
        return self._at if self._at is not None else self.now

    def _settle_until(self, t: pd.Timestamp) -> None:
        for op in list(self.operations.values()):
            if not op.done and t >= op.started + pd.Timedelta(seconds=op.seconds):
                self._settle(op)

    def tick(self) -> None:
        """Catch up with the clock: each minute, finish the operations whose time has passed, then autoscale."""
        now = self.now
        last = self._evaluated if self._evaluated is not None else now.floor("min")
        if self.autoscale_settings:
            for t in pd.date_range(last + pd.Timedelta(minutes=1), now, freq="min"):
                self._at = t
                try:
                    self._settle_until(t)
                    self._autoscale(t)
                finally:
                    self._at = None
        self._evaluated = max(last, now.floor("min"))
        self._settle_until(now)

    def _new_vm(self, vmss: dict[str, Any]) -> dict[str, Any]:
        name = f"{vmss['name']}_{next(self._ids):08x}"
        profile = vmss["properties"]["virtualMachineProfile"]
        props: dict[str, Any] = {
            "vmId": str(uuid.uuid4()),
            "hardwareProfile": {"vmSize": vmss["sku"]["name"]},
            "virtualMachineScaleSet": {"id": vmss["id"]},
            "storageProfile": {"imageReference": profile["storageProfile"]["imageReference"]},
            "provisioningState": "Creating",
            "timeCreated": _iso(self.at),
        }
        for key in ("priority", "evictionPolicy", "billingProfile"):
            if key in profile:
                props[key] = profile[key]
        nic = self._new_nic(vmss, name)
        props["networkProfile"] = {
            "networkInterfaces": [{"id": nic["id"], "properties": {"primary": True, "deleteOption": "Delete"}}]
        }
        vm = {
            "name": name,
            "id": f"{vmss['id'].rsplit('/virtualMachineScaleSets/', 1)[0]}/virtualMachines/{name}",
            "type": "Microsoft.Compute/virtualMachines",
            "location": self.location,
            "properties": props,
            "power": "starting",
            "since": self.at,
            "pending": True,
            "runs": [],
        }
        self.vms[name.lower()] = vm
        return vm

    def _new_nic(self, vmss: dict[str, Any], vm_name: str) -> dict[str, Any]:
        """The NIC a Flexible set creates for a new VM, from its NIC configuration, with the next private IP."""
        config = vmss["properties"]["virtualMachineProfile"]["networkProfile"]["networkInterfaceConfigurations"][0]
        ip_config = config["properties"]["ipConfigurations"][0]
        n = next(self._addresses)
        name = f"{vm_name}-{config['name']}"[:80]
        rg = vmss["id"].split("/")[4]
        nic_id = f"/subscriptions/{self.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Network/networkInterfaces/{name}"
        vm_id = f"{vmss['id'].rsplit('/virtualMachineScaleSets/', 1)[0]}/virtualMachines/{vm_name}"
        nic = {
            "name": name,
            "id": nic_id,
            "type": "Microsoft.Network/networkInterfaces",
            "location": self.location,
            "properties": {
                "provisioningState": "Succeeded",
                "ipConfigurations": [
                    {
                        "name": ip_config["name"],
                        "id": f"{nic_id}/ipConfigurations/{ip_config['name']}",
                        "properties": {
                            "provisioningState": "Succeeded",
                            "privateIPAddress": f"10.0.{n // 256}.{n % 256}",
                            "privateIPAllocationMethod": "Dynamic",
                            "subnet": {"id": ip_config["properties"]["subnet"]["id"]},
                            "primary": True,
                            "privateIPAddressVersion": "IPv4",
                        },
                    }
                ],
                "macAddress": "00-0D-3A-" + "-".join(f"{(n >> s) & 255:02X}" for s in (16, 8, 0)),
                "enableAcceleratedNetworking": False,
                "enableIPForwarding": False,
                "primary": True,
                "virtualMachine": {"id": vm_id},
            },
        }
        self.nics[name.lower()] = nic
        return nic

    def _remove_vm(self, vm: dict[str, Any]) -> None:
        """Delete a VM and its NIC (``deleteOption: Delete``); its running time stays on the bill (``past_runs``)."""
        self._close_run(vm)
        self.vms.pop(vm["name"].lower(), None)
        for ref in (vm["properties"].get("networkProfile") or {}).get("networkInterfaces", []):
            self.nics.pop(ref["id"].rsplit("/", 1)[-1].lower(), None)
        self.past_runs.append(vm)

    def _close_run(self, vm: dict[str, Any]) -> None:
        if vm["runs"] and vm["runs"][-1][1] is None:
            vm["runs"][-1][1] = self.at

    def _set_power(self, vm: dict[str, Any], power: str) -> None:
        if power == "running":
            if not vm["runs"] or vm["runs"][-1][1] is not None:
                vm["runs"].append([self.at, None])
        else:
            self._close_run(vm)
        vm["power"], vm["since"], vm["pending"] = power, self.at, False
        vm["properties"]["provisioningState"] = "Succeeded"

    def _members(self, vmss: dict[str, Any]) -> list[dict[str, Any]]:
        return [vm for vm in self.vms.values() if vm["properties"]["virtualMachineScaleSet"]["id"].lower() == vmss["id"].lower()]

    # -- resources as ARM shows them ---------------------------------------------
    def vm_json(self, vm: dict[str, Any], instance_view: bool) -> dict[str, Any]:
        """A VM as ``virtualMachines/get`` (``$expand=instanceView``) answers."""
        out = {k: v for k, v in vm.items() if k not in PRIVATE}
        out["properties"] = dict(vm["properties"])
        if instance_view:
            state = vm["properties"]["provisioningState"].lower()
            statuses = [
                {
                    "code": f"ProvisioningState/{state}",
                    "level": "Info",
                    "displayStatus": f"Provisioning {state}",
                    "time": _iso(vm["since"]),
                }
            ]
            if not vm["pending"] or vm["power"] != "starting":
                statuses.append({"code": f"PowerState/{vm['power']}", "level": "Info", "displayStatus": f"VM {vm['power']}"})
            out["properties"]["instanceView"] = {"computerName": vm["name"], "osName": "ubuntu", "statuses": statuses}
        return out

    # -- serving -------------------------------------------------------------------
    def routes(self) -> Iterator[tuple[str, re.Pattern[str], Handler]]:
        sub = r"/subscriptions/(?P<sub>[^/]+)"
        rg = sub + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Compute"
        insights = sub + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Insights/autoscalesettings"
        compute, autoscale = "Microsoft.Compute", "Microsoft.Insights/autoscalesettings"
        table: list[tuple[str, str, str, Callable[..., Response]]] = [
            ("GET", sub + r"/providers/Microsoft\.Compute/locations/(?P<loc>[^/]+)/operations/(?P<op>[^/?]+)", compute, self._op),
            ("GET", sub + r"/providers/Microsoft\.Compute/locations/(?P<loc>[^/]+)/usages", compute, self._usages),
            ("GET", rg + r"/virtualMachineScaleSets", compute, self._list_sets),
            ("GET", rg + r"/virtualMachineScaleSets/(?P<name>[^/?]+)", compute, self._get_set),
            ("GET", rg + r"/virtualMachineScaleSets/(?P<name>[^/?]+)/instanceView", compute, self._set_instance_view),
            ("PUT", rg + r"/virtualMachineScaleSets/(?P<name>[^/?]+)", compute, self._put_set),
            ("PATCH", rg + r"/virtualMachineScaleSets/(?P<name>[^/?]+)", compute, self._patch_set),
            ("DELETE", rg + r"/virtualMachineScaleSets/(?P<name>[^/?]+)", compute, self._delete_set),
            ("GET", rg + r"/virtualMachines", compute, self._list_vms),
            ("GET", rg + r"/virtualMachines/(?P<name>[^/?]+)", compute, self._get_vm),
            ("POST", rg + r"/virtualMachines/(?P<name>[^/?]+)/(?P<action>start|deallocate|powerOff)", compute, self._vm_action),
            ("DELETE", rg + r"/virtualMachines/(?P<name>[^/?]+)", compute, self._delete_vm),
            ("GET", insights, autoscale, self._list_settings),
            ("GET", insights + r"/(?P<name>[^/?]+)", autoscale, self._get_setting),
            ("PUT", insights + r"/(?P<name>[^/?]+)", autoscale, self._put_setting),
            ("DELETE", insights + r"/(?P<name>[^/?]+)", autoscale, self._delete_setting),
            (
                "GET",
                sub + r"/providers/Microsoft\.Insights/eventtypes/management/values",
                "Microsoft.Insights/eventtypes",
                self._activity_log,
            ),
            (
                "GET",
                rg + r"/(?P<kind>virtualMachineScaleSets|virtualMachines)/(?P<name>[^/]+)/providers/Microsoft\.Insights/metrics",
                "Microsoft.Insights/metrics",
                self._metrics,
            ),
            (
                "POST",
                sub + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.CostManagement/query",
                "Microsoft.CostManagement",
                self._cost_query,
            ),
            *self._web_routes(sub + r"/resourceGroups/(?P<rg>[^/]+)/providers"),
            (
                "GET",
                sub + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Network/networkInterfaces",
                "Microsoft.Network",
                self._list_nics,
            ),
            (
                "GET",
                sub + r"/resourceGroups/(?P<rg>[^/]+)/providers/Microsoft\.Network/networkInterfaces/(?P<name>[^/?]+)",
                "Microsoft.Network",
                self._get_nic,
            ),
        ]
        for method, path, version, handler in table:
            yield method, re.compile(re.escape(HOST) + "/?" + path + r"(\?.*)?$", re.I), self._route(path, version, handler)
        apps = r"https://(?P<app>[a-z0-9-]+)"
        for method, url, handler in (
            ("POST", apps + r"\.scm\.azurewebsites\.net/api/publish", self._publish),
            ("GET", apps + r"\.scm\.azurewebsites\.net/api/deployments/latest", self._deployment),
            ("POST", apps + r"\.azurewebsites\.net/api/(?P<function>[^/?]+)", self._invoke),
        ):
            yield method, re.compile(url + r"(\?.*)?$", re.I), self._app_route(re.compile(url, re.I), handler)

    def _web_routes(self, rg: str) -> list[tuple[str, str, str, Callable[..., Response]]]:
        sites, farms = rg + r"/Microsoft\.Web/sites", rg + r"/Microsoft\.Web/serverfarms/(?P<name>[^/?]+)"
        site = sites + r"/(?P<name>[^/?]+)"
        account = rg + r"/Microsoft\.Storage/storageAccounts/(?P<name>[^/?]+)"
        web, storage = "Microsoft.Web", "Microsoft.Storage"
        return [
            ("GET", sites, web, self._list_sites),
            ("PUT", site, web, self._put_site),
            ("GET", site, web, self._get_site),
            ("DELETE", site, web, self._delete_site),
            ("PUT", site + r"/config/appsettings", web, self._put_settings),
            ("POST", site + r"/config/appsettings/list", web, self._list_settings_of_app),
            ("POST", site + r"/functions/(?P<function>[^/?]+)/listkeys", web, self._function_keys),
            ("PUT", farms, web, self._put_plan),
            ("DELETE", farms, web, self._delete_plan),
            ("PUT", account, storage, self._put_account),
            ("POST", account + r"/listKeys", storage, self._account_keys),
            ("PUT", account + r"/blobServices/default/containers/(?P<container>[^/?]+)", storage, self._put_container),
        ]

    def _app_route(self, pattern: re.Pattern[str], handler: Callable[..., Response]) -> Handler:
        def serve(request: Any) -> Response:
            args = pattern.match(request.url)
            assert args is not None
            app = self.sites.get(args["app"].lower())
            if app is None:
                return 404, {"Content-Type": "text/html"}, "<h1>404 Web Site not found</h1>"
            self.tick()
            return handler(request, app, **{k: v for k, v in args.groupdict().items() if k != "app"})

        return serve

    def _route(self, path: str, version: str, handler: Callable[..., Response]) -> Handler:
        pattern = re.compile(path + "$", re.I)

        def serve(request: Any) -> Response:
            url = urlsplit(request.url)
            query = {k: v[0] for k, v in parse_qs(url.query).items()}
            served = API_VERSIONS[version]
            if query.get("api-version") != served:
                return arm_error(
                    400,
                    "InvalidApiVersionParameter",
                    f"The api-version '{query.get('api-version')}' is invalid. The fake serves '{served}'.",
                )
            fault = self.take_fault({"throttle", "server_error"}, request.url)
            if fault == "throttle":
                return arm_error(429, "TooManyRequests", "Too many requests; retry after 0 seconds.", {"Retry-After": "0"})
            if fault == "server_error":
                return arm_error(500, "InternalServerError", "An internal server error occurred.")
            args = pattern.match("/" + url.path.lstrip("/"))
            assert args is not None
            params = args.groupdict()
            if params.get("sub", self.subscription_id).lower() != self.subscription_id.lower():
                return arm_error(404, "SubscriptionNotFound", f"The subscription '{params['sub']}' could not be found.")
            if "rg" in params and params["rg"].lower() not in {g.lower() for g in self.resource_groups}:
                return arm_error(404, "ResourceGroupNotFound", f"Resource group '{params['rg']}' could not be found.")
            self.tick()
            body = json.loads(request.body) if request.body else None
            status, headers, text = handler(request, query, body, **{k: v for k, v in params.items() if k != "sub"})
            return status, {**headers, "Date": self.now.strftime("%a, %d %b %Y %H:%M:%S GMT")}, text

        return serve

    # operations and usages
    def _op(self, request: Any, query: dict[str, str], body: Any, loc: str, op: str) -> Response:
        found = self.operations.get(op)
        if found is None:
            return arm_error(404, "NotFound", f"Operation {op} not found.")
        if not found.done:
            found.polls_left -= 1
            if found.polls_left < 0:
                self._settle(found)
        out: dict[str, Any] = {"name": found.id, "startTime": _iso(found.started)}
        if not found.done:
            out["status"] = "InProgress"
        elif found.error:
            out |= {"status": "Failed", "endTime": _iso(self.now), "error": {"code": found.error[0], "message": found.error[1]}}
        else:
            out |= {"status": "Succeeded", "endTime": _iso(self.now)}
        if "monitor" in query and found.done:
            return 200, {}, ""
        return _json(200, out)

    def _usages(self, request: Any, query: dict[str, str], body: Any, loc: str) -> Response:
        used = self.usage()
        value = [
            {
                "unit": "Count",
                "currentValue": int(used[k]),
                "limit": int(self.quotas[k]),
                "name": {"value": k, "localizedValue": v},
            }
            for k, v in USAGE_NAMES.items()
        ]
        return _json(200, {"value": value})

    # scale sets
    def _set_json(self, vmss: dict[str, Any]) -> dict[str, Any]:
        copy: dict[str, Any] = json.loads(json.dumps(vmss))
        return copy

    def _list_sets(self, request: Any, query: dict[str, str], body: Any, rg: str) -> Response:
        prefix = self._rg_prefix(rg).lower()
        found = [self._set_json(v) for v in self.scale_sets.values() if v["id"].lower().startswith(prefix)]
        return _json(200, {"value": found})

    def _find_set(self, rg: str, name: str) -> dict[str, Any] | None:
        vmss = self.scale_sets.get(name.lower())
        return vmss if vmss is not None and vmss["id"].lower().startswith(self._rg_prefix(rg).lower()) else None

    def _not_found(self, kind: str, rg: str, name: str) -> Response:
        return arm_error(
            404, "ResourceNotFound", f"The Resource 'Microsoft.Compute/{kind}/{name}' under resource group '{rg}' was not found."
        )

    def _get_set(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        vmss = self._find_set(rg, name)
        return _json(200, self._set_json(vmss)) if vmss else self._not_found("virtualMachineScaleSets", rg, name)

    def _set_instance_view(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        """The set's own statuses only: a Flexible set's instance view sums none of its VMs' power states.

        Microsoft (azure-sdk-for-go#19707): "VMSS Flex does not support instance view"; list the VMs
        with the set's ``$filter`` and ``$expand=instanceView`` instead. Even a Uniform set's
        ``statusesSummary`` counts ``ProvisioningState/*`` codes, not power states (azure-rest-api-specs#3593).
        """
        vmss = self._find_set(rg, name)
        if vmss is None:
            return self._not_found("virtualMachineScaleSets", rg, name)
        state = vmss["properties"]["provisioningState"].lower()
        return _json(
            200, {"statuses": [{"code": f"ProvisioningState/{state}", "level": "Info", "displayStatus": f"Provisioning {state}"}]}
        )

    def _scale(self, vmss: dict[str, Any], capacity: int, request_url: str, status: int) -> Response:
        """Bring the set's VMs to ``capacity``: new ones boot when the operation finishes, extra ones are deleted."""
        members = sorted(self._members(vmss), key=lambda v: v["name"])
        spot = vmss["properties"]["virtualMachineProfile"].get("priority") == "Spot"
        extra = (capacity - len(members)) * self._vcpus(vmss["sku"]["name"])
        if extra > 0 and (refused := self._refuse_quota(extra, spot, request_url)) is not None:
            return refused
        allocation = self.take_fault({"allocation_failed"}, request_url) if extra > 0 else None
        new = [self._new_vm(vmss) for _ in range(max(0, capacity - len(members)))]
        gone = members[capacity:] if capacity < len(members) else []
        for vm in gone:
            vm["properties"]["provisioningState"] = "Deleting"
        vmss["sku"]["capacity"] = capacity
        vmss["properties"]["provisioningState"] = "Updating" if status == 200 else "Creating"

        def effect() -> None:
            for vm in new:
                if allocation:
                    self._remove_vm(vm)
                else:
                    self._set_power(vm, "running")
            for vm in gone:
                self._remove_vm(vm)
            if allocation:
                vmss["sku"]["capacity"] = len(self._members(vmss))
            vmss["properties"]["provisioningState"] = "Succeeded"

        error = (
            (
                "AllocationFailed",
                "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.",
            )
            if allocation
            else None
        )
        _, headers = self._operation(BOOT_SECONDS if new else 1.0, effect, error)
        headers.pop("Location")
        return _json(status, self._set_json(vmss), headers)

    def _put_set(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        vmss = self._find_set(rg, name)
        if vmss is None:
            if (body.get("properties") or {}).get("orchestrationMode") != "Flexible":
                return arm_error(400, "InvalidParameter", "The fake serves scale sets in Flexible orchestration mode only.")
            if (refused := _linux_auth_error(body)) is not None:
                return refused
            vmss = {
                "name": name,
                "id": f"{self._rg_prefix(rg)}/virtualMachineScaleSets/{name}",
                "type": "Microsoft.Compute/virtualMachineScaleSets",
                "location": body["location"],
                "tags": dict(body.get("tags") or {}),
                "sku": dict(body["sku"], capacity=0),
                "properties": {
                    **body["properties"],
                    "provisioningState": "Creating",
                    "uniqueId": str(uuid.uuid4()),
                    "timeCreated": _iso(self.now),
                },
            }
            self.scale_sets[name.lower()] = vmss
            answer = self._scale(vmss, int(body["sku"].get("capacity", 0)), request.url, 201)
            if answer[0] >= 400:
                self.scale_sets.pop(name.lower())
            return answer
        vmss["tags"] = dict(body.get("tags") or vmss["tags"])
        vmss["sku"]["name"] = body["sku"].get("name", vmss["sku"]["name"])
        return self._scale(vmss, int(body["sku"].get("capacity", vmss["sku"]["capacity"])), request.url, 200)

    def _patch_set(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        vmss = self._find_set(rg, name)
        if vmss is None:
            return self._not_found("virtualMachineScaleSets", rg, name)
        if "tags" in body:
            vmss["tags"] = dict(body["tags"])
        sku = body.get("sku") or {}
        if "name" in sku:
            vmss["sku"]["name"] = sku["name"]
        image = (
            ((body.get("properties") or {}).get("virtualMachineProfile") or {}).get("storageProfile", {}).get("imageReference")
        )
        if image:
            vmss["properties"]["virtualMachineProfile"]["storageProfile"]["imageReference"] = image
        return self._scale(vmss, int(sku.get("capacity", vmss["sku"]["capacity"])), request.url, 200)

    def _delete_set(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        vmss = self._find_set(rg, name)
        if vmss is None:
            return 204, {}, ""
        vmss["properties"]["provisioningState"] = "Deleting"
        members = self._members(vmss)
        for vm in members:
            vm["properties"]["provisioningState"] = "Deleting"

        def effect() -> None:
            for vm in members:
                self._remove_vm(vm)
            self.scale_sets.pop(name.lower(), None)

        _, headers = self._operation(STOP_SECONDS, effect)
        return 202, headers, ""

    # VMs
    def _list_vms(self, request: Any, query: dict[str, str], body: Any, rg: str) -> Response:
        prefix = self._rg_prefix(rg).lower()
        found = [vm for vm in self.vms.values() if vm["id"].lower().startswith(prefix)]
        flt = query.get("$filter")
        if query.get("$expand") and not flt:
            return arm_error(
                400,
                "InvalidParameter",
                "$expand=instanceView can only be specified with a valid $filter ('virtualMachineScaleSet/id' eq '...').",
            )
        if flt:
            m = re.fullmatch(r"\s*'virtualMachineScaleSet/id' eq '([^']+)'\s*", flt, re.I)
            if m is None:
                return arm_error(400, "InvalidParameter", f"The $filter {flt!r} is not supported.")
            found = [vm for vm in found if vm["properties"]["virtualMachineScaleSet"]["id"].lower() == m.group(1).lower()]
        found.sort(key=lambda vm: vm["name"])
        expand = query.get("$expand") == "instanceView"
        return self._page(request, query, found, lambda vm: self.vm_json(vm, expand))

    def _list_nics(self, request: Any, query: dict[str, str], body: Any, rg: str) -> Response:
        """``networkInterfaces`` of a resource group, in pages of ``PAGE`` with a ``nextLink``."""
        found = sorted((n for n in self.nics.values() if n["id"].split("/")[4].lower() == rg.lower()), key=lambda n: n["name"])
        return self._page(request, query, found)

    def _get_nic(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        nic = self.nics.get(name.lower())
        if nic is None or nic["id"].split("/")[4].lower() != rg.lower():
            return arm_error(
                404,
                "NotFound",
                f"Resource /subscriptions/{self.subscription_id}/resourceGroups/{rg}/providers/Microsoft.Network"
                f"/networkInterfaces/{name} not found.",
            )
        return _json(200, nic)

    def _page(
        self, request: Any, query: dict[str, str], found: list[dict[str, Any]], show: Callable[[Any], Any] = lambda x: x
    ) -> Response:
        """One page of ``found`` (each item through ``show``) with the ``nextLink`` of the next."""
        skip = int(query.get("$skiptoken", "0"))
        out: dict[str, Any] = {"value": [show(item) for item in found[skip : skip + PAGE]]}
        if skip + PAGE < len(found):
            rest = {k: v for k, v in query.items() if k != "$skiptoken"}
            qs = "&".join(f"{quote(k)}={quote(v)}" for k, v in rest.items())
            out["nextLink"] = f"{HOST}{urlsplit(request.url).path}?{qs}&$skiptoken={skip + PAGE}"
        return _json(200, out)

    def _find_vm(self, rg: str, name: str) -> dict[str, Any] | None:
        vm = self.vms.get(name.lower())
        return vm if vm is not None and vm["id"].lower().startswith(self._rg_prefix(rg).lower()) else None

    def _get_vm(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        vm = self._find_vm(rg, name)
        if vm is None:
            return self._not_found("virtualMachines", rg, name)
        return _json(200, self.vm_json(vm, query.get("$expand") == "instanceView"))

    def _vm_action(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str, action: str) -> Response:
        vm = self._find_vm(rg, name)
        if vm is None:
            return self._not_found("virtualMachines", rg, name)
        error = None
        if action == "start":
            if vm["power"] in ("deallocated", "deallocating"):
                spot = vm["properties"].get("priority") == "Spot"
                extra = self._vcpus(vm["properties"]["hardwareProfile"]["vmSize"])
                if (refused := self._refuse_quota(extra, spot, request.url)) is not None:
                    return refused
            if self.take_fault({"allocation_failed"}, request.url):
                error = (
                    "AllocationFailed",
                    "Allocation failed. We do not have sufficient capacity for the requested VM size in this region.",
                )
            transitional, final = "starting", "running"
        elif action == "deallocate":
            transitional, final = "deallocating", "deallocated"
        else:
            transitional, final = "stopping", "stopped"
        previous = vm["power"]
        vm["power"], vm["since"] = transitional, self.at
        vm["properties"]["provisioningState"] = "Updating"

        def effect() -> None:
            self._set_power(vm, previous if error else final)

        _, headers = self._operation(BOOT_SECONDS if action == "start" else STOP_SECONDS, effect, error)
        return 202, headers, ""

    def _delete_vm(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        vm = self._find_vm(rg, name)
        if vm is None:
            return 204, {}, ""
        vm["properties"]["provisioningState"] = "Deleting"
        set_id = vm["properties"]["virtualMachineScaleSet"]["id"]

        def effect() -> None:
            self._remove_vm(vm)
            vmss = self.scale_sets.get(set_id.rsplit("/", 1)[-1].lower())
            if vmss is not None:  # a Flexible set does not replace a deleted VM: its capacity drops
                vmss["sku"]["capacity"] = len(self._members(vmss))

        _, headers = self._operation(STOP_SECONDS, effect)
        return 202, headers, ""

    # load and autoscale -----------------------------------------------------------------
    def load(self, set_name: str) -> LoadModel:
        """The demand model of a scale set (instance-units over time): the local cloud's daily model."""
        key = set_name.lower()
        if key not in self.loads:
            vmss = self.scale_sets.get(key)
            base = 0.5 * max(1, int(vmss["sku"]["capacity"])) if vmss else 1.0
            self.loads[key] = LoadModel.daily(self.seed, key, base)
        return self.loads[key]

    def set_load(self, set_name: str, base_units: float) -> None:
        """Make a scale set's demand a daily cycle around ``base_units`` instance-units."""
        self.loads[set_name.lower()] = LoadModel.daily(self.seed, set_name.lower(), float(base_units))

    def running(self, vmss: dict[str, Any]) -> int:
        return sum(vm["power"] == "running" and not vm["pending"] for vm in self._members(vmss))

    def _all_vms(self, set_id: str) -> list[dict[str, Any]]:
        """The set's VMs, current and deleted (for metrics and the bill)."""
        return [
            vm
            for vm in [*self.vms.values(), *self.past_runs]
            if vm["properties"]["virtualMachineScaleSet"]["id"].lower() == set_id.lower()
        ]

    @staticmethod
    def _ran_at(vm: dict[str, Any], t: pd.Timestamp) -> bool:
        return any(start <= t and (end is None or t < end) for start, end in vm["runs"])

    def cpu_series(self, vmss_id: str, times: pd.DatetimeIndex, vm: dict[str, Any] | None = None) -> list[float | None]:
        """ "Percentage CPU" of a set (or one of its VMs) at ``times``: demand over the VMs running then."""
        import numpy as np

        from ..providers.local.load import stable_key

        members = self._all_vms(vmss_id)
        model = self.load(vmss_id.rsplit("/", 1)[-1])
        epoch = np.array([t.timestamp() for t in times])
        demand = model.demand(epoch)
        spread = model.instance_spread(stable_key(vm["name"]) if vm is not None else 0, epoch)
        out: list[float | None] = []
        for i, t in enumerate(times):
            cpu = fleet_cpu(float(demand[i]), sum(self._ran_at(m, t) for m in members))
            if vm is not None:
                cpu = None if cpu is None or not self._ran_at(vm, t) else min(100.0, cpu * float(spread[i]))
            out.append(cpu)
        return out

    def _engine(self, name: str, setting: dict[str, Any]) -> Any:
        if name not in self._engines:
            from azure.mgmt.monitor import models as m

            from ..autoscaling.engines.azure import AzureAutoscale
            from ..autoscaling.options import AzureOptions
            from ..models import AutoScalingConfig
            from ..providers.azure.autoscale import config_of, rules_of

            resource = m.AutoscaleSettingResource.deserialize(setting)
            policy = config_of(resource) or AutoScalingConfig()
            default = int(resource.profiles[0].capacity.default)
            self._engines[name] = AzureAutoscale(policy, AzureOptions(rules=rules_of(resource), default_capacity=default))
        return self._engines[name]

    def _autoscale(self, t: pd.Timestamp) -> None:
        import numpy as np

        for name, setting in self.autoscale_settings.items():
            target = setting["properties"]["targetResourceUri"]
            vmss = self.scale_sets.get(target.rsplit("/", 1)[-1].lower())
            if vmss is None or not setting["properties"].get("enabled", True):
                continue
            demand = float(self.load(vmss["name"]).demand(np.array([t.timestamp()]))[0])
            capacity = int(vmss["sku"]["capacity"])
            active = self._active_profile(setting, t)
            lo, hi = int(active["capacity"]["minimum"]), int(active["capacity"]["maximum"])
            if active.get("rules"):
                new, reason = self._engine(name, setting).decide(t.timestamp(), demand, capacity, self.running(vmss))
                new = min(max(new, lo), hi)
            else:  # a profile without rules holds the count within its bounds
                new, reason = min(max(capacity, lo), hi), f"profile {active['name']!r} holds {lo}-{hi} instances"
            if new == capacity:
                continue
            self._scale(vmss, new, "autoscale", 200)
            up = new > capacity
            operation_id = str(uuid.uuid4())
            event = {
                "eventTimestamp": _iso(t),
                "submissionTimestamp": _iso(t),
                "eventDataId": str(uuid.uuid4()),
                "operationId": operation_id,
                "id": f"{setting['id']}/events/{len(self.events)}",
                "operationName": {
                    "value": f"Microsoft.Insights/AutoscaleSettings/{'Scaleup' if up else 'Scaledown'}/Action",
                    "localizedValue": f"Autoscale scale {'up' if up else 'down'} completed",
                },
                "category": {"value": "Autoscale", "localizedValue": "Autoscale"},
                "level": "Informational",
                "status": {"value": "Succeeded", "localizedValue": "Succeeded"},
                "resourceId": setting["id"],
                "resourceGroupName": setting["id"].split("/")[4],
                "subscriptionId": self.subscription_id,
                "caller": "Microsoft.Insights/autoscaleSettings",
                "properties": {
                    "Description": f"The autoscale engine scaled resource '{vmss['id']}' from {capacity} instances "
                    f"count to {new} instances count: {reason}.",
                    "ResourceName": vmss["id"],
                    "OldInstancesCount": str(capacity),
                    "NewInstancesCount": str(new),
                    "ActiveAutoscaleProfile": json.dumps(setting["properties"]["profiles"][0]),
                },
            }
            # ARM logs each scale action twice under one operationId: "Started", then "Succeeded"
            started = {
                **event,
                "eventDataId": str(uuid.uuid4()),
                "operationName": {
                    **event["operationName"],
                    "localizedValue": f"Autoscale scale {'up' if up else 'down'} initiated",
                },
                "status": {"value": "Started", "localizedValue": "Started"},
            }
            self.events += [started, event]

    @staticmethod
    def _active_profile(setting: dict[str, Any], t: pd.Timestamp) -> dict[str, Any]:
        """The profile in effect at ``t``: the recurrence profile that started last, else the first profile."""
        from ..providers.azure.schedules import from_profiles

        props = setting["properties"]
        started = [
            (runs[-1], sched.name)
            for sched in from_profiles(props["profiles"], {}, "x", "fake")
            if (runs := sched.runs(t - pd.Timedelta(days=8), t))
        ]
        name = max(started)[1] if started else props["profiles"][0]["name"]
        return next(q for q in props["profiles"] if q["name"] == name)

    def _list_settings(self, request: Any, query: dict[str, str], body: Any, rg: str) -> Response:
        return _json(200, {"value": [s for s in self.autoscale_settings.values() if s["id"].split("/")[4].lower() == rg.lower()]})

    def _setting_id(self, rg: str, name: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{rg}/providers/microsoft.insights/autoscalesettings/{name}"

    def _get_setting(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        found = self.autoscale_settings.get(name.lower())
        if found is None:
            return arm_error(
                404, "ResourceNotFound", f"The Resource 'microsoft.insights/autoscalesettings/{name}' was not found."
            )
        return _json(200, found)

    def _put_setting(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        target = body["properties"]["targetResourceUri"]
        if target.rsplit("/", 1)[-1].lower() not in self.scale_sets:
            return arm_error(400, "InvalidTargetResource", f"The target resource '{target}' was not found.")
        setting = {
            "id": self._setting_id(rg, name),
            "name": name,
            "type": "Microsoft.Insights/autoscaleSettings",
            "location": body["location"],
            "tags": body.get("tags") or {},
            "properties": {**body["properties"], "name": name, "targetResourceLocation": body["location"]},
        }
        created = name.lower() not in self.autoscale_settings
        self.autoscale_settings[name.lower()] = setting
        self._engines.pop(name.lower(), None)
        if self._evaluated is None:
            self._evaluated = self.now.floor("min")
        return _json(201 if created else 200, setting)

    def _delete_setting(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        self.autoscale_settings.pop(name.lower(), None)
        self._engines.pop(name.lower(), None)
        return 200, {}, ""

    def _activity_log(self, request: Any, query: dict[str, str], body: Any) -> Response:
        flt = query.get("$filter", "")
        m = re.fullmatch(
            r"\s*eventTimestamp ge '([^']+)' and eventTimestamp le '([^']+)'(?: and resourceUri eq '([^']+)')?\s*", flt, re.I
        )
        if m is None:
            return arm_error(400, "BadRequest", f"The $filter {flt!r} is not supported by the fake.")
        lo, hi, uri = pd.Timestamp(m.group(1)), pd.Timestamp(m.group(2)), m.group(3)
        found = [
            e
            for e in self.events
            if lo <= pd.Timestamp(e["eventTimestamp"]) <= hi and (uri is None or e["resourceId"].lower() == uri.lower())
        ]
        return _json(200, {"value": found})

    # metrics and the bill -------------------------------------------------------------------
    def _metrics(self, request: Any, query: dict[str, str], body: Any, rg: str, kind: str, name: str) -> Response:
        vm = None
        if kind.lower() == "virtualmachines":
            vm = self._find_vm(rg, name) or next((v for v in self.past_runs if v["name"].lower() == name.lower()), None)
            if vm is None:
                return self._not_found("virtualMachines", rg, name)
            set_id, uri = vm["properties"]["virtualMachineScaleSet"]["id"], vm["id"]
        else:
            set_id = uri = f"{self._rg_prefix(rg)}/virtualMachineScaleSets/{name}"
        if query.get("metricnames") != "Percentage CPU":
            return arm_error(400, "BadRequest", f"The fake serves only 'Percentage CPU' (asked {query.get('metricnames')!r}).")
        lo, hi = (pd.Timestamp(x) for x in query["timespan"].split("/"))
        step = pd.Timedelta(query.get("interval", "PT1M"))
        hi = min(hi, self.now)
        minutes = pd.date_range(lo.ceil("min"), hi, freq="min", inclusive="left")
        cpu = pd.Series(self.cpu_series(set_id, minutes, vm), index=minutes, dtype=float)
        data = []
        for start in pd.date_range(lo, hi, freq=step, inclusive="left"):
            values = cpu[(cpu.index >= start) & (cpu.index < start + step)].dropna()
            point: dict[str, Any] = {"timeStamp": start.strftime("%Y-%m-%dT%H:%M:%SZ")}
            if len(values):
                point["average"] = round(float(values.mean()), 6)
            data.append(point)
        metric = {
            "id": f"{uri}/providers/Microsoft.Insights/metrics/Percentage CPU",
            "type": "Microsoft.Insights/metrics",
            "name": {"value": "Percentage CPU", "localizedValue": "Percentage CPU"},
            "displayDescription": "The percentage of allocated compute units that are currently in use by the VM(s)",
            "unit": "Percent",
            "timeseries": [{"metadatavalues": [], "data": data}],
            "errorCode": "Success",
        }
        return _json(
            200,
            {
                "cost": 0,
                "timespan": query["timespan"],
                "interval": query.get("interval", "PT1M"),
                "value": [metric],
                "namespace": f"Microsoft.Compute/{kind}",
                "resourceregion": self.location,
            },
        )

    def _cost_query(self, request: Any, query: dict[str, str], body: Any, rg: str) -> Response:
        """Actual cost and usage hours by VM (and by a tag), in pages of ``cost_page`` rows with a ``nextLink``.

        As Cost Management answers: each aggregated column is named after what it sums, a ``TagKey``
        grouping adds ``TagKey`` and ``TagValue`` columns (empty for an untagged VM), resource ids are
        lower case; a query takes at most two groupings and two aggregations.
        """
        if not self.billing:
            return arm_error(
                403,
                "AuthorizationFailed",
                "The client does not have authorization to perform action 'Microsoft.CostManagement/query/action'.",
            )
        dataset = body.get("dataset") or {}
        grouping, aggregation = dataset.get("grouping") or [], dataset.get("aggregation") or {}
        if len(grouping) > 2 or len(aggregation) > 2:
            return arm_error(400, "BadRequest", "Query can have up to 2 group by clauses and up to 2 aggregation clauses.")
        served = {("Dimension", "ResourceId")} | {("TagKey", g["name"]) for g in grouping if g.get("type") == "TagKey"}
        if unknown := [g for g in grouping if (g.get("type"), g.get("name")) not in served]:
            return arm_error(400, "BadRequest", f"The fake groups by ResourceId and tags only, not {unknown}.")
        tag = next((g["name"] for g in grouping if g.get("type") == "TagKey"), None)
        period = body.get("timePeriod") or {}
        lo, hi = pd.Timestamp(period["from"]), min(pd.Timestamp(period["to"]), self.now)
        rows = []
        for vm in sorted([*self.vms.values(), *self.past_runs], key=lambda v: v["name"]):
            hours = (
                sum(max(0.0, (min(end or self.now, hi) - max(start, lo)).total_seconds()) for start, end in vm["runs"]) / 3600.0
            )
            if hours <= 0:
                continue
            size = vm["properties"]["hardwareProfile"]["vmSize"]
            price = catalog.lookup(size, provider="azure").price(vm["properties"].get("priority") == "Spot")
            value = (vm.get("tags") or {}).get(tag or "")
            tags = [tag, value] if tag and value is not None else ["", ""] if tag else []
            rows.append([round(hours * price, 9), round(hours, 9), vm["id"].lower(), *tags, "USD"])
        columns = [
            {"name": "Cost", "type": "Number"},
            {"name": "UsageQuantity", "type": "Number"},
            {"name": "ResourceId", "type": "String"},
            *([{"name": "TagKey", "type": "String"}, {"name": "TagValue", "type": "String"}] if tag else []),
            {"name": "Currency", "type": "String"},
        ]
        skip = int(query.get("$skiptoken", "0"))
        scope = f"/subscriptions/{self.subscription_id}/resourceGroups/{rg}"
        more = skip + self.cost_page < len(rows)
        next_link = (
            f"{HOST}{scope}/providers/Microsoft.CostManagement/query?api-version={API_VERSIONS['Microsoft.CostManagement']}"
            f"&$skiptoken={skip + self.cost_page}"
        )
        return _json(
            200,
            {
                "id": f"{scope}/providers/Microsoft.CostManagement/query/{uuid.uuid4()}",
                "name": str(uuid.uuid4()),
                "type": "Microsoft.CostManagement/query",
                "properties": {
                    "nextLink": next_link if more else None,
                    "columns": columns,
                    "rows": rows[skip : skip + self.cost_page],
                },
            },
        )

    # Function Apps, their plans and storage -------------------------------------------------
    def _arm_id(self, rg: str, kind: str, name: str) -> str:
        return f"/subscriptions/{self.subscription_id}/resourceGroups/{rg}/providers/{kind}/{name}"

    def _put_plan(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        if (body.get("sku") or {}).get("tier") != "FlexConsumption":
            return arm_error(400, "BadRequest", "The fake serves Flex Consumption (FC1) plans only.")
        plan = {
            "id": self._arm_id(rg, "Microsoft.Web/serverfarms", name),
            "name": name,
            "type": "Microsoft.Web/serverfarms",
            "location": body["location"],
            "kind": body.get("kind", "functionapp"),
            "sku": body["sku"],
            "properties": {**body.get("properties", {}), "provisioningState": "Succeeded", "status": "Ready"},
        }
        self.plans[name.lower()] = plan
        return _json(200, plan)

    def _delete_plan(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        return (200, {}, "") if self.plans.pop(name.lower(), None) else (204, {}, "")

    def _put_account(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        account = self.accounts.setdefault(
            name.lower(),
            {
                "id": self._arm_id(rg, "Microsoft.Storage/storageAccounts", name),
                "name": name,
                "type": "Microsoft.Storage/storageAccounts",
                "location": body["location"],
                "kind": body.get("kind", "StorageV2"),
                "sku": {**body["sku"], "tier": "Standard"},
                "properties": {
                    "provisioningState": "Succeeded",
                    "primaryEndpoints": {"blob": f"https://{name}.blob.core.windows.net/"},
                    "containers": [],
                    "key": uuid.uuid4().hex,
                },
            },
        )
        return _json(
            200, {**account, "properties": {k: v for k, v in account["properties"].items() if k not in ("containers", "key")}}
        )

    def _account_keys(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        account = self.accounts.get(name.lower())
        if account is None:
            return arm_error(404, "StorageAccountNotFound", f"The storage account {name} was not found.")
        return _json(200, {"keys": [{"keyName": "key1", "value": account["properties"]["key"], "permissions": "FULL"}]})

    def _put_container(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str, container: str) -> Response:
        account = self.accounts.get(name.lower())
        if account is None:
            return arm_error(404, "StorageAccountNotFound", f"The storage account {name} was not found.")
        account["properties"]["containers"].append(container)
        cid = f"{account['id']}/blobServices/default/containers/{container}"
        return _json(
            201,
            {"id": cid, "name": container, "type": "Microsoft.Storage/storageAccounts/blobServices/containers", "properties": {}},
        )

    def _site_json(self, site: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in site.items() if k not in ("settings", "package", "keys", "deployed_dir")}

    def _put_site(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        props = body.get("properties") or {}
        if props.get("serverFarmId", "").rsplit("/", 1)[-1].lower() not in self.plans:
            return arm_error(400, "BadRequest", "The plan of the Function App does not exist.")
        site = self.sites.get(name.lower())
        fresh: dict[str, Any] = {"settings": {}, "package": None, "keys": {"default": uuid.uuid4().hex}}
        base = fresh if site is None else site
        base.update(
            {
                "id": self._arm_id(rg, "Microsoft.Web/sites", name),
                "name": name,
                "type": "Microsoft.Web/sites",
                "location": body["location"],
                "kind": body.get("kind", "functionapp,linux"),
                "tags": body.get("tags") or {},
                "properties": {
                    **props,
                    "state": "Running",
                    "defaultHostName": f"{name}.azurewebsites.net",
                    "lastModifiedTimeUtc": _iso(self.now),
                    "provisioningState": "Succeeded",
                },
            }
        )
        self.sites[name.lower()] = base
        return _json(200, self._site_json(base))

    def _find_site(self, name: str) -> dict[str, Any] | None:
        return self.sites.get(name.lower())

    def _get_site(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        site = self._find_site(name)
        if site is None:
            return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Web/sites/{name}' was not found.")
        return _json(200, self._site_json(site))

    def _list_sites(self, request: Any, query: dict[str, str], body: Any, rg: str) -> Response:
        return _json(
            200, {"value": [self._site_json(s) for s in self.sites.values() if s["id"].split("/")[4].lower() == rg.lower()]}
        )

    def _delete_site(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        return (200, {}, "") if self.sites.pop(name.lower(), None) else (204, {}, "")

    def _put_settings(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        site = self._find_site(name)
        if site is None:
            return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Web/sites/{name}' was not found.")
        from ..providers.azure.functions import FLEX_REFUSED_SETTINGS

        if refused := sorted(FLEX_REFUSED_SETTINGS & set(body.get("properties") or {})):
            return arm_error(
                400, "BadRequest", f"The following app setting(s) are not supported by Flex Consumption: {', '.join(refused)}."
            )
        site["settings"] = dict(body.get("properties") or {})
        site["properties"]["lastModifiedTimeUtc"] = _iso(self.now)
        return self._list_settings_of_app(request, query, body, rg, name)

    def _list_settings_of_app(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str) -> Response:
        site = self._find_site(name)
        if site is None:
            return arm_error(404, "ResourceNotFound", f"The Resource 'Microsoft.Web/sites/{name}' was not found.")
        return _json(
            200,
            {
                "id": f"{site['id']}/config/appsettings",
                "name": "appsettings",
                "type": "Microsoft.Web/sites/config",
                "properties": site["settings"],
            },
        )

    def _function_keys(self, request: Any, query: dict[str, str], body: Any, rg: str, name: str, function: str) -> Response:
        site = self._find_site(name)
        if site is None or site["package"] is None:
            return arm_error(404, "NotFound", f"Function {function} of {name} not found.")
        return _json(200, {"properties": dict(site["keys"])})

    # the app's own hosts
    def _publish(self, request: Any, app: dict[str, Any]) -> Response:
        """One deploy as Flex Consumption takes it: a zip body (else 415), answered 202 with the deployment's id."""
        if not str(request.headers.get("Authorization", "")).startswith("Bearer "):
            return 401, {}, ""
        if request.headers.get("Content-Type") != "application/zip":
            return 415, {}, ""
        body = request.body if isinstance(request.body, bytes) else request.body.read()
        app["deployment"] = str(uuid.uuid4())
        app["deployment_failed"] = self.take_fault({"deployment_failed"}, request.url) is not None
        if not app["deployment_failed"]:  # as Kudu does, a failed build leaves the live package in place
            app["package"] = body
            app["deployed_dir"] = None
        return 202, {"Location": f"https://{app['name']}.scm.azurewebsites.net/api/deployments/latest"}, app["deployment"]

    def _deployment(self, request: Any, app: dict[str, Any]) -> Response:
        """Kudu's deployment status: ``status`` 4 is success (3 failure), ``complete`` when it settled."""
        if app.get("deployment_failed"):
            text = "Build failed: pip could not install the requirements (injected deployment_failed)"
            return _json(200, {"id": app["deployment"], "status": 3, "complete": True, "status_text": text})
        done = app["package"] is not None
        return _json(
            200, {"id": app.get("deployment", "latest"), "status": 4 if done else 0, "complete": done, "status_text": ""}
        )

    def _invoke(self, request: Any, app: dict[str, Any], function: str) -> Response:
        import tempfile
        from pathlib import Path

        from ..code_zip import extract
        from .azure_functions_host import run

        if request.headers.get("x-functions-key") not in app["keys"].values():
            return 401, {}, ""
        if app["package"] is None:
            return 404, {}, ""
        if not app.get("deployed_dir"):
            target = Path(tempfile.mkdtemp(prefix="clusterdb-fake-azure-"))
            extract(app["package"], target)
            app["deployed_dir"] = target
        timeout = float(app["settings"].get("CLUSTERDB_TIMEOUT_SEC", 30)) + 5.0
        body = request.body if isinstance(request.body, bytes) else (request.body or b"")
        status, answer, mimetype = run(app["deployed_dir"], function, body, timeout, app["settings"])
        return status, {"Content-Type": mimetype, "x-ms-invocation-id": str(uuid.uuid4())}, answer.decode("utf-8", "replace")


@contextmanager
def fake_azure(polls: int = 1, latency: float = 0.0, **kwargs: Any) -> Iterator[FakeAzure]:
    """Serve a fresh :class:`FakeAzure` for the block; ``credentials: anonymous`` works inside it only."""
    cloud = FakeAzure(polls=polls, latency=latency, **kwargs)
    with offline.serving("azure"), cloud.serving():
        yield cloud
