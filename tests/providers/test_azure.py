"""The Azure provider through Microsoft's own SDK clients against the offline fake (``fake_azure()``).

Each test checks with a separate SDK client (``raw``) or the fake's state what the adapter really
did, not only what it returned.
"""

from __future__ import annotations

import pandas as pd
import pytest
import responses
from azure.mgmt.compute import ComputeManagementClient

import clusterdb_nb as cdb
from clusterdb_nb.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    ProviderError,
    QuotaExceededError,
    ValidationError,
)
from clusterdb_nb.frames import INSTANCES
from clusterdb_nb.models import InstanceState
from clusterdb_nb.providers import registry
from clusterdb_nb.providers.azure import AzureProvider
from clusterdb_nb.providers.azure.clients import AnonymousCredential
from clusterdb_nb.providers.capabilities import Feature
from clusterdb_nb.providers.kit import offline
from clusterdb_nb.testing import FakeAzure, fake_azure

WEB = cdb.FleetConfig("web", "Web tier", capacity=3, provider="azure", tags={"env": "dev"})


@pytest.fixture
def cloud():
    with fake_azure() as c:
        yield c


@pytest.fixture
def s(cloud: FakeAzure):
    with cdb.connect(azure=cloud.config()) as session:
        yield session


@pytest.fixture
def raw(cloud: FakeAzure) -> ComputeManagementClient:
    """An SDK client of our own, to cross-check what the adapter did."""
    return ComputeManagementClient(AnonymousCredential(), cloud.subscription_id, polling_interval=0)


def provider(session: cdb.ComputeSession) -> AzureProvider:
    return session.manager.providers["azure"]


# -- registry and config ------------------------------------------------------------------------
def test_azure_is_a_builtin_provider_with_retries_and_poll_interval_from_config(cloud):
    assert registry.provider_class("azure") is AzureProvider
    with cdb.connect(azure=cloud.config(poll_interval=2, retry_total=7)) as s:
        p = provider(s)
        assert p.region == "eastus"
        compute = p.clients.compute
        assert compute._config.polling_interval == 2
        assert compute._config.retry_policy.total_retries == 7


def test_anonymous_credentials_are_refused_without_the_fake():
    with responses.RequestsMock() as mock, cdb.connect(azure={"subscription_id": "s", "credentials": "anonymous"}) as s:
        with pytest.raises(AuthenticationError, match="anonymous works only against the offline fake"):
            s.fleet("web")
        assert len(mock.calls) == 0  # refused before any request


def test_a_service_principal_needs_the_tenant():
    cfg = {"subscription_id": "s", "credentials": {"client_id": "app", "client_secret": "x"}}
    with cdb.connect(azure=cfg) as s:
        with pytest.raises(ValidationError, match="tenant_id"):
            s.fleet("web")


# -- fleets ---------------------------------------------------------------------------------------
def test_create_fleet_makes_a_flexible_scale_set_on_the_subnet_with_azure_defaults(s, cloud, raw):
    fleet = s.create_fleet(WEB)
    assert (fleet.name, fleet.capacity, fleet.running, fleet.instance_type) == ("web", 3, 3, "Standard_B2s")
    assert fleet.tags == {"env": "dev"} and fleet.description == "Web tier"
    vmss = raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-web")
    assert vmss.orchestration_mode == "Flexible"
    assert vmss.sku.capacity == 3 and vmss.sku.name == "Standard_B2s"
    assert vmss.tags["clusterdb:fleet"] == "web" and vmss.tags["env"] == "dev"
    profile = vmss.virtual_machine_profile
    image = profile.storage_profile.image_reference
    assert (image.publisher, image.offer, image.sku) == ("Canonical", "ubuntu-24_04-lts", "server")
    subnet = profile.network_profile.network_interface_configurations[0].ip_configurations[0].subnet.id
    assert subnet == cloud.config()["subnet_id"]
    assert profile.priority is None
    members = list(raw.virtual_machines.list("clusterdb", filter=f"'virtualMachineScaleSet/id' eq '{vmss.id}'"))
    assert len(members) == 3


def test_spot_fleet_is_priority_spot_deallocated_on_eviction_at_any_price(s, raw):
    s.create_fleet(WEB._replace(name="cheap", spot=True, instance_type="Standard_D2s_v5"))
    profile = raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-cheap").virtual_machine_profile
    assert (profile.priority, profile.eviction_policy, profile.billing_profile.max_price) == ("Spot", "Deallocate", -1)
    df = s.instances(fleet="cheap")
    assert df["spot"].all() and len(df) == 3


