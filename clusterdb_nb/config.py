"""The YAML configuration (``compute`` and ``fleet`` sections), with ``${VAR}`` and ``${VAR:-default}``.

    >>> cfg = load_config({"compute": {"default_provider": "local", "providers": {"local": {"clock": "virtual"}}}})
    >>> cfg.compute.providers.local.clock
    'virtual'

Interpolation: ``${VAR}`` must be set; ``${VAR:-default}`` falls back to
``default``, which may itself hold references (``${A:-${B:-x}}``); ``$${``
is a literal ``${``. A ``${`` without its ``}`` is an error, never a literal.

Secrets are ``SecretStr``: they never show in a repr, a DataFrame, a log line
or an error message. In a plug-in provider's section (a plain dict), every
value under a key that looks secret (see ``models.is_secret_key``) becomes a
``SecretStr``. A YAML file is refused when it is not UTF-8, has a non-string
key, or expands its aliases beyond ``ALIAS_BUDGET`` nodes; a parse error shows
the offending line with its value redacted.
"""

from __future__ import annotations

import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator
from typing_extensions import Self

from . import cloud_rules
from .cloud_rules import ProviderRules
from .config_keys import check_keys
from .errors import ValidationError
from .models import Count, Identifier, Model, Seconds, StrictInt, cross_field, is_secret_key

__all__ = [
    "ALIAS_BUDGET",
    "AwsConfig",
    "AwsCredentials",
    "AzureConfig",
    "AZURE_RESERVED_USERNAMES",
    "AzureCredentials",
    "ClusterConfig",
    "ComputeSection",
    "FleetDefaults",
    "GcpConfig",
    "hide_secrets",
    "interpolate",
    "load_config",
    "LocalConfig",
    "MAX_VALUES",
    "Networking",
    "ProvidersConfig",
    "ProviderSection",
    "reveal_secrets",
    "rules_of",
    "Section",
    "SSH_KEY_TYPES",
    "ssh_public_key",
]


class Section(Model):
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class ProviderSection(Section):
    """A provider's config section; ``rules`` are its cloud's defaults and checks (``cloud_rules``).

    >>> GcpConfig(project_id="p").rules.default_instance_type
    'e2-medium'
    """

    rules: ClassVar[ProviderRules]


class AwsCredentials(Section):
    access_key: SecretStr
    secret_key: SecretStr
    session_token: SecretStr | None = None


class AwsConfig(ProviderSection):
    rules: ClassVar[ProviderRules] = cloud_rules.AWS
    region: str = "us-east-1"
    credentials: AwsCredentials | None = None
    profile: str | None = None
    endpoint_url: str | None = None
    retry_mode: Literal["standard", "adaptive"] = "standard"
    max_attempts: StrictInt = Field(5, ge=1, le=100)
    function_role_arn: str | None = None


class GcpConfig(ProviderSection):
    """Google Cloud's section (``e2-medium``, Debian 12 by default).

    ``zones`` limits a fleet to some of the region's zones (default: all of them).
    Credentials: ``credentials_file`` (a service-account key), else Application Default
    Credentials; ``credentials: anonymous`` only inside ``clusterdb_nb.testing.fake_gcp()``.
    Operations are polled every ``poll_seconds`` up to ``operation_timeout_seconds``; 429 and 503
    answers are retried by ``google.api_core.retry`` from ``retry_initial_seconds`` for up to
    ``retry_deadline_seconds``.
    """

    rules: ClassVar[ProviderRules] = cloud_rules.GCP
    project_id: str
    credentials_file: str | None = None
    credentials: Literal["anonymous"] | None = None
    region: str = "us-central1"
    zone: str | None = None
    zones: list[str] = Field(default_factory=list)
    poll_seconds: float = Field(1.0, gt=0, le=60)
    operation_timeout_seconds: float = Field(600.0, gt=0)
    retry_initial_seconds: float = Field(1.0, gt=0, le=60)
    retry_deadline_seconds: float = Field(60.0, gt=0)


class AzureCredentials(Section):
    """A service principal: the app's ``client_id`` and its ``client_secret`` (in ``tenant_id``)."""

    client_id: str
    client_secret: SecretStr


