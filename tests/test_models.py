"""Tests for clusterdb_nb.models: builders, validation rules, states, plans, HTML and fuzzing."""

from __future__ import annotations

import contextlib
import datetime
import decimal

import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import clusterdb_nb as cdb
from clusterdb_nb import AutoScalingConfig, FleetConfig, FunctionConfig, Instance, InstanceState, Plan, cloud_rules
from clusterdb_nb.models import PlannedCall

TAGS = {"environment": "production", "managed-by": "clusterdb"}


@contextlib.contextmanager
def raises_validation(field: str, *words: str):
    """A clusterdb_nb.ValidationError on ``field`` whose rule or message holds every one of ``words``."""
    with pytest.raises(cdb.ValidationError) as info:
        yield info
    err = info.value
    assert isinstance(err, ValueError)
    assert err.field == field, f"field {err.field!r} != {field!r} ({err})"
    text = f"{err.rule} {err}".lower()
    for word in words:
        assert word.lower() in text, f"{word!r} not in {text!r}"


# --------------------------------------------------------------------------- builder


def test_builder_chain_from_the_seed():
    cfg = FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5).with_instance_type("t3.medium").with_tags(TAGS)
    assert (cfg.name, cfg.description, cfg.capacity, cfg.instance_type) == ("web-fleet", "Web Application Fleet", 5, "t3.medium")
    assert cfg.tags == TAGS


def test_builder_returns_new_objects_and_leaves_original_unchanged():
    base = FleetConfig("web-fleet", "Web Application Fleet")
    bigger = base.with_capacity(5)
    typed = bigger.with_instance_type("t3.medium")
    tagged = typed.with_tags(TAGS)
    assert len({id(base), id(bigger), id(typed), id(tagged)}) == 4
    assert base.capacity is None and base.instance_type is None and base.tags == {}
    assert bigger.instance_type is None
    assert typed.tags == {}


def test_keyword_form_equals_builder_form():
    built = FleetConfig("web-fleet", "Web Application Fleet").with_capacity(5).with_instance_type("t3.medium").with_tags(TAGS)
    keyword = FleetConfig(name="web-fleet", description="Web Application Fleet", capacity=5, instance_type="t3.medium", tags=TAGS)
    assert built == keyword
    assert built != keyword.with_capacity(6)


def test_with_tags_merges_with_existing_tags():
    cfg = FleetConfig("web-fleet").with_tags({"a": "1"}).with_tags({"b": "2", "a": "3"})
    assert cfg.tags == {"a": "3", "b": "2"}


def test_builder_revalidates():
    with raises_validation("capacity", "greater than or equal to 0"):
        FleetConfig("web-fleet").with_capacity(-1)
    with raises_validation("tags"):
        FleetConfig("web-fleet").with_tags({"bad key!": "x"})


def test_with_bounds_and_provider():
    cfg = FleetConfig("web-fleet").with_bounds(2, 10).with_capacity(4).with_provider("aws", "eu-west-1")
    assert (cfg.min_capacity, cfg.max_capacity, cfg.capacity, cfg.provider, cfg.region) == (2, 10, 4, "aws", "eu-west-1")


@pytest.mark.parametrize(
    "model",
    [
        FleetConfig("web-fleet").with_capacity(5),
        AutoScalingConfig(),
        FunctionConfig(name="process-image"),
    ],
    ids=["fleet", "autoscaling", "function"],
)
def test_models_are_frozen(model):
    field = next(iter(type(model).model_fields))
    before = getattr(model, field)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen_instance error
        setattr(model, field, before if field != "name" else "other")
    assert getattr(model, field) == before


def test_models_reject_unknown_fields():
    with raises_validation("capcity", "extra"):
        FleetConfig(name="web-fleet", capcity=3)


# --------------------------------------------------------------------------- names


@pytest.mark.parametrize("name", ["a", "web-fleet", "w1", "a" * 63, "a-1-b"])
def test_valid_names(name):
    assert FleetConfig(name).name == name
    assert FunctionConfig(name=name).name == name


