"""A refresh end to end: the summary, the user's data folder, atomic writes, fallback to the shipped data, the CLI."""

from __future__ import annotations

import datetime
import json
import pathlib

import pytest
import responses
from click.testing import CliRunner
from recorded import azure_item, azure_page
from responses import matchers

from clusterdb_nb import catalog
from clusterdb_nb.catalog import azure_prices, refreshing, store
from clusterdb_nb.cli import main
from clusterdb_nb.errors import ValidationError

PACKAGE_DATA = pathlib.Path(catalog.__file__).parent / "data"
TODAY = datetime.date(2026, 12, 1)


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """An empty data folder of the user's, for this test only."""
    path = tmp_path / "catalog"
    monkeypatch.setenv(store.ENV, str(path))
    return path


def azure_answers(
    region: str, skip: tuple[str, ...] = (), factor: float = 1.1, no_spot: tuple[str, ...] = ()
) -> dict[str, float]:
    """Register a Retail Prices answer for each catalog type in ``region`` (none for ``skip``, no spot meter for
    ``no_spot``); the new prices."""
    new = {}
    for it in catalog.types("azure", region).itertuples():
        items = []
        if it.instance_type not in skip:
            new[it.instance_type] = round(it.on_demand_usd * factor, 4)
            short = it.instance_type.removeprefix("Standard_").replace("_", " ")
            items = [azure_item(it.instance_type, region, new[it.instance_type], short, "Virtual Machines Series")]
            if it.spot_usd == it.spot_usd and it.instance_type not in no_spot:  # not NaN: the cloud sells it as spot
                items.append(
                    azure_item(
                        it.instance_type, region, round(it.spot_usd * factor, 4), short + " Spot", "Virtual Machines Series"
                    )
                )
        responses.get(
            azure_prices.PRICES_URL,
            json=azure_page(items),
            match=[matchers.query_param_matcher(azure_prices.query(region, it.instance_type))],
        )
    return new


@responses.activate
def test_refresh_updates_prices_in_the_users_folder_and_reports_what_changed(folder):
    shipped = {p.name: p.read_bytes() for p in PACKAGE_DATA.iterdir()}
    new = azure_answers("eastus", skip=("Standard_NC8as_T4_v3",))
    df = refreshing.run("azure", ["eastus"], today=TODAY)
    row = df.iloc[0]
    assert df.columns.tolist() == refreshing.SUMMARY_COLUMNS and len(df) == 1
    assert (row["provider"], row["status"], row["regions"]) == ("azure", "updated", "eastus")
    assert (row["types"], row["updated"], row["prices_changed"]) == (26, 25, 25)
    assert row["not_found"] == "Standard_NC8as_T4_v3@eastus" and "kept their previous prices" in row["detail"]
    assert (row["price_date_before"], row["price_date_after"]) == ("2026-11-01", "2026-12-01")
    assert row["path"] == str(folder / "azure.csv") and (folder / "azure.csv").exists()
    assert {p.name: p.read_bytes() for p in PACKAGE_DATA.iterdir()} == shipped  # never into the package

    d2 = catalog.lookup("Standard_D2s_v3", "eastus")
    assert (d2.on_demand_usd, d2.price_date) == (new["Standard_D2s_v3"], TODAY)
    assert d2.spot_usd == round(0.0192 * 1.1, 4)
    kept = catalog.lookup("Standard_NC8as_T4_v3", "eastus")
    assert (kept.on_demand_usd, kept.price_date) == (0.752, datetime.date(2026, 11, 1))
    other_region = catalog.lookup("Standard_D2s_v3", "westeurope")
    assert other_region.price_date == datetime.date(2026, 11, 1)
    assert catalog.price_dates()["azure"] == "2026-12-01" and catalog.price_dates()["aws"] == "2026-11-01"
    assert catalog.lookup("Standard_B1s", "eastus").spot_usd is None  # still no spot for B-series

    changes = df.attrs["changes"]
    assert len(changes) == 25 and set(changes["region"]) == {"eastus"}
    d2_change = changes[changes["instance_type"] == "Standard_D2s_v3"].iloc[0]
    assert (d2_change["on_demand_before"], d2_change["on_demand_after"]) == (0.096, new["Standard_D2s_v3"])
    assert df.attrs["errors"] == {}


