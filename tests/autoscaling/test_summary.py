"""The compiled summary equals the numpy definition: utilization, minutes and numpy's 95th percentile."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from clusterdb_nb.autoscaling.summary import summarize, utilization


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 400), policies=st.integers(1, 5), seed=st.integers(0, 2**32 - 1), top=st.sampled_from([1.0, 6.0, 50.0]))
def test_compiled_summary_equals_the_numpy_definition(n, policies, seed, top):
    rng = np.random.default_rng(seed)
    serving = rng.integers(0, 6, (n, policies)).astype(np.uint8)
    capacity = serving + rng.integers(0, 2, (n, policies)).astype(np.uint8)
    demand = np.where(rng.random(n) < 0.2, 0.0, rng.random(n) * top)
    target = rng.uniform(20, 100, policies)
    figures = summarize(capacity, serving, np.arange(policies), demand, target, 60, 0.5)
    util = utilization(demand, serving)
    np.testing.assert_array_equal(figures["p95_utilization"], np.percentile(util, 95, axis=0))
    np.testing.assert_array_equal(figures["minutes_saturated"], (util >= 100.0).sum(axis=0))
    np.testing.assert_array_equal(figures["minutes_above_target"], (util > target).sum(axis=0))
    np.testing.assert_array_equal(figures["instance_hours"], capacity.sum(axis=0) / 60.0)
    np.testing.assert_array_equal(figures["cost_usd"], capacity.sum(axis=0) / 60.0 * 0.5)