@pytest.mark.parametrize(
    "name",
    ["Web", "1abc", "a" * 64, "a_b", "-a", "a-", "", "web fleet", "wéb"],
    ids=["uppercase", "digit-first", "64-chars", "underscore", "hyphen-first", "trailing-hyphen", "empty", "space", "non-ascii"],
)
def test_invalid_names_rejected(name):
    with raises_validation("name", "lowercase", "letter"):
        FleetConfig(name)
    with raises_validation("name", "lowercase"):
        FunctionConfig(name=name)


def test_name_is_required_and_a_string():
    with raises_validation("name", "required"):
        FleetConfig()
    with raises_validation("name", "string"):
        FleetConfig(name=None)


# --------------------------------------------------------------------------- fleet capacity and tags


def test_negative_capacity_rejected():
    with raises_validation("capacity", "greater than or equal to 0", "-1"):
        FleetConfig(name="web-fleet", capacity=-1)
    with raises_validation("min_capacity", "greater than or equal to 0"):
        FleetConfig(name="web-fleet", min_capacity=-1)


def test_zero_capacity_and_equal_bounds_allowed():
    cfg = FleetConfig(name="web-fleet", capacity=0, min_capacity=0, max_capacity=0)
    assert cfg.capacity == 0


@pytest.mark.parametrize(
    ("kwargs", "words"),
    [
        ({"capacity": 1, "min_capacity": 2, "max_capacity": 5}, ("capacity", "min_capacity")),
        ({"capacity": 6, "min_capacity": 2, "max_capacity": 5}, ("capacity", "max_capacity")),
        ({"min_capacity": 6, "max_capacity": 5}, ("min_capacity", "max_capacity")),
    ],
    ids=["below-min", "above-max", "min-above-max"],
)
def test_capacity_bounds_rule_named(kwargs, words):
    with pytest.raises(cdb.ValidationError) as info:
        FleetConfig(name="web-fleet", **kwargs)
    for word in words:
        assert word in info.value.rule


@pytest.mark.parametrize(
    "kwargs",
    [
        {"capacity": 1, "min_capacity": 2, "max_capacity": 5},
        {"min_capacity": 6, "max_capacity": 5},
    ],
    ids=["below-min", "min-above-max"],
)
def test_cross_field_error_field_names_a_field_not_the_class(kwargs):
    # A form highlights the input named by .field; "FleetConfig" is not an input.
    with pytest.raises(cdb.ValidationError) as info:
        FleetConfig(name="web-fleet", **kwargs)
    assert info.value.field in {"capacity", "min_capacity", "max_capacity"}


@pytest.mark.parametrize(
    "tags",
    [
        {"k" * 63: "v" * 255},
        {"Env": ""},
        {"a.b/c:d=e+f-g_h@i j": "A.b/c:d=e+f-g_h@i j"},
        {f"k{i}": "v" for i in range(50)},
    ],
    ids=["max-lengths", "empty-value", "charset", "50-tags"],
)
def test_valid_tags(tags):
    assert FleetConfig("web-fleet", tags=tags).tags == tags


@pytest.mark.parametrize(
    ("tags", "word"),
    [
        ({"k" * 64: "v"}, "1-63"),
        ({"": "v"}, "1-63"),
        ({"bad!": "v"}, "key"),
        ({"env": "v" * 256}, "0-255"),
        ({"env": "prod;drop"}, "value"),
        ({f"k{i}": "v" for i in range(51)}, "at most 50"),
    ],
    ids=["key-too-long", "key-empty", "key-charset", "value-too-long", "value-charset", "51-tags"],
)
def test_invalid_tags(tags, word):
    with raises_validation("tags", word):
        FleetConfig("web-fleet", tags=tags)


def test_non_string_tag_value_rejected():
    with pytest.raises(cdb.ValidationError) as info:
        FleetConfig("web-fleet", tags={"env": 3})
    assert info.value.field.startswith("tags")


# --------------------------------------------------------------------------- auto scaling


def test_autoscaling_defaults_and_seed_values():
    cfg = AutoScalingConfig(min_capacity=1, max_capacity=10, target_cpu_utilization=70.0, cooldown_seconds=300)
    assert cfg == AutoScalingConfig()
    assert AutoScalingConfig(target_cpu_utilization=100).target_cpu_utilization == 100