def test_create_fleet_twice_is_a_conflict(s):
    s.create_fleet(WEB)
    with pytest.raises(ConflictError, match="already exists"):
        s.create_fleet(WEB)


def test_fleet_checks_happen_before_any_call(s, cloud):
    with pytest.raises(ValidationError, match="tags.azure-x"):
        s.create_fleet(WEB._replace(tags={"azure-x": "1"}))
    with pytest.raises(ValidationError):
        s.create_fleet(WEB._replace(instance_type="Standard_Nope"))
    assert cloud.calls == []


def test_without_a_subnet_create_fleet_names_the_field(cloud):
    with cdb.connect(azure=cloud.config(subnet_id=None)) as s:
        with pytest.raises(ValidationError, match="networking.subnet_id") as err:
            s.create_fleet(WEB)
    assert err.value.field == "networking.subnet_id"
    assert cloud.calls == []


def test_update_capacity_scales_the_set_out_and_in(s, raw):
    s.create_fleet(WEB)
    assert s.update_fleet_capacity("web", 5).capacity == 5
    assert len(s.instances(fleet="web")) == 5
    assert raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-web").sku.capacity == 5
    s.update_fleet_capacity("web", 2)
    assert len(s.instances(fleet="web")) == 2


def test_update_fleet_changes_bounds_tags_and_size(s, raw):
    s.create_fleet(WEB)
    fleet = s.update_fleet(cdb.FleetConfig("web", min_capacity=1, max_capacity=8, tags={"team": "ml"}, provider="azure"))
    assert (fleet.min_capacity, fleet.max_capacity, fleet.capacity) == (1, 8, 3)
    assert fleet.tags == {"env": "dev", "team": "ml"}
    fleet = s.update_fleet(cdb.FleetConfig("web", instance_type="Standard_D2s_v5", provider="azure"))
    assert raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-web").sku.name == "Standard_D2s_v5"


def test_delete_fleet_removes_the_set_and_its_vms(s, cloud):
    s.create_fleet(WEB)
    s.delete_fleet("web")
    assert cloud.scale_sets == {} and cloud.vms == {}
    with pytest.raises(NotFoundError, match="no fleet"):
        s.fleet("web")
    assert s.fleets().empty


def test_list_fleets_counts_running_members(s):
    s.create_fleet(WEB)
    s.create_fleet(WEB._replace(name="batch", capacity=1, tags={}))
    df = s.fleets()
    assert dict(zip(df["name"], df["running"])) == {"batch": 1, "web": 3}


# -- instances and power states -------------------------------------------------------------------
def test_instances_are_the_sets_vms_in_the_instances_frame(s):
    s.create_fleet(WEB)
    df = s.instances(fleet="web")
    assert list(df.columns) == list(INSTANCES)
    assert set(df["state"]) == {"running"} and set(df["fleet"]) == {"web"}
    assert (df["hourly_cost_usd"] > 0).all()
    assert df["id"].str.startswith("clusterdb-web_").all()


def test_stop_deallocates_and_start_runs_again(s, raw):
    s.create_fleet(WEB)
    vm = s.instances(fleet="web")["id"].iloc[0]
    assert s.stop_instance(vm).state is InstanceState.STOPPED
    codes = [st.code for st in raw.virtual_machines.get("clusterdb", vm, expand="instanceView").instance_view.statuses]
    assert "PowerState/deallocated" in codes  # deallocated, not merely powered off: compute billing stops
    assert s.instances(fleet="web", state="stopped")["id"].tolist() == [vm]
    assert s.start_instance(vm).state is InstanceState.RUNNING


def test_terminate_deletes_the_vm_and_the_flexible_set_does_not_replace_it(s):
    s.create_fleet(WEB)
    vm = s.instances(fleet="web")["id"].iloc[0]
    assert s.terminate_instance(vm).state is InstanceState.TERMINATED
    assert vm not in s.instances(fleet="web")["id"].tolist()
    assert s.fleet("web").capacity == 2  # documented: the capacity drops by one


def test_get_unknown_instance_is_not_found(s):
    with pytest.raises(NotFoundError):
        s.instance("nope")


