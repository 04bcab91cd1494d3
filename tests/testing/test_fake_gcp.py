"""``fake_gcp()`` on its own: Google's own clients against it, its clock, faults, quotas and schema checks."""

from __future__ import annotations

import pytest
from google.api_core import exceptions as gexc
from google.auth.credentials import AnonymousCredentials
from google.cloud import compute_v1

import clusterdb_nb as cdb
from clusterdb_nb.providers.kit import offline
from clusterdb_nb.testing import FakeCloud, FakeGcp, fake_gcp
from clusterdb_nb.testing.discovery import Discovery

CREDS = AnonymousCredentials()
SECTION = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01, "retry_initial_seconds": 0.01}


def test_it_is_a_fake_cloud_with_gcps_faults():
    assert issubclass(FakeGcp, FakeCloud)
    with fake_gcp() as cloud:
        with pytest.raises(cdb.ValidationError, match="quota, server_error, stockout, throttle"):
            cloud.inject("meteor")
        assert offline.active("gcp") and not offline.active("azure")
    assert not offline.active("gcp")


def test_reads_answer_googles_own_clients(tmp_path):
    with fake_gcp(validate=True) as cloud, cdb.connect(gcp=SECTION) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=3, instance_type="e2-medium", provider="gcp"))
        groups = compute_v1.RegionInstanceGroupManagersClient(credentials=CREDS, transport="rest")
        managed = list(
            groups.list_managed_instances(project="demo", region="us-central1", instance_group_manager="clusterdb-web")
        )
        assert [m.current_action for m in managed] == ["CREATING"] * 3
        cloud.advance("1min")
        managed = list(
            groups.list_managed_instances(project="demo", region="us-central1", instance_group_manager="clusterdb-web")
        )
        assert {m.instance_status for m in managed} == {"RUNNING"}
        zones = {z.name for z in compute_v1.ZonesClient(credentials=CREDS, transport="rest").list(project="demo")}
        assert zones == set(cloud.zones)
        region = compute_v1.RegionsClient(credentials=CREDS, transport="rest").get(project="demo", region="us-central1")
        assert {q.metric: q.usage for q in region.quotas}["CPUS"] == 6.0  # 3 x e2-medium
    assert cloud.schema_errors == []


def test_a_low_quota_fails_the_operation_as_compute_engine_does():
    with fake_gcp() as cloud:
        cloud.set_quota("CPUS", 1)
        with cdb.connect(gcp=SECTION) as s, pytest.raises(cdb.QuotaExceededError, match="Quota 'CPUS' exceeded"):
            s.create_fleet(cdb.FleetConfig("web", capacity=1, instance_type="e2-medium", provider="gcp"))


def test_a_not_found_answer_is_googles_not_found():
    with fake_gcp():
        client = compute_v1.InstanceTemplatesClient(credentials=CREDS, transport="rest")
        with pytest.raises(gexc.NotFound):
            client.get(project="demo", instance_template="nope")


def test_latency_is_slept_per_call():
    with fake_gcp(latency=0.05) as cloud:
        client = compute_v1.ZonesClient(credentials=CREDS, transport="rest")
        import time

        t0 = time.perf_counter()
        list(client.list(project="demo"))
        assert time.perf_counter() - t0 >= 0.05 and len(cloud.calls) == 1


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"name": "t", "colour": "red"}, "InstanceTemplate.colour: unknown field"),
        ({"name": 3}, "InstanceTemplate.name: expected string"),
        ({"name": "t", "properties": {"disks": {"boot": True}}}, "InstanceTemplate.properties.disks: expected array"),
    ],
)
def test_schema_validation_finds_what_compute_v1_would_refuse(body, problem):
    api = Discovery.load("compute.v1")
    url = "https://compute.googleapis.com/compute/v1/projects/p/global/instanceTemplates"
    assert any(p.startswith(problem) for p in api.check("POST", url, body, "request"))
    assert api.check("POST", url, {"name": "t", "properties": {"machineType": "e2-medium"}}, "request") == []


def test_the_fake_records_a_request_that_breaks_the_schema():
    with fake_gcp(validate=True) as cloud:
        import requests

        requests.post(
            "https://compute.googleapis.com/compute/v1/projects/demo/global/instanceTemplates",
            json={"name": "t", "properties": {"machineType": "e2-medium"}, "surprise": 1},
        )
    assert cloud.schema_errors == ["InstanceTemplate.surprise: unknown field"]