@pytest.mark.parametrize("target", [0, -5, 100.01, 150])
def test_autoscaling_target_must_be_in_0_100(target):
    with raises_validation("target_cpu_utilization"):
        AutoScalingConfig(target_cpu_utilization=target)


def test_autoscaling_cooldown_non_negative():
    assert AutoScalingConfig(cooldown_seconds=0).cooldown_seconds == 0
    with raises_validation("cooldown_seconds", "greater than or equal to 0"):
        AutoScalingConfig(cooldown_seconds=-1)


def test_autoscaling_min_above_max_rejected():
    with pytest.raises(cdb.ValidationError) as info:
        AutoScalingConfig(min_capacity=5, max_capacity=2)
    assert "min_capacity" in info.value.rule and "max_capacity" in info.value.rule


# --------------------------------------------------------------------------- functions


def test_function_config_from_the_seed():
    fn = FunctionConfig(
        name="process-image",
        runtime="python3.12",
        handler="main.handler",
        memory_mb=256,
        timeout_sec=30,
        environment={"STAGE": "dev"},
    )
    assert (fn.memory_mb, fn.timeout_sec, fn.environment) == (256, 30, {"STAGE": "dev"})


@pytest.mark.parametrize(
    "runtime",
    ["python3.9", "python3.12", "python3.13", "nodejs20.x", "java21", "go1.x", "dotnet8", "provided.al2023"],
)
def test_known_runtimes(runtime):
    config = FunctionConfig(name="f", runtime=runtime)
    cloud_rules.LAMBDA.check(config)  # Lambda's runtimes (AWS and the local cloud)
    assert config.runtime == runtime


@pytest.mark.parametrize("runtime", ["python2.7", "Python3.12", "ruby3.2", "nodejs16.x", "", "python3.12 "])
def test_unknown_runtimes_rejected(runtime):
    # Malformed names fail in the model; well-formed ones Lambda does not run fail its rules, before any call.
    with raises_validation("runtime", "runtime"):
        cloud_rules.LAMBDA.check(FunctionConfig(name="f", runtime=runtime))


@pytest.mark.parametrize("handler", ["main.handler", "pkg.module.fn", "_m._f"])
def test_valid_handlers(handler):
    assert FunctionConfig(name="f", handler=handler).handler == handler


@pytest.mark.parametrize("handler", ["main", "main.", ".handler", "1main.fn", "main-mod.fn", "main.handler()", ""])
def test_invalid_handlers(handler):
    with raises_validation("handler", "module.function"):
        FunctionConfig(name="f", handler=handler)


@pytest.mark.parametrize(("field", "ok", "bad"), [("memory_mb", (128, 10240), (127, 10241)), ("timeout_sec", (1, 900), (0, 901))])
def test_function_limits(field, ok, bad):
    # Lambda's limits (AWS and the local cloud), checked by its rules before any call.
    for value in ok:
        config = FunctionConfig(name="f", **{field: value})
        cloud_rules.LAMBDA.check(config)
        assert getattr(config, field) == value
    for value in bad:
        with raises_validation(field, str(value)):
            cloud_rules.LAMBDA.check(FunctionConfig(name="f", **{field: value}))


@pytest.mark.parametrize("key", ["1A", "A-B", "", "_X", "A B"])
def test_invalid_environment_keys(key):
    with raises_validation("environment", "environment key"):
        FunctionConfig(name="f", environment={key: "x"})


def test_valid_environment_keys():
    env = {"STAGE": "dev", "a1_B": "x"}
    assert FunctionConfig(name="f", environment=env).environment == env


# --------------------------------------------------------------------------- instance state


def test_instance_states_are_the_six_normalized_states():
    assert {s.value for s in InstanceState} == {"pending", "running", "stopping", "stopped", "terminating", "terminated"}
    assert InstanceState("running") is InstanceState.RUNNING
    assert str(InstanceState.STOPPED) == "stopped"
    assert InstanceState.RUNNING == "running"


def test_instance_rejects_unknown_state():
    with raises_validation("state"):
        Instance(id="i-1", provider="local", region="local", instance_type="t3.medium", state="hibernating")
    inst = Instance(id="i-1", provider="local", region="local", instance_type="t3.medium", state="running")
    assert inst.state is InstanceState.RUNNING


# --------------------------------------------------------------------------- plans and HTML