@responses.activate
def test_a_failed_refresh_keeps_the_previous_data_and_says_what_failed(folder):
    azure_answers("eastus")
    refreshing.run("azure", ["eastus"], today=TODAY)
    before = (folder / "azure.csv").read_bytes()
    price = catalog.lookup("Standard_D2s_v3", "eastus").on_demand_usd

    responses.reset()
    responses.get(azure_prices.PRICES_URL, status=503, body="service unavailable")
    df = refreshing.run("azure", ["eastus"], today=TODAY + datetime.timedelta(days=1))
    row = df.iloc[0]
    assert row["status"] == "failed" and "HTTP 503" in row["detail"] and "previous prices kept" in row["detail"]
    assert row["price_date_after"] == "2026-12-01"
    assert (folder / "azure.csv").read_bytes() == before
    assert catalog.lookup("Standard_D2s_v3", "eastus").on_demand_usd == price
    assert set(df.attrs["errors"]) == {"azure"}
    assert [p.name for p in folder.iterdir()] == ["azure.csv"]  # no temporary file left behind


@responses.activate
def test_an_api_that_prices_nothing_is_a_failure_not_an_empty_catalog(folder):
    responses.get(azure_prices.PRICES_URL, json=azure_page([]))
    df = refreshing.run("azure", ["westus2"], today=TODAY)
    assert df.iloc[0]["status"] == "failed" and "priced none" in df.iloc[0]["detail"]
    assert not (folder / "azure.csv").exists()


@responses.activate
def test_one_cloud_failing_does_not_stop_the_others(folder, monkeypatch):
    from clusterdb_nb.catalog import gcp_prices

    monkeypatch.setenv(gcp_prices.API_KEY_ENV, "test-key-123")
    responses.get(gcp_prices.SKUS_URL, status=403, json={"error": {"message": "API key not valid"}})
    azure_answers("westeurope")
    monkeypatch.setattr(refreshing, "_regions_by_provider", lambda p, r: {"gcp": ["us-central1"], "azure": ["westeurope"]})
    df = refreshing.run(today=TODAY)
    assert df.set_index("provider")["status"].to_dict() == {"gcp": "failed", "azure": "updated"}
    assert "AuthenticationError" in df.set_index("provider").loc["gcp", "detail"]
    assert "test-key-123" not in df.to_string()


def test_dry_run_lists_the_requests_and_fetches_nothing(folder):
    with responses.RequestsMock():  # any request would fail: none is registered
        df = catalog.refresh("azure", "eastus,westus2", dry_run=True)
    assert df.columns.tolist() == refreshing.PLAN_COLUMNS
    assert len(df) == 2 * 26 and set(df["region"]) == {"eastus", "westus2"}
    assert "armSkuName eq 'Standard_D2s_v3'" in " ".join(df["request"])
    assert not folder.exists()


def test_bad_provider_or_region_is_refused_before_any_request(folder):
    with pytest.raises(ValidationError) as info:
        catalog.refresh("oracle")
    assert info.value.field == "provider"
    with pytest.raises(ValidationError) as info:
        catalog.refresh("aws", ["eastus"])
    assert info.value.field == "regions" and "us-east-1" in info.value.message


# -- the data folder -----------------------------------------------------------------------------------------
def _row(name: str, region: str, price: float, date: str) -> dict[str, object]:
    it = catalog.lookup(name, region)
    return {
        "instance_type": it.name,
        "region": region,
        "vcpu": it.vcpu,
        "memory_gib": it.memory_gib,
        "arch": it.arch,
        "gpu": it.gpu,
        "category": it.category,
        "on_demand_usd": price,
        "spot_usd": it.spot_usd,
        "price_date": date,
    }


def test_folder_is_the_override_else_clusterdb_home_else_the_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "x"))
    assert store.folder() == tmp_path / "x"
    monkeypatch.delenv(store.ENV)
    monkeypatch.setenv("CLUSTERDB_HOME", str(tmp_path / "home"))
    assert store.path("gcp") == tmp_path / "home" / "catalog" / "gcp.csv"
    monkeypatch.delenv("CLUSTERDB_HOME")
    import platformdirs

    assert store.folder() == pathlib.Path(platformdirs.user_data_dir("clusterdb-nb", appauthor=False)) / "catalog"


