"""Tests for clusterdb_nb.config: the seed's YAML, ${VAR} interpolation, secrets, overrides, connect()."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clusterdb_nb as cdb
from clusterdb_nb.config import LocalConfig, interpolate, load_config, rules_of
from clusterdb_nb.models import HORIZON_SECONDS

# Both YAML blocks of the seed's "Configuration" section, verbatim.
SEED_YAML = """\
compute:
  default_provider: aws
  providers:
    aws:
      region: us-west-2
      credentials:
        access_key: ${AWS_ACCESS_KEY}
        secret_key: ${AWS_SECRET_KEY}
    gcp:
      project_id: my-project
      credentials_file: /path/to/credentials.json
    azure:
      subscription_id: ${AZURE_SUBSCRIPTION_ID}
      tenant_id: ${AZURE_TENANT_ID}

fleet:
  default_instance_type: t3.medium
  default_capacity: 3
  tags:
    environment: production
    managed-by: clusterdb
  networking:
    vpc_id: vpc-1234567
    subnet_ids:
      - subnet-1234567
      - subnet-7654321
"""

ENV = {
    "AWS_ACCESS_KEY": "AKIAEXAMPLEACCESS7Q",
    "AWS_SECRET_KEY": "wJalrXUtnFEMIsecretK7MDENGbPxRfiCY",
    "AZURE_SUBSCRIPTION_ID": "11111111-2222-3333-4444-555555555555",
    "AZURE_TENANT_ID": "66666666-7777-8888-9999-000000000000",
}
SECRETS = (ENV["AWS_ACCESS_KEY"], ENV["AWS_SECRET_KEY"])


@pytest.fixture
def env(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return monkeypatch


@pytest.fixture
def seed_file(tmp_path):
    path = tmp_path / "clusterdb.yaml"
    path.write_text(SEED_YAML)
    return path


def aws_config(credentials: dict, **aws: object) -> dict:
    return {"compute": {"default_provider": "aws", "providers": {"aws": {"credentials": credentials, **aws}}}}


# --------------------------------------------------------------------------- the seed's file


def test_seed_yaml_loads_fields_as_written(env, seed_file):
    cfg = load_config(seed_file)
    compute = cfg.compute
    assert compute.default_provider == "aws"
    assert list(compute.providers.sections()) == ["aws", "gcp", "azure"]
    aws = compute.providers.aws
    assert aws.region == "us-west-2"
    assert aws.credentials.access_key.get_secret_value() == ENV["AWS_ACCESS_KEY"]
    assert aws.credentials.secret_key.get_secret_value() == ENV["AWS_SECRET_KEY"]
    assert compute.providers.gcp.project_id == "my-project"
    assert compute.providers.gcp.credentials_file == "/path/to/credentials.json"
    assert compute.providers.azure.subscription_id == ENV["AZURE_SUBSCRIPTION_ID"]
    assert compute.providers.azure.tenant_id == ENV["AZURE_TENANT_ID"]
    fleet = cfg.fleet
    assert (fleet.default_instance_type, fleet.default_capacity) == ("t3.medium", 3)
    assert fleet.tags == {"environment": "production", "managed-by": "clusterdb"}
    assert fleet.networking.vpc_id == "vpc-1234567"
    assert fleet.networking.subnet_ids == ["subnet-1234567", "subnet-7654321"]


def test_seed_yaml_loads_from_str_path(env, seed_file):
    assert load_config(str(seed_file)) == load_config(seed_file)


@pytest.mark.parametrize("missing", sorted(ENV))
def test_missing_variable_is_named_and_other_secrets_stay_hidden(env, seed_file, missing):
    env.delenv(missing)
    with pytest.raises(cdb.ValidationError) as info:
        load_config(seed_file)
    err = info.value
    text = f"{err} {err.rule} {err.solution} {err._render_traceback_()}"
    assert missing in str(err)
    assert "not set" in str(err)
    for name, value in ENV.items():
        if name != missing:
            assert value not in text


def test_missing_variable_error_field_is_the_yaml_path(env, seed_file):
    env.delenv("AWS_SECRET_KEY")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(seed_file)
    assert info.value.field == "compute.providers.aws.credentials.secret_key"


def test_default_syntax_uses_default_when_unset_and_env_when_set(monkeypatch):
    raw = {"compute": {"default_provider": "aws", "providers": {"aws": {"region": "${CDB_TEST_REGION:-eu-central-1}"}}}}
    monkeypatch.delenv("CDB_TEST_REGION", raising=False)
    assert load_config(raw).compute.providers.aws.region == "eu-central-1"
    monkeypatch.setenv("CDB_TEST_REGION", "ap-south-1")
    assert load_config(raw).compute.providers.aws.region == "ap-south-1"


def test_interpolation_inside_a_longer_string_and_lists(monkeypatch):
    monkeypatch.setenv("CDB_TEST_SUBNET", "abc")
    raw = {"fleet": {"networking": {"subnet_ids": ["subnet-${CDB_TEST_SUBNET}", "subnet-${CDB_TEST_NOPE:-def}"]}}}
    assert load_config(raw).fleet.networking.subnet_ids == ["subnet-abc", "subnet-def"]


# --------------------------------------------------------------------------- secrets


def test_secrets_never_in_repr_str_json_or_html(env, seed_file):
    cfg = load_config(seed_file)
    for shown in (repr(cfg), str(cfg), cfg.model_dump_json(), cfg._repr_html_(), repr(cfg.compute.providers.aws)):
        for secret in SECRETS:
            assert secret not in shown
    assert "**********" in cfg.model_dump_json()


def test_azure_client_secret_is_hidden():
    cfg = load_config(
        {
            "compute": {
                "default_provider": "azure",
                "providers": {
                    "azure": {
                        "subscription_id": "sub",
                        "credentials": {"client_id": "app", "client_secret": "azure-very-secret-value"},
                    }
                },
            }
        }
    )
    assert "azure-very-secret-value" not in repr(cfg) + cfg.model_dump_json()
    assert cfg.compute.providers.azure.credentials.client_secret.get_secret_value() == "azure-very-secret-value"


@pytest.mark.parametrize(
    "raw",
    [
        aws_config({"access_key": SECRETS[0], "secret_key": SECRETS[1], "region": "us-west-2"}),
        aws_config({"access_key": SECRETS[0], "secret_key": SECRETS[1]}, max_attempts="many"),
        aws_config({"access_key": SECRETS[0], "secret_key": SECRETS[1]}, retry_mode="legacy"),
    ],
    ids=["extra-key-in-credentials", "bad-max-attempts", "bad-retry-mode"],
)
def test_secrets_not_in_error_of_a_bad_section(raw):
    with pytest.raises(cdb.ValidationError) as info:
        load_config(raw)
    err = info.value
    text = f"{err} {err.rule} {err.field} {err._render_traceback_()}"
    for secret in SECRETS:
        assert secret not in text


@pytest.mark.parametrize(
    ("credentials", "secret"),
    [
        # the boto3 spelling of the key, holding the secret: rejected as an extra key
        ({"access_key": SECRETS[0], "secret_key": "x", "aws_secret_access_key": SECRETS[1]}, SECRETS[1]),
        # an all-digit secret is read by YAML as an int: rejected as "not a string"
        ({"access_key": SECRETS[0], "secret_key": 80417293665512}, "80417293665512"),
        ({"access_key": SECRETS[0], "secret_key": [SECRETS[1]]}, SECRETS[1]),
    ],
    ids=["secret-under-misspelled-key", "secret-of-wrong-type", "secret-in-a-list"],
)
def test_rejected_secret_value_is_not_echoed_in_error(credentials, secret):
    # config sections set hide_input_in_errors; the "(got ...)" suffix must respect it.
    with pytest.raises(cdb.ValidationError) as info:
        load_config(aws_config(credentials))
    assert secret not in str(info.value)
    assert secret not in (info.value.rule or "")


# --------------------------------------------------------------------------- defaults and overrides


def test_no_source_means_local_only():
    cfg = load_config()
    assert cfg.compute.default_provider == "local"
    assert list(cfg.compute.providers.sections()) == ["local"]
    assert cfg.compute.providers.local.clock == "wall"
    # No global default machine type: the local section's own (as AWS's) applies.
    assert cfg.fleet.default_instance_type is None
    assert rules_of(cfg.compute.providers.local).default_instance_type == "t3.medium"


def test_override_changes_only_region_and_keeps_credentials(env, seed_file):
    base = load_config(seed_file)
    cfg = load_config(seed_file, aws={"region": "eu-west-1"})
    aws = cfg.compute.providers.aws
    assert aws.region == "eu-west-1"
    assert aws.credentials == base.compute.providers.aws.credentials
    assert aws.credentials.secret_key.get_secret_value() == ENV["AWS_SECRET_KEY"]
    assert cfg.compute.default_provider == "aws"
    assert cfg.compute.providers.gcp == base.compute.providers.gcp
    assert cfg.fleet == base.fleet


def test_local_override_without_file():
    cfg = load_config(None, local={"clock": "virtual", "seed": 7, "path": ":memory:"})
    local = cfg.compute.providers.local
    assert (local.clock, local.seed, local.path) == ("virtual", 7, ":memory:")
    assert cfg.compute.default_provider == "local"
    assert list(cfg.compute.providers.sections()) == ["local"]


def test_bad_override_value_is_validation_error():
    with pytest.raises(cdb.ValidationError) as info:
        load_config(None, local={"clock": "sundial"})
    assert "clock" in str(info.value)


def test_load_config_accepts_a_loaded_config():
    cfg = load_config(None, local={"clock": "virtual", "path": ":memory:"})
    assert load_config(cfg) == cfg


# --------------------------------------------------------------------------- bad input


def test_bad_yaml_file(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("compute: [unclosed\n  default_provider: aws\n")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == "config" and "YAML" in str(info.value)


def test_missing_file(tmp_path):
    path = tmp_path / "nope.yaml"
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == "config" and "nope.yaml" in str(info.value)


def test_top_level_list_is_rejected(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- compute\n- fleet\n")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert "mapping" in str(info.value)


def test_default_provider_must_be_configured():
    with pytest.raises(cdb.ValidationError) as info:
        load_config({"compute": {"default_provider": "gcp", "providers": {"local": {}}}})
    assert "gcp" in str(info.value) and "configured" in str(info.value)


def test_unknown_top_level_key_rejected():
    with pytest.raises(cdb.ValidationError) as info:
        load_config({"computer": {}})
    assert "computer" in str(info.value)


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        (
            {"compute": {"default_provider": "aws", "providers": {"aws": {"max_attempts": "many"}}}},
            "compute.providers.aws.max_attempts",
        ),
        ({"fleet": {"default_capacity": -1}}, "fleet.default_capacity"),
        ({"compute": {"providers": {"local": {"clock": "sundial"}}}}, "compute.providers.local.clock"),
    ],
    ids=["aws-max-attempts", "fleet-default-capacity", "local-clock"],
)
def test_nested_error_field_is_the_dotted_path(raw, field):
    with pytest.raises(cdb.ValidationError) as info:
        load_config(raw)
    assert info.value.field == field


@pytest.mark.parametrize("text", ["compute:\n", "compute: 1\n", "compute: [aws]\n", "fleet:\n  default_capacity: 2\ncompute:\n"])
def test_malformed_compute_section_is_validation_error(tmp_path, text):
    # `compute:` left empty in YAML is None, not {}.
    path = tmp_path / "c.yaml"
    path.write_text(text)
    try:
        cfg = load_config(path)
    except cdb.ValidationError as err:
        assert "compute" in str(err)
    else:
        assert cfg.compute.default_provider == "local"


def test_malformed_providers_with_override_is_validation_error():
    with pytest.raises(cdb.ValidationError):
        load_config({"compute": {"providers": ["aws"]}}, local={})


# --------------------------------------------------------------------------- fuzzing load_config(dict)

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=30),
    st.sampled_from(["${CDB_FUZZ_UNSET}", "${CDB_FUZZ_UNSET:-x}", "${HOME}", "$", "${", "local", "aws"]),
)
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=10,
)


def maybe(strategy):
    return st.one_of(strategy, strategy, ANYTHING)


def section(**fields):
    return st.fixed_dictionaries({}, optional={k: maybe(v) for k, v in fields.items()})


PROVIDERS = section(
    aws=section(
        region=st.text(max_size=12),
        max_attempts=st.integers(-2, 10),
        retry_mode=st.sampled_from(["standard", "adaptive", "x"]),
        credentials=section(access_key=st.text(max_size=10), secret_key=st.text(max_size=10)),
    ),
    gcp=section(project_id=st.text(max_size=10), credentials_file=st.text(max_size=10)),
    azure=section(subscription_id=st.text(max_size=10), client_secret=st.text(max_size=10)),
    local=section(
        clock=st.sampled_from(["wall", "virtual", "x"]),
        seed=st.integers(),
        path=st.just(":memory:"),
        start=st.sampled_from(["2025-01-01T00:00:00Z", "yesterday"]),
        boot_seconds=st.floats(),
    ),
    custom=ANYTHING,
)
CONFIGS = section(
    compute=section(default_provider=st.sampled_from(["aws", "gcp", "azure", "local", "custom", "nope"]), providers=PROVIDERS),
    fleet=section(
        default_instance_type=st.text(max_size=10),
        default_capacity=st.integers(-2, 10),
        tags=st.dictionaries(st.text(max_size=5), st.text(max_size=5), max_size=3),
        networking=section(vpc_id=st.text(max_size=5), subnet_ids=st.lists(st.text(max_size=5), max_size=2)),
    ),
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(raw=st.one_of(CONFIGS, CONFIGS, st.dictionaries(st.text(max_size=8), ANYTHING, max_size=3)))
def test_fuzz_load_config_raises_only_validation_error(monkeypatch, raw):
    monkeypatch.delenv("CDB_FUZZ_UNSET", raising=False)
    try:
        load_config(raw)
    except cdb.ValidationError:
        pass


# --------------------------------------------------------------------------- connect()


def test_connect_uses_clusterdb_config_env(tmp_path, monkeypatch):
    path = tmp_path / "local.yaml"
    path.write_text(
        "compute:\n"
        "  default_provider: local\n"
        "  providers:\n"
        "    local:\n"
        "      path: ':memory:'\n"
        "      clock: virtual\n"
        "      start: '2025-03-01T08:00:00Z'\n"
    )
    monkeypatch.setenv("CLUSTERDB_CONFIG", str(path))
    monkeypatch.setenv("CLUSTERDB_HOME", str(tmp_path / "home"))
    s = cdb.connect()
    try:
        assert s.local.now == pd.Timestamp("2025-03-01T08:00:00Z")
        assert list(s.status()["provider"]) == ["local"]
        assert "virtual" in s.status()["detail"].iloc[0]
    finally:
        s.close()
    assert not (tmp_path / "home" / "local.db").exists()


def test_connect_without_config_puts_state_in_clusterdb_home(tmp_path, monkeypatch):
    monkeypatch.delenv("CLUSTERDB_CONFIG", raising=False)
    home = tmp_path / "home"
    monkeypatch.setenv("CLUSTERDB_HOME", str(home))
    s = cdb.connect()
    try:
        status = s.status()
        assert list(status["provider"]) == ["local"] and bool(status["ok"].iloc[0])
        assert (home / "local.db").is_file()
    finally:
        s.close()


def test_local_state_path_expands_home_and_creates_its_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    path = LocalConfig(path="~/clusterdb/local.db").state_path()
    assert path == str(tmp_path / "clusterdb" / "local.db") and (tmp_path / "clusterdb").is_dir()
    assert LocalConfig(path=":memory:").state_path() == ":memory:"


# --------------------------------------------------------------------------- issue 9: YAML that cannot hurt

BOMB_LEVELS = ["a: &a [x, x, x, x, x, x, x, x, x]"] + [
    f"{c}: &{c} [{', '.join([f'*{p}'] * 9)}]" for p, c in zip("abcdefg", "bcdefgh")
]


def write(tmp_path, text: str | bytes, name: str = "c.yaml"):
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_nested_alias_bomb_is_refused_fast(tmp_path):
    # About 400 bytes; expanded, 9**8 = 43 million nodes (88 s, then never, before the budget).
    path = write(tmp_path, "\n".join(BOMB_LEVELS) + "\n")
    assert path.stat().st_size < 450
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == "config" and "aliases" in str(info.value)
    assert "alias" in info.value.solution


def test_recursive_alias_is_refused(tmp_path):
    with pytest.raises(cdb.ValidationError, match="alias") as info:
        load_config(write(tmp_path, "fleet: &f\n  tags: *f\n"))
    assert info.value.field == "config"


def test_modest_aliases_still_work(tmp_path):
    text = (
        "fleet:\n  tags: &tags {team: ops}\n"
        "compute:\n  default_provider: local\n  providers:\n"
        "    local: {path: ':memory:'}\n    mycloud: {labels: *tags}\n"
    )
    cfg = load_config(write(tmp_path, text))
    assert cfg.fleet.tags == {"team": "ops"}
    assert cfg.compute.providers.sections()["mycloud"] == {"labels": {"team": "ops"}}


def test_non_utf8_yaml_is_a_clear_error(tmp_path):
    path = write(tmp_path, b"fleet:\n  tags:\n    team: caf\xe9\n")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == "config" and "UTF-8" in str(info.value) and "line 3" in str(info.value)
    assert "UTF-8" in info.value.solution


def test_utf8_with_bom_is_fine(tmp_path):
    path = write(tmp_path, "\ufefffleet:\n  tags:\n    team: café\n".encode())
    assert load_config(path).fleet.tags == {"team": "café"}


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("fleet:\n  tags:\n    1: x\n", "fleet.tags"),
        ("compute:\n  providers:\n    local: {}\n    2: {}\n", "compute.providers"),
        ("1: x\n", "config"),
        ("fleet:\n  tags:\n    null: x\n", "fleet.tags"),
    ],
    ids=["int-tag-key", "int-provider", "int-top-level", "null-key"],
)
def test_non_string_yaml_key_is_a_clear_error(tmp_path, text, field):
    with pytest.raises(cdb.ValidationError) as info:
        load_config(write(tmp_path, text))
    assert info.value.field == field and "keys must be strings" in str(info.value)
    assert "quote" in info.value.solution


def test_unhashable_yaml_key_is_a_validation_error(tmp_path):
    with pytest.raises(cdb.ValidationError, match="not valid YAML"):
        load_config(write(tmp_path, "? [a, b]\n: x\n"))


LITERAL_SECRET = "hunter2-literal-Secret-Zq8"


@pytest.mark.parametrize(
    "text",
    [
        f"compute:\n  providers:\n    aws:\n      credentials:\n        secret_key: {LITERAL_SECRET}: oops\n",
        f"compute:\n  providers:\n    mycloud:\n      token: '{LITERAL_SECRET}\n",
        f"compute:\n  providers:\n    mycloud:\n      token: {LITERAL_SECRET}\n     bad: [\n",
        f'compute:\n  providers:\n    mycloud: {{token: "{LITERAL_SECRET}\\q"}}\n',
    ],
    ids=["mapping-in-value", "unclosed-quote", "bad-indent-after", "bad-escape"],
)
def test_malformed_yaml_error_never_echoes_a_literal_secret(tmp_path, text):
    with pytest.raises(cdb.ValidationError) as info:
        load_config(write(tmp_path, text))
    err = info.value
    shown = " ".join([str(err), err.rule or "", err.solution, *err._render_traceback_()])
    assert "not valid YAML" in str(err) and "line " in str(err)
    assert LITERAL_SECRET not in shown and "Zq8" not in shown


def test_malformed_yaml_error_shows_the_redacted_line(tmp_path):
    text = f"compute:\n  providers:\n    mycloud:\n      token: {LITERAL_SECRET}: oops\n"
    with pytest.raises(cdb.ValidationError) as info:
        load_config(write(tmp_path, text))
    assert "line 4" in str(info.value) and "token: <redacted>" in str(info.value)


# --------------------------------------------------------------------------- issue 9: ${VAR} parsing


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("CDB_A", "CDB_B", "CDB_C"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


def region_of(value: str) -> str:
    return load_config({"compute": {"providers": {"aws": {"region": value}}}}).compute.providers.aws.region


@pytest.mark.parametrize(
    ("value", "env", "expected"),
    [
        ("${CDB_A:-${CDB_B}}", {"CDB_A": "a"}, "a"),
        ("${CDB_A:-${CDB_B}}", {"CDB_B": "b"}, "b"),
        ("${CDB_A:-${CDB_B:-c}}", {}, "c"),
        ("${CDB_A:-x-${CDB_B:-y}-z}", {}, "x-y-z"),
        ("${CDB_A:-${CDB_B:-${CDB_C:-deep}}}", {"CDB_C": "c"}, "c"),
        ("${CDB_A:-}", {}, ""),
        ("pre-$${CDB_A}-post", {"CDB_A": "a"}, "pre-${CDB_A}-post"),
        ("cost $5 {ok}", {}, "cost $5 {ok}"),
    ],
    ids=["outer-set", "inner-set", "inner-default", "default-with-text", "three-levels", "empty-default", "escape", "plain"],
)
def test_nested_defaults(clean_env, value, env, expected):
    for name, v in env.items():
        clean_env.setenv(name, v)
    assert interpolate({"v": value}) == {"v": expected}


def test_nested_default_missing_inner_variable_is_named(clean_env):
    with pytest.raises(cdb.ValidationError, match="CDB_B is not set") as info:
        region_of("${CDB_A:-${CDB_B}}")
    assert info.value.field == "compute.providers.aws.region"


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("${CDB_A", "no closing"),
        ("/data/${CDB_A/local.db", "unsupported"),
        ("${CDB_A:-x", "no closing"),
        ("${CDB_A:-${CDB_B:-x}", "no closing"),
        ("${", "variable name"),
        ("${1A}", "variable name"),
        ("${ CDB_A }", "variable name"),
        ("${CDB_A-x}", "unsupported"),
        ("${CDB_A:x}", "unsupported"),
        ("${A:-" * 9 + "x" + "}" * 9, "nest deeper"),
    ],
)
def test_malformed_references_are_errors_not_literals(clean_env, value, words):
    clean_env.setenv("CDB_A", "a")
    with pytest.raises(cdb.ValidationError) as info:
        region_of(value)
    assert info.value.field == "compute.providers.aws.region"
    assert words in str(info.value) and "${VAR:-default}" in info.value.solution


def test_unterminated_reference_in_yaml_local_path_is_an_error(tmp_path, clean_env):
    path = write(tmp_path, "compute:\n  providers:\n    local:\n      path: ${CDB_A/local.db\n")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == "compute.providers.local.path"


@pytest.mark.parametrize("text", ["path: ${CDB_A}", "path: ${CDB_A:-}", "path: ''", "path: '  '"])
def test_empty_local_path_is_refused_not_the_default_state_file(tmp_path, clean_env, text):
    clean_env.setenv("CDB_A", "")
    path = write(tmp_path, f"compute:\n  providers:\n    local:\n      {text}\n")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == "compute.providers.local.path" and "empty" in str(info.value)
    assert "remove `path`" in info.value.solution


def test_nul_in_local_path_is_refused():
    with pytest.raises(cdb.ValidationError) as info:
        load_config(None, local={"path": "a\0b.db"})
    assert info.value.field == "compute.providers.local.path"


# --------------------------------------------------------------------------- issue 9: numbers in config


@pytest.mark.parametrize("field", ["boot_seconds", "stop_seconds", "terminate_seconds", "function_idle_seconds"])
@pytest.mark.parametrize("value", [".inf", "-.inf", ".nan", "1e300", "-1", "true"])
def test_local_durations_are_finite_non_negative_and_bounded(tmp_path, field, value):
    path = write(tmp_path, f"compute:\n  providers:\n    local:\n      {field}: {value}\n")
    with pytest.raises(cdb.ValidationError) as info:
        load_config(path)
    assert info.value.field == f"compute.providers.local.{field}"


def test_ten_years_is_the_longest_duration():
    assert load_config(None, local={"boot_seconds": HORIZON_SECONDS}).compute.providers.local.boot_seconds == HORIZON_SECONDS
    with pytest.raises(cdb.ValidationError):
        load_config(None, local={"boot_seconds": HORIZON_SECONDS + 1})


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"fleet": {"default_capacity": True}}, "fleet.default_capacity"),
        ({"fleet": {"default_max_capacity": 2**63}}, "fleet.default_max_capacity"),
        ({"fleet": {"default_capacity": 3.0}}, "fleet.default_capacity"),
        ({"fleet": {"default_instance_type": ""}}, "fleet.default_instance_type"),
        ({"compute": {"providers": {"local": {"function_concurrency": True}}}}, "compute.providers.local.function_concurrency"),
        ({"compute": {"providers": {"local": {"seed": True}}}}, "compute.providers.local.seed"),
        ({"compute": {"providers": {"local": {"region": ""}}}}, "compute.providers.local.region"),
        ({"compute": {"providers": {"aws": {"max_attempts": True}}}}, "compute.providers.aws.max_attempts"),
    ],
)
def test_config_counts_are_strict(raw, field):
    with pytest.raises(cdb.ValidationError) as info:
        load_config(raw)
    assert info.value.field == field


@pytest.mark.parametrize(
    "source",
    [
        42,
        "missing.yaml",
        {"compute": {"providers": {"local": {"path": "a\0b"}}}},
        {"compute": {"providers": {"local": {"boot_seconds": float("inf")}}}},
        {"compute": {"default_provider": "gcp", "providers": {"local": {}}}},
        {1: "x"},
        {"region": "${CDB_NEVER_SET_9}"},
    ],
    ids=["not-a-source", "missing-file", "nul-path", "inf-seconds", "unconfigured-default", "int-key", "unset-var"],
)
def test_every_config_error_names_its_field_and_a_fix(tmp_path, monkeypatch, source):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(cdb.ValidationError) as info:
        load_config(source)
    err = info.value
    assert err.field and str(err).startswith(f"{err.field}: ")
    assert err.solution and err.solution != cdb.ValidationError.default_solution


def test_top_level_list_error_says_how_to_start_the_file(tmp_path):
    with pytest.raises(cdb.ValidationError) as info:
        load_config(write(tmp_path, "- compute\n"))
    assert "compute:" in info.value.solution


def test_a_dict_with_deeply_shared_references_is_refused_fast():
    # The same bomb built in Python (say by yaml.safe_load before load_config): 9**8 values once expanded.
    level: object = ["x"] * 9
    for _ in range(7):
        level = [level] * 9
    with pytest.raises(cdb.ValidationError) as info:
        load_config({"fleet": {"networking": {"subnet_ids": level}}})
    assert info.value.field == "config" and "100000 values" in str(info.value)


# -- Azure: the admin's SSH key -------------------------------------------------------------------
ED25519 = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIEIpZJQIt2axds9eJAoeBpT4SrbURvHUmHv84dFt5Evc me@laptop"


def test_azure_ssh_public_key_is_key_text_or_a_pub_file(tmp_path):
    from clusterdb_nb.config import AzureConfig

    assert AzureConfig(subscription_id="s", ssh_public_key=f"  {ED25519}\n").ssh_public_key == ED25519
    pub = tmp_path / "id_ed25519.pub"
    pub.write_text(ED25519 + "\n")
    assert AzureConfig(subscription_id="s", ssh_public_key=str(pub)).ssh_public_key == ED25519
    assert AzureConfig(subscription_id="s").ssh_public_key is None
    assert AzureConfig(subscription_id="s").admin_username == "azureuser"


def test_azure_ssh_public_key_from_the_environment(monkeypatch):
    from clusterdb_nb.config import load_config

    monkeypatch.setenv("AZURE_SSH_PUBLIC_KEY", ED25519)
    cfg = load_config(
        {"compute": {"providers": {"azure": {"subscription_id": "s", "ssh_public_key": "${AZURE_SSH_PUBLIC_KEY}"}}}}
    )
    assert cfg.compute.providers.azure.ssh_public_key == ED25519


@pytest.mark.parametrize(
    ("key", "message"),
    [
        ("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAA=", "only ssh-rsa and ssh-ed25519"),
        ("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB", "not a ssh-ed25519 public key"),  # an RSA body under an Ed25519 name
        ("ssh-rsa not-base64!", "not a ssh-rsa public key"),
        ("ssh-ed25519", "not a ssh-ed25519 public key"),
        ("/nowhere/id_ed25519.pub", "neither an OpenSSH public key nor a readable file"),
    ],
)
def test_azure_ssh_public_key_is_checked_at_the_model_layer(key, message):
    from clusterdb_nb.config import AzureConfig

    with pytest.raises(cdb.ValidationError, match=message) as err:
        AzureConfig(subscription_id="s", ssh_public_key=key)
    assert err.value.field == "ssh_public_key"


@pytest.mark.parametrize("name", ["root", "admin", "Bad Name", ""])
def test_azure_admin_username_follows_azures_rules(name):
    from clusterdb_nb.config import AzureConfig

    with pytest.raises(cdb.ValidationError) as err:
        AzureConfig(subscription_id="s", admin_username=name)
    assert err.value.field == "admin_username"
