"""What every price source shares: the quotes it returns, the requests it plans, and HTTP with retries.

A source (``aws_prices``, ``gcp_prices``, ``azure_prices``) is asked for the catalog's
types per region and answers with ``Quotes``: on-demand and spot USD per hour keyed
by ``(instance_type, region)``; a type the API does not price is simply absent::

    >>> q = Quotes(on_demand={("m5.large", "us-east-1"): 0.096})
    >>> q.on_demand.get(("m5.large", "eu-west-1"))  # not found: the snapshot's price stays
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clusterdb_nb.errors import AuthenticationError, ComputeError, NetworkError, ProviderError, ValidationError

if TYPE_CHECKING:
    import requests

__all__ = ["Key", "Quotes", "Request", "as_compute_error", "get_json", "http_session", "missing_extra"]

Key = tuple[str, str]
"""(instance_type, region)"""


@dataclass
class Quotes:
    """Prices found: USD per hour by (type, region); ``spot_note`` says where spot prices came from."""

    on_demand: dict[Key, float] = field(default_factory=dict)
    spot: dict[Key, float] = field(default_factory=dict)
    spot_note: str = "live"


@dataclass(frozen=True)
class Request:
    """One call a refresh makes (what ``dry_run`` shows)."""

    region: str
    api: str
    request: str


def missing_extra(package: str, extra: str, provider: str) -> ValidationError:
    """The error for a price source whose library is not installed."""
    return ValidationError(
        f"refreshing {provider} prices needs {package}, which is not installed",
        field="provider",
        rule=f"the '{extra}' extra installed",
        provider=provider,
        operation="catalog.refresh",
        solution=f"pip install 'clusterdb-nb[{extra}]'",
    )


def http_session(provider: str, headers: dict[str, str] | None = None, session: Any = None) -> requests.Session:
    """A requests session (``session``, e.g. google-auth's AuthorizedSession, or a new one) that retries
    connection errors, 429 and 5xx with backoff (urllib3's ``Retry``)."""
    try:
        import requests
        from requests.adapters import HTTPAdapter
        from urllib3.util.retry import Retry
    except ImportError:
        raise missing_extra("requests", "prices", provider) from None
    session = session if session is not None else requests.Session()
    retry = Retry(total=5, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504), raise_on_status=False)
    session.mount("https://", HTTPAdapter(max_retries=retry))
    session.headers.update({"User-Agent": "clusterdb-nb catalog refresh", **(headers or {})})
    out: requests.Session = session
    return out


def get_json(session: Any, url: str, params: dict[str, str] | None, provider: str, api: str) -> dict[str, Any]:
    """GET ``url`` and return its JSON body; failures as our errors (401/403: AuthenticationError)."""
    import requests

    try:
        response = session.get(url, params=params, timeout=60)
    except requests.RequestException as exc:
        raise NetworkError(
            f"{api} could not be reached: {type(exc).__name__}",
            provider=provider,
            operation="catalog.refresh",
            cause="No route to the price API (network, proxy or firewall)",
            solution="Check the connection and retry; the previous prices are kept",
        ) from None
    if response.status_code in (401, 403):
        raise AuthenticationError(
            f"{api} refused the request (HTTP {response.status_code}): {_excerpt(response)}",
            provider=provider,
            operation="catalog.refresh",
        )
    if response.status_code >= 400:
        raise ProviderError(
            f"{api} answered HTTP {response.status_code}: {_excerpt(response)}", provider=provider, operation="catalog.refresh"
        )
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        raise ProviderError(
            f"{api} answered something that is not JSON", provider=provider, operation="catalog.refresh"
        ) from None
    return body


def _excerpt(response: Any) -> str:
    text = " ".join(str(getattr(response, "text", "")).split())
    return text[:200] or str(getattr(response, "reason", ""))


def as_compute_error(exc: BaseException, provider: str, api: str) -> ComputeError:
    """A parse failure (the API's answer has an unexpected shape) as a ProviderError naming the API."""
    return ProviderError(
        f"{api} answered in an unexpected shape ({type(exc).__name__}: {exc})",
        provider=provider,
        operation="catalog.refresh",
        solution="The previous prices are kept; report this with the clusterdb-nb version",
    )
