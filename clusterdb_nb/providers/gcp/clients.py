"""google-cloud-compute clients (REST transport) built from the ``gcp:`` section, called through ``SdkCalls``.

Retries of 429/503 answers are ``google.api_core.retry``'s; operations are waited on with the
SDK's own ``ExtendedOperation.result`` polling::

    >>> clients = Clients(GcpConfig(project_id="demo", credentials="anonymous"))   # inside fake_gcp()
    >>> group = await clients.call("groups", "get", "get_fleet", instance_group_manager="clusterdb-web")
"""

from __future__ import annotations

import threading
from typing import Any

from google.api_core import exceptions as gexc
from google.api_core.future import polling
from google.api_core.retry import Retry, if_exception_type

from ...config import GcpConfig
from ...errors import ValidationError
from ..kit import offline
from ..kit.sdk_calls import SdkCalls
from .errors import translate

__all__ = ["Clients"]

SERVICES = {
    "templates": "compute_v1.InstanceTemplatesClient",
    "groups": "compute_v1.RegionInstanceGroupManagersClient",
    "instances": "compute_v1.InstancesClient",
    "regions": "compute_v1.RegionsClient",
    "zones": "compute_v1.ZonesClient",
    "autoscalers": "compute_v1.RegionAutoscalersClient",
    "functions": "functions_v2.FunctionServiceClient",
}
SCOPED = {
    "groups": ("project", "region"),
    "regions": ("project", "region"),
    "autoscalers": ("project", "region"),
    "functions": (),
}
MONITORING = "https://monitoring.googleapis.com/v3/projects/{project}/timeSeries"


class Clients:
    """One cached compute_v1 client per service; ``call`` fills ``project`` (and ``region``) in."""

    def __init__(self, config: GcpConfig, provider: str = "gcp") -> None:
        self.config = config
        self.calls = SdkCalls(provider, translate)
        self.retry = Retry(
            predicate=if_exception_type(gexc.TooManyRequests, gexc.ServiceUnavailable),
            initial=config.retry_initial_seconds,
            maximum=max(config.retry_initial_seconds, 30.0),
            timeout=config.retry_deadline_seconds,
        )
        self.polling = polling.DEFAULT_POLLING.with_delay(
            initial=config.poll_seconds, maximum=config.poll_seconds * 8
        ).with_timeout(config.operation_timeout_seconds)
        self._clients: dict[str, Any] = {}
        self._credentials: Any = None
        self._lock = threading.Lock()

    def credentials(self) -> Any:
        """The credentials of the section: anonymous (in the fake only), a key file, or Application Default Credentials."""
        if self.config.credentials == "anonymous":
            if not offline.active("gcp"):
                raise ValidationError(
                    "credentials: 'anonymous' works only against clusterdb_nb.testing.fake_gcp(), not Google's endpoints",
                    field="credentials",
                    rule="anonymous only offline",
                    solution="Remove credentials: anonymous and set credentials_file, or run inside fake_gcp()",
                )
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials()
        if self.config.credentials_file:
            from google.oauth2 import service_account

            return service_account.Credentials.from_service_account_file(
                self.config.credentials_file, scopes=["https://www.googleapis.com/auth/cloud-platform"]
            )
        import google.auth

        return google.auth.default(scopes=["https://www.googleapis.com/auth/cloud-platform"])[0]

    def client(self, service: str) -> Any:
        with self._lock:
            if service not in self._clients:
                from importlib import import_module

                module, _, name = SERVICES[service].partition(".")
                if self._credentials is None:
                    self._credentials = self.credentials()
                cls = getattr(import_module(f"google.cloud.{module}"), name)
                self._clients[service] = cls(credentials=self._credentials, transport="rest")
            return self._clients[service]

    async def time_series(self, operation: str, params: dict[str, str]) -> list[dict[str, Any]]:
        """Every TimeSeries of a Cloud Monitoring ``timeSeries.list`` query (REST, page by page, retried on 429/503).

        google-cloud-monitoring ships only a gRPC transport, which an offline fake cannot serve, so this
        calls the same REST method with google-auth's ``AuthorizedSession``.
        """
        url = MONITORING.format(project=self.config.project_id)

        def page(token: str | None) -> dict[str, Any]:
            session = self.session()

            def get() -> dict[str, Any]:
                answer = session.get(url, params={**params, **({"pageToken": token} if token else {})}, timeout=60)
                if answer.status_code >= 400:
                    raise gexc.from_http_response(answer)
                return dict(answer.json())

            return dict(self.retry(get)())

        pages = await self.calls.follow(operation, page, lambda p: p.get("nextPageToken"))
        return [s for p in pages for s in p.get("timeSeries", [])]

    def session(self) -> Any:
        """A google-auth ``AuthorizedSession`` (requests) with this section's credentials."""
        from google.auth.transport.requests import AuthorizedSession

        with self._lock:
            if self._credentials is None:
                self._credentials = self.credentials()
        return AuthorizedSession(self._credentials)

    def _params(self, service: str, params: dict[str, Any]) -> dict[str, Any]:
        scope = {"project": self.config.project_id, "region": self.config.region}
        return {**{k: scope[k] for k in SCOPED.get(service, ("project",))}, **params}

    @property
    def location(self) -> str:
        """The Cloud Functions parent: ``projects/<project>/locations/<region>``."""
        return f"projects/{self.config.project_id}/locations/{self.config.region}"

    async def call(self, service: str, method: str, operation: str, **params: Any) -> Any:
        """``client(service).method(project=..., **params)`` in a worker thread, retried on 429/503."""
        return await self.calls.run(
            operation, lambda: getattr(self.client(service), method)(request=self._params(service, params), retry=self.retry)
        )

    async def collect(self, service: str, method: str, operation: str, **params: Any) -> list[Any]:
        """Every item of a listing (the SDK's pager fetches the pages)."""
        return await self.calls.collect(
            operation, lambda: getattr(self.client(service), method)(request=self._params(service, params), retry=self.retry)
        )

    async def wait(self, service: str, method: str, operation: str, **params: Any) -> Any:
        """Start a long-running call and wait until its operation is done (its result); an operation's error is raised as ours."""

        def run() -> Any:
            op = getattr(self.client(service), method)(request=self._params(service, params), retry=self.retry)
            return op.result(timeout=self.config.operation_timeout_seconds, polling=self.polling)

        return await self.calls.run(operation, run)

    def close(self) -> None:
        with self._lock:
            self._clients.clear()