def _plan(before: float, after: float) -> Plan:
    return Plan(
        operation="update_fleet_capacity",
        target="web-fleet",
        provider="local",
        calls=[PlannedCall(provider="local", call="set_desired_capacity(web-fleet, 20)")],
        hourly_cost_before_usd=before,
        hourly_cost_after_usd=after,
    )


def test_plan_hourly_cost_delta():
    assert _plan(0.208, 0.832).hourly_cost_delta_usd == pytest.approx(0.624)
    assert _plan(0.1, 0.3).hourly_cost_delta_usd == 0.2  # rounded, no float noise
    assert _plan(0.832, 0.208).hourly_cost_delta_usd == pytest.approx(-0.624)


def test_plan_str_shows_operation_calls_and_costs():
    text = str(_plan(0.208, 0.832))
    assert "update_fleet_capacity" in text and "web-fleet" in text
    assert "set_desired_capacity(web-fleet, 20)" in text
    assert "0.2080" in text and "0.8320" in text and "+0.6240" in text
    assert "nothing changed" in text
    assert "-0.6240" in str(_plan(0.832, 0.208))


def test_plan_html_is_a_table_with_hourly_and_monthly_change():
    html = _plan(0.208, 0.832)._repr_html_()
    assert "<table class='clusterdb-table clusterdb-plan'" in html and "update_fleet_capacity" in html
    assert "$0.21/h" in html and "+$0.62/h" in html and "+$455.52/month" in html


def test_model_repr_html_contains_field_values_escaped():
    cfg = FleetConfig("web-fleet", "Web & <App> Fleet").with_capacity(5).with_instance_type("t3.medium").with_tags(TAGS)
    html = cfg._repr_html_()
    assert "<table" in html and "FleetConfig" in html
    for value in ("web-fleet", "t3.medium", ">5<", "production", "managed-by"):
        assert value in html
    assert "Web &amp; &lt;App&gt; Fleet" in html
    assert "<App>" not in html


# --------------------------------------------------------------------------- fuzzing: only ValidationError ever escapes

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=80),
    st.binary(max_size=20),
    st.sampled_from([int, float, str, bytes, complex, datetime.date, decimal.Decimal]).flatmap(st.from_type),
)
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
NAMEISH = st.one_of(st.from_regex(r"[a-z][a-z0-9-]{0,70}", fullmatch=True), st.text(max_size=70))
INTISH = st.one_of(st.integers(-5, 12000), st.just(-(2**70)), st.just(2**70))
TAGISH = st.dictionaries(st.text(max_size=70), st.one_of(st.text(max_size=270), ANYTHING), max_size=55)


def maybe(value_strategy):
    """Valid-ish values most of the time, anything at all otherwise."""
    return st.one_of(value_strategy, value_strategy, ANYTHING)


FLEET_KWARGS = st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(NAMEISH),
        "description": maybe(st.text()),
        "capacity": maybe(INTISH),
        "min_capacity": maybe(INTISH),
        "max_capacity": maybe(INTISH),
        "instance_type": maybe(st.text(max_size=20)),
        "tags": maybe(TAGISH),
        "provider": maybe(st.sampled_from(["aws", "gcp", "azure", "local"])),
        "region": ANYTHING,
        "spot": ANYTHING,
        "image": ANYTHING,
        "networking": ANYTHING,
    },
)
AUTOSCALING_KWARGS = st.fixed_dictionaries(
    {},
    optional={
        "min_capacity": maybe(INTISH),
        "max_capacity": maybe(INTISH),
        "target_cpu_utilization": maybe(st.floats()),
        "cooldown_seconds": maybe(INTISH),
    },
)
FUNCTION_KWARGS = st.fixed_dictionaries(
    {},
    optional={
        "name": maybe(NAMEISH),
        "runtime": maybe(st.sampled_from(["python3.12", "nodejs20.x", "java21", "python2.7"]) | st.text(max_size=15)),
        "handler": maybe(st.from_regex(r"[a-z_]{1,5}(\.[a-z_]{1,5}){0,2}", fullmatch=True)),
        "memory_mb": maybe(INTISH),
        "timeout_sec": maybe(INTISH),
        "environment": maybe(st.dictionaries(st.text(max_size=10), st.text(max_size=10) | ANYTHING, max_size=4)),
        "code": ANYTHING,
        "provider": ANYTHING,
    },
)
EXTRA_KWARGS = st.dictionaries(st.text(min_size=1, max_size=10), ANYTHING, max_size=2)

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _only_validation_error(build):
    try:
        build()
        event("accepted")
    except cdb.ValidationError as err:
        event("rejected")
        assert isinstance(err, ValueError)
        assert isinstance(err.field, str) and err.field
        assert isinstance(err.rule, str) and err.rule


