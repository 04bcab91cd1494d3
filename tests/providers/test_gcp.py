"""The Google Cloud provider against ``fake_gcp()``: Google's own REST clients, every body schema-checked.

Each test cross-checks with google-cloud-compute clients of its own (``raw``) what the adapter
really did, not only what it returned.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

import clusterdb_nb as cdb
from clusterdb_nb.config import GcpConfig
from clusterdb_nb.models import InstanceState
from clusterdb_nb.providers import registry
from clusterdb_nb.providers.gcp import GcpProvider
from clusterdb_nb.providers.gcp.errors import translate
from clusterdb_nb.providers.gcp.instances import STATES
from clusterdb_nb.testing.gcp import FakeGcp, fake_gcp

SECTION = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01, "retry_initial_seconds": 0.01}
WEB = cdb.FleetConfig("web", "Web fleet", capacity=2, instance_type="e2-medium", tags={"team": "ml", "Cost Center": "42"})


@pytest.fixture
def cloud() -> Iterator[FakeGcp]:
    with fake_gcp(validate=True) as fake:
        yield fake
    assert fake.schema_errors == []  # every request and response fitted compute.v1's discovery schemas


@pytest.fixture
def s(cloud: FakeGcp) -> Iterator[cdb.ComputeSession]:
    with cdb.connect(gcp=SECTION) as session:
        yield session


@pytest.fixture
def raw(cloud: FakeGcp) -> SimpleNamespace:
    creds = AnonymousCredentials()
    return SimpleNamespace(
        groups=compute_v1.RegionInstanceGroupManagersClient(credentials=creds, transport="rest"),
        templates=compute_v1.InstanceTemplatesClient(credentials=creds, transport="rest"),
        instances=compute_v1.InstancesClient(credentials=creds, transport="rest"),
    )


def all_instances(raw: SimpleNamespace) -> dict[str, Any]:
    return {i.name: i for _, scoped in raw.instances.aggregated_list(project="demo") for i in scoped.instances}


# -- config and registry ---------------------------------------------------------------------
def test_gcp_is_a_builtin_provider_with_google_defaults(s):
    assert registry.provider_class("gcp") is GcpProvider
    assert GcpConfig(project_id="p").rules.default_instance_type == "e2-medium"
    fleet = s.create_fleet(cdb.FleetConfig("api", capacity=1, provider="gcp"))
    assert fleet.instance_type == "e2-medium"


def test_anonymous_credentials_are_refused_outside_the_fake():
    with cdb.connect(gcp=SECTION) as s, pytest.raises(cdb.ValidationError, match="anonymous") as err:
        s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))  # no fake serving: the real endpoints
    assert "fake_gcp" in str(err.value)


def test_config_takes_zones_and_poll_settings():
    cfg = GcpConfig(project_id="p", zones=["us-central1-a"], poll_seconds=2, retry_deadline_seconds=30)
    assert cfg.zones == ["us-central1-a"] and cfg.poll_seconds == 2.0
    with pytest.raises(cdb.ValidationError):
        cdb.connect(gcp={"project_id": "p", "credentials": "someone"})


# -- status ------------------------------------------------------------------------------------
def test_status_reports_project_and_region_quotas(s, cloud):
    cloud.set_quota("CPUS", 8)
    st = s.status()
    row = st[st["provider"] == "gcp"].iloc[0] if hasattr(st, "iloc") else st
    assert "CPUS quota 0/8" in str(row["detail"])


# -- fleets ------------------------------------------------------------------------------------
def test_create_fleet_makes_a_template_and_a_regional_group(s, raw):
    fleet = s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    assert (fleet.name, fleet.capacity, fleet.instance_type) == ("web", 2, "e2-medium")
    assert fleet.tags == {"team": "ml", "Cost Center": "42"}
    group = raw.groups.get(project="demo", region="us-central1", instance_group_manager="clusterdb-web")
    assert group.target_size == 2 and group.instance_template.endswith("/instanceTemplates/clusterdb-web")
    assert group.update_policy.type_ == "OPPORTUNISTIC"
    props = raw.templates.get(project="demo", instance_template="clusterdb-web").properties
    assert dict(props.labels) == {"team": "ml", "clusterdb-fleet": "web"}  # "Cost Center" breaks GCE label rules
    meta = {i.key: i.value for i in props.metadata.items}
    assert meta["clusterdb-tags"] == '{"Cost Center": "42"}'
    assert props.disks[0].initialize_params.source_image.endswith("family/debian-12")


def test_spot_fleet_uses_the_spot_provisioning_model(s, raw):
    s.create_fleet(cdb.FleetConfig("cheap", capacity=1, instance_type="e2-medium", spot=True, provider="gcp"))
    props = raw.templates.get(project="demo", instance_template="clusterdb-cheap").properties
    assert props.scheduling.provisioning_model == "SPOT"
    assert props.scheduling.instance_termination_action == "DELETE"


def test_creating_a_fleet_twice_is_a_conflict(s):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    with pytest.raises(cdb.ConflictError, match="already exists"):
        s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))


def test_capacity_resizes_the_group(s, raw, cloud):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp", "max_capacity": 5}))
    fleet = s.update_fleet_capacity("web", 4)
    assert fleet.capacity == 4
    assert raw.groups.get(project="demo", region="us-central1", instance_group_manager="clusterdb-web").target_size == 4
    assert len(all_instances(raw)) == 4


def test_delete_fleet_removes_group_template_and_instances(s, raw):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    s.delete_fleet("web")
    with pytest.raises(gexc.NotFound):
        raw.templates.get(project="demo", instance_template="clusterdb-web")
    assert all_instances(raw) == {} and s.fleets().empty


def test_operations_are_polled_until_done(cloud):
    cloud.polls = 3
    with cdb.connect(gcp=SECTION) as s:
        s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    gets = [u for m, u in cloud.calls if m == "GET" and "/operations/" in u]
    assert len(gets) >= 2 * 3  # the template's and the group's operation, each read until DONE


# -- instances ---------------------------------------------------------------------------------
def test_instances_boot_on_the_fakes_clock(s, cloud):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    assert set(s.instances(fleet="web")["state"]) == {"pending"}
    cloud.advance("1min")
    df = s.instances(fleet="web")
    assert list(df["state"]) == ["running", "running"] and df["private_ip"].notna().all()
    assert (df["hourly_cost_usd"] > 0).all()


def test_stop_and_start_go_through_the_group(s, cloud, raw):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    cloud.advance("1min")
    iid = s.instances(fleet="web")["id"][0]
    assert s.stop_instance(iid).state == InstanceState.STOPPING
    cloud.advance("1min")
    assert s.instances(fleet="web").set_index("id").loc[iid, "state"] == "stopped"  # GCE TERMINATED = stopped
    group = raw.groups.get(project="demo", region="us-central1", instance_group_manager="clusterdb-web")
    assert group.target_stopped_size == 1 and group.target_size == 2  # the group keeps, not recreates, it
    assert s.start_instance(iid).state == InstanceState.PENDING
    cloud.advance("1min")
    assert s.instance(iid).state == InstanceState.RUNNING


def test_terminate_deletes_through_the_group_and_lowers_its_size(s, cloud, raw):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    iid = s.instances(fleet="web")["id"][0]
    assert s.terminate_instance(iid).state == InstanceState.TERMINATED
    assert iid not in all_instances(raw)
    assert raw.groups.get(project="demo", region="us-central1", instance_group_manager="clusterdb-web").target_size == 1
    with pytest.raises(cdb.NotFoundError):
        s.instance(iid)


@pytest.mark.parametrize(
    ("gce", "ours"),
    [
        ("PROVISIONING", "pending"),
        ("STAGING", "pending"),
        ("REPAIRING", "pending"),
        ("RUNNING", "running"),
        ("STOPPING", "stopping"),
        ("SUSPENDING", "stopping"),
        ("SUSPENDED", "stopped"),
        ("TERMINATED", "stopped"),
    ],
)
def test_state_mapping(s, cloud, gce, ours):
    s.create_fleet(cdb.FleetConfig("one", capacity=1, instance_type="e2-medium", provider="gcp"))
    (inst,) = cloud.instances.values()
    inst["status"] = gce
    inst["_since"] = cloud.now + __import__("pandas").Timedelta("1h")  # hold the state on the fake's clock
    assert s.instances(fleet="one")["state"].tolist() == [ours]
    assert s.instance(inst["name"]).state.value == ours
    assert set(STATES) >= {gce}


# -- errors ------------------------------------------------------------------------------------
def test_quota_exceeded_in_the_operation_is_a_quota_error(s, cloud):
    cloud.set_quota("CPUS", 2)
    with pytest.raises(cdb.QuotaExceededError, match="QUOTA_EXCEEDED") as err:
        s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    assert "quota" in err.value.solution.lower()
    assert cloud.groups == {} and cloud.templates == {}  # nothing left half-made


def test_stockout_is_a_capacity_error_that_suggests_another_zone(s, cloud):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp", "max_capacity": 5}))
    cloud.inject("stockout")
    with pytest.raises(cdb.QuotaExceededError, match="ZONE_RESOURCE_POOL_EXHAUSTED") as err:
        s.update_fleet_capacity("web", 3)
    assert "another zone or machine type" in err.value.solution


@pytest.mark.parametrize("fault", ["throttle", "server_error"])
def test_throttling_and_server_errors_are_retried(s, cloud, fault):
    cloud.inject(fault, times=2)
    assert s.fleets().empty
    assert len([c for c in cloud.calls if "instanceGroupManagers" in c[1]]) == 3


def test_throttling_past_the_deadline_is_an_error(cloud):
    cloud.inject("throttle", times=1000)
    with cdb.connect(gcp={**SECTION, "retry_deadline_seconds": 0.2}) as s, pytest.raises(cdb.ProviderError) as err:
        s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    assert "rate-limited" in str(err.value) and "retry_deadline_seconds" in err.value.solution


@pytest.mark.parametrize(
    ("exc", "error", "words"),
    [
        (gexc.Forbidden("Quota 'CPUS' exceeded", errors=[{"reason": "QUOTA_EXCEEDED"}]), cdb.QuotaExceededError, "quota"),
        (gexc.ServiceUnavailable("no room", errors=[{"reason": "ZONE_RESOURCE_POOL_EXHAUSTED"}]), cdb.QuotaExceededError, "zone"),
        (gexc.Conflict("exists", errors=[{"reason": "RESOURCE_ALREADY_EXISTS"}]), cdb.ConflictError, ""),
        (gexc.TooManyRequests("slow down", errors=[{"reason": "rateLimitExceeded"}]), cdb.ProviderError, "retry"),
        (gexc.NotFound("gone", errors=[{"reason": "notFound"}]), cdb.NotFoundError, ""),
        (gexc.Forbidden("no", errors=[{"reason": "forbidden"}]), cdb.AuthenticationError, "iam"),
        (gexc.BadRequest("bad", errors=[{"reason": "invalid"}]), cdb.ValidationError, "correct"),
    ],
)
def test_error_mapping(exc, error, words):
    err = translate(exc, "gcp", "create_fleet")
    assert isinstance(err, error)
    assert words in f"{err.cause} {err.solution}".lower()


def test_update_fleet_rolls_a_new_template_opportunistically(s, cloud, raw):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp", "max_capacity": 5}))
    cloud.advance("1min")
    before = set(all_instances(raw))
    fleet = s.update_fleet(cdb.FleetConfig("web", instance_type="e2-standard-2", capacity=3, provider="gcp"))
    assert (fleet.instance_type, fleet.capacity, fleet.max_capacity) == ("e2-standard-2", 3, 5)
    assert fleet.tags == WEB.tags  # unset fields keep their value
    group = raw.groups.get(project="demo", region="us-central1", instance_group_manager="clusterdb-web")
    new = group.instance_template.rsplit("/", 1)[-1]
    assert new.startswith("clusterdb-web-") and group.versions[0].instance_template.endswith(new)
    assert list(cloud.templates) == [new]  # the old template is deleted once unused
    assert before <= set(all_instances(raw))  # running VMs are kept; the new one uses the new template
    s.delete_fleet("web")
    assert cloud.templates == {}


# -- autoscaling, utilization, costs -----------------------------------------------------------
POLICY = cdb.AutoScalingConfig(min_capacity=1, max_capacity=6, target_cpu_utilization=60, cooldown_seconds=120)


def test_configure_auto_scaling_creates_then_updates_a_regional_autoscaler(s, cloud):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp", "max_capacity": 5}))
    fleet = s.configure_auto_scaling("web", POLICY)
    assert fleet.auto_scaling == POLICY and (fleet.min_capacity, fleet.max_capacity) == (1, 6)
    scaler = cloud.autoscalers["clusterdb-web"]
    assert scaler["autoscalingPolicy"]["cpuUtilization"] == {"utilizationTarget": 0.6}
    assert scaler["autoscalingPolicy"]["coolDownPeriodSec"] == 120
    fleet = s.configure_auto_scaling("web", POLICY.model_copy(update={"max_capacity": 8}))
    assert fleet.max_capacity == 8 and list(cloud.autoscalers) == ["clusterdb-web"]
    s.delete_fleet("web")  # the autoscaler goes first, else the group cannot be deleted
    assert cloud.autoscalers == {} and cloud.groups == {}


def test_the_fakes_autoscaler_follows_the_load_and_shows_in_scaling_activities(s, cloud):
    cloud.base_units = 3.0  # demand of about 3 busy VMs: with a 60 % target the group needs about 5
    s.create_fleet(cdb.FleetConfig("web", capacity=1, max_capacity=6, instance_type="e2-medium", provider="gcp"))
    s.configure_auto_scaling("web", POLICY)
    for _ in range(10):
        cloud.advance("5min")
        s.fleets()
    acts = s.scaling_activities("web")
    assert len(acts) >= 1 and acts["to_capacity"].iloc[0] > acts["from_capacity"].iloc[0] == 1
    assert acts["reason"].str.contains("target 60% CPU").all()
    assert s.fleet("web").capacity == acts["to_capacity"].iloc[-1]


def test_utilization_comes_from_cloud_monitoring(s, cloud):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    cloud.advance("1h")
    df = s.utilization("web", period="5min")
    assert len(df) >= 11 and df["cpu_percent"].between(0, 100).all() and (df["running"] == 2).all()
    per = s.utilization("web", period="5min", by="instance")
    assert per["instance_id"].nunique() == 2
    with pytest.raises(cdb.ValidationError, match="whole minutes"):
        s.utilization("web", period="30s")
    assert any("monitoring.googleapis.com" in url for _, url in cloud.calls)


def test_costs_are_the_catalog_estimate(s, cloud):
    s.create_fleet(WEB.model_copy(update={"provider": "gcp"}))
    cloud.advance("1min")
    end = cloud.now + __import__("pandas").Timedelta("2h")
    df = s.costs(start=cloud.now, end=end)
    assert set(df["source"]) == {"estimate"} and df["resources"].tolist() == [2] and df["running_hours"].tolist() == [4.0]
    price = s.hourly_price("e2-medium", provider="gcp")
    assert df["cost_usd"].sum() == pytest.approx(2 * 2 * price, rel=1e-6)


def test_capabilities_show_gcps_row_with_reasons(s):
    caps = s.capabilities()["gcp"]
    assert caps["fleets"] == caps["autoscaling"] == caps["utilization"] == caps["estimated costs"] == "✓"
    assert "BigQuery export" in caps["billed costs"] and "Cloud Logging" in caps["invocation history"]


def test_resizes_before_the_autoscaler_are_not_its_doing(s, cloud):
    s.create_fleet(cdb.FleetConfig("web", capacity=1, max_capacity=6, instance_type="e2-medium", provider="gcp"))
    cloud.advance("1min")
    s.update_fleet_capacity("web", 2)
    cloud.advance("1min")
    s.configure_auto_scaling("web", POLICY)
    acts = s.scaling_activities("web")
    assert acts[["from_capacity", "to_capacity", "reason"]].iloc[0].tolist() == [1, 2, "resize"]


def test_dry_runs_name_the_google_calls_and_change_nothing(s, cloud):
    plan = s.create_fleet(WEB.model_copy(update={"provider": "gcp"}), dry_run=True)
    text = str(plan)
    assert "instanceTemplates.insert" in text and "regionInstanceGroupManagers.insert" in text
    assert cloud.groups == {} and cloud.templates == {}
    s.create_fleet(WEB.model_copy(update={"provider": "gcp", "max_capacity": 5}))
    assert "regionInstanceGroupManagers.resize" in str(s.update_fleet_capacity("web", 4, dry_run=True))
    assert cloud.groups["clusterdb-web"]["targetSize"] == 2
