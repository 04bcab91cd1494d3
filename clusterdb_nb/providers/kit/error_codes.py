"""Cloud errors as clusterdb_nb errors, from each cloud's table of codes and SDK exceptions.

A cloud brings an ``ErrorTable``: how to read a code and message off its SDK's
errors (``coded``), and ordered ``Rule`` s mapping codes or exception types to
a ``Kind``. The kit turns the kind into our error with the wording every cloud
shares, which a table or a single rule may override (``Wording``)::

    >>> table = ErrorTable(
    ...     cloud="Google Cloud",
    ...     coded=lambda exc: Coded(exc.reason, exc.message) if isinstance(exc, GoogleAPICallError) else None,
    ...     rules=(
    ...         Rule(Kind.CAPACITY, codes=frozenset({"ZONE_RESOURCE_POOL_EXHAUSTED"})),
    ...         Rule(Kind.QUOTA, suffixes=("QUOTA_EXCEEDED",)),
    ...         Rule(Kind.DENIED, types=(PermissionDenied,)),
    ...     ),
    ... )
    >>> table.translate(exc, "gcp", "create_fleet")
    QuotaExceededError('Google Cloud has no capacity for this request now: ZONE_RESOURCE_POOL_EXHAUSTED: ...')

The first matching rule wins; an error with a code that no rule matches is a
``ProviderError``; any other exception is returned unchanged (not the SDK's).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

from ...errors import (
    AuthenticationError,
    ComputeError,
    ConflictError,
    NetworkError,
    NotFoundError,
    ProviderError,
    QuotaExceededError,
    ValidationError,
)

__all__ = ["Coded", "ErrorTable", "Kind", "Rule", "Wording"]


class Kind(enum.Enum):
    """What went wrong, whatever the cloud calls it."""

    AUTH = "auth"  # no, invalid or expired credentials
    DENIED = "denied"  # valid credentials without the permission
    THROTTLED = "throttled"  # still rate-limited after the SDK's retries
    QUOTA = "quota"  # an account or project limit
    CAPACITY = "capacity"  # the cloud is out of that machine type there (a stockout)
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"  # exists already, or in the wrong state
    INVALID = "invalid"  # the cloud rejected a value of the request
    NETWORK = "network"  # the endpoint cannot be reached
    UNAVAILABLE = "unavailable"  # the service failed (5xx) after the SDK's retries
    TIMEOUT = "timeout"  # gave up waiting for a resource or an operation
    OTHER = "other"


@dataclass(frozen=True)
class Wording:
    """How an error reads; ``None`` keeps the wording from the level below (rule > table > kit > error class).

    Each text is a ``str.format`` template over ``{cloud}``, ``{call}``, ``{code}`` and ``{text}``.
    ``field`` and ``rule`` are used by ``Kind.INVALID`` (our ``ValidationError``).
    """

    message: str | None = None
    cause: str | None = None
    solution: str | None = None
    field: str | None = None
    rule: str | None = None

    def over(self, below: Wording) -> Wording:
        """This wording, with ``below``'s where this one says nothing."""
        return Wording(**{f.name: getattr(self, f.name) or getattr(below, f.name) for f in fields(self)})


@dataclass(frozen=True)
class Coded:
    """The code and message an SDK error carries, and the API call that failed (``None``: our operation)."""

    code: str
    message: str = ""
    call: str | None = None

    @property
    def text(self) -> str:
        """``"Code: message"`` as errors show it."""
        return f"{self.code}: {self.message}".rstrip(": ")


@dataclass(frozen=True)
class Rule:
    """One line of a cloud's table: errors of ``types``, or whose code is listed or shaped so, are of ``kind``.

    ``message_has`` narrows the rule to errors whose text contains it
    (e.g. AWS's ``ValidationError`` that says "not found").
    """

    kind: Kind
    codes: frozenset[str] = frozenset()
    prefixes: tuple[str, ...] = ()
    suffixes: tuple[str, ...] = ()
    contains: tuple[str, ...] = ()
    types: tuple[type[BaseException], ...] = ()
    message_has: str | None = None
    wording: Wording = Wording()

    def matches(self, exc: BaseException, coded: Coded | None) -> bool:
        by_type = bool(self.types) and isinstance(exc, self.types)
        by_code = coded is not None and (
            coded.code in self.codes
            or coded.code.startswith(self.prefixes)
            or coded.code.endswith(self.suffixes)
            or any(part in coded.code for part in self.contains)
        )
        text = coded.text if coded is not None else str(exc)
        return (by_type or by_code) and (self.message_has is None or self.message_has in text)


