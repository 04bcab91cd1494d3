"""Each cloud's own rules (cloud_rules): defaults, function limits and networking, per provider section."""

import io
import zipfile

import pytest

import clusterdb_nb as cdb
from clusterdb_nb import cloud_rules
from clusterdb_nb.config import AwsConfig, AzureConfig, GcpConfig, LocalConfig, load_config, rules_of
from clusterdb_nb.providers.function_billing import FunctionBilling


def manager(**sections):
    """A manager over ``sections`` whose providers are never called (only its pre-flight runs)."""
    return cdb.ComputeManager(load_config({"compute": {"providers": sections}}), providers={"x": object()})


# ----------------------------------------------------------------------------- defaults


def test_each_cloud_has_its_own_default_machine_type_and_image():
    assert GcpConfig(project_id="p").rules.default_instance_type == "e2-medium"
    assert GcpConfig(project_id="p").rules.default_image == "projects/debian-cloud/global/images/family/debian-12"
    assert AzureConfig(subscription_id="s").rules.default_instance_type == "Standard_B2s"
    assert "ubuntu-24_04-lts" in AzureConfig(subscription_id="s").rules.default_image
    assert AwsConfig().rules.default_instance_type == LocalConfig().rules.default_instance_type == "t3.medium"


def test_a_fleet_gets_its_provider_sections_machine_type_unless_the_config_or_the_fleet_says():
    m = manager(local={"path": ":memory:"}, gcp={"project_id": "p"})
    assert m.resolve_fleet_config(cdb.FleetConfig("web", provider="gcp")).instance_type == "e2-medium"
    assert m.resolve_fleet_config(cdb.FleetConfig("web", provider="local")).instance_type == "t3.medium"
    assert m.resolve_fleet_config(cdb.FleetConfig("web", provider="gcp", instance_type="n2-standard-2")).instance_type == (
        "n2-standard-2"
    )
    pinned = cdb.ComputeManager(
        load_config({"compute": {"providers": {"gcp": {"project_id": "p"}}}, "fleet": {"default_instance_type": "e2-small"}}),
        providers={"gcp": object()},
    )
    assert pinned.resolve_fleet_config(cdb.FleetConfig("web")).instance_type == "e2-small"


def test_a_plugin_section_gets_format_only_rules():
    assert rules_of({"token": "x"}) is cloud_rules.PLUGIN
    assert rules_of(None) is cloud_rules.PLUGIN


# ----------------------------------------------------------------------------- networking


def test_networking_is_checked_in_the_providers_own_words():
    m = manager(aws={}, gcp={"project_id": "p"}, azure={"subscription_id": "s"}, local={"path": ":memory:"})
    gcp = m.resolve_fleet_config(cdb.FleetConfig("web", provider="gcp", networking={"network": "default"}))
    assert gcp.networking == {"network": "default"}
    aws = m.resolve_fleet_config(cdb.FleetConfig("web", provider="aws", networking={"subnet_ids": ["subnet-1a2b"]}))
    assert aws.networking == {"subnet_ids": ["subnet-1a2b"]}
    one = m.resolve_fleet_config(cdb.FleetConfig("web", provider="aws", networking={"security_group_ids": "sg-1"}))
    assert one.networking == {"security_group_ids": ["sg-1"]}  # one id, as the AWS adapter takes it
    with pytest.raises(cdb.ValidationError) as err:
        m.resolve_fleet_config(cdb.FleetConfig("web", provider="aws", networking={"network": "default"}))
    assert err.value.field == "networking.network" and "vpc_id" in err.value.solution
    with pytest.raises(cdb.ValidationError) as err:
        m.resolve_fleet_config(cdb.FleetConfig("web", provider="azure", networking={"subnet_id": "subnet-1"}))
    assert err.value.field == "networking.subnet_id"
    # the local cloud keeps whatever it is given, as before
    local = m.resolve_fleet_config(cdb.FleetConfig("web", provider="local", networking={"vpc_id": "anything"}))
    assert local.networking == {"vpc_id": "anything"}


# ----------------------------------------------------------------------------- functions


