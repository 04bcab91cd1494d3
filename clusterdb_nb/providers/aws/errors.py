"""botocore errors as clusterdb_nb errors.

    >>> exc = ClientError({"Error": {"Code": "ExpiredToken", "Message": "..."}}, "DescribeInstances")
    >>> translate(exc, "aws", "list_instances")
    AuthenticationError('Failed to authenticate with provider: ExpiredToken: ...')

Throttling is retried by botocore's own retry mode before it ever gets here;
what still fails is reported by kind: credentials, quota, not found, conflict,
bad request, network, and everything else as ProviderError.
"""

from __future__ import annotations

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    SSOError,
    TokenRetrievalError,
    UnknownCredentialError,
    WaiterError,
)

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

AUTH_CODES = frozenset(
    {
        "AuthFailure",
        "ExpiredToken",
        "ExpiredTokenException",
        "IncompleteSignature",
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "MissingAuthenticationToken",
        "RequestExpired",
        "SignatureDoesNotMatch",
        "UnrecognizedClientException",
    }
)
DENIED_CODES = frozenset({"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "OptInRequired"})
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchResourceException", "NoSuchEntity"})
CONFLICT_CODES = frozenset(
    {"AlreadyExists", "ResourceConflictException", "ResourceInUse", "IncorrectInstanceState", "ScalingActivityInProgress"}
)
THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"})
INVALID_CODES = frozenset({"ValidationError", "ValidationException", "InvalidParameterCombination", "MissingParameter"})
CREDENTIAL_ERRORS = (
    NoCredentialsError,
    PartialCredentialsError,
    CredentialRetrievalError,
    TokenRetrievalError,
    SSOError,
    ProfileNotFound,
    UnknownCredentialError,
)
NETWORK_ERRORS = (EndpointConnectionError, ConnectTimeoutError, ReadTimeoutError, ConnectionClosedError)


def _client_error(exc: ClientError, where: dict[str, str]) -> ComputeError:
    error = exc.response.get("Error", {})
    code = str(error.get("Code", "Unknown"))
    text = f"{code}: {error.get('Message', '')}".rstrip(": ")
    call = exc.operation_name
    if code in AUTH_CODES:
        return AuthenticationError(f"Failed to authenticate with provider: {text}", **where)
    if code in DENIED_CODES:
        return AuthenticationError(
            f"Not allowed to call {call}: {text}",
            cause="The credentials are valid but lack the permission for this call",
            solution=f"Grant the IAM permission for {call} to this identity (see `clusterdb compute status --provider aws`)",
            **where,
        )
    if code in THROTTLE_CODES:
        return ProviderError(
            f"{call} was still throttled after botocore's retries: {text}",
            cause="Too many requests to the AWS API",
            solution="Retry later, or raise max_attempts / use retry_mode 'adaptive' in the aws config",
            **where,
        )
    if "LimitExceeded" in code or code in ("ServiceQuotaExceededException", "InsufficientInstanceCapacity"):
        return QuotaExceededError(f"Failed to create resources: {text}", **where)
    if (
        code in NOT_FOUND_CODES
        or code.endswith(("NotFound", "NotFoundException", ".Malformed"))
        or (code == "ValidationError" and "not found" in text)
    ):
        return NotFoundError(text, **where)
    if code in CONFLICT_CODES or "AlreadyExists" in code:
        return ConflictError(text, **where)
    if code in INVALID_CODES or code.startswith(("InvalidParameter", "InvalidRequest")):
        return ValidationError(
            f"AWS rejected {call}: {text}",
            field="request",
            rule=code,
            solution="Correct the named value and try again",
            **where,
        )
    return ProviderError(f"{call} failed: {text}", **where)


def translate(exc: BaseException, provider: str, operation: str) -> BaseException:
    """The clusterdb_nb error for a botocore ``exc``; anything else is returned unchanged."""
    where = {"provider": provider, "operation": operation}
    if isinstance(exc, ClientError):
        return _client_error(exc, where)
    if isinstance(exc, CREDENTIAL_ERRORS):
        return AuthenticationError(
            f"Failed to authenticate with provider: {exc}",
            solution="Set credentials in the aws config section, AWS_PROFILE, or the environment (aws configure)",
            **where,
        )
    if isinstance(exc, NETWORK_ERRORS):
        return NetworkError(
            f"Cannot reach AWS: {exc}",
            cause="No route to the AWS endpoint (network, proxy, firewall or a wrong endpoint_url)",
            **where,
        )
    if isinstance(exc, NoRegionError):
        return ValidationError("region: no AWS region configured", field="region", rule="an AWS region", **where)
    if isinstance(exc, ParamValidationError):
        return ValidationError(f"request: {exc}", field="request", rule="botocore parameter validation", **where)
    if isinstance(exc, WaiterError):
        return ProviderError(f"Gave up waiting: {exc}", cause="The resource did not settle in time", **where)
    if isinstance(exc, BotoCoreError):
        return ProviderError(str(exc), **where)
    return exc