@FUZZ
@given(positional=st.lists(maybe(NAMEISH), max_size=2), kwargs=FLEET_KWARGS, extra=EXTRA_KWARGS | st.just({}))
def test_fuzz_fleet_config_raises_only_validation_error(positional, kwargs, extra):
    def build():
        cfg = FleetConfig(*positional, **{**extra, **kwargs})
        cfg._repr_html_()

    _only_validation_error(build)


@FUZZ
@given(kwargs=AUTOSCALING_KWARGS, extra=EXTRA_KWARGS | st.just({}))
def test_fuzz_autoscaling_config_raises_only_validation_error(kwargs, extra):
    _only_validation_error(lambda: AutoScalingConfig(**{**extra, **kwargs}))


@FUZZ
@given(kwargs=FUNCTION_KWARGS, extra=EXTRA_KWARGS | st.just({}))
def test_fuzz_function_config_raises_only_validation_error(kwargs, extra):
    _only_validation_error(lambda: FunctionConfig(**{**extra, **kwargs}))


@FUZZ
@given(data=ANYTHING)
def test_fuzz_model_validate_raises_only_validation_error(data):
    _only_validation_error(lambda: FleetConfig.model_validate(data))


def test_with_bounds_validates_against_the_capacity() -> None:
    cfg = cdb.FleetConfig("web", capacity=4).with_bounds(2, 8)
    assert (cfg.min_capacity, cfg.capacity, cfg.max_capacity) == (2, 4, 8)
    with pytest.raises(cdb.ValidationError) as err:
        cfg.with_bounds(5, 8)
    assert err.value.field == "capacity"


# --------------------------------------------------------------------------- issue 9: no silent wrong results


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: FleetConfig("web\n"), "name"),
        (lambda: FleetConfig("web", tags={"team\n": "ops"}), "tags"),
        (lambda: FleetConfig("web", tags={"team": "ops\n"}), "tags"),
        (lambda: FunctionConfig(name="fn\n"), "name"),
        (lambda: FunctionConfig(name="fn", runtime="python3.12\n"), "runtime"),
        (lambda: FunctionConfig(name="fn", handler="main.handler\n"), "handler"),
        (lambda: FunctionConfig(name="fn", environment={"STAGE\n": "dev"}), "environment"),
    ],
    ids=["fleet-name", "tag-key", "tag-value", "function-name", "runtime", "handler", "env-key"],
)
def test_trailing_newline_is_refused_everywhere(build, field):
    with raises_validation(field):
        build()


@pytest.mark.parametrize("field", ["instance_type", "region", "provider"])
@pytest.mark.parametrize("value", ["", " ", "t3.medium\n", "t3 medium"])
def test_blank_or_spaced_identifiers_are_refused(field, value):
    with raises_validation(field, "letters, digits"):
        FleetConfig("web", **{field: value})


@pytest.mark.parametrize("value", ["t3.medium", "e2-standard-4", "Standard_D2s_v3", "us-east-1", "local"])
def test_real_identifiers_are_accepted(value):
    assert FleetConfig("web", instance_type=value, region=value).instance_type == value


@pytest.mark.parametrize("field", ["capacity", "min_capacity", "max_capacity"])
@pytest.mark.parametrize("value", [True, False, 1.0, "1", [1]])
def test_counts_are_strict_integers(field, value):
    with raises_validation(field, "integer"):
        FleetConfig("web", **{field: value})


def test_numpy_integers_are_counts():
    cfg = FleetConfig("web", capacity=np.int64(4), max_capacity=np.int32(9))
    assert (cfg.capacity, cfg.max_capacity) == (4, 9) and type(cfg.capacity) is int


