"""Each cloud's own rules, as data its config section carries (``Section.rules``).

The generic models check only what every cloud shares (names, formats, a safe
zip). What one cloud takes — its function runtimes, reserved environment keys,
code and environment sizes, networking fields, default machine type and image —
lives here, and the manager checks a request against its provider section's
rules before any adapter is called::

    >>> LAMBDA.check_function(FunctionConfig(name="fn", runtime="ruby3.2"))
    Traceback (most recent call last):
    ValidationError: runtime: AWS Lambda does not run 'ruby3.2' ...
    >>> AWS.default_instance_type, GCP.default_instance_type, AZURE.default_instance_type
    ('t3.medium', 'e2-medium', 'Standard_B2s')

A new adapter writes one ``ProviderRules`` (and a ``Networking`` model) and sets
it as its config section's ``rules``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

import pydantic
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from .code_zip import check_zip_size
from .errors import ValidationError
from .models import FunctionConfig


def _invalid(field_name: str, detail: str, rule: str, solution: str) -> ValidationError:
    return ValidationError(f"{field_name}: {detail}", field=field_name, rule=rule, solution=solution)


@dataclass(frozen=True)
class FunctionRules:
    """What one cloud's function service takes: runtimes, reserved keys and sizes."""

    cloud: str
    runtimes: re.Pattern[str]
    runtime_examples: str
    reserved_env_keys: frozenset[str] = frozenset()
    reserved_env_prefixes: tuple[str, ...] = ()
    max_env_bytes: int = 4096
    max_zip_bytes: int = 50 * 2**20
    max_unzipped_bytes: int = 250 * 2**20
    memory_mb: tuple[int, int] = (128, 10240)
    timeout_sec: tuple[int, int] = (1, 900)

    def check(self, config: FunctionConfig) -> None:
        """Raise ValidationError naming the field when ``config`` breaks one of this cloud's rules."""
        if not self.runtimes.fullmatch(config.runtime):
            raise _invalid(
                "runtime",
                f"{self.cloud} does not run {config.runtime!r} (known runtimes: {self.runtime_examples})",
                f"a known runtime such as {self.runtime_examples}",
                f"Choose a runtime {self.cloud} offers, e.g. {self.runtime_examples.split(',')[0]}",
            )
        for name, unit in (("memory_mb", "MB"), ("timeout_sec", "s")):
            lo, hi = getattr(self, name)
            value = getattr(config, name)
            if not lo <= value <= hi:
                raise _invalid(
                    name,
                    f"{self.cloud} takes {lo} to {hi} {unit} (got {value})",
                    f"{lo} <= {name} <= {hi}",
                    f"Give {name} between {lo} and {hi}",
                )
        for key in config.environment:
            if key in self.reserved_env_keys or key.startswith(self.reserved_env_prefixes):
                raise _invalid(
                    "environment",
                    f"environment key {key!r} is reserved: {self.cloud}'s runtime sets it",
                    "no reserved environment keys",
                    f"Rename {key!r} (e.g. APP_{key})",
                )
        size = sum(len(k.encode()) + len(v.encode()) for k, v in config.environment.items())
        if size > self.max_env_bytes:
            limit = f"{self.max_env_bytes // 1024} KB"
            raise _invalid(
                "environment",
                f"environment variables must total at most {limit} on {self.cloud} (got {size} bytes)",
                f"environment <= {limit}",
                "Move large values into the code or a file the function reads",
            )
        if config.code is not None:
            check_zip_size(config.code, self.max_zip_bytes, self.max_unzipped_bytes, self.cloud)


class Networking(BaseModel):
    """A cloud's networking fields for a fleet (each cloud subclasses it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class NoNetworking(Networking):
    """A cloud that takes no networking fields (the local cloud)."""

    model_config = ConfigDict(frozen=True, extra="allow")


_SUBNET = Annotated[str, StringConstraints(pattern=r"^subnet-[0-9a-f]+$")]
_GROUP = Annotated[str, StringConstraints(pattern=r"^sg-[0-9a-f]+$")]


def _one_or_many(value: Any) -> Any:
    """A single id stands for a list of one, as the AWS adapter takes it."""
    return [value] if isinstance(value, str) and value.startswith(("subnet-", "sg-")) else value


class AwsNetworking(Networking):
    """Where an AWS fleet's instances go: ``vpc_id``, ``subnet_ids``, ``security_group_ids``."""

    vpc_id: str | None = Field(None, pattern=r"^vpc-[0-9a-f]+$")
    subnet_ids: Annotated[list[_SUBNET], BeforeValidator(_one_or_many)] = Field(default_factory=list)
    security_group_ids: Annotated[list[_GROUP], BeforeValidator(_one_or_many)] = Field(default_factory=list)


class GcpNetworking(Networking):
    """A Google Cloud fleet's VPC ``network`` and regional ``subnetwork`` (names or self-links)."""

    network: str | None = None
    subnetwork: str | None = None


class AzureNetworking(Networking):
    """An Azure fleet's ``subnet_id`` (the subnet's resource id)."""

    subnet_id: str | None = Field(None, pattern=r"^/subscriptions/.+/subnets/[^/]+$")


