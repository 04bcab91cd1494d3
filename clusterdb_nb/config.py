"""The YAML configuration (``compute`` and ``fleet`` sections), with ``${VAR}`` and ``${VAR:-default}``.

    >>> cfg = load_config({"compute": {"default_provider": "local", "providers": {"local": {"clock": "virtual"}}}})
    >>> cfg.compute.providers.local.clock
    'virtual'

Secrets are ``SecretStr``: they never show in a repr, a DataFrame, a log line
or an error message.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from pydantic import ConfigDict, Field, SecretStr, model_validator
from typing_extensions import Self

from .config_keys import check_keys
from .errors import ValidationError
from .models import Model, cross_field

_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


class Section(Model):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class AwsCredentials(Section):
    access_key: SecretStr
    secret_key: SecretStr
    session_token: SecretStr | None = None


class AwsConfig(Section):
    region: str = "us-east-1"
    credentials: AwsCredentials | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_attempts: int = Field(5, ge=1)
    function_role_arn: str | None = None


class GcpConfig(Section):
    project_id: str
    credentials_file: str | None = None
    region: str = "us-central1"
    zone: str | None = None


class AzureConfig(Section):
    subscription_id: str
    tenant_id: str | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None
    resource_group: str = "clusterdb"
    location: str = "eastus"


class LocalConfig(Section):
    """The embedded local cloud.

    ``path`` is the SQLite state file (``":memory:"`` allowed; default
    ``$CLUSTERDB_HOME/local.db`` or the user data dir). ``clock`` is
    ``"wall"`` or ``"virtual"`` (advanced by hand with ``s.local.advance``).
    Functions are billed by ``function_billing``'s rule, a worker idle for
    ``function_idle_seconds`` (local clock) is stopped, and a function without
    ``reserved_concurrency`` runs at most ``function_concurrency`` invocations at once.
    Fleets with an auto-scaling policy are scaled by the ``autoscaler`` cloud's rules
    (see ``clusterdb_nb.autoscaling``), evaluated every local minute.
    """

    path: str | None = None
    clock: Literal["wall", "virtual"] = "wall"
    seed: int = 0
    start: datetime = datetime(2026, 1, 5, tzinfo=timezone.utc)
    boot_seconds: float = Field(40.0, ge=0)
    stop_seconds: float = Field(20.0, ge=0)
    terminate_seconds: float = Field(15.0, ge=0)
    region: str = "local"
    function_billing: Literal["aws", "gcp", "azure"] = "aws"
    function_idle_seconds: float = Field(600.0, gt=0)
    function_concurrency: int = Field(10, ge=1)
    autoscaler: Literal["aws", "gcp", "azure", "kubernetes"] = "aws"

    def state_path(self) -> str:
        """Where the state lives: ``path``, else ``$CLUSTERDB_HOME``, else the user data dir."""
        if self.path == ":memory:":
            return self.path
        if self.path:
            path = Path(self.path).expanduser()
            path.parent.mkdir(parents=True, exist_ok=True)
            return str(path)
        home = os.environ.get("CLUSTERDB_HOME")
        if not home:
            import platformdirs

            home = platformdirs.user_data_dir("clusterdb-nb", appauthor=False)
        Path(home).mkdir(parents=True, exist_ok=True)
        return str(Path(home) / "local.db")


class ProvidersConfig(Section):
    """One section per provider; third-party providers keep their own dict."""

    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True)

    aws: AwsConfig | None = None
    gcp: GcpConfig | None = None
    azure: AzureConfig | None = None
    local: LocalConfig | None = None

    def sections(self) -> dict[str, Any]:
        """Configured providers by name, in the order they were written."""
        out = {name: getattr(self, name) for name in ("aws", "gcp", "azure", "local") if getattr(self, name) is not None}
        out.update(self.model_extra or {})
        return out


class ComputeSection(Section):
    default_provider: str = "local"
    providers: ProvidersConfig = Field(default_factory=lambda: ProvidersConfig(local=LocalConfig()))

    @model_validator(mode="after")
    def _default_is_configured(self) -> Self:
        names = list(self.providers.sections())
        if not names:
            raise cross_field("providers", "at least one provider", "configure at least one provider")
        if self.default_provider not in names:
            raise cross_field(
                "default_provider",
                "a configured provider",
                f"{self.default_provider!r} is not one of the configured providers {names}",
            )
        return self


class Networking(Section):
    vpc_id: str | None = None
    subnet_ids: list[str] = Field(default_factory=list)
    security_group_ids: list[str] = Field(default_factory=list)


class FleetDefaults(Section):
    default_instance_type: str = "t3.medium"
    default_capacity: int = Field(3, ge=0)
    default_min_capacity: int = Field(0, ge=0)
    default_max_capacity: int = Field(100, ge=0)
    tags: dict[str, str] = Field(default_factory=dict)
    networking: Networking = Field(default_factory=Networking)


class ClusterConfig(Section):
    """The whole file: ``compute`` and ``fleet``."""

    compute: ComputeSection = Field(default_factory=ComputeSection)
    fleet: FleetDefaults = Field(default_factory=FleetDefaults)


def interpolate(value: Any, where: str = "") -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of ``value``."""
    if isinstance(value, dict):
        return {k: interpolate(v, f"{where}.{k}" if where else str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, f"{where}[{i}]") for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value

    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in os.environ:
            return os.environ[name]
        if default is not None:
            return default
        raise ValidationError(
            f"{where}: environment variable {name} is not set",
            field=where,
            rule="referenced environment variable must be set",
            solution=f"export {name}=... or write ${{{name}:-default}} in the config",
        )

    return _VAR.sub(repl, value)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def load_config(source: str | os.PathLike[str] | dict[str, Any] | ClusterConfig | None = None, **overrides: Any) -> ClusterConfig:
    """Read and validate a config from a YAML path or a dict.

    ``overrides`` have the shape of provider sections and are merged in:
    ``load_config("c.yaml", aws={"region": "eu-west-1"})``. With no source,
    the local cloud alone is configured.
    """
    if isinstance(source, ClusterConfig):
        raw: dict[str, Any] = source.model_dump(mode="python", exclude_unset=True)
    elif source is None:
        raw = {}
    elif isinstance(source, dict):
        raw = source
    elif not isinstance(source, (str, os.PathLike)):
        raise ValidationError(
            f"config: expected a YAML path or a dict (got {type(source).__name__})", field="config", rule="path or dict"
        )
    else:
        import yaml

        try:
            text = Path(source).read_text()
        except OSError as exc:
            raise ValidationError(f"config: cannot read {source}: {exc.strerror}", field="config", rule="readable file") from None
        try:
            raw = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ValidationError(f"config: {source} is not valid YAML: {exc}", field="config", rule="valid YAML") from None
    if not isinstance(raw, dict):
        raise ValidationError("config: the top level must be a mapping", field="config", rule="mapping")
    raw = interpolate(raw)
    compute = raw.get("compute", {})
    if isinstance(compute, dict) and isinstance(compute.get("providers", {}), dict):
        providers = compute.get("providers") or {}
        if overrides:
            providers = _deep_merge(providers, overrides)
        if not providers:
            providers = {"local": {}}
        compute = {**compute, "providers": providers}
        if "default_provider" not in compute and len(providers) == 1:
            compute["default_provider"] = next(iter(providers))
        raw = {**raw, "compute": compute}
    check_keys(ClusterConfig, raw)
    return ClusterConfig.model_validate(raw)
