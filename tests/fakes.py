"""Providers defined in the tests: a tiny in-memory cloud and one that always fails."""

import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.providers.base import ComputeProvider, ProviderStatus


class FakeCloud(ComputeProvider):
    """Fleets only (no instances operations beyond listing); region from its config dict."""

    kind = "fakecloud"

    def __init__(self, config, name=None):
        super().__init__(config or {}, name)
        self.fleets = {}
        self.calls = []

    @property
    def region(self):
        return self.config.get("region", "fake-1")

    def hourly_price(self, instance_type, spot=False):
        return 1.0

    async def status(self):
        return ProviderStatus(provider=self.name, ok=True, detail="fake", region=self.region)

    async def create_fleet(self, config):
        self.calls.append(("create_fleet", config.name))
        fleet = cdb.Fleet(
            id=config.name,
            name=config.name,
            provider=self.name,
            region=self.region,
            instance_type=config.instance_type,
            capacity=config.capacity,
            min_capacity=config.min_capacity,
            max_capacity=config.max_capacity,
        )
        self.fleets[config.name] = fleet
        return fleet

    async def get_fleet(self, fleet):
        if fleet not in self.fleets:
            raise cdb.NotFoundError(f"no fleet {fleet!r}", provider=self.name)
        return self.fleets[fleet]

    async def update_fleet_capacity(self, fleet, capacity):
        self.calls.append(("update_fleet_capacity", fleet, capacity))
        self.fleets[fleet] = self.fleets[fleet].model_copy(update={"capacity": capacity})
        return self.fleets[fleet]

    async def list_fleets(self):
        return list(self.fleets.values())

    async def list_instances(self, fleet=None, states=None):
        return frames.frame(frames.INSTANCES, [])


class BrokenCloud(FakeCloud):
    """Every call fails as with expired credentials."""

    kind = "broken"

    def _fail(self):
        raise cdb.AuthenticationError("Failed to authenticate with provider", provider=self.name)

    async def status(self):
        self._fail()

    async def list_fleets(self):
        self._fail()

    async def list_instances(self, fleet=None, states=None):
        self._fail()

    async def get_fleet(self, fleet):
        self._fail()

    async def costs(self, start, end):
        self._fail()
