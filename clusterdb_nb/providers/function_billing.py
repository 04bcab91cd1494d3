"""How each cloud bills a serverless function invocation (list prices, no free tier).

    >>> rule = BILLING["aws"]
    >>> int(rule.billed_ms(12.3))                      # AWS rounds up to the next 1 ms
    13
    >>> float(rule.cost_usd(rule.billed_ms(1000.0), 1024))   # one request of 1 s at 1 GB
    1.68667e-05

AWS Lambda: $0.20 per 1M requests + $0.0000166667 per GB-second (x86), 1 ms
steps; since August 2025 the init phase of a cold start is billed too.
Google Cloud Functions (1st gen): $0.40 per 1M invocations, 100 ms steps,
$0.0000025 per GB-second + $0.00001 per GHz-second of the memory tier's CPU.
Azure Functions (Consumption): $0.20 per 1M executions, $0.000016 per
GB-second of the observed memory rounded up to 128 MB, at least 100 ms.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BILLING", "FunctionBilling", "GCP_TIER_GHZ", "GCP_TIERS_MB"]

# Cloud Functions 1st gen memory tiers (MB) and the CPU clock (GHz) each comes with.
GCP_TIERS_MB = np.array([128, 256, 512, 1024, 2048, 4096, 8192])
GCP_TIER_GHZ = np.array([0.2, 0.4, 0.8, 1.4, 2.4, 4.8, 4.8])


@dataclass(frozen=True)
class FunctionBilling:
    """One cloud's rule. Every method takes scalars or numpy arrays (one entry per invocation)."""

    provider: str
    per_million_requests_usd: float
    per_gb_second_usd: float
    step_ms: int
    minimum_ms: int
    per_ghz_second_usd: float = 0.0
    bills_init: bool = False
    observed_memory: bool = False  # Azure bills the memory used, not the memory configured
    memory_tiers: bool = False  # GCP bills the memory tier at or above the memory configured, with its CPU

    def billed_ms(self, duration_ms: Any, init_ms: Any = 0.0) -> Any:
        """Billed duration: rounded up to the cloud's step, at least its minimum."""
        total = np.asarray(duration_ms, dtype=float)
        if self.bills_init:
            total = total + np.nan_to_num(np.asarray(init_ms, dtype=float))
        steps = np.ceil(np.round(total / self.step_ms, 6))
        return np.maximum(steps * self.step_ms, self.minimum_ms).astype(np.int64)

    def billed_memory_mb(self, memory_mb: Any, memory_used_mb: Any = 0) -> Any:
        """The memory the GB-seconds are counted on."""
        if self.observed_memory:
            used = np.maximum(np.asarray(memory_used_mb, dtype=float), 1.0)
            return (np.ceil(used / 128.0) * 128.0).astype(np.int64)
        memory = np.asarray(memory_mb, dtype=np.int64)
        if self.memory_tiers:
            return GCP_TIERS_MB[np.minimum(np.searchsorted(GCP_TIERS_MB, memory), len(GCP_TIERS_MB) - 1)]
        return memory

    def cost_usd(self, billed_ms: Any, memory_mb: Any, memory_used_mb: Any = 0) -> Any:
        """Cost of each invocation: its request charge plus its compute charge."""
        seconds = np.asarray(billed_ms, dtype=float) / 1000.0
        memory = self.billed_memory_mb(memory_mb, memory_used_mb)
        compute = seconds * memory / 1024.0 * self.per_gb_second_usd
        if self.memory_tiers:
            ghz = GCP_TIER_GHZ[np.searchsorted(GCP_TIERS_MB, memory)]
            compute = compute + seconds * ghz * self.per_ghz_second_usd
        return np.round(self.per_million_requests_usd / 1e6 + compute, 12)


BILLING: dict[str, FunctionBilling] = {
    "aws": FunctionBilling("aws", 0.20, 0.0000166667, step_ms=1, minimum_ms=1, bills_init=True),
    "gcp": FunctionBilling("gcp", 0.40, 0.0000025, step_ms=100, minimum_ms=100, per_ghz_second_usd=0.00001, memory_tiers=True),
    "azure": FunctionBilling("azure", 0.20, 0.000016, step_ms=1, minimum_ms=100, observed_memory=True),
}