def test_transitional_power_states_show_while_an_operation_runs(cloud, raw):
    cloud.polls = 1000  # operations finish only when the fake's clock has passed their time
    with cdb.connect(azure=cloud.config()) as s:
        raw.virtual_machine_scale_sets.begin_create_or_update("clusterdb", "clusterdb-web", _body(cloud), polling=False)
        assert set(s.instances()["state"]) == {"pending"}
        cloud.advance("5min")
        assert set(s.instances()["state"]) == {"running"}
        vm = s.instances()["id"].iloc[0]
        raw.virtual_machines.begin_deallocate("clusterdb", vm, polling=False)
        assert s.instance(vm).state is InstanceState.STOPPING
        cloud.advance("1min")
        assert s.instance(vm).state is InstanceState.STOPPED


def _body(cloud: FakeAzure) -> dict:
    from clusterdb_nb.providers.azure import fleets

    config = WEB._replace(instance_type="Standard_B2s", min_capacity=0, max_capacity=5)
    cfg = cloud.config()
    return fleets.body(
        config, cfg["subnet_id"], "Canonical:ubuntu-24_04-lts:server:latest", "eastus", "azureuser", cfg["ssh_public_key"]
    )


def _vm(*codes: str, provisioning: str = "Succeeded") -> dict:
    statuses = [{"code": c} for c in codes]
    return {"name": "vm", "properties": {"provisioningState": provisioning, "instanceView": {"statuses": statuses}}}


@pytest.mark.parametrize(
    ("power", "ours"),
    [
        ("starting", InstanceState.PENDING),
        ("running", InstanceState.RUNNING),
        ("stopping", InstanceState.STOPPING),
        ("deallocating", InstanceState.STOPPING),
        ("stopped", InstanceState.STOPPED),  # powered off: still billed
        ("deallocated", InstanceState.STOPPED),
    ],
)
def test_power_state_mapping(power, ours):
    from clusterdb_nb.providers.azure.instances import state_of

    assert state_of(_vm("ProvisioningState/succeeded", f"PowerState/{power}")) is ours


def test_a_vm_without_power_state_is_pending_and_one_being_deleted_is_terminating():
    from clusterdb_nb.providers.azure.instances import state_of

    assert state_of(_vm("ProvisioningState/creating")) is InstanceState.PENDING
    assert state_of(_vm("ProvisioningState/deleting", "PowerState/running")) is InstanceState.TERMINATING


def test_powered_off_vm_reads_as_stopped(s, raw):
    s.create_fleet(WEB)
    vm = s.instances(fleet="web")["id"].iloc[0]
    raw.virtual_machines.begin_power_off("clusterdb", vm).result()
    assert s.instance(vm).state is InstanceState.STOPPED


# -- long-running operations, API versions ------------------------------------------------------------
def test_long_running_operations_poll_the_azure_async_operation_until_done(cloud):
    cloud.polls = 3
    with cdb.connect(azure=cloud.config()) as s:
        s.create_fleet(WEB)
    polls = [url for method, url in cloud.calls if "/operations/" in url]
    assert len(polls) == 4  # three "InProgress", then "Succeeded"


def test_every_request_uses_the_api_version_the_fake_serves(s, cloud):
    s.create_fleet(WEB)
    s.stop_instance(s.instances()["id"].iloc[0])
    from clusterdb_nb.testing.azure import API_VERSIONS

    assert cloud.calls
    for _, url in cloud.calls:
        kind = next((k for k in ("autoscalesettings", "Microsoft.Network") if k in url), "Microsoft.Compute")
        served = API_VERSIONS[{"autoscalesettings": "Microsoft.Insights/autoscalesettings"}.get(kind, kind)]
        assert f"api-version={served}" in url


def test_the_pinned_network_sdk_sends_the_api_version_the_fake_serves():
    from azure.mgmt.network.operations import _operations as ops

    from clusterdb_nb.testing.azure import API_VERSIONS

    sent = {
        ops.build_network_interfaces_list_request("rg", subscription_id="s").url,
        ops.build_network_interfaces_get_request("rg", "nic", subscription_id="s").url,
    }
    assert {u.split("api-version=")[1] for u in sent} == {API_VERSIONS["Microsoft.Network"]}


def test_the_pinned_sdk_sends_the_api_version_the_fake_serves():
    """Fails when an SDK upgrade changes the api-version: then the fake must be checked against it."""
    from azure.mgmt.compute.operations import _operations as ops

    from clusterdb_nb.testing.azure import API_VERSIONS

    sent = {
        ops.build_virtual_machines_list_request("rg", subscription_id="s").url,
        ops.build_virtual_machine_scale_sets_get_request("rg", "x", subscription_id="s").url,
        ops.build_usage_list_request("eastus", subscription_id="s").url,
    }
    assert {u.split("api-version=")[1] for u in sent} == {API_VERSIONS["Microsoft.Compute"]}


