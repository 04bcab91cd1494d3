"""Capabilities as data: the table a user reads, declared reasons, request-dependent ones, checked before any call."""

import asyncio
from datetime import datetime, timezone

import pytest
from fakes import FakeCloud

import clusterdb_nb as cdb
from clusterdb_nb.config import LocalConfig, load_config
from clusterdb_nb.providers.capabilities import SUPPORTED, Feature
from clusterdb_nb.providers.local import LocalProvider

pytest_plugins = ["aws_moto"]

LOCAL = {"clock": "virtual", "path": ":memory:"}
ESTIMATE = "not needed: the local cloud bills every running second from its own ledger"
SPOT_STOP = (
    "spot instances of an Auto Scaling group cannot be stopped or started: the group launches them "
    "from one-time Spot requests, and EC2 stops only instances of persistent Spot requests; terminate it instead"
)


def test_capabilities_table_for_local_and_aws_cell_by_cell(aws_env):
    with cdb.connect({"compute": {"default_provider": "local", "providers": {"local": LOCAL, "aws": {}}}}) as s:
        table = s.capabilities()
    assert table.index.name == "feature"
    assert list(table.columns) == ["aws", "local"]
    assert table.to_dict() == {
        "local": {
            "fleets": SUPPORTED,
            "instances": SUPPORTED,
            "stop/start": SUPPORTED,
            "standalone instances": SUPPORTED,
            "spot": SUPPORTED,
            "functions": SUPPORTED,
            "invoke": SUPPORTED,
            "invocation history": SUPPORTED,
            "autoscaling": SUPPORTED,
            "scaling activities": SUPPORTED,
            "utilization": SUPPORTED,
            "billed costs": SUPPORTED,
            "estimated costs": ESTIMATE,
            "quotas": "the local cloud has no quotas, only its largest fleet size (10,000 instances)",
            "network diagnosis": SUPPORTED,
            "schedules": SUPPORTED,
        },
        "aws": {
            "fleets": SUPPORTED,
            "instances": SUPPORTED,
            "stop/start": SUPPORTED,
            "standalone instances": SUPPORTED,
            "spot": SUPPORTED,
            "functions": SUPPORTED,
            "invoke": SUPPORTED,
            "invocation history": "Lambda keeps no list of past invocations (they are in CloudWatch Logs)",
            "autoscaling": SUPPORTED,
            "scaling activities": "the AWS adapter does not read the group's DescribeScalingActivities yet",
            "utilization": SUPPORTED,
            "billed costs": SUPPORTED,
            "estimated costs": SUPPORTED,
            "quotas": SUPPORTED,
            "network diagnosis": SUPPORTED,
            "schedules": SUPPORTED,
        },
    }
    assert list(table.index) == [f.value for f in Feature]


def spot_instance(spot, fleet="web"):
    return cdb.Instance(
        id="i-1",
        provider="aws",
        region="us-east-1",
        instance_type="t3.micro",
        state=cdb.InstanceState.RUNNING,
        fleet=fleet,
        spot=spot,
        launched_at=datetime(2026, 1, 1, tzinfo=timezone.utc),
    )


def test_aws_stop_depends_on_the_instance(aws):
    p = aws.manager.providers["aws"]
    assert p.supports(Feature.STOP_START)
    assert p.supports(Feature.STOP_START, spot_instance(spot=False))
    assert p.supports(Feature.STOP_START, spot_instance(spot=True, fleet=None))  # a lone persistent request may stop
    assert p.capabilities(spot_instance(spot=True))[Feature.STOP_START] == SPOT_STOP
    with pytest.raises(cdb.NotSupportedError, match="aws does not support stop_instance: spot instances") as err:
        p.require(Feature.STOP_START, "stop_instance", spot_instance(spot=True))
    assert (err.value.provider, err.value.operation, err.value.cause) == ("aws", "stop_instance", SPOT_STOP)


class Recorder(FakeCloud):
    """Records every call; stop/start and spot are refused for spot instances, functions declared unsupported."""

    kind = "recorder"

    def not_supported(self, request=None):
        out = {Feature.FUNCTIONS: "the recorder runs no code"}
        if isinstance(request, (cdb.Instance, cdb.FleetConfig)) and request.spot:
            out[Feature.STOP_START] = "spot instances stay up"
        return out

    async def get_instance(self, instance_id):
        self.calls.append(("get_instance", instance_id))
        return spot_instance(spot=True).model_copy(update={"id": instance_id, "provider": self.name})

    async def stop_instance(self, instance_id):
        self.calls.append(("stop_instance", instance_id))
        return await self.get_instance(instance_id)

    async def create_function(self, config):
        self.calls.append(("create_function", config.name))


def recorder_session():
    rec = Recorder({}, name="rec")
    providers = {"local": LocalProvider(LocalConfig(**LOCAL)), "rec": rec}
    return cdb.ComputeSession(cdb.ComputeManager(load_config(None, local=LOCAL), providers=providers)), rec


def test_the_check_runs_before_any_adapter_call():
    s, rec = recorder_session()
    with pytest.raises(cdb.NotSupportedError, match="rec does not support stop_instance: spot instances stay up"):
        s.stop_instance("i-9", provider="rec")
    assert rec.calls == [("get_instance", "i-9")]  # looked up, never stopped
    with pytest.raises(cdb.NotSupportedError, match="rec does not support create_function: the recorder runs no code"):
        s.create_function(cdb.FunctionConfig(name="fn", provider="rec"))
    assert ("create_function", "fn") not in rec.calls
    assert s.capabilities().loc["functions", "rec"] == "the recorder runs no code"
    assert s.capabilities().loc["stop/start", "rec"] == SUPPORTED  # in general; refused for spot instances only
    s.close()


def test_a_feature_no_method_implements_is_reported_with_the_class():
    s, _ = recorder_session()
    assert s.capabilities().loc["utilization", "rec"] == "Recorder does not implement utilization"
    s.create_fleet(cdb.FleetConfig("api", capacity=1, provider="rec"))
    with pytest.raises(cdb.NotSupportedError, match="rec does not support utilization: Recorder does not implement"):
        asyncio.run(s.manager.utilization("api", provider="rec"))
    s.close()


def test_quotas_are_read_where_a_cloud_has_them_and_explained_where_not():
    s, _ = recorder_session()
    table = s.capabilities()
    assert table.loc["quotas", "local"] == "the local cloud has no quotas, only its largest fleet size (10,000 instances)"
    assert table.loc["quotas", "rec"] == "Recorder does not implement quotas"
    with pytest.raises(cdb.NotSupportedError, match="local does not support quotas"):
        asyncio.run(s.manager.providers["local"].quotas())
    s.close()


def test_network_diagnosis_is_offered_where_a_provider_implements_it():
    s, _ = recorder_session()
    assert s.capabilities().loc["network diagnosis"].tolist() == [SUPPORTED, "Recorder does not implement network diagnosis"]
    assert not s.manager.providers["rec"].supports(Feature.NETWORK_DIAGNOSIS)
    s.close()


def test_schedules_are_offered_where_a_provider_implements_them():
    s, _ = recorder_session()
    assert s.capabilities().loc["schedules"].tolist() == [SUPPORTED, "Recorder does not implement schedules"]
    s.create_fleet(cdb.FleetConfig("api", capacity=1, provider="rec"))
    with pytest.raises(cdb.NotSupportedError, match="rec does not support schedule_capacity"):
        asyncio.run(s.manager.schedule_capacity(cdb.CapacitySchedule(fleet="api", cron="0 19 * * *", capacity=0, provider="rec")))
    s.close()