@pytest.mark.parametrize(
    ("rules", "ok", "refused"),
    [
        (cloud_rules.LAMBDA, "python3.12", "python312"),
        (cloud_rules.CLOUD_FUNCTIONS, "python312", "python3.7"),
        (cloud_rules.CLOUD_FUNCTIONS, "python3.12", "python3.8"),
        (cloud_rules.AZURE_FUNCTIONS, "python3.11", "nodejs20.x"),
    ],
)
def test_each_cloud_runs_its_own_runtimes(rules, ok, refused):
    rules.check(cdb.FunctionConfig(name="fn", runtime=ok))
    with pytest.raises(cdb.ValidationError, match=rules.cloud) as err:
        rules.check(cdb.FunctionConfig(name="fn", runtime=refused))
    assert err.value.field == "runtime"


def test_reserved_keys_and_environment_sizes_are_each_clouds_own():
    lambda_key = cdb.FunctionConfig(name="fn", environment={"AWS_REGION": "x"})
    cloud_rules.CLOUD_FUNCTIONS.check(lambda_key.model_copy(update={"runtime": "python312"}))  # not GCP's key
    with pytest.raises(cdb.ValidationError, match="reserved"):
        cloud_rules.LAMBDA.check(lambda_key)
    with pytest.raises(cdb.ValidationError, match="reserved") as err:
        cloud_rules.AZURE_FUNCTIONS.check(cdb.FunctionConfig(name="fn", runtime="python3.11", environment={"WEBSITE_X": "1"}))
    assert err.value.field == "environment"
    big = cdb.FunctionConfig(name="fn", runtime="python312", environment={"BIG": "x" * 8000})
    cloud_rules.CLOUD_FUNCTIONS.check(big)  # 32 KB on GCP
    with pytest.raises(cdb.ValidationError, match="4 KB"):
        cloud_rules.LAMBDA.check(big.model_copy(update={"runtime": "python3.12"}))


def test_memory_and_timeout_limits_are_each_clouds_own():
    big = cdb.FunctionConfig(name="fn", runtime="python312", memory_mb=16384, timeout_sec=1800)
    cloud_rules.CLOUD_FUNCTIONS.check(big)
    with pytest.raises(cdb.ValidationError, match="AWS Lambda takes 128 to 10240 MB") as err:
        cloud_rules.LAMBDA.check(big.model_copy(update={"runtime": "python3.12"}))
    assert err.value.field == "memory_mb"
    with pytest.raises(cdb.ValidationError) as err:
        cloud_rules.AZURE_FUNCTIONS.check(cdb.FunctionConfig(name="fn", runtime="python3.11", memory_mb=8192))
    assert err.value.field == "memory_mb"


def test_code_size_limits_are_the_clouds_not_the_models():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("main.py", "x" * 5000)
    config = cdb.FunctionConfig(name="fn", code=buf.getvalue())  # any size is a valid model
    tiny = cloud_rules.FunctionRules("Tiny", cloud_rules.LAMBDA.runtimes, "python3.12", max_unzipped_bytes=4096)
    with pytest.raises(cdb.ValidationError, match="Tiny takes at most") as err:
        tiny.check(config)
    assert err.value.field == "code"
    cloud_rules.LAMBDA.check(config)


def test_the_manager_checks_a_function_against_its_providers_rules_before_any_call(tmp_path):
    with cdb.connect(local={"path": str(tmp_path / "s.db"), "clock": "virtual"}) as s:
        with pytest.raises(cdb.ValidationError, match="AWS Lambda does not run") as err:
            s.create_function(cdb.FunctionConfig(name="fn", runtime="python312"))
        assert err.value.field == "runtime"
        assert s.functions().empty


# ----------------------------------------------------------------------------- billing


def test_memory_tiers_are_a_declared_rule_not_a_nonzero_cpu_price():
    tiered = FunctionBilling("tiered", 0.0, 0.0000025, step_ms=100, minimum_ms=100, memory_tiers=True)
    assert int(tiered.billed_memory_mb(200)) == 256  # billed on the 256 MB tier with no CPU price set
    flat = FunctionBilling("flat", 0.0, 0.0000025, step_ms=100, minimum_ms=100, per_ghz_second_usd=0.00001)
    assert int(flat.billed_memory_mb(200)) == 200