@dataclass(frozen=True)
class ProviderRules:
    """One cloud's defaults and checks, carried by its config section as ``rules``."""

    cloud: str
    default_instance_type: str
    functions: FunctionRules
    networking: type[Networking] = NoNetworking
    default_image: str | None = None

    def check_function(self, config: FunctionConfig) -> None:
        """Raise ValidationError unless this cloud's function service takes ``config``."""
        self.functions.check(config)

    def check_networking(self, networking: dict[str, Any]) -> dict[str, Any]:
        """``networking`` checked against this cloud's fields (ValidationError naming ``networking.<field>``)."""
        try:
            checked = self.networking.model_validate(networking)
        except pydantic.ValidationError as exc:
            err = exc.errors()[0]
            name = ".".join(["networking", *(str(p) for p in err["loc"][:1])])
            fields = ", ".join(self.networking.model_fields) or "none"
            raise _invalid(
                name,
                f"{err['msg']} (got {err['input']!r})",
                f"{self.cloud} networking fields: {fields}",
                f"Give {self.cloud}'s networking fields ({fields}) in FleetConfig.networking or fleet.networking",
            ) from None
        return checked.model_dump(exclude_defaults=True)


_LAMBDA_RESERVED = frozenset(
    "AWS_REGION AWS_DEFAULT_REGION AWS_EXECUTION_ENV AWS_LAMBDA_FUNCTION_NAME AWS_LAMBDA_FUNCTION_MEMORY_SIZE "
    "AWS_LAMBDA_FUNCTION_VERSION AWS_LAMBDA_INITIALIZATION_TYPE AWS_LAMBDA_LOG_GROUP_NAME AWS_LAMBDA_LOG_STREAM_NAME "
    "AWS_ACCESS_KEY AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_LAMBDA_RUNTIME_API "
    "LAMBDA_TASK_ROOT LAMBDA_RUNTIME_DIR".split()
)
LAMBDA = FunctionRules(
    cloud="AWS Lambda",
    runtimes=re.compile(r"python3\.(9|1[0-4])|nodejs(18|20|22)\.x|java(11|17|21)|go1\.x|dotnet[68]|provided(\.al2(023)?)?"),
    runtime_examples="python3.12, nodejs20.x, java21",
    reserved_env_keys=_LAMBDA_RESERVED,
)
"""AWS Lambda's rules (the local cloud runs the same, so a function moves between them unchanged)."""

CLOUD_FUNCTIONS = FunctionRules(
    cloud="Google Cloud Functions",
    runtimes=re.compile(
        r"python3\.?(9|10|11|12|13)|nodejs(18|20|22)(\.x)?|go1(21|22|23)|java(17|21)|ruby3(2|3)|php8(2|3)|dotnet[68]"
    ),
    runtime_examples="python312 (or python3.12), nodejs20, go122",
    reserved_env_keys=frozenset("ENTRY_POINT PORT K_SERVICE K_REVISION K_CONFIGURATION".split()),
    reserved_env_prefixes=("X_GOOGLE_", "FIREBASE_CONFIG"),
    max_env_bytes=32 * 1024,
    max_zip_bytes=100 * 2**20,
    max_unzipped_bytes=500 * 2**20,
    memory_mb=(128, 32768),
    timeout_sec=(1, 3600),
)
"""Cloud Functions (2nd gen) rules: Google names runtimes without dots (``python312``); Lambda's spelling
(``python3.12``, ``nodejs20.x``) is accepted too and sent as Google's, so one FunctionConfig deploys everywhere."""

AZURE_FUNCTIONS = FunctionRules(
    cloud="Azure Functions",
    runtimes=re.compile(r"python3\.(10|11|12)"),
    runtime_examples="python3.11, python3.12",
    reserved_env_keys=frozenset("FUNCTIONS_WORKER_RUNTIME FUNCTIONS_EXTENSION_VERSION AzureWebJobsStorage".split()),
    reserved_env_prefixes=("WEBSITE_", "AzureWebJobs"),
    max_env_bytes=64 * 1024,
    max_zip_bytes=1024 * 2**20,
    max_unzipped_bytes=1024 * 2**20,
    memory_mb=(128, 4096),  # up to Flex Consumption's largest instance memory (rounded up to a size by the adapter)
    timeout_sec=(1, 3600),
)
"""Azure Functions (Flex Consumption, Linux Python) rules."""

AWS = ProviderRules("aws", "t3.medium", LAMBDA, AwsNetworking)
LOCAL = ProviderRules("local", "t3.medium", LAMBDA, NoNetworking)
GCP = ProviderRules(
    "gcp", "e2-medium", CLOUD_FUNCTIONS, GcpNetworking, default_image="projects/debian-cloud/global/images/family/debian-12"
)
AZURE = ProviderRules(
    "azure", "Standard_B2s", AZURE_FUNCTIONS, AzureNetworking, default_image="Canonical:ubuntu-24_04-lts:server:latest"
)
PLUGIN = ProviderRules(
    "plugin",
    "t3.medium",
    FunctionRules(
        "the provider",
        re.compile(r"[a-z][a-z0-9._-]{0,63}"),
        "python3.12",
        max_env_bytes=2**20,
        memory_mb=(128, 32768),
        timeout_sec=(1, 3600),
    ),
    NoNetworking,
)
"""A third-party provider's section (a dict): formats only, the adapter checks the rest."""

__all__ = [
    "AWS",
    "AZURE",
    "AZURE_FUNCTIONS",
    "CLOUD_FUNCTIONS",
    "GCP",
    "LAMBDA",
    "LOCAL",
    "PLUGIN",
    "AwsNetworking",
    "AzureNetworking",
    "FunctionRules",
    "GcpNetworking",
    "Networking",
    "NoNetworking",
    "ProviderRules",
]
