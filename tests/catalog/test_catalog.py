"""Tests for clusterdb_nb.catalog: lookups, errors, equivalents and the CSV data."""

from __future__ import annotations

import csv
import datetime
import os
import pathlib
import subprocess
import sys

import pandas as pd
import pytest

from clusterdb_nb import catalog
from clusterdb_nb.errors import ValidationError

DATA = pathlib.Path(catalog.__file__).parent / "data"
ROOT = pathlib.Path(catalog.__file__).parents[2]
COLUMNS = ["instance_type", "region", "vcpu", "memory_gib", "arch", "gpu", "category", "on_demand_usd", "spot_usd", "price_date"]


# --------------------------------------------------------------------------- lookup


@pytest.mark.parametrize(
    ("name", "region", "provider", "price"),
    [
        ("t3.medium", "us-east-1", "aws", 0.0416),
        ("m5.large", "us-east-1", "aws", 0.096),
        ("c5.large", "us-east-1", "aws", 0.085),
        ("r5.large", "us-east-1", "aws", 0.126),
        ("e2-standard-2", "us-central1", "gcp", 0.067006),
        ("n2-standard-2", "us-central1", "gcp", 0.097118),
        ("Standard_D2s_v3", "eastus", "azure", 0.096),
        ("Standard_B2s", "eastus", "azure", 0.0416),
    ],
)
def test_lookup_reference_region_list_price(name: str, region: str, provider: str, price: float) -> None:
    it = catalog.lookup(name)
    assert (it.name, it.region, it.provider) == (name, region, provider)
    assert it.on_demand_usd == pytest.approx(price)
    assert it.price() == it.on_demand_usd
    assert catalog.provider_of(name) == provider


def test_lookup_other_region_is_dearer_in_europe() -> None:
    us = catalog.lookup("m5.large", "us-east-1")
    eu = catalog.lookup("m5.large", "eu-west-1")
    assert eu.region == "eu-west-1"
    assert 1.05 < eu.on_demand_usd / us.on_demand_usd < 1.2


def test_lookup_azure_is_case_insensitive() -> None:
    for spelling in ("standard_d2s_v3", "STANDARD_D2S_V3", "Standard_D2s_V3"):
        it = catalog.lookup(spelling, "westeurope")
        assert it.name == "Standard_D2s_v3"
        assert it.provider == "azure"


def test_lookup_provider_restricts_the_search() -> None:
    assert catalog.lookup("e2-medium", provider="gcp").provider == "gcp"
    with pytest.raises(ValidationError) as exc:
        catalog.lookup("t3.medium", provider="gcp")
    assert exc.value.field == "instance_type"
    assert "aws" in str(exc.value)


def test_spot_price_is_cheaper() -> None:
    it = catalog.lookup("m5.large")
    assert 0 < it.price(spot=True) < it.price()


def test_azure_b_series_has_no_spot() -> None:
    it = catalog.lookup("Standard_B2s")
    assert it.spot_usd is None
    with pytest.raises(ValidationError) as exc:
        it.price(spot=True)
    assert exc.value.field == "spot"


@pytest.mark.parametrize(
    ("typo", "meant"), [("t3.mediun", "t3.medium"), ("e2-standrd-2", "e2-standard-2"), ("Standard_D2s_v33", "Standard_D2s_v3")]
)
def test_unknown_type_suggests_near_names(typo: str, meant: str) -> None:
    with pytest.raises(ValidationError) as exc:
        catalog.lookup(typo)
    err = exc.value
    assert err.field == "instance_type"
    assert err.rule == "known instance type"
    assert typo in str(err)
    assert meant in str(err)


def test_unknown_type_without_near_names_says_how_to_list() -> None:
    with pytest.raises(ValidationError, match=r"catalog\.types\(\)"):
        catalog.lookup("quantum-9000")
    with pytest.raises(ValidationError, match="known instance type|Unknown"):
        catalog.provider_of("quantum-9000")


def test_unpriced_region_lists_regions() -> None:
    with pytest.raises(ValidationError) as exc:
        catalog.lookup("m5.large", "ap-south-1")
    err = exc.value
    assert err.field == "region"
    for region in ("us-east-1", "us-west-2", "eu-west-1"):
        assert region in str(err)


def test_regions_and_price_date() -> None:
    assert catalog.regions("aws") == ["eu-west-1", "us-east-1", "us-west-2"]
    assert {"us-central1", "europe-west1"} <= set(catalog.regions("gcp"))
    assert catalog.regions("azure") == ["eastus", "westeurope", "westus2"]
    for provider in catalog.PROVIDERS:
        assert catalog.REFERENCE_REGION[provider] in catalog.regions(provider)
        assert catalog.price_date(provider) == datetime.date(2026, 11, 1)
    with pytest.raises(ValidationError) as exc:
        catalog.regions("oracle")
    assert exc.value.field == "provider"


# --------------------------------------------------------------------------- equivalent


def test_equivalent_t3_medium_on_gcp() -> None:
    it = catalog.equivalent("t3.medium", "gcp")
    assert it.provider == "gcp" and it.region == "us-central1"
    assert it.vcpu == 2
    assert 3.6 <= it.memory_gib <= 4.5
    assert it.arch == "x86_64" and it.gpu == 0


def test_equivalent_keeps_arm_when_target_has_it() -> None:
    it = catalog.equivalent("m7g.large", "azure")
    assert it.provider == "azure" and it.arch == "arm64"
    assert it.vcpu >= 2 and it.memory_gib >= 0.9 * 8
    assert catalog.equivalent("m7g.large", "gcp").arch == "arm64"