class AzureConfig(ProviderSection):
    """Azure's section: one subscription, resource group and location.

    ``credentials`` is a service principal, ``"anonymous"`` (a fixed token, for the offline fake
    ``clusterdb_nb.testing.fake_azure()`` only) or absent (``DefaultAzureCredential``: CLI login,
    managed identity, environment). Long-running operations are polled every ``poll_interval``;
    azure-core retries throttled and failed requests up to ``retry_total`` times. A fleet's VMs
    allow SSH only, for ``admin_username`` with ``ssh_public_key`` (an ``ssh-rsa``/``ssh-ed25519``
    key's text or the path of its ``.pub`` file; ``${VAR}`` works); creating a fleet needs it::

        >>> AzureConfig(subscription_id="0000", credentials="anonymous").location
        'eastus'
    """

    rules: ClassVar[ProviderRules] = cloud_rules.AZURE
    subscription_id: str = Field(min_length=1)
    tenant_id: str | None = None
    resource_group: str = Field("clusterdb", pattern=r"^[-\w.()]{1,90}$")
    location: str = Field("eastus", pattern=r"^[a-z0-9]+$")
    subnet_id: str | None = Field(None, pattern=r"^/subscriptions/.+/subnets/[^/]+$")
    credentials: AzureCredentials | Literal["anonymous"] | None = None
    poll_interval: Seconds = 5.0
    retry_total: StrictInt = Field(5, ge=0, le=50)
    admin_username: str = Field("azureuser", pattern=r"^[a-z_][a-z0-9_.-]{0,63}$")
    ssh_public_key: str | None = None

    @property
    def region(self) -> str:
        """Azure calls its regions locations."""
        return self.location

    @field_validator("admin_username")
    @classmethod
    def _admin_not_reserved(cls, value: str) -> str:
        if value in AZURE_RESERVED_USERNAMES:
            raise ValidationError(
                f"{value!r} is reserved by Azure for Linux VMs",
                rule="not one of Azure's reserved user names (root, admin, administrator, ...)",
                solution="Use another admin_username, e.g. azureuser",
            )
        return value

    @field_validator("ssh_public_key")
    @classmethod
    def _openssh_public_key(cls, value: str | None) -> str | None:
        return None if value is None else ssh_public_key(value)


AZURE_RESERVED_USERNAMES = frozenset(
    {
        "administrator",
        "admin",
        "user",
        "user1",
        "test",
        "user2",
        "test1",
        "user3",
        "admin1",
        "1",
        "123",
        "a",
        "actuser",
        "adm",
        "admin2",
        "aspnet",
        "backup",
        "console",
        "david",
        "guest",
        "john",
        "owner",
        "root",
        "server",
        "sql",
        "support",
        "support_388945a0",
        "sys",
        "test2",
        "test3",
        "user4",
        "user5",
    }
)
"""User names Azure refuses as a VM's admin (its ``osProfile.adminUsername`` documentation)."""
SSH_KEY_TYPES = ("ssh-rsa", "ssh-ed25519")
"""The public key types Azure accepts for Linux VMs: RSA (2048 bits or more) and Ed25519."""


def ssh_public_key(value: str) -> str:
    """An OpenSSH public key (``ssh-rsa``/``ssh-ed25519 AAAA... comment``), given as text or a file path.

    A path (``~`` expanded) is read; the key is checked, not trusted::

        >>> ssh_public_key("~/.ssh/id_ed25519.pub")  # doctest: +SKIP
        'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA... me@laptop'
    """
    import base64
    import binascii
    import struct

    text = value.strip()
    rule = "an OpenSSH public key 'ssh-rsa AAAA...' or 'ssh-ed25519 AAAA...' (or the path of a .pub file)"
    if not text.startswith(("ssh-", "ecdsa-", "sk-")):
        path = Path(text).expanduser()
        if not path.is_file():
            raise ValidationError(
                f"neither an OpenSSH public key nor a readable file: {text[:60]!r}",
                rule=rule,
                solution="Give the key text or the path of its .pub file, e.g. ssh_public_key: ~/.ssh/id_ed25519.pub",
            )
        text = path.read_text(encoding="utf-8", errors="replace").strip()
    parts = text.split()
    kind = parts[0] if parts else ""
    if kind not in SSH_KEY_TYPES:
        raise ValidationError(
            f"Azure accepts only {' and '.join(SSH_KEY_TYPES)} keys for Linux VMs, not {kind[:40]!r}",
            rule=rule,
            solution="Create one with `ssh-keygen -t ed25519` and give its .pub file",
        )
    try:
        blob = base64.b64decode(parts[1], validate=True) if len(parts) > 1 else b""
        (size,) = struct.unpack(">I", blob[:4])
        embedded = blob[4 : 4 + size].decode("ascii")
    except (binascii.Error, struct.error, UnicodeDecodeError):
        embedded = ""
    if embedded != kind:
        raise ValidationError(
            f"the {kind} key's base64 body is not a {kind} public key (truncated or pasted wrongly?)",
            rule=rule,
            solution="Copy the whole line of the .pub file, or give its path",
        )
    return " ".join(parts)