def test_the_fake_refuses_another_api_version(cloud, raw):
    from azure.core.exceptions import HttpResponseError

    with pytest.raises(HttpResponseError, match="InvalidApiVersionParameter"):
        raw.virtual_machine_scale_sets.get("clusterdb", "x", api_version="2019-01-01")


def test_listing_follows_next_links(s, cloud):
    cloud.set_quota("cores", 1000)
    s.create_fleet(WEB._replace(capacity=250, max_capacity=250))
    assert len(s.instances(fleet="web")) == 250


# -- status and quotas ------------------------------------------------------------------------------
def test_status_reports_the_subscription_and_vcpu_quotas(s, cloud):
    s.create_fleet(WEB)
    df = s.status()
    row = df[df["provider"] == "azure"].iloc[0]
    assert row["ok"] and row["account"] == cloud.subscription_id
    assert "regional vCPUs 6/100" in row["detail"] and "anonymous" in row["detail"]


def test_capabilities_show_azure_honestly(s):
    caps = provider(s).capabilities()
    assert caps[Feature.FLEETS] is None and caps[Feature.STOP_START] is None and caps[Feature.SPOT] is None
    assert "Application Insights" in caps[Feature.INVOCATION_HISTORY]


# -- errors ------------------------------------------------------------------------------------------
def test_quota_exhausted_is_a_quota_error_with_cause_and_solution(s, cloud):
    cloud.set_quota("cores", 4)
    with pytest.raises(QuotaExceededError, match="OperationNotAllowed") as err:
        s.create_fleet(WEB)  # 3 x 2 vCPUs
    assert "vCPU quota" in err.value.cause and "quota increase" in err.value.solution
    assert cloud.scale_sets == {}


def test_injected_quota_fault(s, cloud):
    cloud.inject("quota")
    with pytest.raises(QuotaExceededError):
        s.create_fleet(WEB)
    assert s.create_fleet(WEB).running == 3  # used up once


def test_allocation_failed_is_reported_from_the_operation(s, cloud):
    cloud.inject("allocation_failed")
    with pytest.raises(QuotaExceededError, match="AllocationFailed") as err:
        s.create_fleet(WEB)
    assert "another VM size or location" in err.value.solution
    assert cloud.vms == {}


def test_throttling_is_retried_by_azure_core_honouring_retry_after(s, cloud):
    cloud.inject("throttle", times=2)
    assert s.fleets().empty
    assert len(cloud.calls) == 2 + 2  # two 429s, then the listings of sets and autoscale settings (no set: no VMs)


def test_throttling_beyond_the_retries_is_a_provider_error(cloud):
    cloud.inject("throttle", times=50)
    with cdb.connect(azure=cloud.config(retry_total=1)) as s:
        with pytest.raises(ProviderError, match="throttled after azure-core's retries") as err:
            s.fleet("web")
    assert "retry_total" in err.value.solution


def test_server_errors_are_retried(s, cloud):
    cloud.inject("server_error")
    s.create_fleet(WEB)
    assert len(s.instances()) == 3


def test_missing_resource_group_says_how_to_create_it(cloud):
    with cdb.connect(azure=cloud.config(resource_group="other")) as s:
        with pytest.raises(ValidationError, match="resource_group: ResourceGroupNotFound") as err:
            s.fleet("web")
    assert "az group create" in err.value.solution and err.value.field == "resource_group"


@pytest.mark.parametrize(
    ("status", "code", "message", "error"),
    [
        (409, "QuotaExceeded", "Quota exceeded", QuotaExceededError),
        (409, "OperationNotAllowed", "results in exceeding approved Total Regional Cores quota", QuotaExceededError),
        (409, "OperationNotAllowed", "The VM is being deleted", ConflictError),
        (409, "SkuNotAvailable", "The requested size is not available in location eastus", QuotaExceededError),
        (409, "AllocationFailed", "Allocation failed", QuotaExceededError),
        (404, "ResourceGroupNotFound", "Resource group 'x' could not be found", ValidationError),
        (403, "AuthorizationFailed", "does not have authorization to perform action", AuthenticationError),
        (401, "InvalidAuthenticationToken", "The access token is invalid", AuthenticationError),
        (400, "InvalidParameter", "vmSize is invalid", ValidationError),
        (429, "TooManyRequests", "Too many requests", ProviderError),
    ],
)
def test_arm_error_codes_map_to_our_errors(status, code, message, error):
    url = "https://management.azure.com/subscriptions/s/resourceGroups/clusterdb/providers/Microsoft.Compute/virtualMachines/vm1"
    with offline.serving("azure"), responses.RequestsMock() as mock:
        mock.get(url, status=status, json={"error": {"code": code, "message": message}}, headers={"Retry-After": "0"})
        cfg = {"subscription_id": "s", "credentials": "anonymous", "retry_total": 0}
        with cdb.connect(azure=cfg) as s:
            with pytest.raises(error) as err:
                s.instance("vm1")
    assert code in str(err.value) and err.value.provider == "azure"


