"""Fidelity of ``fake_azure()``: its answers have the shape of Azure's official examples and
deserialize into the pinned SDK's models with no unknown and no missing required fields.

The reference shapes below are the fields the adapter reads, as the official examples in the public
``Azure/azure-rest-api-specs`` repository give them (ComputeRP stable 2024-11-01):
- ``virtualMachineScaleSetExamples/VirtualMachineScaleSet_Create_WithPriorityMixPolicy.json`` (a Flexible set)
- ``virtualMachineExamples/VirtualMachine_Get_InstanceView.json`` (statuses with ProvisioningState and PowerState)
- ``computeRPCommonExamples/Usage_List_MaximumSet_Gen.json``

and Microsoft.Insights: ``stable/2022-10-01/examples/getAutoscaleSetting.json``, ``stable/2024-02-01/examples/GetMetric.json``.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests
from azure.mgmt.compute import models
from azure.mgmt.compute._utils.model_base import Model

import clusterdb_nb as cdb
from clusterdb_nb.errors import ValidationError
from clusterdb_nb.testing import FakeAzure, fake_azure
from clusterdb_nb.testing.azure import API_VERSIONS, HOST

SCALE_SET_EXAMPLE = {
    "sku": {"tier": "Standard", "capacity": 2, "name": "Standard_A8m_v2"},
    "name": "{vmss-name}",
    "properties": {
        "orchestrationMode": "Flexible",
        "platformFaultDomainCount": 1,
        "virtualMachineProfile": {
            "priority": "Spot",
            "storageProfile": {
                "imageReference": {"publisher": "Canonical", "offer": "o", "sku": "s", "version": "latest"},
                "osDisk": {"createOption": "FromImage", "managedDisk": {"storageAccountType": "Standard_LRS"}},
            },
            "osProfile": {"computerNamePrefix": "{vmss-name}", "adminUsername": "{your-username}"},
            "networkProfile": {
                "networkInterfaceConfigurations": [
                    {
                        "name": "{vmss-name}",
                        "properties": {
                            "primary": True,
                            "ipConfigurations": [
                                {"name": "{vmss-name}", "properties": {"subnet": {"id": "/subscriptions/.../subnets/x"}}}
                            ],
                        },
                    }
                ],
                "networkApiVersion": "2020-11-01",
            },
        },
    },
    "location": "westus",
    "type": "Microsoft.Compute/virtualMachineScaleSets",
    "id": "/subscriptions/{subscription-id}/resourceGroups/myResourceGroup/providers/Microsoft.Compute/...",
}
INSTANCE_VIEW_EXAMPLE = {
    "computerName": "myVM",
    "osName": "Windows Server 2016 Datacenter",
    "statuses": [
        {
            "code": "ProvisioningState/succeeded",
            "level": "Info",
            "displayStatus": "Provisioning succeeded",
            "time": "2019-10-14T21:30:12.8051917+00:00",
        },
        {"code": "PowerState/running", "level": "Info", "displayStatus": "VM running"},
    ],
}
USAGE_EXAMPLE = {"value": [{"unit": "Count", "currentValue": 17, "limit": 19, "name": {"value": "aaa", "localizedValue": "aaa"}}]}

AUTOSCALE_EXAMPLE = {
    "id": "/subscriptions/b67f/resourceGroups/T/providers/microsoft.insights/autoscalesettings/MySetting",
    "name": "MySetting",
    "type": "Microsoft.Insights/autoscaleSettings",
    "location": "West US",
    "properties": {
        "profiles": [
            {
                "name": "adios",
                "capacity": {"minimum": "1", "maximum": "10", "default": "1"},
                "rules": [
                    {
                        "metricTrigger": {
                            "metricName": "Percentage CPU",
                            "metricResourceUri": "/subscriptions/b67f/.../virtualMachineScaleSets/testingsc",
                            "timeGrain": "PT1M",
                            "statistic": "Average",
                            "timeWindow": "PT5M",
                            "timeAggregation": "Average",
                            "operator": "GreaterThan",
                            "threshold": 10.0,
                        },
                        "scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "1", "cooldown": "PT5M"},
                    }
                ],
            }
        ],
        "enabled": True,
        "name": "MySetting",
        "targetResourceUri": "/subscriptions/b67f/.../virtualMachineScaleSets/testingsc",
    },
}
METRIC_EXAMPLE = {
    "cost": 598,
    "timespan": "2021-04-20T09:00:00Z/2021-04-20T14:00:00Z",
    "interval": "PT1H",
    "value": [
        {
            "id": "/subscriptions/1f3f/.../providers/Microsoft.Insights/metrics/BlobCount",
            "type": "Microsoft.Insights/metrics",
            "name": {"value": "BlobCount", "localizedValue": "Blob Count"},
            "displayDescription": "The number of blob objects stored in the storage account.",
            "unit": "Count",
            "timeseries": [{"data": [{"timeStamp": "2021-04-20T09:00:00Z", "average": 7.0}]}],
            "errorCode": "Success",
        }
    ],
    "namespace": "microsoft.storage/storageaccounts/blobservices",
}


NIC_EXAMPLE = {  # Microsoft.Network stable/2024-05-01/examples/NetworkInterfaceList.json, the fields the adapter reads
    "name": "test-nic",
    "id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Network/networkInterfaces/test-nic",
    "location": "eastus",
    "type": "Microsoft.Network/networkInterfaces",
    "properties": {
        "provisioningState": "Succeeded",
        "ipConfigurations": [
            {
                "name": "ipconfig1",
                "id": "/subscriptions/subid/.../networkInterfaces/test-nic/ipConfigurations/ipconfig1",
                "properties": {
                    "provisioningState": "Succeeded",
                    "privateIPAddress": "172.20.2.4",
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": {"id": "/subscriptions/subid/.../virtualNetworks/rg1-vnet/subnets/default"},
                    "primary": True,
                    "privateIPAddressVersion": "IPv4",
                },
            }
        ],
        "macAddress": "00-0D-3A-1B-C7-21",
        "enableAcceleratedNetworking": True,
        "enableIPForwarding": False,
        "primary": True,
        "virtualMachine": {"id": "/subscriptions/subid/resourceGroups/rg1/providers/Microsoft.Compute/virtualMachines/vm1"},
    },
}


def paths(obj: Any, prefix: str = "") -> dict[str, type]:
    """Every leaf path of a JSON value with its type (list items under ``[]``, merged)."""
    out: dict[str, type] = {}
    if isinstance(obj, dict):
        for k, v in obj.items():
            out |= paths(v, f"{prefix}.{k}" if prefix else k)
    elif isinstance(obj, list):
        for item in obj:
            out |= paths(item, f"{prefix}[]")
    else:
        out[prefix] = type(obj)
    return out


def assert_same_shape(example: Any, ours: Any) -> None:
    want, got = paths(example), paths(ours)
    missing = sorted(set(want) - set(got))
    assert not missing, f"the fake lacks {missing}"
    assert {p: want[p] for p in want} == {p: got[p] for p in want}


def unknown_or_missing(model: Model, where: str = "") -> list[str]:
    """Keys the SDK model does not know, and required readable fields the answer lacks, recursively."""
    fields = {rf._rest_name: (attr, rf) for attr, rf in type(model)._attr_to_rest_field.items()}
    out = [f"unknown {where}{k}" for k in model.keys() if k not in fields]
    for name, (attr, rf) in fields.items():
        readable = rf._visibility is None or "read" in rf._visibility
        if name not in model.keys():
            if readable and not rf._is_optional:
                out.append(f"missing {where}{name}")
            continue
        value = getattr(model, attr)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, Model):
                out += unknown_or_missing(item, f"{where}{name}.")
    return out


@pytest.fixture
def cloud():
    with fake_azure() as c:
        yield c


@pytest.fixture
def answers(cloud: FakeAzure) -> dict[str, Any]:
    """The fake's raw JSON answers after a spot fleet of two was created and one VM deallocated."""
    with cdb.connect(azure=cloud.config()) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="Standard_D2s_v5", spot=True, provider="azure"))
        s.stop_instance(s.instances()["id"].iloc[0])
    base = f"{HOST}/subscriptions/{cloud.subscription_id}"
    rg = f"{base}/resourceGroups/clusterdb/providers/Microsoft.Compute"
    v = f"api-version={API_VERSIONS['Microsoft.Compute']}"
    get = lambda url: requests.get(url, timeout=5).json()  # noqa: E731
    set_id = f"/subscriptions/{cloud.subscription_id}/resourceGroups/clusterdb/providers/Microsoft.Compute"
    set_id += "/virtualMachineScaleSets/clusterdb-web"
    return {
        "scale_set": get(f"{rg}/virtualMachineScaleSets/clusterdb-web?{v}"),
        "vms": get(f"{rg}/virtualMachines?{v}&$expand=instanceView&$filter='virtualMachineScaleSet/id' eq '{set_id}'")["value"],
        "set_view": get(f"{rg}/virtualMachineScaleSets/clusterdb-web/instanceView?{v}"),
        "usages": get(f"{base}/providers/Microsoft.Compute/locations/eastus/usages?{v}"),
    }