class LocalConfig(ProviderSection):
    """The embedded local cloud.

    ``path`` is the SQLite state file (``":memory:"`` allowed; default
    ``$CLUSTERDB_HOME/local.db`` or the user data dir). An empty ``path`` (say
    ``${STATE}`` with ``STATE=""``) is refused rather than silently meaning the
    default: leave ``path`` out for the default. ``clock`` is
    ``"wall"`` or ``"virtual"`` (advanced by hand with ``s.local.advance``).
    Functions are billed by ``function_billing``'s rule, a worker idle for
    ``function_idle_seconds`` (local clock) is stopped, and a function without
    ``reserved_concurrency`` runs at most ``function_concurrency`` invocations at once.
    Fleets with an auto-scaling policy are scaled by the ``autoscaler`` cloud's rules
    (see ``clusterdb_nb.autoscaling``), evaluated every local minute.
    """

    rules: ClassVar[ProviderRules] = cloud_rules.LOCAL
    path: str | None = None
    clock: Literal["wall", "virtual"] = "wall"
    seed: StrictInt = 0
    start: datetime = datetime(2026, 1, 5, tzinfo=timezone.utc)
    boot_seconds: Seconds = 40.0
    stop_seconds: Seconds = 20.0
    terminate_seconds: Seconds = 15.0
    region: Identifier = "local"
    function_billing: Literal["aws", "gcp", "azure"] = "aws"
    function_idle_seconds: Seconds = Field(600.0, gt=0)
    function_concurrency: StrictInt = Field(10, ge=1, le=1000)
    autoscaler: Literal["aws", "gcp", "azure", "kubernetes"] = "aws"

    @field_validator("path")
    @classmethod
    def _path_not_blank(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValidationError(
                "must not be empty (an environment variable set to an empty string?)",
                rule="a file path or ':memory:'",
                solution="remove `path` to use the default state file, or give a file path or ':memory:'",
            )
        if value is not None and "\0" in value:
            raise ValidationError(
                "must not contain a NUL byte", rule="a file path or ':memory:'", solution="give a file path without NUL bytes"
            )
        return value

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


def hide_secrets(value: Any, secret: bool = False) -> Any:
    """``value`` with everything under a secret-looking key (``models.is_secret_key``) as ``SecretStr``.

    >>> hide_secrets({"api_token": "abc", "key_name": "ops", "auth": {"password": 12345}})
    {'api_token': SecretStr('**********'), 'key_name': 'ops', 'auth': {'password': SecretStr('**********')}}
    """
    if isinstance(value, dict):
        return {k: hide_secrets(v, secret or (isinstance(k, str) and is_secret_key(k))) for k, v in value.items()}
    if isinstance(value, list):
        return [hide_secrets(v, secret) for v in value]
    if secret and isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return SecretStr(str(value))
    return value


def reveal_secrets(value: Any) -> Any:
    """The inverse of ``hide_secrets``, for a plug-in provider's own config model.

    >>> reveal_secrets({"token": SecretStr("abc")})
    {'token': 'abc'}
    """
    if isinstance(value, dict):
        return {k: reveal_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal_secrets(v) for v in value]
    return value.get_secret_value() if isinstance(value, SecretStr) else value


_SECTION_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,62}")
_BUILTIN_MODELS: dict[str, type[Section]] = {"aws": AwsConfig, "gcp": GcpConfig, "azure": AzureConfig, "local": LocalConfig}