ERRORS: dict[Kind, type[ComputeError]] = {
    Kind.AUTH: AuthenticationError,
    Kind.DENIED: AuthenticationError,
    Kind.THROTTLED: ProviderError,
    Kind.QUOTA: QuotaExceededError,
    Kind.CAPACITY: QuotaExceededError,
    Kind.NOT_FOUND: NotFoundError,
    Kind.CONFLICT: ConflictError,
    Kind.INVALID: ValidationError,
    Kind.NETWORK: NetworkError,
    Kind.UNAVAILABLE: ProviderError,
    Kind.TIMEOUT: ProviderError,
    Kind.OTHER: ProviderError,
}
WORDING: dict[Kind, Wording] = {
    Kind.AUTH: Wording("Failed to authenticate with provider: {text}"),
    Kind.DENIED: Wording(
        "Not allowed to call {call}: {text}",
        cause="The credentials are valid but lack the permission for this call",
        solution="Grant the permission for {call} to this identity (see `clusterdb compute status`)",
    ),
    Kind.THROTTLED: Wording(
        "{call} was still throttled after the SDK's retries: {text}",
        cause="Too many requests to the {cloud} API",
        solution="Retry later",
    ),
    Kind.QUOTA: Wording("Failed to create resources: {text}"),
    Kind.CAPACITY: Wording(
        "{cloud} has no capacity for this request now: {text}",
        cause="The zone has run out of this machine type for now (a stockout)",
        solution="Try another zone or machine type, or retry later",
    ),
    Kind.NOT_FOUND: Wording("{text}"),
    Kind.CONFLICT: Wording("{text}"),
    Kind.INVALID: Wording("{cloud} rejected {call}: {text}", field="request", rule="{code}"),
    Kind.NETWORK: Wording("Cannot reach {cloud}: {text}"),
    Kind.UNAVAILABLE: Wording(
        "{call} failed: {text}",
        cause="The {cloud} service failed to answer, even after the SDK's retries",
        solution="Retry later; if it persists, check the cloud's service health page",
    ),
    Kind.TIMEOUT: Wording("Gave up waiting: {text}", cause="The resource did not settle in time"),
    Kind.OTHER: Wording("{call} failed: {text}"),
}


@dataclass(frozen=True)
class ErrorTable:
    """One cloud's error codes: how to read them (``coded``), the ordered ``rules``, and its own ``wording``."""

    cloud: str
    coded: Callable[[BaseException], Coded | None]
    rules: tuple[Rule, ...]
    wording: Mapping[Kind, Wording] = field(default_factory=dict)

    def _match(self, exc: BaseException, coded: Coded | None) -> Rule | None:
        """The first matching rule; for an error with a code that none matches, ``OTHER``."""
        for rule in self.rules:
            if rule.matches(exc, coded):
                return rule
        return Rule(Kind.OTHER) if coded is not None else None

    def error(
        self,
        kind: Kind,
        text: str,
        provider: str,
        operation: str,
        *,
        call: str | None = None,
        code: str = "",
        wording: Wording = Wording(),
    ) -> ComputeError:
        """Our error of ``kind`` for the SDK's ``text``, worded by ``wording`` over the table's and the kit's."""
        w = wording.over(self.wording.get(kind, Wording())).over(WORDING[kind])
        values = {"cloud": self.cloud, "call": call or operation, "code": code, "text": text}

        def fill(template: str | None) -> str | None:
            return template.format(**values) if template is not None else None

        message = fill(w.message) or text
        where = {"provider": provider, "operation": operation, "cause": fill(w.cause), "solution": fill(w.solution)}
        if kind is Kind.INVALID:
            return ValidationError(message, field=fill(w.field), rule=fill(w.rule), **where)
        return ERRORS[kind](message, **where)

    def translate(self, exc: BaseException, provider: str, operation: str) -> BaseException:
        """Our error for the SDK error ``exc`` in ``operation``; any other exception is returned unchanged."""
        coded = self.coded(exc)
        rule = self._match(exc, coded)
        if rule is None:
            return exc
        text = coded.text if coded is not None else str(exc)
        call, code = (coded.call, coded.code) if coded is not None else (None, "")
        return self.error(rule.kind, text, provider, operation, call=call, code=code, wording=rule.wording)