def test_cli_status_for_azure(cloud, tmp_path, monkeypatch):
    import yaml
    from click.testing import CliRunner

    from clusterdb_nb.cli import main

    path = tmp_path / "clusterdb.yaml"
    path.write_text(yaml.safe_dump({"compute": {"default_provider": "azure", "providers": {"azure": cloud.config()}}}))
    monkeypatch.setenv("CLUSTERDB_CONFIG", str(path))
    result = CliRunner().invoke(main, ["compute", "status", "--provider", "azure"])
    assert result.exit_code == 0, result.output
    assert "azure" in result.output and "regional vCPUs 0/100" in result.output


# -- autoscaling ----------------------------------------------------------------------------------
POLICY = cdb.AutoScalingConfig(min_capacity=2, max_capacity=6, target_cpu_utilization=60, cooldown_seconds=300)


def test_deployed_autoscale_rules_are_the_simulators_rules(s, cloud):
    from azure.mgmt.monitor import MonitorManagementClient

    from clusterdb_nb.autoscaling.engines.azure import AzureAutoscale
    from clusterdb_nb.autoscaling.options import AzureOptions
    from clusterdb_nb.providers.azure.autoscale import rules_of

    s.create_fleet(WEB)
    fleet = s.configure_auto_scaling("web", POLICY)
    assert fleet.auto_scaling == POLICY and (fleet.min_capacity, fleet.max_capacity) == (2, 6)
    monitor = MonitorManagementClient(AnonymousCredential(), cloud.subscription_id)
    deployed = monitor.autoscale_settings.get("clusterdb", "clusterdb-web-autoscale")
    simulated = AzureAutoscale(POLICY, AzureOptions())
    assert rules_of(deployed) == simulated.scale_out + simulated.scale_in
    capacity = deployed.profiles[0].capacity
    assert (capacity.minimum, capacity.maximum, capacity.default) == ("2", "6", "2")
    assert deployed.target_resource_uri.endswith("/virtualMachineScaleSets/clusterdb-web") and deployed.enabled


def test_autoscale_durations_are_iso_8601_on_the_wire(s, cloud):
    s.create_fleet(WEB)
    s.configure_auto_scaling("web", POLICY)
    rules = cloud.autoscale_settings["clusterdb-web-autoscale"]["properties"]["profiles"][0]["rules"]
    assert {r["scaleAction"]["cooldown"] for r in rules} == {"PT5M"}
    assert {(r["metricTrigger"]["timeGrain"], r["metricTrigger"]["timeWindow"]) for r in rules} == {("PT1M", "PT10M")}
    assert {r["metricTrigger"]["metricName"] for r in rules} == {"Percentage CPU"}


def test_configure_auto_scaling_brings_the_capacity_within_the_bounds(s):
    s.create_fleet(WEB._replace(capacity=1))
    assert s.configure_auto_scaling("web", POLICY).capacity == 2
    assert len(s.instances(fleet="web")) == 2


def test_scaling_activities_are_the_activity_logs_autoscale_events(s, cloud):
    s.create_fleet(WEB)
    s.configure_auto_scaling("web", POLICY)
    assert s.scaling_activities("web").empty
    cloud.set_load("clusterdb-web", 5.0)  # 5 instance-units on 3 VMs: CPU at 100 %
    cloud.advance("40min")
    df = s.scaling_activities("web")
    assert len(df) >= 2 and (df["to_capacity"] > df["from_capacity"]).all()
    assert df["from_capacity"].iloc[0] == 3 and df["to_capacity"].max() <= 6
    assert df["time"].is_monotonic_increasing and df["reason"].str.contains("GreaterThan 60%").all()
    assert s.fleet("web").capacity == df["to_capacity"].iloc[-1]


def test_dry_runs_name_the_azure_calls(s):
    s.create_fleet(WEB)
    plan = s.update_fleet_capacity("web", 5, dry_run=True)
    assert "virtual_machine_scale_sets.begin_update(name='clusterdb-web', capacity=5)" in str(plan)
    plan = s.configure_auto_scaling("web", POLICY, dry_run=True)
    assert "autoscale_settings.create_or_update(name='clusterdb-web-autoscale'" in str(plan)


