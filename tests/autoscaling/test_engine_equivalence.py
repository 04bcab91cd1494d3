"""Each vectorized engine makes exactly the reference engine's decisions, on random traces and policies.

The reference engines are the readable specification (one policy, one step at a
time); the vectorized ones run many policies at once for ``tune``. Hypothesis
draws demand as runs of levels (so alarms, windows and cooldowns really
trigger), policies of every shape, the step and the provider's own options, and
the two must agree on capacity and serving instances at every step and on the
number of scaling actions.
"""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import clusterdb_nb as cdb
from clusterdb_nb.autoscaling import (
    AwsOptions,
    AzureOptions,
    AzureRule,
    GcpOptions,
    GcpScaleInControl,
    HpaBehavior,
    HpaScalingPolicy,
    HpaScalingRules,
    KubernetesOptions,
)
from clusterdb_nb.autoscaling.engines import ENGINES, forecast_for
from clusterdb_nb.autoscaling.fleet import Policies, run_reference

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def demands(draw):
    """Demand in instance-units: runs of a level held for a while, now and then zero; sometimes a day's
    pattern repeated over days, so that predictive scaling's forecast has history."""
    runs = draw(st.lists(st.tuples(st.one_of(st.just(0.0), st.floats(0, 14)), st.integers(1, 30)), min_size=1, max_size=12))
    demand = np.concatenate([np.full(n, level) for level, n in runs])
    return np.tile(demand, draw(st.sampled_from([1, 1, 40])))[:3000]


@st.composite
def policies(draw):
    count = draw(st.integers(1, 6))
    configs, initial = [], []
    for _ in range(count):
        lo = draw(st.integers(0, 3))
        hi = draw(st.integers(max(lo, 1), lo + 12))
        target = draw(st.one_of(st.sampled_from([25.0, 50.0, 70.0, 100.0]), st.floats(5, 100)))
        cooldown = draw(st.sampled_from([0, 30, 60, 90, 120, 300, 600]))
        configs.append(
            cdb.AutoScalingConfig(min_capacity=lo, max_capacity=hi, target_cpu_utilization=target, cooldown_seconds=cooldown)
        )
        initial.append(draw(st.integers(lo, hi)))
    return configs, initial


steps = st.sampled_from([15, 30, 60, 60, 300])

aws_options = st.builds(
    AwsOptions,
    instance_warmup=st.one_of(st.none(), st.sampled_from([0, 45, 60, 200])),
    disable_scale_in=st.booleans(),
    metric_period=st.one_of(st.none(), st.sampled_from([60, 300])),
    predictive=st.sampled_from([None, "forecast_only", "forecast_and_scale"]),
    scheduling_buffer=st.sampled_from([0, 300, 900]),
)
boots = st.sampled_from([0, 30, 60, 200])

gcp_options = st.builds(
    GcpOptions,
    initialization_period=st.one_of(st.none(), st.sampled_from([0, 60, 150])),
    mode=st.sampled_from(["ON", "ON", "ONLY_SCALE_OUT", "OFF"]),
    predictive=st.booleans(),
    scale_in_control=st.one_of(
        st.none(),
        st.builds(
            GcpScaleInControl, max_scaled_in_replicas=st.integers(0, 4), time_window_seconds=st.sampled_from([60, 600, 1200])
        ),
        st.builds(GcpScaleInControl, max_scaled_in_percent=st.integers(0, 100), time_window_seconds=st.sampled_from([300, 900])),
    ),
)

azure_rules = st.builds(
    AzureRule,
    direction=st.sampled_from(["Increase", "Decrease"]),
    operator=st.sampled_from(["GreaterThan", "GreaterThanOrEqual", "LessThan", "LessThanOrEqual"]),
    threshold=st.one_of(st.sampled_from([20.0, 50.0, 80.0, 100.0]), st.floats(0, 100)),
    time_window=st.sampled_from([300, 600, 900]),
    time_aggregation=st.sampled_from(["Average", "Minimum", "Maximum", "Last"]),
    type=st.sampled_from(["ChangeCount", "PercentChangeCount", "ExactCount"]),
    value=st.integers(0, 5),
    cooldown=st.one_of(st.none(), st.sampled_from([60, 300])),
)
azure_options = st.builds(
    AzureOptions,
    rules=st.one_of(st.none(), st.lists(azure_rules, min_size=1, max_size=4)),
    default_capacity=st.one_of(st.none(), st.integers(0, 6)),
)