@pytest.mark.parametrize("field", ["capacity", "min_capacity", "max_capacity"])
@pytest.mark.parametrize("value", [2**63, 2**62, 10**7, cdb.models.MAX_CAPACITY + 1])
def test_capacities_have_a_sanity_cap(field, value):
    with raises_validation(field, str(cdb.models.MAX_CAPACITY)):
        FleetConfig("web", **{field: value})


def test_huge_with_capacity_fails_fast_not_hangs():
    cfg = FleetConfig("web", max_capacity=cdb.models.MAX_CAPACITY)
    with raises_validation("capacity", "less than or equal"):
        cfg.with_capacity(2**62)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"min_capacity": True}, "min_capacity"),
        ({"max_capacity": 2**63}, "max_capacity"),
        ({"cooldown_seconds": True}, "cooldown_seconds"),
        ({"cooldown_seconds": 300.0}, "cooldown_seconds"),
        ({"cooldown_seconds": 10**12}, "cooldown_seconds"),
        ({"target_cpu_utilization": float("nan")}, "target_cpu_utilization"),
        ({"target_cpu_utilization": float("inf")}, "target_cpu_utilization"),
        ({"target_cpu_utilization": True}, "target_cpu_utilization"),
    ],
)
def test_autoscaling_numbers_are_strict_and_finite(kwargs, field):
    with raises_validation(field):
        AutoScalingConfig(**kwargs)


@pytest.mark.parametrize(
    ("field", "value"), [("memory_mb", True), ("memory_mb", 256.0), ("timeout_sec", True), ("reserved_concurrency", True)]
)
def test_function_counts_are_strict(field, value):
    with raises_validation(field, "integer"):
        FunctionConfig(name="fn", **{field: value})


def test_autoscaling_coerce_accepts_the_model_or_a_dict():
    policy = AutoScalingConfig(min_capacity=2, max_capacity=8)
    assert AutoScalingConfig.coerce(policy) is policy
    assert AutoScalingConfig.coerce({"min_capacity": 2, "max_capacity": 8}) == policy
    with raises_validation("max_capacity"):
        AutoScalingConfig.coerce({"min_capacity": 2, "max_capacity": True})
    with raises_validation("config", "AutoScalingConfig"):
        AutoScalingConfig.coerce([2, 8])


def test_configure_auto_scaling_accepts_a_dict(s):
    s.create_fleet(FleetConfig("web", capacity=2, max_capacity=10))
    fleet = s.configure_auto_scaling("web", {"min_capacity": 1, "max_capacity": 6, "target_cpu_utilization": 60.0})
    assert fleet.auto_scaling == AutoScalingConfig(min_capacity=1, max_capacity=6, target_cpu_utilization=60.0)
    plan = s.configure_auto_scaling("web", {"min_capacity": 3, "max_capacity": 6}, dry_run=True)
    assert isinstance(plan, Plan)
    with raises_validation("max_capacity"):
        s.configure_auto_scaling("web", {"min_capacity": 1, "max_capacity": "many"})
    with raises_validation("config"):
        s.configure_auto_scaling("web", 5)


@pytest.mark.parametrize(
    "build",
    [
        lambda: FleetConfig("web", capacity=True),
        lambda: FleetConfig("web", instance_type=""),
        lambda: FleetConfig("web", max_capacity=2**63),
        lambda: FleetConfig("web", min_capacity=5, max_capacity=2),
        lambda: FleetConfig("Web"),
        lambda: AutoScalingConfig(target_cpu_utilization=float("inf")),
        lambda: cloud_rules.LAMBDA.check(FunctionConfig(name="fn", runtime="cobol")),
    ],
)
def test_every_model_error_names_its_field_and_a_fix(build):
    with pytest.raises(cdb.ValidationError) as info:
        build()
    err = info.value
    assert err.field and str(err).startswith(f"{err.field}: ")
    assert err.solution and err.solution != cdb.ValidationError.default_solution


@pytest.mark.parametrize("code", ["~no-such-user-cdb/handlers", "~0"])
def test_code_path_of_an_unknown_user_is_a_validation_error(code):
    # pathlib raises RuntimeError for "~user" of an unknown user (found by the fuzz test)
    with raises_validation("code", "readable"):
        FunctionConfig(name="fn", code=code)
