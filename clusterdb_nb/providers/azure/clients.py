"""Azure SDK clients built from the ``azure:`` config section, called through the kit's ``SdkCalls``.

Credentials: a service principal from the config (``ClientSecretCredential``, the secret read from
its ``SecretStr`` only here), else ``DefaultAzureCredential`` (CLI login, managed identity,
environment). ``credentials: anonymous`` is a fixed token that works only while an offline fake
(``clusterdb_nb.testing.fake_azure()``) serves the endpoints; against the real Azure it is refused.
Retries are azure-core's ``RetryPolicy`` (``retry_total``, honouring ``Retry-After``); long-running
operations poll every ``poll_interval`` seconds::

    >>> clients = Clients(AzureConfig(subscription_id="...", credentials="anonymous"))
    >>> vm = await clients.calls.run("get_instance", lambda: clients.compute.virtual_machines.get(rg, name))
"""

from __future__ import annotations

import threading
import time
from typing import Any

from azure.core.credentials import AccessToken, TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from azure.core.pipeline.policies import SansIOHTTPPolicy

from ...config import AzureConfig
from ..kit import offline
from ..kit.sdk_calls import SdkCalls
from .errors import translate

__all__ = ["AnonymousCredential", "Clients", "ServerClock", "credential"]


class AnonymousCredential:
    """A fixed bearer token for the offline fake; refused when no fake serves the endpoints."""

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        if not offline.active("azure"):
            raise ClientAuthenticationError(
                "credentials: anonymous works only against the offline fake (clusterdb_nb.testing.fake_azure()), "
                "not against management.azure.com"
            )
        return AccessToken("offline-token", int(time.time()) + 3600)

    def close(self) -> None:
        """Nothing to release."""


def credential(config: AzureConfig) -> TokenCredential:
    """The credential the config names."""
    creds = config.credentials
    if creds == "anonymous":
        return AnonymousCredential()
    if creds is not None:
        from azure.identity import ClientSecretCredential

        if not config.tenant_id:
            from ...errors import ValidationError

            raise ValidationError(
                "tenant_id: a service principal (credentials.client_id/client_secret) needs the tenant's id",
                field="tenant_id",
                rule="set with credentials",
                solution="Add tenant_id: ${AZURE_TENANT_ID} to compute.providers.azure",
            )
        return ClientSecretCredential(config.tenant_id, creds.client_id, creds.client_secret.get_secret_value())
    from azure.identity import DefaultAzureCredential

    return DefaultAzureCredential()


class ServerClock(SansIOHTTPPolicy):  # type: ignore[type-arg]  # its request/response parameters add nothing here
    """Remembers the ``Date`` header of ARM's last answer: Azure's time (the fake's, offline)."""

    def __init__(self) -> None:
        self.date: str | None = None

    def on_response(self, request: Any, response: Any) -> None:
        self.date = response.http_response.headers.get("Date") or self.date


class Clients:
    """One credential and one cached management client per service, created on first use."""

    def __init__(self, config: AzureConfig, provider: str = "azure") -> None:
        self.config = config
        self.calls = SdkCalls(provider, translate)
        self._credential: TokenCredential | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.clock = ServerClock()

    @property
    def options(self) -> dict[str, Any]:
        """Keyword arguments every management client gets: retries and the LRO poll interval."""
        return {
            "retry_total": self.config.retry_total,
            "polling_interval": self.config.poll_interval,
            "per_call_policies": [self.clock],
        }

    def _client(self, name: str, factory: Any) -> Any:
        with self._lock:
            if name not in self._clients:
                if self._credential is None:
                    self._credential = credential(self.config)
                self._clients[name] = factory(self._credential, self.config.subscription_id, **self.options)
            return self._clients[name]

    @property
    def compute(self) -> Any:
        """``azure.mgmt.compute.ComputeManagementClient``."""
        from azure.mgmt.compute import ComputeManagementClient

        return self._client("compute", ComputeManagementClient)

    @property
    def monitor(self) -> Any:
        """``azure.mgmt.monitor.MonitorManagementClient`` (autoscale settings, activity log, metrics)."""
        from azure.mgmt.monitor import MonitorManagementClient

        return self._client("monitor", MonitorManagementClient)

    @property
    def network(self) -> Any:
        """``azure.mgmt.network.NetworkManagementClient`` (the VMs' network interfaces and private IPs)."""
        from azure.mgmt.network import NetworkManagementClient

        return self._client("network", NetworkManagementClient)

    @property
    def web(self) -> Any:
        """``azure.mgmt.web.WebSiteManagementClient`` (Function Apps and their plans)."""
        from azure.mgmt.web import WebSiteManagementClient

        return self._client("web", WebSiteManagementClient)

    @property
    def storage(self) -> Any:
        """``azure.mgmt.storage.StorageManagementClient`` (the function packages' storage account)."""
        from azure.mgmt.storage import StorageManagementClient

        return self._client("storage", StorageManagementClient)

    def bearer(self) -> str:
        """A management token, for the Function App's deployment (``*.scm.azurewebsites.net``) endpoint."""
        self.compute  # noqa: B018 - creates the credential
        assert self._credential is not None
        return self._credential.get_token("https://management.azure.com/.default").token

    @property
    def costs(self) -> Any:
        """``azure.mgmt.costmanagement.CostManagementClient`` (scoped per query, no subscription of its own)."""
        from azure.mgmt.costmanagement import CostManagementClient

        return self._client("costs", lambda credential, _subscription, **kw: CostManagementClient(credential, **kw))

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
