"""Azure's error table: azure-core exceptions and ARM error codes, by kind (see ``kit.error_codes``).

ARM answers a failed request with ``{"error": {"code": ..., "message": ...}}``; azure-core raises
``HttpResponseError`` carrying it as ``.error`` (a failed long-running operation too, with the code
of its final status). Throttling (429 with ``Retry-After``) and 5xx are retried by azure-core's
``RetryPolicy`` (``retry_total`` in the config) before they ever get here::

    >>> translate(HttpResponseError(response=r409), "azure", "create_fleet")   # OperationNotAllowed
    QuotaExceededError('Failed to create resources: OperationNotAllowed: ... exceeding approved ... quota ...')
"""

from __future__ import annotations

from azure.core.exceptions import (
    ClientAuthenticationError,
    HttpResponseError,
    ResourceExistsError,
    ResourceNotFoundError,
    ServiceRequestError,
    ServiceResponseError,
)

from ..kit.error_codes import Coded, ErrorTable, Kind, Rule, Wording

__all__ = ["TABLE", "translate"]

THROTTLE_CODES = frozenset({"TooManyRequests", "SubscriptionRequestsThrottled", "OperationPreempted"})
QUOTA_CODES = frozenset({"QuotaExceeded", "SkuNotAvailableInSubscription"})
CAPACITY_CODES = frozenset({"AllocationFailed", "ZonalAllocationFailed", "OverconstrainedAllocationRequest", "SkuNotAvailable"})
DENIED_CODES = frozenset({"AuthorizationFailed", "LinkedAuthorizationFailed", "Forbidden"})
AUTH_CODES = frozenset({"InvalidAuthenticationToken", "ExpiredAuthenticationToken", "AuthenticationFailed"})
CONFLICT_CODES = frozenset({"Conflict", "OperationNotAllowed", "PropertyChangeNotAllowed", "ResourceExists"})
INVALID_CODES = frozenset({"InvalidParameter", "BadRequest", "InvalidRequestContent", "InvalidTemplate"})


def _coded(exc: BaseException) -> Coded | None:
    if not isinstance(exc, HttpResponseError):
        return None
    error = exc.error
    code = getattr(error, "code", None)
    if code is None:
        status = exc.status_code
        if status is None:
            return None
        code = {429: "TooManyRequests", 404: "NotFound", 401: "AuthenticationFailed", 403: "Forbidden"}.get(
            status, f"HTTP{status}"
        )
    message = getattr(error, "message", None) or exc.reason or ""
    return Coded(str(code), str(message))


QUOTA_WORDING = Wording(
    cause="The subscription's vCPU quota in this location is used up",
    solution="Request a quota increase (Azure portal > Quotas > Compute), or use fewer or smaller VMs",
)
TABLE = ErrorTable(
    cloud="Azure",
    coded=_coded,
    rules=(
        Rule(Kind.AUTH, codes=AUTH_CODES),
        Rule(Kind.DENIED, codes=DENIED_CODES),
        Rule(Kind.THROTTLED, codes=THROTTLE_CODES),
        # ARM reports an exhausted vCPU quota as OperationNotAllowed ("... exceeding approved ... quota")
        Rule(Kind.QUOTA, codes=frozenset({"OperationNotAllowed"}), message_has="quota", wording=QUOTA_WORDING),
        Rule(Kind.QUOTA, codes=QUOTA_CODES, wording=QUOTA_WORDING),
        Rule(
            Kind.CAPACITY,
            codes=CAPACITY_CODES,
            wording=Wording(
                cause="Azure has no capacity for this VM size in this location now (or the size is not offered here)",
                solution="Try another VM size or location, or retry later",
            ),
        ),
        Rule(  # a configuration error, not a missing fleet or instance
            Kind.INVALID,
            codes=frozenset({"ResourceGroupNotFound"}),
            wording=Wording(
                "resource_group: {text}",
                field="resource_group",
                rule="an existing resource group",
                cause="The configured resource group does not exist in this subscription",
                solution="Create it (az group create -n <name> -l <location>) or fix resource_group in the azure config",
            ),
        ),
        Rule(Kind.NOT_FOUND, codes=frozenset({"NotFound"}), suffixes=("NotFound",)),
        Rule(Kind.NOT_FOUND, types=(ResourceNotFoundError,)),
        Rule(Kind.CONFLICT, codes=CONFLICT_CODES, types=(ResourceExistsError,)),
        Rule(Kind.INVALID, codes=INVALID_CODES, wording=Wording(solution="Correct the named value and try again")),
        Rule(Kind.UNAVAILABLE, prefixes=("HTTP5",), codes=frozenset({"InternalServerError", "ServiceUnavailable"})),
        Rule(
            Kind.AUTH,
            types=(ClientAuthenticationError,),
            wording=Wording(
                solution="Sign in (az login), or set credentials (client_id/client_secret) and tenant_id in the azure config"
            ),
        ),
        Rule(Kind.NETWORK, types=(ServiceRequestError, ServiceResponseError)),
    ),
    wording={
        Kind.DENIED: Wording(
            solution="Grant this identity a role with the permission for {call} on the resource group "
            "(e.g. Contributor); see `clusterdb compute status --provider azure`"
        ),
        Kind.THROTTLED: Wording(
            "{call} was still throttled after azure-core's retries: {text}",
            cause="Too many requests to Azure Resource Manager (429)",
            solution="Retry later, or raise retry_total in the azure config",
        ),
        Kind.NETWORK: Wording(cause="No route to management.azure.com (network, proxy or firewall)"),
    },
)
translate = TABLE.translate