# -- utilization and costs ------------------------------------------------------------------------
def test_utilization_is_percentage_cpu_from_azure_monitor_on_the_load_model(s, cloud):
    s.create_fleet(WEB)
    cloud.advance("1h")
    df = s.utilization("web", period="15min")
    assert len(df) == 4 and (df["running"] == 3).all() and (df["desired_capacity"] == 3).all()
    minutes = pd.date_range(df["time"].iloc[0], periods=15, freq="min")
    vmss_id = cloud.scale_sets["clusterdb-web"]["id"]
    expected = sum(cloud.cpu_series(vmss_id, minutes)) / 15
    assert df["cpu_percent"].iloc[0] == pytest.approx(expected, abs=1e-3)
    assert 0 < df["cpu_percent"].min() and df["cpu_percent"].max() <= 100


def test_utilization_by_instance_reads_each_vms_metric(s, cloud):
    s.create_fleet(WEB)
    cloud.advance("1h")
    df = s.utilization("web", period="30min", by="instance")
    assert sorted(set(df["instance_id"])) == sorted(s.instances(fleet="web")["id"])
    assert len(df) == 3 * 2
    metric_calls = [u for _, u in cloud.calls if "Microsoft.Insights/metrics" in u]
    assert all("metricnames=Percentage+CPU" in u or "metricnames=Percentage%20CPU" in u for u in metric_calls)


def test_utilization_period_must_be_an_azure_monitor_time_grain(s):
    s.create_fleet(WEB)
    with pytest.raises(ValidationError, match="Azure Monitor aggregates over") as err:
        s.utilization("web", period="10min")
    assert err.value.field == "period"


def test_costs_are_billed_by_cost_management_per_vm(s, cloud):
    s.create_fleet(WEB)
    cloud.advance("2h")
    df = provider_costs(s)
    assert set(df["source"]) == {"billing"} and set(df["fleet"]) == {"web"} and len(df) == 3
    assert df["running_seconds"].tolist() == [7200.0] * 3
    assert df["cost_usd"].sum() == pytest.approx(3 * 2 * 0.0416)


def test_costs_fall_back_to_the_catalog_estimate_without_cost_management_access(s, cloud):
    s.create_fleet(WEB)
    cloud.advance("2h")
    cloud.billing = False  # the fake answers AuthorizationFailed to the query
    df = provider_costs(s)
    assert set(df["source"]) == {"estimate"} and len(df) == 3
    assert df["cost_usd"].sum() == pytest.approx(3 * 2 * 0.0416)


def test_deleted_vms_stay_on_the_bill(s, cloud):
    s.create_fleet(WEB)
    cloud.advance("1h")
    s.terminate_instance(s.instances(fleet="web")["id"].iloc[0])
    cloud.advance("1h")
    df = provider_costs(s)
    assert len(df) == 3 and sorted(df["running_seconds"])[0] == pytest.approx(3600.0, abs=60)


def provider_costs(s: cdb.ComputeSession) -> pd.DataFrame:
    return s._run(provider(s).costs(None, None))


# -- SSH key, private IPs ---------------------------------------------------------------------------
def test_fleet_vms_allow_ssh_with_the_configured_key_for_the_admin(s, cloud, raw):
    s.create_fleet(WEB)
    linux = raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-web").virtual_machine_profile.os_profile
    assert linux.admin_username == "azureuser"
    assert linux.linux_configuration.disable_password_authentication is True
    [key] = linux.linux_configuration.ssh.public_keys
    assert (key.path, key.key_data) == ("/home/azureuser/.ssh/authorized_keys", cloud.config()["ssh_public_key"])


def test_another_admin_username_gets_its_own_authorized_keys_path(cloud, raw):
    with cdb.connect(azure=cloud.config(admin_username="ops")) as s:
        s.create_fleet(WEB)
    profile = raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-web").virtual_machine_profile.os_profile
    assert profile.admin_username == "ops"
    assert profile.linux_configuration.ssh.public_keys[0].path == "/home/ops/.ssh/authorized_keys"


def test_without_an_ssh_key_create_fleet_names_the_field_before_any_call(cloud):
    with cdb.connect(azure=cloud.config(ssh_public_key=None)) as s:
        with pytest.raises(ValidationError, match="ssh_public_key") as err:
            s.create_fleet(WEB)
        assert s.fleets().empty  # other calls work without a key
    assert err.value.field == "ssh_public_key" and "ssh-keygen" in err.value.solution
    assert not [url for method, url in cloud.calls if method == "PUT"]