class ProvidersConfig(Section):
    """One section per provider; a third-party provider's section stays a dict, its secrets hidden.

    A section's name is its kind, or it names its kind, so one cloud can appear several times
    (two regions, two accounts, two local clouds)::

        aws: {region: us-east-1}
        aws-eu: {kind: aws, region: eu-west-1}
        local-b: {kind: local, path: ~/clusterdb/b.db}

    A named section keeps its ``kind`` in its dict and is checked by its kind's model here.
    """

    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True)
    # A section's ``kind`` -> the model of a built-in kind (config_keys names unknown keys of named sections too).
    KIND_MODELS: ClassVar[dict[str, type[Section]]] = _BUILTIN_MODELS

    aws: AwsConfig | None = None
    gcp: GcpConfig | None = None
    azure: AzureConfig | None = None
    local: LocalConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _plugin_secrets(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        out: dict[str, Any] = {}
        for name, value in data.items():
            if isinstance(value, dict) and "kind" in value:
                value = cls._check_kind(name, value)
            out[name] = value if name in cls.model_fields else hide_secrets(value)
        return out

    @classmethod
    def _check_kind(cls, name: str, section: dict[str, Any]) -> dict[str, Any]:
        """A section's ``kind``: a string; for a built-in section name, that name; for a built-in kind, its model's rules."""
        kind = section["kind"]
        if not isinstance(kind, str) or not _SECTION_NAME.fullmatch(kind):
            raise ValidationError(
                f"{name}.kind: must be a provider name such as 'aws' or 'local' (got {kind!r})",
                field=f"{name}.kind",
                rule="a provider name",
            )
        rest = {k: v for k, v in section.items() if k != "kind"}
        if name in cls.model_fields:
            if kind != name:
                raise ValidationError(
                    f"{name}.kind: the section named {name!r} is of kind {name!r}, not {kind!r}",
                    field=f"{name}.kind",
                    rule="kind == the built-in section name",
                    solution=f"Give the {kind} section its own name, e.g. {kind}-2: {{kind: {kind}, ...}}",
                )
            return rest
        model = _BUILTIN_MODELS.get(kind)
        if model is not None:
            try:
                model.model_validate(rest)
            except ValidationError as exc:
                raise ValidationError(
                    f"{name}.{exc.message}", field=f"{name}.{exc.field or ''}".rstrip("."), rule=exc.rule, solution=exc.solution
                ) from None
        return section

    @model_validator(mode="after")
    def _one_state_file_per_local_cloud(self) -> Self:
        paths: dict[str, str] = {}
        for name, section in self.sections().items():
            if self.kind(name) != "local":
                continue
            path = section.path or "(the default state file)"
            if path != ":memory:" and path in paths:
                raise cross_field(
                    f"{name}.path",
                    "one state file per local section",
                    f"{paths[path]} already keeps its state in {path}; give {name} a path of its own",
                )
            paths[path] = name
        return self

    def sections(self) -> dict[str, Any]:
        """Configured providers by name (built-in names first): a built-in kind's section as its model, a plug-in's as a dict."""
        out = {name: getattr(self, name) for name in ("aws", "gcp", "azure", "local") if getattr(self, name) is not None}
        for name, section in (self.model_extra or {}).items():
            if isinstance(section, dict):
                section = {k: v for k, v in section.items() if k != "kind"}
                model = _BUILTIN_MODELS.get(self.kind(name))
                if model is not None:
                    section = model.model_validate(reveal_secrets(section))
            out[name] = section
        return out

    def kind(self, name: str) -> str:
        """The provider kind of section ``name``: its ``kind`` key, else its name.

        >>> load_config(None, aws_eu={"kind": "aws", "region": "eu-west-1"}).compute.providers.kind("aws_eu")
        'aws'
        """
        section = (self.model_extra or {}).get(name)
        if isinstance(section, dict) and isinstance(section.get("kind"), str):
            return str(section["kind"])
        return name


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


def rules_of(section: Any) -> ProviderRules:
    """A provider section's rules; a plug-in's section (a dict) gets formats-only ``PLUGIN`` rules.

    >>> rules_of(AwsConfig()).default_instance_type, rules_of({"token": "x"}).cloud
    ('t3.medium', 'plugin')
    """
    return section.rules if isinstance(section, ProviderSection) else cloud_rules.PLUGIN


class Networking(Section):
    """Fleet networking in the provider's own words (AWS: ``vpc_id``, ``subnet_ids``, ``security_group_ids``;
    GCP: ``network``, ``subnetwork``; Azure: ``subnet_id``), checked by its section's ``rules``."""

    model_config = ConfigDict(frozen=True, extra="allow", hide_input_in_errors=True)


class FleetDefaults(Section):
    """Defaults for every fleet; ``default_instance_type`` unset means the provider section's own."""

    default_instance_type: Identifier | None = None
    default_capacity: Count = 3
    default_min_capacity: Count = 0
    default_max_capacity: Count = 100
    tags: dict[str, str] = Field(default_factory=dict)
    networking: Networking = Field(default_factory=Networking)


class ClusterConfig(Section):
    """The whole file: ``compute`` and ``fleet``."""

    compute: ComputeSection = Field(default_factory=ComputeSection)
    fleet: FleetDefaults = Field(default_factory=FleetDefaults)


_NAME_AT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_MAX_NESTING = 8


def _interpolation_error(where: str, detail: str, rule: str) -> ValidationError:
    return ValidationError(
        f"{where}: {detail}",
        field=where,
        rule=rule,
        solution="write ${VAR} or ${VAR:-default} (defaults may nest: ${A:-${B}}); $${ is a literal ${",
    )


def _expand(text: str, i: int, where: str, evaluate: bool, depth: int) -> tuple[str, int]:
    """Expand ``text`` from ``i``; inside a default (``depth > 0``) stop at its closing ``}``."""
    out: list[str] = []
    while i < len(text):
        if depth and text[i] == "}":
            return "".join(out), i
        if text.startswith("$${", i):
            out.append("${")
            i += 3
        elif text.startswith("${", i):
            value, i = _reference(text, i + 2, where, evaluate, depth + 1)
            out.append(value)
        else:
            out.append(text[i])
            i += 1
    if depth:
        raise _interpolation_error(where, "a ${ has no closing }", "every ${ is closed by }")
    return "".join(out), i


def _reference(text: str, i: int, where: str, evaluate: bool, depth: int) -> tuple[str, int]:
    """The value of the reference whose name starts at ``i`` (just after ``${``), and where it ends."""
    if depth > _MAX_NESTING:
        raise _interpolation_error(where, f"defaults nest deeper than {_MAX_NESTING} levels", "at most 8 nested defaults")
    m = _NAME_AT.match(text, i)
    if m is None:
        raise _interpolation_error(
            where, f"${{ at character {i - 2} is not followed by a variable name", "${ starts a variable reference"
        )
    name, i = m.group(), m.end()
    if text.startswith("}", i):
        default = None
        i += 1
    elif text.startswith(":-", i):
        default, i = _expand(text, i + 2, where, evaluate and name not in os.environ, depth)
        i += 1
    elif i >= len(text):
        raise _interpolation_error(where, f"${{{name} has no closing }}", "every ${ is closed by }")
    else:
        raise _interpolation_error(where, f"${{{name} is followed by an unsupported form", "${VAR} or ${VAR:-default}")
    if not evaluate:
        return "", i
    if name in os.environ:
        return os.environ[name], i
    if default is not None:
        return default, i
    raise ValidationError(
        f"{where}: environment variable {name} is not set",
        field=where,
        rule="referenced environment variable must be set",
        solution=f"export {name}=... or write ${{{name}:-default}} in the config",
    )


MAX_VALUES = 100_000
"""The most values (mappings, lists and scalars) a config may hold, shared references counted per use."""


def interpolate(value: Any, where: str = "") -> Any:
    """Replace ``${VAR}`` / ``${VAR:-default}`` in every string of ``value``; keys must be strings.

    >>> interpolate({"region": "${CDB_REGION:-${AWS_REGION:-us-east-1}}"})  # neither variable set
    {'region': 'us-east-1'}
    """
    visited = 0

    def walk(value: Any, where: str) -> Any:
        nonlocal visited
        visited += 1
        if visited > MAX_VALUES:
            raise ValidationError(
                f"config: holds more than {MAX_VALUES} values (shared references counted per use)",
                field="config",
                rule=f"at most {MAX_VALUES} values",
                solution="a config needs a few dozen values: pass a smaller one, without deeply shared sub-dicts",
            )
        if isinstance(value, dict):
            out = {}
            for key, item in value.items():
                if not isinstance(key, str):
                    raise ValidationError(
                        f"{where or 'config'}: keys must be strings (got {type(key).__name__} {key!r})",
                        field=where or "config",
                        rule="string keys",
                        solution=f"quote the key in the YAML: '{key}':",
                    )
                out[key] = walk(item, f"{where}.{key}" if where else key)
            return out
        if isinstance(value, list):
            return [walk(v, f"{where}[{i}]") for i, v in enumerate(value)]
        if not isinstance(value, str):
            return value
        return _expand(value, 0, where, True, 0)[0]

    return walk(value, where)


def _deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


ALIAS_BUDGET = 10_000
"""How many nodes YAML aliases may add to a config once expanded (a real config needs a few dozen)."""

_VALUE_AFTER_KEY = re.compile(r"^(\s*(?:-\s+)?[^\s:#][^:#]*:)(\s*).+$")


def _redacted(line: str) -> str:
    """A YAML line with its value hidden: ``  token: abc`` -> ``  token: <redacted>``."""
    m = _VALUE_AFTER_KEY.match(line)
    return f"{m.group(1)} <redacted>" if m else "<redacted>"


def _expanded_size(node: Any, sizes: dict[int, int], open_: set[int]) -> int:
    """Nodes in ``node`` once every alias is expanded (shared nodes counted once per use)."""
    key = id(node)
    if key in sizes:
        return sizes[key]
    if key in open_:
        raise ValidationError(
            "config: a YAML alias refers to a node that contains it",
            field="config",
            rule="no recursive aliases",
            solution="write the data out instead of using a recursive anchor",
        )
    open_.add(key)
    children = node.value if isinstance(node.value, list) else []
    total = 1
    for child in children:
        for part in child if isinstance(child, tuple) else (child,):
            total += _expanded_size(part, sizes, open_)
    open_.discard(key)
    sizes[key] = total
    return total


def _read_yaml(source: str | os.PathLike[str]) -> Any:
    """The YAML document in ``source``: UTF-8, valid, within the alias budget."""
    import yaml

    try:
        data = Path(source).read_bytes()
    except OSError as exc:
        raise ValidationError(
            f"config: cannot read {source}: {exc.strerror}",
            field="config",
            rule="readable file",
            solution="check the path given to connect() or $CLUSTERDB_CONFIG",
        ) from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ValidationError(
            f"config: {source} is not UTF-8 (byte {exc.start}, line {line})",
            field="config",
            rule="UTF-8 text",
            solution="save the file as UTF-8",
        ) from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return {}
        sizes: dict[int, int] = {}
        if _expanded_size(node, sizes, set()) - len(sizes) > ALIAS_BUDGET:
            raise ValidationError(
                f"config: {source} expands its YAML aliases beyond {ALIAS_BUDGET} nodes",
                field="config",
                rule=f"aliases add at most {ALIAS_BUDGET} nodes",
                solution="write the repeated parts out, or use fewer nested aliases",
            )
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or type(exc).__name__
        where = ""
        if mark is not None:
            lines = text.splitlines()
            shown = _redacted(lines[mark.line]) if mark.line < len(lines) else ""
            where = f" at line {mark.line + 1}, column {mark.column + 1}" + (f": {shown}" if shown else "")
        raise ValidationError(
            f"config: {source} is not valid YAML: {problem}{where}",
            field="config",
            rule="valid YAML",
            solution="fix the YAML at the line shown (quote values holding : # { [ or a leading *)",
        ) from None
    finally:
        loader.dispose()


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
            f"config: expected a YAML path or a dict (got {type(source).__name__})",
            field="config",
            rule="path or dict",
            solution="pass the path of a YAML file, a dict shaped like it, or nothing for the local cloud alone",
        )
    else:
        raw = _read_yaml(source)
    if not isinstance(raw, dict):
        raise ValidationError(
            "config: the top level must be a mapping",
            field="config",
            rule="mapping",
            solution="start the file with `compute:` and/or `fleet:` sections",
        )
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
