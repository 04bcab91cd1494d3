"""Third-party providers register through the entry-point group clusterdb_nb.providers."""

import asyncio
import textwrap

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.providers import registry

PROVIDER = """
import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.providers.base import ComputeProvider, ProviderStatus


class Section(cdb.models.Model):
    region: str = "moon-1"


class MoonCloud(ComputeProvider):
    kind = "mooncloud"
    config_model = Section

    async def status(self):
        return ProviderStatus(provider=self.name, ok=True, detail="on the moon", region=self.config.region)

    async def list_fleets(self):
        return [cdb.Fleet(id="lunar", name="lunar", provider=self.name, region=self.config.region,
                          instance_type="t3.micro", capacity=1, min_capacity=0, max_capacity=2)]

    async def list_instances(self, fleet=None, states=None):
        return frames.frame(frames.INSTANCES, [])
"""


@pytest.fixture
def installed_plugin(tmp_path, monkeypatch):
    """A package 'mooncloud_provider' installed on sys.path with its entry point."""
    (tmp_path / "mooncloud_provider.py").write_text(PROVIDER)
    dist = tmp_path / "mooncloud_provider-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: mooncloud-provider\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""
        [clusterdb_nb.providers]
        mooncloud = mooncloud_provider:MoonCloud
    """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return tmp_path


def test_entry_point_provider_is_available_and_used(installed_plugin):
    assert "mooncloud" in registry.available()
    config = {
        "compute": {
            "default_provider": "local",
            "providers": {"local": {"clock": "virtual", "path": ":memory:"}, "mooncloud": {"region": "moon-2"}},
        }
    }
    with cdb.connect(config) as s:
        assert s.fleets()[["name", "provider", "region"]].values.tolist() == [["lunar", "mooncloud", "moon-2"]]
        with pytest.raises(cdb.NotSupportedError, match="mooncloud does not support create_fleet"):
            s.create_fleet(cdb.FleetConfig("x", provider="mooncloud"))


def test_plugin_capabilities_come_from_the_methods_it_implements(installed_plugin):
    providers = {"local": {"clock": "virtual", "path": ":memory:"}, "mooncloud": {}}
    with cdb.connect({"compute": {"default_provider": "local", "providers": providers}}) as s:
        moon = s.capabilities()["mooncloud"]
        assert moon["fleets"] == "MoonCloud does not implement fleets"
        assert moon["functions"] == "MoonCloud does not implement functions"
        with pytest.raises(cdb.NotSupportedError, match="mooncloud does not support invoke_function") as err:
            asyncio.run(s.manager.providers["mooncloud"].invoke_function("f", b"{}"))
        assert err.value.operation == "invoke_function"
        assert s.fleets()["name"].tolist() == ["lunar"]


def test_plugin_config_is_validated_by_its_model(installed_plugin):
    with pytest.raises(cdb.ValidationError, match="region"):
        cdb.connect({"compute": {"default_provider": "mooncloud", "providers": {"mooncloud": {"region": 5}}}})


def test_unknown_provider_names_the_available_ones():
    with pytest.raises(cdb.NotSupportedError, match="no provider named 'nimbus'; available: .*local") as err:
        cdb.connect({"compute": {"default_provider": "nimbus", "providers": {"nimbus": {}}}})
    assert "clusterdb_nb.providers" in err.value.cause