def test_the_fake_refuses_a_password_less_linux_set_without_a_key_as_arm_does(cloud, raw):
    from azure.core.exceptions import HttpResponseError

    body = _body(cloud)
    del body["properties"]["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]["ssh"]
    with pytest.raises(HttpResponseError) as err:
        raw.virtual_machine_scale_sets.begin_create_or_update("clusterdb", "clusterdb-web", body).result()
    assert err.value.status_code == 400 and err.value.error.code == "InvalidParameter"
    assert err.value.error.message == (
        "Authentication using either SSH or by user name and password must be enabled in Linux profile."
    )
    assert err.value.error.target == "linuxConfiguration"
    assert cloud.scale_sets == {}


def test_the_fake_refuses_a_key_outside_the_admins_authorized_keys(cloud, raw):
    from azure.core.exceptions import HttpResponseError

    body = _body(cloud)
    body["properties"]["virtualMachineProfile"]["osProfile"]["linuxConfiguration"]["ssh"]["publicKeys"][0]["path"] = "/root/k"
    with pytest.raises(HttpResponseError, match="limited to its default value /home/azureuser/.ssh/authorized_keys"):
        raw.virtual_machine_scale_sets.begin_create_or_update("clusterdb", "clusterdb-web", body).result()


def test_instances_show_the_private_ips_of_their_network_interfaces(s, cloud):
    from azure.mgmt.network import NetworkManagementClient

    s.create_fleet(WEB)
    df = s.instances()
    assert df["private_ip"].notna().all() and df["private_ip"].is_unique
    network = NetworkManagementClient(AnonymousCredential(), cloud.subscription_id)
    by_vm = {
        nic.virtual_machine.id.rsplit("/", 1)[-1]: nic.ip_configurations[0].private_ip_address
        for nic in network.network_interfaces.list("clusterdb")
    }
    assert dict(zip(df["id"], df["private_ip"])) == by_vm
    one = df["id"].iloc[0]
    assert s.instance(one).private_ip == by_vm[one]


def test_a_deleted_vm_takes_its_network_interface_with_it(s, cloud, raw):
    s.create_fleet(WEB)
    gone = s.instances()["id"].iloc[0]
    s.terminate_instance(gone)
    assert len(cloud.nics) == 2 and not [n for n in cloud.nics if n.startswith(gone.lower())]
    nic_config = raw.virtual_machine_scale_sets.get("clusterdb", "clusterdb-web").virtual_machine_profile.network_profile
    assert nic_config.network_interface_configurations[0].delete_option == "Delete"


def test_private_ips_come_from_the_primary_nics_primary_ip_configuration():
    from clusterdb_nb.providers.azure.instances import private_ips

    def nic(vm, primary, *ips):
        configs = [{"properties": {"privateIPAddress": ip, "primary": i == 0}} for i, ip in enumerate(ips)]
        return {"properties": {"primary": primary, "virtualMachine": {"id": vm}, "ipConfigurations": configs}}

    found = private_ips(
        [nic("/x/VM1", False, "10.1.0.9"), nic("/x/vm1", True, "10.0.0.4", "10.0.0.5"), {"properties": {"ipConfigurations": []}}]
    )
    assert found == {"/x/vm1": "10.0.0.4"}


def test_fleets_count_running_vms_from_their_listing_not_the_sets_instance_view(s, cloud):
    s.create_fleet(WEB)
    s.stop_instance(s.instances()["id"].iloc[0])
    cloud.calls.clear()
    assert s.fleet("web").running == 2 and s.fleets()["running"].tolist() == [2]
    assert not [url for _, url in cloud.calls if "/instanceView" in url.split("?")[0]]
    listings = [url for _, url in cloud.calls if "/virtualMachines?" in url]
    assert listings and all("%24filter=" in url or "$filter=" in url for url in listings)


def test_each_scale_action_is_one_activity_though_logged_started_then_succeeded(s, cloud):
    """The activity log schema: events of one operation share its operationId; only "Succeeded" is the activity."""
    s.create_fleet(WEB)
    s.configure_auto_scaling("web", POLICY)
    cloud.set_load("clusterdb-web", 5.0)
    cloud.advance("40min")
    df = s.scaling_activities("web")  # the fake catches up with its clock on the next request
    by_operation: dict[str, list[str]] = {}
    for e in cloud.events:
        by_operation.setdefault(e["operationId"], []).append(e["status"]["value"])
    assert by_operation and set(map(tuple, by_operation.values())) == {("Started", "Succeeded")}
    assert len(df) == len(by_operation)
    assert list(zip(df["from_capacity"], df["to_capacity"])) == [
        (int(e["properties"]["OldInstancesCount"]), int(e["properties"]["NewInstancesCount"]))
        for e in cloud.events
        if e["status"]["value"] == "Succeeded"
    ]


# -- costs: the columns Cost Management returns -------------------------------------------------------
def test_billed_rows_carry_each_vms_size_priority_and_fleet(s, cloud):
    s.create_fleet(WEB._replace(name="cheap", spot=True, instance_type="Standard_D2s_v5"))
    s.create_fleet(WEB._replace(capacity=2))
    cloud.advance("1h")
    gone = s.instances(fleet="cheap")["id"].iloc[0]
    s.terminate_instance(gone)
    df = provider_costs(s).set_index("resource")
    assert set(df["source"]) == {"billing"} and len(df) == 5
    assert set(df.index) == set(s.instances()["id"]) | {gone}  # VM names as ARM spells them
    cheap = df[df["fleet"] == "cheap"]
    assert set(cheap["instance_type"]) == {"Standard_D2s_v5"} and cheap["spot"].all() and len(cheap) == 3
    web = df[df["fleet"] == "web"]
    assert set(web["instance_type"]) == {"Standard_B2s"} and not web["spot"].any()
    assert df.loc[gone, "instance_type"] == "Standard_D2s_v5" and df.loc[gone, "spot"]  # from its scale set


def test_the_cost_query_groups_by_resource_id_and_the_fleet_tag_within_azures_limit_of_two(s, cloud):
    from clusterdb_nb.providers.azure.costs import query

    body = query(pd.Timestamp("2026-01-05", tz="UTC"), pd.Timestamp("2026-01-06", tz="UTC"))
    assert body["dataset"]["grouping"] == [
        {"type": "Dimension", "name": "ResourceId"},
        {"type": "TagKey", "name": "clusterdb:fleet"},
    ]
    url = (
        f"https://management.azure.com/subscriptions/{cloud.subscription_id}/resourceGroups/clusterdb/providers"
        f"/Microsoft.CostManagement/query?api-version=2025-03-01"
    )
    import requests

    three = {
        **body,
        "dataset": {**body["dataset"], "grouping": [*body["dataset"]["grouping"], {"type": "Dimension", "name": "Meter"}]},
    }
    assert requests.post(url, json=three, timeout=5).status_code == 400
    columns = [c["name"] for c in requests.post(url, json=body, timeout=5).json()["properties"]["columns"]]
    assert columns == ["Cost", "UsageQuantity", "ResourceId", "TagKey", "TagValue", "Currency"]


def test_cost_query_pages_are_all_read(s, cloud):
    s.create_fleet(WEB)
    cloud.advance("1h")
    cloud.cost_page = 2
    df = provider_costs(s)
    assert set(df["source"]) == {"billing"} and len(df) == 3
    assert len([url for method, url in cloud.calls if method == "POST" and "CostManagement" in url]) == 2


def test_billing_rows_map_the_tag_value_and_either_cost_column():
    from clusterdb_nb.providers.azure.costs import billing_frame

    rg = "/subscriptions/s/resourcegroups/clusterdb/providers/microsoft.compute/virtualmachines"
    rows = [  # as Cost Management answers: lower-case ids, a tag grouping's TagKey/TagValue, MeterSubCategory unread
        {"PreTaxCost": 0.5, "UsageQuantity": 2.0, "ResourceId": f"{rg}/jumpbox", "TagKey": "clusterdb:fleet", "TagValue": "ops"},
        {"PreTaxCost": 0.25, "UsageQuantity": 1.0, "ResourceId": f"{rg}/clusterdb-web_00000001", "TagKey": "", "TagValue": ""},
    ]
    web_set = {"tags": {"clusterdb:fleet": "web"}, "sku": {"name": "Standard_B2s"}, "properties": {}}
    df = billing_frame(rows, "azure", "eastus", vms=[], sets=[web_set])
    assert df["fleet"].tolist() == ["ops", "web"] and df["resource"].tolist() == ["jumpbox", "clusterdb-web_00000001"]
    assert df["instance_type"].tolist() == ["", "Standard_B2s"] and df["cost_usd"].tolist() == [0.5, 0.25]
    assert df["running_seconds"].tolist() == [7200.0, 3600.0]