hpa_policy = st.builds(
    HpaScalingPolicy,
    type=st.sampled_from(["Pods", "Percent"]),
    value=st.integers(1, 150),
    period_seconds=st.sampled_from([15, 60, 180]),
)
hpa_rules = st.builds(
    HpaScalingRules,
    stabilization_window_seconds=st.sampled_from([0, 60, 300]),
    select_policy=st.sampled_from(["Max", "Min", "Disabled"]),
    policies=st.lists(hpa_policy, min_size=1, max_size=3),
)
kubernetes_options = st.builds(
    KubernetesOptions,
    behavior=st.one_of(st.none(), st.just(HpaBehavior()), st.builds(HpaBehavior, scale_up=hpa_rules, scale_down=hpa_rules)),
    tolerance=st.sampled_from([0.0, 0.1, 0.25]),
    initial_readiness_delay=st.sampled_from([0, 30, 60, 150]),
)


def assert_same_decisions(provider, options, demand, drawn, step, boot=60):
    configs, initial = drawn
    predicted = forecast_for(options, demand, step)
    run = ENGINES[provider].simulate_many(Policies.of(configs, initial), options, demand, step, boot, **predicted)
    for i, config in enumerate(configs):
        engine = ENGINES[provider].reference(config, options, step, **predicted)
        capacity, serving, activities = run_reference(engine, demand, step, initial[i], boot)
        np.testing.assert_array_equal(run.capacity[:, i], capacity, err_msg=f"capacity of {config}")
        np.testing.assert_array_equal(run.serving[:, i], serving, err_msg=f"serving of {config}")
        assert run.actions[i] == len(activities)


@SETTINGS
@given(demand=demands(), drawn=policies(), step=steps, options=aws_options, boot=boots)
def test_aws_vectorized_equals_reference(demand, drawn, step, options, boot):
    assert_same_decisions("aws", options, demand, drawn, step, boot)


@SETTINGS
@given(demand=demands(), drawn=policies(), step=steps, options=gcp_options, boot=boots)
def test_gcp_vectorized_equals_reference(demand, drawn, step, options, boot):
    assert_same_decisions("gcp", options, demand, drawn, step, boot)


@SETTINGS
@given(demand=demands(), drawn=policies(), step=steps, options=azure_options, boot=boots)
def test_azure_vectorized_equals_reference(demand, drawn, step, options, boot):
    assert_same_decisions("azure", options, demand, drawn, step, boot)


@SETTINGS
@given(demand=demands(), drawn=policies(), step=steps, options=kubernetes_options, boot=boots)
def test_kubernetes_vectorized_equals_reference(demand, drawn, step, options, boot):
    assert_same_decisions("kubernetes", options, demand, drawn, step, boot)


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure", "kubernetes"])
def test_engines_scale_on_a_real_trace_and_agree(provider):
    """Not vacuous: on a real trace every engine changes capacity many times, identically both ways."""
    from clusterdb_nb.autoscaling import example_trace, load_trace

    demand = load_trace(example_trace("cpu_utilization_asg_misconfiguration"), "1min", observed_capacity=6).demand[:3000]
    configs = [
        cdb.AutoScalingConfig(min_capacity=1, max_capacity=12, target_cpu_utilization=t, cooldown_seconds=c)
        for t, c in [(50, 60), (70, 300)]
    ]
    options = {"aws": AwsOptions(), "gcp": GcpOptions(), "azure": AzureOptions(), "kubernetes": KubernetesOptions()}[provider]
    run = ENGINES[provider].simulate_many(Policies.of(configs, [3, 3]), options, demand, 60)
    assert (run.actions >= 3).all()
    assert_same_decisions(provider, options, demand, (configs, [3, 3]), 60)
