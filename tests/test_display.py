"""How numbers, money, tags, tables and plans read in a notebook."""

import math

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.display import cell, money, number, table_html


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0.1248, "$0.12"),
        (12.5, "$12.50"),
        (1234.567, "$1,234.57"),
        (0.000123456, "$0.0001235"),
        (2.4376e-07, "$0.0000002438"),
        (0.0, "$0.00"),
        (-0.004, "-$0.004000"),
        (float("nan"), ""),
        (None, ""),
    ],
)
def test_money_rounds_to_cents_or_four_significant_figures_without_scientific_notation(value, text):
    assert money(value) == text
    assert "e-" not in money(value)


@pytest.mark.parametrize(
    ("value", "text"), [(5, "5"), (12000, "12,000"), (3.14159, "3.142"), (0.000012345, "0.00001234"), (float("nan"), "")]
)
def test_numbers_read_well(value, text):
    assert number(value) == text


def test_cells_show_tags_as_key_value_and_missing_as_blank():
    assert cell("tags", {"env": "dev", "team": "web"}) == "env=dev, team=web"
    assert cell("target_cpu", math.nan) == "" and cell("created_at", pd.NaT) == ""
    assert cell("created_at", pd.Timestamp("2026-01-05 10:00", tz="UTC")) == "2026-01-05 10:00:00 UTC"


def test_tables_align_numbers_right_under_right_aligned_headers_and_use_theme_variables():
    df = pd.DataFrame({"name": ["web"], "capacity": [5], "hourly_cost_usd": [0.000123456], "tags": [{"a": "b"}]})
    out = table_html(df)
    assert "<th class='num'>capacity</th>" in out and "<td class='num'>5</td>" in out
    assert "<td class='num'>$0.0001235</td>" in out and "<td class='text wrap'>a=b</td>" in out
    assert "var(--jp-layout-color2" in out and "var(--jp-ui-font-color1" in out
    assert "#f8fafc" not in out  # the old fixed light stripe


def test_a_series_is_a_table():
    out = table_html(pd.Series({"cost_usd": 1.5, "instances": 3}, name="summary"))
    assert "<th class='text'></th>" in out and "<td class='text'>cost_usd</td>" in out


def test_plans_compare_side_by_side_with_monthly_change(web):
    small = web.update_fleet_capacity("web-fleet", 2, dry_run=True)
    big = web.update_fleet_capacity("web-fleet", 10, dry_run=True)
    df = cdb.compare_plans(small, big)
    assert df["target"].tolist() == ["web-fleet", "web-fleet"]
    assert df["hourly_change_usd"].tolist() == pytest.approx([-3 * 0.0416, 5 * 0.0416])
    assert df["monthly_change_usd"].tolist() == pytest.approx([-3 * 0.0416 * 730, 5 * 0.0416 * 730])
    assert cdb.compare_plans([small, big]).equals(df)
    with pytest.raises(cdb.ValidationError, match="plans: give one or more Plans"):
        cdb.compare_plans(web.fleet("web-fleet"))
    assert "-$0.12/h" in small._repr_html_() and "-$91.10/month" in small._repr_html_()


def test_status_shows_its_detail_in_full_and_stays_a_dataframe(s):
    status = s.status()
    detail = status.loc[0, "detail"]
    assert len(detail) > pd.get_option("display.max_colwidth")  # pandas' own repr would cut it with "..."
    assert detail not in pd.DataFrame(status)._repr_html_()
    shown = status._repr_html_()
    assert f"<td class='text wrap'>{detail}</td>" in shown and ".clusterdb-table td.wrap{white-space:normal" in shown
    assert isinstance(status, pd.DataFrame)
    assert status.columns.tolist() == ["provider", "ok", "region", "account", "price_date", "detail"]
    assert type(status[status["ok"]]) is pd.DataFrame and type(status.copy()) is pd.DataFrame  # derived frames are plain
    assert status.to_dict("records")[0]["provider"] == "local"


def test_an_autoscaling_summary_is_a_table_in_notebooks():
    from clusterdb_nb.autoscaling.summary import Summary

    summary = Summary(
        instance_hours=1553.25, cost_usd=149.1049, minutes_above_target=7445.0, minutes_saturated=2080.0,
        scaling_actions=74, p95_utilization=72.9381,
    )  # fmt: skip
    shown = summary._repr_html_()
    assert "<th class='num'>cost_usd</th>" in shown and "<th class='num'>p95_utilization</th>" in shown
    assert "<td class='num'>$149.10</td>" in shown and "<td class='num'>1,553</td>" in shown
    assert "<td class='num'>74</td>" in shown and "<td class='num'>72.94</td>" in shown
    unpriced = Summary(1.0, math.nan, 0.0, 0.0, 0, 10.0)._repr_html_()
    assert "<td class='num'></td>" in unpriced and "nan" not in unpriced.lower()
