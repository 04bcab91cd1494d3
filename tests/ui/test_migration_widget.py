"""The migration progress widget, without a browser: it reads the migration through the session and moves it."""

import clusterdb_nb as cdb
from clusterdb_nb.ui import MigrationProgress
from clusterdb_nb.ui.static import snapshot

MEMORY = {"clock": "virtual", "seed": 7, "path": ":memory:"}


def test_the_widget_steps_runs_pauses_and_rolls_back():
    with cdb.connect(local=MEMORY, local_b={"kind": "local", **MEMORY}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=3, instance_type="t3.medium"))
        s.local.advance("1min")
        m = s.create_migration(cdb.MigrationConfig(source_fleet="web", target_provider="local_b", grace_period=30))
        w = m.widget()
        assert isinstance(w, MigrationProgress)
        assert "planned" in w.detail.value and w.buttons["Resume"].disabled and not w.buttons["Pause"].disabled
        w.buttons["Step"].click()
        assert "running" in w.detail.value and "step 2/11" in w.detail.value and "target 1" in w.detail.value
        w.buttons["Pause"].click()
        assert w.status.text.startswith(f"{m.id}: paused") and not w.buttons["Resume"].disabled
        w.buttons["Resume"].click()
        w.buttons["Run"].click()
        assert w.status.text == f"{m.id}: completed" and w.bar.value == 1.0 and w.bar.bar_style == "success"
        assert all(b.disabled for b in w.buttons.values())
        assert "delete source web on local" in w.steps.value
        assert "Migration" in snapshot(w)


def test_a_failed_gate_shows_its_reason_and_roll_back_undoes_it():
    with cdb.connect(local=MEMORY, local_b={"kind": "local", **MEMORY}) as s:
        s.create_fleet(cdb.FleetConfig("web", capacity=2, instance_type="t3.medium"))
        s.local.advance("1min")
        cfg = cdb.MigrationConfig(source_fleet="web", target_provider="local_b", health_check=lambda df: False)
        w = s.create_migration(cfg).widget()
        w.buttons["Run"].click()
        assert "paused" in w.detail.value and "health check returned False" in w.detail.value
        assert w.bar.bar_style == "warning"
        w.buttons["Roll back"].click()
        assert "rolled_back" in w.status.text and s.fleets()["provider"].tolist() == ["local"]