def test_write_is_atomic_a_failed_write_leaves_the_old_file(folder):
    store.write("aws", [_row("m5.large", "us-east-1", 0.1, "2026-12-01")])
    before = (folder / "aws.csv").read_bytes()

    def rows():
        yield _row("m5.large", "us-east-1", 0.2, "2026-12-02")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        store.write("aws", rows())
    assert (folder / "aws.csv").read_bytes() == before
    assert [p.name for p in folder.iterdir()] == ["aws.csv"]


def test_the_newer_of_shipped_and_refreshed_prices_wins_row_by_row(folder):
    store.write(
        "aws",
        [_row("m5.large", "us-east-1", 0.1, "2026-12-01"), _row("c5.large", "us-east-1", 0.5, "2026-01-01")],
    )
    assert catalog.lookup("m5.large").on_demand_usd == 0.1  # refreshed after the snapshot
    assert catalog.lookup("c5.large").on_demand_usd == 0.085  # the shipped snapshot is newer than this row
    assert catalog.lookup("t3.micro").on_demand_usd == 0.0104  # not in the refreshed file: shipped
    assert catalog.types("aws", "us-east-1").set_index("instance_type").loc["m5.large", "on_demand_usd"] == 0.1
    (folder / "aws.csv").unlink()
    assert catalog.lookup("m5.large").on_demand_usd == 0.096


def test_an_unreadable_refreshed_file_falls_back_to_the_shipped_data(folder, caplog):
    folder.mkdir()
    (folder / "gcp.csv").write_text("instance_type,region\nn2-standard-2,us-central1\n")
    assert catalog.lookup("n2-standard-2").on_demand_usd == 0.097118
    assert "ignoring the refreshed gcp catalog" in caplog.text


# -- the CLI -------------------------------------------------------------------------------------------------
def cli(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, (result.output, result.exception)
    return result


def test_cli_dry_run_in_each_output(folder):
    table = cli("catalog", "refresh", "--provider", "aws", "--region", "eu-west-1", "--dry-run").output
    assert "pricing.get_products" in table and "ec2.describe_spot_price_history" in table
    rows = json.loads(cli("catalog", "refresh", "-p", "gcp", "--dry-run", "-o", "json").output)
    assert rows[0]["api"] == "cloudbilling services.skus.list" and "6F81-5844-456A" in rows[0]["request"]
    csv = cli("-o", "csv", "catalog", "refresh", "-p", "azure", "-r", "eastus", "--dry-run").output.splitlines()
    assert csv[0] == "provider,region,api,request" and len(csv) == 27
    assert not folder.exists()


@responses.activate
def test_cli_refresh_prints_the_summary(folder):
    azure_answers("westus2")
    rows = json.loads(cli("catalog", "refresh", "-p", "azure", "-r", "westus2", "-o", "json").output)
    assert rows[0]["status"] == "updated" and rows[0]["updated"] == 26 and rows[0]["provider"] == "azure"
    assert (folder / "azure.csv").exists()


@responses.activate
def test_cli_failure_exits_with_the_errors_code_and_prints_it(folder):
    responses.get(azure_prices.PRICES_URL, status=500, body="oops")
    result = cli("catalog", "refresh", "-p", "azure", "-r", "eastus", code=6)
    assert "failed" in result.stdout
    assert "ProviderError" in result.stderr and "Solution:" in result.stderr


def test_cli_bad_region_exits_2(folder):
    result = cli("catalog", "refresh", "-p", "aws", "-r", "mars-1", "--dry-run", code=2)
    assert "regions" in result.output


@responses.activate
def test_a_type_whose_spot_meter_is_missing_keeps_its_spot_price_and_is_counted(folder):
    new = azure_answers("eastus", no_spot=("Standard_D2s_v3",))
    row = refreshing.run("azure", ["eastus"], today=TODAY).iloc[0]
    assert row["spot"] == "live; 1 types kept their previous spot price"
    d2 = catalog.lookup("Standard_D2s_v3", "eastus")
    assert (d2.on_demand_usd, d2.spot_usd) == (new["Standard_D2s_v3"], 0.0192)


def test_import_and_lookups_load_no_sdk_and_no_http_library():
    import subprocess
    import sys

    code = (
        "import sys; from clusterdb_nb import catalog; catalog.lookup('m5.large'); catalog.price_dates();"
        "print(sorted(m for m in ('boto3', 'botocore', 'requests', 'google.auth', 'pandas') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "boto3" not in out.stdout and "requests" not in out.stdout and "google.auth" not in out.stdout