def test_scale_set_has_the_shape_of_the_official_flexible_example(answers):
    assert_same_shape(SCALE_SET_EXAMPLE, answers["scale_set"])


def test_instance_view_has_the_shape_of_the_official_example(answers):
    views = [vm["properties"]["instanceView"] for vm in answers["vms"]]
    for view in views:
        assert_same_shape(INSTANCE_VIEW_EXAMPLE, view)
    codes = {st["code"] for view in views for st in view["statuses"]}
    assert {"PowerState/running", "PowerState/deallocated"} <= codes


def test_usages_have_the_shape_of_the_official_example(answers):
    assert_same_shape(USAGE_EXAMPLE, answers["usages"])


@pytest.mark.parametrize(
    ("key", "model"),
    [
        ("scale_set", models.VirtualMachineScaleSet),
        ("vms", models.VirtualMachine),
        ("usages", models.Usage),
        ("set_view", models.VirtualMachineScaleSetInstanceView),
    ],
)
def test_answers_deserialize_into_the_sdk_models_without_unknown_or_missing_fields(answers, key, model):
    items = answers[key]["value"] if key == "usages" else answers[key]
    for item in items if isinstance(items, list) else [items]:
        assert unknown_or_missing(model(item)) == []


def test_the_sdk_reads_the_fields_the_adapter_uses_with_their_types(answers):
    vm = models.VirtualMachine(answers["vms"][0])
    assert vm.hardware_profile.vm_size == "Standard_D2s_v5" and vm.priority == "Spot"
    assert vm.virtual_machine_scale_set.id.endswith("/clusterdb-web")
    assert vm.time_created.tzinfo is not None
    assert vm.instance_view.statuses[0].time.year == 2026
    vmss = models.VirtualMachineScaleSet(answers["scale_set"])
    assert vmss.orchestration_mode == "Flexible" and vmss.virtual_machine_profile.billing_profile.max_price == -1


