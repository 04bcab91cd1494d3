"""The recommendations widget, without a browser: checkboxes, the selection's total, Apply with a result per row."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.ui import RecommendationsWidget

sys.path.insert(0, str(Path(__file__).parents[1] / "optimize"))  # the runbook's week lives with the optimize tests
from week_scenario import week  # noqa: E402


@pytest.fixture
def s():
    session = week(cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"}))
    yield session
    session.close()


def rows_by_kind(w: RecommendationsWidget) -> dict[str, object]:
    return {r.recommendation.kind: r for r in w.rows}


def test_lists_every_recommendation_unchecked_with_the_total(s):
    w = s.recommendations_widget(window="7d")
    assert isinstance(w, RecommendationsWidget) and len(w.rows) == 3
    # batch's two findings are alternatives: the fleet counts once, at its larger saving (420.48 + 117.13)
    assert "3 recommendation(s)" in w.title.value and "at least $537.61/month" in w.title.value
    assert w.apply.disabled and w.selected_savings_usd == 0.0
    assert "rightsize · batch (local) · $280.32/month" in [r.checkbox.description for r in w.rows]


def test_the_total_follows_the_checkboxes(s):
    w = s.recommendations_widget(window="7d")
    rows = rows_by_kind(w)
    rows["rightsize"].checkbox.value = True
    assert w.selected_savings_usd == pytest.approx(280.32) and "$280.32/month" in w.total.value and not w.apply.disabled
    rows["schedule"].checkbox.value = True
    assert w.selected_savings_usd == pytest.approx(280.32 + rows["schedule"].savings)
    rows["rightsize"].checkbox.value = False
    assert w.selected_savings_usd == pytest.approx(rows["schedule"].savings)


def test_findings_on_one_fleet_are_not_added_up(s):
    w = s.recommendations_widget(window="7d")
    rows = rows_by_kind(w)
    rows["rightsize"].checkbox.value = rows["autoscaling"].checkbox.value = True
    assert w.selected_savings_usd == pytest.approx(420.48)  # not 280.32 + 420.48: both shrink batch's one bill
    assert "at least $420.48/month" in w.total.value and "overlap" in w.total.value
    rows["autoscaling"].checkbox.value = False
    assert "overlap" not in w.total.value


def test_dry_run_shows_the_plans_and_changes_nothing(s):
    w = s.recommendations_widget(window="7d")
    rows = rows_by_kind(w)
    rows["rightsize"].checkbox.value = True
    w.preview.click()
    assert rows["rightsize"].result_text == "rightsize batch: would run 1 call(s); -0.3840 $/h"
    assert s.fleet("batch").instance_type == "m5.xlarge" and rows["rightsize"].checkbox.value


def test_apply_acts_on_the_checked_rows_and_says_so_in_each(s):
    w = s.recommendations_widget(window="7d")
    rows = rows_by_kind(w)
    rows["rightsize"].checkbox.value = True
    rows["autoscaling"].checkbox.value = True
    w.apply.click()
    assert rows["rightsize"].result_text == "✓ rightsize batch: applied 1 call(s)"
    assert rows["autoscaling"].result_text == "✓ autoscaling batch: applied 1 call(s)"
    assert rows["rightsize"].checkbox.disabled and not rows["rightsize"].checkbox.value
    assert rows["schedule"].result_text == ""  # not checked, not touched
    fleet = s.fleet("batch")
    assert fleet.instance_type == "m5.large" and fleet.auto_scaling is not None


def test_an_error_is_shown_in_its_row_not_raised(s, monkeypatch):
    w = s.recommendations_widget(window="7d")
    rows = rows_by_kind(w)
    rows["rightsize"].checkbox.value = True
    rows["autoscaling"].checkbox.value = True
    s.delete_fleet("batch")
    w.apply.click()
    assert rows["rightsize"].result_text.startswith("✗ ") and "batch" in rows["rightsize"].result_text
    assert rows["autoscaling"].result_text.startswith("✗ ")
    assert not rows["rightsize"].checkbox.disabled  # still there to retry


def test_no_recommendations_and_a_static_snapshot():
    with cdb.connect(local={"clock": "virtual", "seed": 7, "path": ":memory:"}) as s:
        w = s.recommendations_widget()
        assert w.rows == [] and "No recommendations" in w.title.value
        bundle = w._repr_mimebundle_()
        assert "No recommendations" in bundle["text/html"] and "recommendations list" in bundle["text/plain"]


def test_a_provider_that_failed_is_named_above_the_list(s, monkeypatch):
    real = s.recommendations

    def with_failure(*args, **kw):
        df = real(*args, **kw)
        df.attrs["errors"] = {"aws": cdb.ProviderError("CloudWatch is down", provider="aws")}
        return df

    monkeypatch.setattr(s, "recommendations", with_failure)
    w = s.recommendations_widget(window="7d")
    assert "aws could not be read: CloudWatch is down" in w.errors.value and len(w.rows) == 3


def test_findings_on_two_instances_without_a_fleet_both_count():
    from clusterdb_nb.ui.recommendations import RecommendationRow, combined_savings

    def row(resource: str, savings: float) -> RecommendationRow:
        return RecommendationRow(
            pd.Series(
                {"recommendation": None, "monthly_savings_usd": savings, "provider": "aws", "fleet": "", "kind": "idle",
                 "resource": resource, "risk": "low", "confidence": "high", "evidence": "stopped 9 days", "action": "..."}
            )
        )  # fmt: skip

    assert combined_savings([row("i-1", 3.0), row("i-2", 4.0)]) == (7.0, False)
