"""Blocking SDK calls run on a worker thread, with the cloud's errors translated to ours.

Cloud SDKs (boto3, google-cloud-*, azure-mgmt-*) block; the manager is async.
``SdkCalls`` runs each call with ``asyncio.to_thread`` and raises the
clusterdb_nb error its cloud's ``translate`` gives (the SDK error chained as
``__cause__``). Paging and long-running operations also run in the thread,
since fetching the next page or polling an operation is itself a request::

    >>> calls = SdkCalls("gcp", TABLE.translate)
    >>> zones = await calls.collect("list_instances", lambda: client.list(project=p, zone=z))  # a google-api-core pager
    >>> group = await calls.finish("create_fleet", lambda: client.begin_create_or_update(rg, name, body))  # an azure poller

Retries stay the SDKs' own (botocore retry modes, ``google.api_core.retry``,
azure-core's retry policy): this module never loops on an error.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

__all__ = ["LongRunning", "SdkCalls", "Translate"]

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)
Page = TypeVar("Page")

Translate = Callable[[BaseException, str, str], BaseException]
"""``translate(exc, provider, operation)``: our error for an SDK error, or ``exc`` itself when it is not one."""


class LongRunning(Protocol[T_co]):
    """A started long-running operation: google-api-core ``Operation``/``ExtendedOperation``, azure-core ``LROPoller``."""

    def result(self, timeout: float | None = None) -> T_co: ...


class SdkCalls:
    """The blocking calls of one provider (its section name), run off the event loop."""

    def __init__(self, provider: str, translate: Translate) -> None:
        self.provider = provider
        self.translate = translate

    async def run(self, operation: str, fn: Callable[[], T]) -> T:
        """``fn()`` in a worker thread; an SDK error becomes ours, for ``operation``."""
        try:
            return await asyncio.to_thread(fn)
        except Exception as exc:
            err = self.translate(exc, self.provider, operation)
            if err is exc:
                raise
            raise err from exc

    async def collect(self, operation: str, items: Callable[[], Iterable[T]]) -> list[T]:
        """Every item of a pager (an iterable that fetches its pages as it goes), read in the worker thread."""
        return await self.run(operation, lambda: list(items()))

    async def follow(
        self, operation: str, fetch: Callable[[str | None], Page], next_token: Callable[[Page], str | None]
    ) -> list[Page]:
        """Every page of an API without a pager: ``fetch(None)``, then ``fetch(token)`` while ``next_token(page)`` gives one.

        >>> pages = await calls.follow("costs", lambda t: ce.get_cost_and_usage(**req, **({"NextPageToken": t} if t else {})),
        ...                            lambda page: page.get("NextPageToken"))
        """

        def pages() -> list[Page]:
            out = [fetch(None)]
            while token := next_token(out[-1]):
                out.append(fetch(token))
            return out

        return await self.run(operation, pages)

    async def finish(self, operation: str, start: Callable[[], LongRunning[T]], timeout: float | None = None) -> T:
        """Start a long-running operation and wait for its result (the SDK's poller polls; ``timeout`` in seconds)."""
        return await self.run(operation, lambda: start().result(timeout=timeout))