def test_a_flexible_sets_instance_view_sums_no_power_states(answers):
    """Microsoft: a Flexible set has no instance view of its VMs (azure-sdk-for-go#19707); the adapter lists them."""
    view = models.VirtualMachineScaleSetInstanceView(answers["set_view"])
    assert view.virtual_machine is None
    assert [st.code for st in view.statuses] == ["ProvisioningState/succeeded"]


def test_instance_view_expand_needs_the_scale_set_filter(cloud):
    """The SDK's own docs: expand=instanceView "can only be specified if a valid $filter option is specified"."""
    rg = f"{HOST}/subscriptions/{cloud.subscription_id}/resourceGroups/clusterdb/providers/Microsoft.Compute"
    answer = requests.get(f"{rg}/virtualMachines?api-version={API_VERSIONS['Microsoft.Compute']}&$expand=instanceView", timeout=5)
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "InvalidParameter"


def test_network_interfaces_have_the_shape_of_the_official_example_and_deserialize(cloud):
    from azure.mgmt.network import models as n

    with cdb.connect(azure=cloud.config()) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, provider="azure"))
    url = f"{HOST}/subscriptions/{cloud.subscription_id}/resourceGroups/clusterdb/providers/Microsoft.Network/networkInterfaces"
    nics = requests.get(f"{url}?api-version={API_VERSIONS['Microsoft.Network']}", timeout=5).json()["value"]
    assert len(nics) == 2
    for nic in nics:
        assert_same_shape(NIC_EXAMPLE, nic)
        assert unknown_or_missing(n.NetworkInterface(nic)) == []
        assert nic["properties"]["ipConfigurations"][0]["properties"]["privateIPAddress"].startswith("10.0.0.")


