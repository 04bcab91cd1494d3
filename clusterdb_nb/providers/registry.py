"""Find provider classes: the built-in ones, then the entry-point group
``clusterdb_nb.providers``.

A third-party package registers its provider in its pyproject::

    [project.entry-points."clusterdb_nb.providers"]
    mycloud = "mycloud_provider:MyCloudProvider"
"""

from __future__ import annotations

from importlib import import_module
from importlib.metadata import entry_points

from ..errors import NotSupportedError, ValidationError
from .base import ComputeProvider

__all__ = ["available", "BUILTIN", "create", "EXTRAS", "GROUP", "provider_class"]

GROUP = "clusterdb_nb.providers"
BUILTIN = {
    "local": "clusterdb_nb.providers.local:LocalProvider",
    "aws": "clusterdb_nb.providers.aws:AwsProvider",
    "gcp": "clusterdb_nb.providers.gcp:GcpProvider",
    "azure": "clusterdb_nb.providers.azure:AzureProvider",
}
EXTRAS = {"aws": "aws", "gcp": "gcp", "azure": "azure"}


def available() -> list[str]:
    """Names of every provider that can be configured."""
    return sorted({*BUILTIN, *(ep.name for ep in entry_points(group=GROUP))})


def provider_class(kind: str) -> type[ComputeProvider]:
    """The class registered under ``kind``.

    >>> provider_class("local").__name__
    'LocalProvider'
    """
    if kind in BUILTIN:
        module, _, attr = BUILTIN[kind].partition(":")
        try:
            cls = getattr(import_module(module), attr)
        except ImportError as exc:
            extra = EXTRAS.get(kind, kind)
            raise NotSupportedError(
                f"provider {kind!r} needs {exc.name}, which is not installed: pip install 'clusterdb-nb[{extra}]'",
                provider=kind,
                operation="connect",
                cause=f"The optional dependencies of {kind} are missing",
                solution=f"pip install 'clusterdb-nb[{extra}]'",
            ) from None
    else:
        found = [ep for ep in entry_points(group=GROUP) if ep.name == kind]
        if not found:
            raise NotSupportedError(
                f"no provider named {kind!r}; available: {', '.join(available())}",
                provider=kind,
                operation="connect",
                cause=f"The provider is neither built in nor registered under the entry-point group {GROUP!r}",
                solution=f"Install the package that provides {kind!r} or fix the config's provider name",
            )
        cls = found[0].load()
    if not (isinstance(cls, type) and issubclass(cls, ComputeProvider)):
        raise ValidationError(f"{kind}: {cls!r} is not a ComputeProvider subclass", field=kind, rule="ComputeProvider subclass")
    return cls


def create(kind: str, section: object, name: str | None = None) -> ComputeProvider:
    """Instantiate provider ``kind`` as section ``name`` (default: ``kind``), validated by its ``config_model``.

    Without a ``config_model`` the provider gets the section as a dict whose
    secret-looking values are ``SecretStr`` (``config.hide_secrets``).
    """
    from ..config import reveal_secrets

    cls = provider_class(kind)
    if cls.config_model is not None and not isinstance(section, cls.config_model):
        section = cls.config_model.model_validate(reveal_secrets(section or {}))
    return cls(section, name=name or kind)