def test_equivalent_falls_back_to_x86_where_no_arm() -> None:
    # GCP sells T2A in us-central1 / europe-west4, not in asia-east1.
    it = catalog.equivalent("m7g.large", "gcp", "asia-east1")
    assert it.arch == "x86_64" and it.vcpu >= 2


def test_equivalent_picks_smallest_then_cheapest() -> None:
    it = catalog.equivalent("m5.large", "gcp")
    assert it.name == "e2-standard-2"  # 2 vCPU / 8 GiB, cheaper than n2/n2d-standard-2


@pytest.mark.parametrize("target", ["gcp", "azure"])
def test_equivalent_of_gpu_type_has_gpu(target: str) -> None:
    it = catalog.equivalent("g4dn.xlarge", target)
    assert it.gpu >= 1
    assert it.vcpu >= 4


def test_equivalent_of_cpu_type_has_no_gpu() -> None:
    assert catalog.equivalent("m5.xlarge", "azure").gpu == 0


def test_equivalent_none_fits() -> None:
    with pytest.raises(ValidationError) as exc:
        catalog.equivalent("a2-highgpu-1g", "aws")  # 12 vCPU / 85 GiB / A100
    err = exc.value
    assert err.field == "instance_type"
    assert err.rule == "equivalent exists"
    assert "aws" in str(err)


def test_equivalent_bad_region() -> None:
    with pytest.raises(ValidationError) as exc:
        catalog.equivalent("m5.large", "gcp", "us-east-1")
    assert exc.value.field == "region"


# --------------------------------------------------------------------------- data


def _csv_rows(provider: str) -> list[dict[str, str]]:
    with open(DATA / f"{provider}.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        assert reader.fieldnames == COLUMNS
        return list(reader)


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_every_csv_row_is_sane(provider: str) -> None:
    rows = _csv_rows(provider)
    assert len({r["instance_type"] for r in rows}) >= 20
    seen: set[tuple[str, str]] = set()
    regions_of: dict[str, set[str]] = {}
    for r in rows:
        key = (r["instance_type"], r["region"])
        assert key not in seen, f"duplicate row {key}"
        seen.add(key)
        regions_of.setdefault(r["instance_type"], set()).add(r["region"])
        assert int(r["vcpu"]) > 0, key
        assert float(r["memory_gib"]) > 0, key
        assert r["arch"] in {"x86_64", "arm64"}, key
        assert r["category"] in {"general", "burstable", "compute", "memory", "gpu"}, key
        assert (int(r["gpu"]) > 0) == (r["category"] == "gpu"), key
        on_demand = float(r["on_demand_usd"])
        assert on_demand > 0, key
        if r["spot_usd"] == "":
            # only Azure B-series: Azure Spot does not offer burstable sizes
            assert provider == "azure" and r["instance_type"].startswith("Standard_B"), key
        else:
            assert 0 < float(r["spot_usd"]) < on_demand, key
        assert datetime.date.fromisoformat(r["price_date"]) == datetime.date(2026, 11, 1)
    for name, regs in regions_of.items():
        assert len(regs) >= 2, name
        assert catalog.REFERENCE_REGION[provider] in regs, name
    assert {r["arch"] for r in rows} == {"x86_64", "arm64"}
    assert any(int(r["gpu"]) > 0 for r in rows)


def test_type_names_are_unique_across_clouds() -> None:
    owners: dict[str, set[str]] = {}
    for p in ("aws", "gcp", "azure"):
        for r in _csv_rows(p):
            owners.setdefault(r["instance_type"].lower(), set()).add(p)
    assert owners
    assert all(len(o) == 1 for o in owners.values())


# --------------------------------------------------------------------------- types()


def test_types_dataframe() -> None:
    df = catalog.types()
    assert list(df.columns) == [
        "provider",
        "instance_type",
        "region",
        "vcpu",
        "memory_gib",
        "arch",
        "gpu",
        "category",
        "on_demand_usd",
        "spot_usd",
        "price_date",
    ]
    assert set(df["provider"]) == {"aws", "gcp", "azure"}
    assert pd.api.types.is_datetime64_any_dtype(df["price_date"])
    ordered = df.sort_values(["provider", "region", "on_demand_usd"], ignore_index=True)
    assert df[["provider", "region", "on_demand_usd"]].equals(ordered[["provider", "region", "on_demand_usd"]])

    eu = catalog.types("aws", "eu-west-1")
    assert set(eu["region"]) == {"eu-west-1"} and set(eu["provider"]) == {"aws"}
    assert len(catalog.types("gcp")) == len(_csv_rows("gcp"))
    with pytest.raises(ValidationError):
        catalog.types("aws", "eastus")


def _run(code: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    return subprocess.run([sys.executable, "-c", code, str(ROOT)], check=False, capture_output=True, text=True, env=env, cwd=ROOT)


def test_import_does_not_import_pandas() -> None:
    code = "import sys, clusterdb_nb.catalog; assert 'pandas' not in sys.modules, 'pandas imported'"
    if _run("import sys, clusterdb_nb; print('pandas' in sys.modules)").stdout.strip() == "True":
        # The package __init__ imports pandas itself: load the catalog without running it.
        code = (
            "import sys, types, importlib; pkg = types.ModuleType('clusterdb_nb');"
            "pkg.__path__ = [sys.argv[1] + '/clusterdb_nb']; sys.modules['clusterdb_nb'] = pkg;"
            "importlib.import_module('clusterdb_nb.catalog'); assert 'pandas' not in sys.modules, 'pandas imported'"
        )
    proc = _run(code)
    assert proc.returncode == 0, proc.stderr
