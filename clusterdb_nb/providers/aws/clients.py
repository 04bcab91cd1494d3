"""boto3 clients built from the ``aws:`` config section, called through the kit's ``SdkCalls``.

Credentials come from the config (``credentials.access_key``/``secret_key``,
read from their ``SecretStr`` only here), else the named ``profile``, else
boto3's default chain (environment, shared files, SSO, instance role).
Retries are botocore's own: ``retry_mode`` "standard" or "adaptive", and
``max_attempts`` counting the first call too (as ``AWS_MAX_ATTEMPTS`` does)::

    >>> clients = Clients(AwsConfig(region="eu-west-1", endpoint_url="http://localhost:5000"))
    >>> groups = await clients.call("autoscaling", "describe_auto_scaling_groups", "get_fleet", AutoScalingGroupNames=["web"])
"""

from __future__ import annotations

import threading
from typing import Any

import boto3
from botocore.config import Config

from ...config import AwsConfig
from ..kit.sdk_calls import SdkCalls
from .errors import translate

__all__ = ["Clients"]


class Clients:
    """One boto3 Session and one cached client per service, created on first use."""

    def __init__(self, config: AwsConfig, provider: str = "aws") -> None:
        self.config = config
        self.provider = provider
        self.calls = SdkCalls(provider, translate)
        self._session: boto3.Session | None = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()  # boto3 Sessions are not thread-safe; clients are

    def _new_session(self) -> boto3.Session:
        creds = self.config.credentials
        if creds is None:
            return boto3.Session(profile_name=self.config.profile, region_name=self.config.region)
        return boto3.Session(
            aws_access_key_id=creds.access_key.get_secret_value(),
            aws_secret_access_key=creds.secret_key.get_secret_value(),
            aws_session_token=creds.session_token.get_secret_value() if creds.session_token else None,
            region_name=self.config.region,
        )

    def client(self, service: str) -> Any:
        """The boto3 client of ``service`` (``"ec2"``, ``"autoscaling"``, ``"lambda"`` ...)."""
        with self._lock:
            if service not in self._clients:
                if self._session is None:
                    self._session = self._new_session()
                retries: Any = {"mode": self.config.retry_mode, "total_max_attempts": self.config.max_attempts}
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.config.endpoint_url,
                    config=Config(retries=retries, user_agent_extra="clusterdb-nb"),
                )
            return self._clients[service]

    async def call(self, service: str, method: str, operation: str, **params: Any) -> Any:
        """``client(service).method(**params)`` in a worker thread; botocore errors become ours."""
        return await self.calls.run(operation, lambda: getattr(self.client(service), method)(**params))

    async def pages(self, service: str, method: str, operation: str, **params: Any) -> Any:
        """Every page of ``method`` merged by botocore's paginator (``build_full_result``)."""
        return await self.calls.run(
            operation, lambda: self.client(service).get_paginator(method).paginate(**params).build_full_result()
        )

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()
