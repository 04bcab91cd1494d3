import numpy as np
import pandas as pd
import pytest

T0 = pd.Timestamp("2026-01-05T00:00:00Z")


@pytest.fixture
def cpu_trace():
    """Build a 1-minute CPU % Series from (cpu %, minutes) runs: cpu_trace((50, 10), (20, 30))."""

    def build(*runs):
        values = np.concatenate([np.full(n, float(v)) for v, n in runs])
        return pd.Series(values, index=pd.date_range(T0, periods=len(values), freq="1min"))

    return build
