"""One error hierarchy for every provider.

Each error carries the provider and operation it came from, a ``cause`` and a
``solution`` line (what went wrong and what to do), and shows in IPython as
a short box instead of an SDK traceback::

    >>> raise QuotaExceededError("Failed to create instance", provider="aws",
    ...                          operation="create_fleet")
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "as_called",
    "AuthenticationError",
    "ComputeError",
    "ConflictError",
    "NetworkError",
    "NotFoundError",
    "NotSupportedError",
    "ProviderError",
    "QuotaExceededError",
    "ValidationError",
    "WaitTimeoutError",
]


class ComputeError(Exception):
    """Base of every clusterdb_nb error."""

    default_cause: ClassVar[str] = "The provider reported an error"
    default_solution: ClassVar[str] = "Check the provider's status with `clusterdb compute status`"

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        operation: str | None = None,
        cause: str | None = None,
        solution: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.provider = provider
        self.operation = operation
        self.cause = cause or self.default_cause
        self.solution = solution or self.default_solution

    def __str__(self) -> str:
        where = "/".join(p for p in (self.provider, self.operation) if p)
        return f"[{where}] {self.message}" if where else self.message

    def lines(self) -> list[str]:
        """The error as three lines: the error, its cause, the solution."""
        return [
            f"{type(self).__name__}: {self}",
            f"Cause: {self.cause}",
            f"Solution: {self.solution}",
        ]

    def _render_traceback_(self) -> list[str]:
        # IPython calls this instead of printing the full traceback.
        return self.lines()


class ValidationError(ComputeError, ValueError):
    """Bad input, rejected before any provider is called.

    ``field`` names the offending input and ``rule`` the rule it broke.
    """

    default_cause = "The input breaks a validation rule"
    default_solution = "Correct the named field and try again"

    def __init__(self, message: str, *, field: str | None = None, rule: str | None = None, **kw: str | None) -> None:
        self.field = field
        self.rule = rule
        super().__init__(message, **kw)


class AuthenticationError(ComputeError):
    default_cause = "Invalid or expired credentials"
    default_solution = "Verify and update provider credentials"


class QuotaExceededError(ComputeError):
    default_cause = "Resource quota exceeded"
    default_solution = "Request quota increase or cleanup unused resources"


class NetworkError(ComputeError):
    default_cause = "Security group/firewall rules or no route to the provider"
    default_solution = "Verify network configuration and rules"


class NotFoundError(ComputeError, LookupError):
    default_cause = "No such resource in any configured provider"
    default_solution = "List resources with s.fleets() / s.instances() and check the id or name"


class ConflictError(ComputeError):
    default_cause = "The resource is not in a state that allows this operation"
    default_solution = "Wait for the resource to settle or change its state first"


class NotSupportedError(ComputeError, NotImplementedError):
    default_cause = "The provider does not offer this operation"
    default_solution = "Use a provider that supports it (see s.status())"


class ProviderError(ComputeError):
    default_cause = "The provider's API returned an unexpected error"
    default_solution = "Retry later; if it persists, check the provider's service health"


def as_called(err: ComputeError, operation: str, manager: Any) -> ComputeError:
    """``err`` naming the ``operation`` the user called (not the lookup inside it) and, when only one
    provider is configured, that provider. ``operation`` is kept as it is unless ``manager`` has a method of that name.

    >>> as_called(NotFoundError("no fleet 'x' in local", operation="get_fleet"), "update_fleet_capacity", manager)
    """
    if not operation.startswith("_") and callable(getattr(manager, operation, None)):
        err.operation = operation
    if err.provider is None and len(manager.providers) == 1:
        err.provider = next(iter(manager.providers))
    return err


class WaitTimeoutError(ComputeError, TimeoutError):
    """``s.wait`` gave up: ``waiting`` maps each instance (or fleet) not there yet to its state."""

    default_cause = "The instances did not reach the state in time"
    default_solution = "Look at them with s.instances() and wait longer"

    def __init__(self, message: str, *, waiting: dict[str, str] | None = None, **kw: str | None) -> None:
        self.waiting = waiting or {}
        super().__init__(message, **kw)
