"""Google Cloud's error table: ``google.api_core`` exceptions and the errors of finished operations.

A failed Compute Engine operation is raised by ``ExtendedOperation.result()`` as an HTTP-status
exception whose ``errors`` carry the operation's codes, so both read the same way::

    >>> translate(Forbidden("Quota 'CPUS' exceeded", errors=[{"reason": "QUOTA_EXCEEDED"}]), "gcp", "create_fleet")
    QuotaExceededError('Failed to create resources: QUOTA_EXCEEDED: ...')
"""

from __future__ import annotations

import concurrent.futures

from google.api_core import exceptions as gexc
from google.auth import exceptions as auth_exc

from ..kit.error_codes import Coded, ErrorTable, Kind, Rule, Wording

__all__ = ["TABLE", "translate"]


def _coded(exc: BaseException) -> Coded | None:
    if isinstance(exc, gexc.RetryError) and exc.cause is not None:  # retried past the deadline: the last answer's code
        exc = exc.cause
    if not isinstance(exc, gexc.GoogleAPICallError):
        return None
    code, message = None, ""
    for item in exc.errors or ():  # an operation's errors carry the code and the detailed message
        get = item.get if isinstance(item, dict) else lambda key, item=item: getattr(item, key, None)
        code, message = get("reason") or get("code"), get("message") or ""
        if code:
            break
    return Coded(str(code or exc.reason or type(exc).__name__), str(message or exc.message or ""))


TABLE = ErrorTable(
    cloud="Google Cloud",
    coded=_coded,
    rules=(
        Rule(Kind.CAPACITY, prefixes=("ZONE_RESOURCE_POOL_EXHAUSTED",), codes=frozenset({"STOCKOUT"})),
        Rule(
            Kind.QUOTA,
            suffixes=("QUOTA_EXCEEDED",),
            codes=frozenset({"quotaExceeded"}),
            wording=Wording(
                cause="The project's quota in this region is used up",
                solution="Request a higher quota (IAM & Admin > Quotas), use a smaller machine type, or free capacity",
            ),
        ),
        Rule(Kind.THROTTLED, codes=frozenset({"rateLimitExceeded", "userRateLimitExceeded"}), types=(gexc.TooManyRequests,)),
        Rule(Kind.CONFLICT, codes=frozenset({"alreadyExists", "RESOURCE_ALREADY_EXISTS", "resourceInUseByAnotherResource"})),
        Rule(Kind.CONFLICT, types=(gexc.Conflict, gexc.AlreadyExists, gexc.FailedPrecondition)),
        Rule(Kind.NOT_FOUND, codes=frozenset({"notFound", "RESOURCE_NOT_FOUND"}), types=(gexc.NotFound,)),
        Rule(Kind.AUTH, types=(gexc.Unauthenticated, gexc.Unauthorized, auth_exc.DefaultCredentialsError, auth_exc.RefreshError)),
        Rule(Kind.DENIED, types=(gexc.Forbidden, gexc.PermissionDenied)),
        Rule(
            Kind.INVALID,
            types=(gexc.BadRequest, gexc.InvalidArgument),
            wording=Wording(solution="Correct the named value and try again"),
        ),
        Rule(Kind.UNAVAILABLE, types=(gexc.ServerError,)),
        Rule(Kind.TIMEOUT, types=(gexc.RetryError, gexc.DeadlineExceeded, concurrent.futures.TimeoutError)),
        Rule(Kind.NETWORK, types=(auth_exc.TransportError, ConnectionError)),
    ),
    wording={
        Kind.THROTTLED: Wording(
            "{call} was still rate-limited after google.api_core's retries: {text}",
            cause="Too many requests to the Google Cloud API",
            solution="Retry later, or raise retry_deadline_seconds in the gcp config",
        ),
        Kind.DENIED: Wording(
            solution="Grant the IAM role for {call} to this identity (see `clusterdb compute status --provider gcp`)"
        ),
        Kind.AUTH: Wording(
            cause="No usable Google credentials",
            solution="Set credentials_file in the gcp config, or run `gcloud auth application-default login`",
        ),
    },
)
translate = TABLE.translate