def test_the_checker_finds_unknown_and_missing_fields():
    assert unknown_or_missing(models.Usage({"unit": "Count", "currentValue": 1, "limit": 2, "name": {}, "bogus": 1})) == [
        "unknown bogus"
    ]
    assert "missing limit" in unknown_or_missing(models.Usage({"unit": "Count", "currentValue": 1, "name": {}}))


# -- the handle -------------------------------------------------------------------------------------
def test_unknown_fault_and_quota_names_are_refused(cloud):
    with pytest.raises(ValidationError, match="allocation_failed"):
        cloud.inject("stockout")
    with pytest.raises(ValidationError, match="cores"):
        cloud.set_quota("CPUS", 4)


def test_quota_usage_counts_running_vcpus_not_deallocated_ones(cloud):
    with cdb.connect(azure=cloud.config()) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, provider="azure"))
        assert cloud.usage()["cores"] == 4
        s.stop_instance(s.instances()["id"].iloc[0])
        assert cloud.usage()["cores"] == 2


def test_autoscale_setting_and_metrics_have_the_shape_of_the_official_examples(cloud):
    from azure.mgmt.monitor import models as m

    with cdb.connect(azure=cloud.config()) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, provider="azure"))
        s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=4))
        cloud.advance("30min")
    setting = cloud.autoscale_settings["clusterdb-web-autoscale"]
    assert_same_shape(AUTOSCALE_EXAMPLE, setting)
    rg = f"{HOST}/subscriptions/{cloud.subscription_id}/resourceGroups/clusterdb/providers/Microsoft.Compute"
    v = f"api-version={API_VERSIONS['Microsoft.Insights/metrics']}"
    window = "2026-01-05T00:00:00Z/2026-01-05T00:30:00Z"
    url = f"{rg}/virtualMachineScaleSets/clusterdb-web/providers/Microsoft.Insights/metrics?{v}"
    answer = requests.get(url, params={"timespan": window, "interval": "PT5M", "metricnames": "Percentage CPU"}, timeout=5).json()
    assert_same_shape(METRIC_EXAMPLE, answer)
    parsed = m.Response.deserialize(answer)
    assert parsed.value[0].name.value == "Percentage CPU" and len(parsed.value[0].timeseries[0].data) == 6
    resource = m.AutoscaleSettingResource.deserialize(setting)
    assert resource.profiles[0].rules[0].scale_action.cooldown.total_seconds() == 300


# createOrUpdateAutoscaleSetting.json (Microsoft.Insights stable/2022-10-01): the request's default profile
AUTOSCALE_PUT_PROFILE = {
    "name": "adios",
    "capacity": {"minimum": "1", "maximum": "10", "default": "1"},
    "rules": [
        {
            "metricTrigger": {
                "metricName": "Percentage CPU",
                "metricResourceUri": "/subscriptions/b67f/resourceGroups/T/providers/Microsoft.Compute/virtualMachineScaleSets/x",
                "timeGrain": "PT1M",
                "statistic": "Average",
                "timeWindow": "PT5M",
                "timeAggregation": "Average",
                "operator": "GreaterThan",
                "threshold": 10.0,
                "dividePerInstance": False,
            },
            "scaleAction": {"direction": "Increase", "type": "ChangeCount", "value": "1", "cooldown": "PT5M"},
        }
    ],
}


def test_the_deployed_autoscale_profile_has_the_official_request_shape(cloud):
    """Every field of the example's rules is sent but the optional dividePerInstance; only metricNamespace is added."""
    with cdb.connect(azure=cloud.config()) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, provider="azure"))
        s.configure_auto_scaling("web", cdb.AutoScalingConfig(min_capacity=1, max_capacity=4))
    setting = cloud.autoscale_settings["clusterdb-web-autoscale"]
    ours, want = paths(setting["properties"]["profiles"][0]), paths(AUTOSCALE_PUT_PROFILE)
    assert set(want) - set(ours) == {"rules[].metricTrigger.dividePerInstance"}
    assert set(ours) - set(want) == {"rules[].metricTrigger.metricNamespace"}
    assert {p: ours[p] for p in ours if p in want} == {p: want[p] for p in ours if p in want}
    assert setting["properties"]["enabled"] is True and setting["properties"]["targetResourceUri"].endswith("/clusterdb-web")
