"""AWS's error table: botocore error codes and exceptions, by kind (see ``kit.error_codes``).

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

from ..kit.error_codes import Coded, ErrorTable, Kind, Rule, Wording

__all__ = ["TABLE", "translate"]

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
THROTTLE_CODES = frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"})
QUOTA_CODES = frozenset({"ServiceQuotaExceededException", "InsufficientInstanceCapacity"})
NOT_FOUND_CODES = frozenset({"ResourceNotFoundException", "NoSuchResourceException", "NoSuchEntity"})
CONFLICT_CODES = frozenset(
    {"AlreadyExists", "ResourceConflictException", "ResourceInUse", "IncorrectInstanceState", "ScalingActivityInProgress"}
)
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


def _coded(exc: BaseException) -> Coded | None:
    if not isinstance(exc, ClientError):
        return None
    error = exc.response.get("Error", {})
    return Coded(str(error.get("Code", "Unknown")), str(error.get("Message", "")), exc.operation_name)


TABLE = ErrorTable(
    cloud="AWS",
    coded=_coded,
    rules=(
        Rule(Kind.AUTH, codes=AUTH_CODES),
        Rule(Kind.DENIED, codes=DENIED_CODES),
        Rule(Kind.THROTTLED, codes=THROTTLE_CODES),
        Rule(Kind.QUOTA, codes=QUOTA_CODES, contains=("LimitExceeded",)),
        Rule(Kind.NOT_FOUND, codes=NOT_FOUND_CODES, suffixes=("NotFound", "NotFoundException", ".Malformed")),
        Rule(Kind.NOT_FOUND, codes=frozenset({"ValidationError"}), message_has="not found"),  # Auto Scaling's unknown group
        Rule(Kind.CONFLICT, codes=CONFLICT_CODES, contains=("AlreadyExists",)),
        Rule(
            Kind.INVALID,
            codes=INVALID_CODES,
            prefixes=("InvalidParameter", "InvalidRequest"),
            wording=Wording(solution="Correct the named value and try again"),
        ),
        Rule(
            Kind.AUTH,
            types=CREDENTIAL_ERRORS,
            wording=Wording(
                solution="Set credentials in the aws config section, AWS_PROFILE, or the environment (aws configure)"
            ),
        ),
        Rule(Kind.NETWORK, types=NETWORK_ERRORS),
        Rule(
            Kind.INVALID,
            types=(NoRegionError,),
            wording=Wording("region: no AWS region configured", field="region", rule="an AWS region"),
        ),
        Rule(
            Kind.INVALID,
            types=(ParamValidationError,),
            wording=Wording("request: {text}", rule="botocore parameter validation"),
        ),
        Rule(Kind.TIMEOUT, types=(WaiterError,)),
        Rule(Kind.OTHER, types=(BotoCoreError,), wording=Wording("{text}")),
    ),
    wording={
        Kind.DENIED: Wording(
            solution="Grant the IAM permission for {call} to this identity (see `clusterdb compute status --provider aws`)"
        ),
        Kind.THROTTLED: Wording(
            "{call} was still throttled after botocore's retries: {text}",
            cause="Too many requests to the AWS API",
            solution="Retry later, or raise max_attempts / use retry_mode 'adaptive' in the aws config",
        ),
        Kind.NETWORK: Wording(cause="No route to the AWS endpoint (network, proxy, firewall or a wrong endpoint_url)"),
    },
)
translate = TABLE.translate
