"""How old the prices are, where a user looks: every cost frame's attrs and ``s.status()``."""

from __future__ import annotations

import datetime

import pytest

import clusterdb_nb as cdb
from clusterdb_nb import catalog, frames
from clusterdb_nb.catalog import store
from clusterdb_nb.providers.kit import cost_estimate

SNAPSHOT = {"aws": "2026-11-01", "gcp": "2026-11-01", "azure": "2026-11-01"}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv(store.ENV, str(tmp_path / "catalog"))
    return tmp_path / "catalog"


def refreshed(provider: str, name: str, region: str, date: str) -> None:
    """A refreshed file holding one row of ``provider`` priced on ``date``."""
    it = catalog.lookup(name, region)
    store.write(
        provider,
        [
            {
                **{c: getattr(it, c, None) for c in store.COLUMNS},
                "instance_type": it.name,
                "on_demand_usd": it.on_demand_usd,
                "spot_usd": it.spot_usd,
                "price_date": date,
            }
        ],
    )


def test_every_cost_frame_carries_the_price_dates(web, folder):
    web.local.advance("2h")
    assert web.costs().attrs["price_date"] == SNAPSHOT
    assert web.costs(by="resource").attrs["price_date"] == SNAPSHOT
    assert web.costs(by="provider").attrs["price_date"] == SNAPSHOT
    assert web.costs_over_time(period="1h").attrs["price_date"] == SNAPSHOT
    assert web._run(web.manager.costs()).attrs["price_date"] == SNAPSHOT
    assert len(web.costs()) == 1


def test_an_empty_cost_frame_carries_them_too(s, folder):
    assert s.costs().attrs["price_date"] == SNAPSHOT
    assert s.costs_over_time().attrs["price_date"] == SNAPSHOT


def test_the_catalog_estimate_and_the_frame_builder_carry_them(web, folder):
    instances = web.instances()
    lo, hi = web.now() - datetime.timedelta(hours=1), web.now()
    assert cost_estimate.estimate(instances, lo, hi).attrs["price_date"] == SNAPSHOT
    assert (
        frames.costs(
            provider="x", kind="function", resource=[], region="r", running_seconds=[], cost_usd=[], source="exact"
        ).attrs["price_date"]
        == SNAPSHOT
    )


def test_cost_frames_show_a_refreshed_date(web, folder):
    refreshed("gcp", "e2-medium", "us-central1", "2026-12-03")
    assert web.costs().attrs["price_date"] == {**SNAPSHOT, "gcp": "2026-12-03"}


def test_status_shows_the_price_date_and_a_note_when_prices_are_old(s, folder, monkeypatch):
    status = s.status()
    assert status.columns.tolist() == ["provider", "ok", "region", "account", "price_date", "detail"]
    assert status.loc[0, "price_date"] == "2026-11-01"
    assert "catalog refresh" not in status.loc[0, "detail"]

    monkeypatch.setattr(catalog.instance_types, "_today", lambda: datetime.date(2027, 3, 1))
    detail = s.status().loc[0, "detail"]
    assert detail.startswith("local cloud") and "prices from 2026-11-01 are 120 days old" in detail
    assert "clusterdb catalog refresh" in detail


def test_the_local_cloud_shows_the_oldest_of_the_clouds_dates(s, folder):
    refreshed("aws", "m5.large", "us-east-1", "2026-12-01")
    refreshed("gcp", "e2-medium", "us-central1", "2026-12-02")
    assert s.status().loc[0, "price_date"] == "2026-11-01"  # azure is still the snapshot
    refreshed("azure", "Standard_B1s", "eastus", "2026-12-03")
    assert s.status().loc[0, "price_date"] == "2026-12-01"


@pytest.mark.parametrize(("today", "note"), [(datetime.date(2027, 1, 30), False), (datetime.date(2027, 1, 31), True)])
def test_the_note_starts_after_90_days(today, note, folder):
    assert (catalog.price_note("aws", today) != "") is note
    assert catalog.STALE_AFTER_DAYS == 90


def test_a_cloud_session_shows_its_own_clouds_date(folder, monkeypatch):
    """An AWS section's row carries the AWS catalog's date (moto answers the status calls)."""
    from moto import mock_aws

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    refreshed("aws", "m5.large", "us-east-1", "2026-12-05")
    with mock_aws():
        session = cdb.connect(aws={"region": "us-east-1"})
        try:
            row = session.status().set_index("provider").loc["aws"]
        finally:
            session.close()
    assert row["price_date"] == "2026-12-05"


def test_the_runbooks_outputs_do_not_change_as_the_snapshot_ages(s, folder, monkeypatch):
    """nbval's sanitizer removes the staleness note, so stored notebook outputs stay valid after 90 days."""
    import configparser
    import pathlib
    import re

    cfg = configparser.ConfigParser()
    cfg.read(pathlib.Path(__file__).parents[2] / "notebooks" / "nbval-sanitize.cfg")
    rule = cfg["stale price note"]
    fresh = s.status().loc[0, "detail"]
    monkeypatch.setattr(catalog.instance_types, "_today", lambda: datetime.date(2028, 1, 1))
    stale = s.status().loc[0, "detail"]
    assert stale != fresh and re.sub(rule["regex"], rule["replace"], stale) == fresh
