"""The fleet form, driven as a user would: set values, click, read what it shows."""

import pytest
from moto import mock_aws

import clusterdb_nb as cdb
from clusterdb_nb.ui.fleet_form import parse_tags


@pytest.fixture
def form(s):
    return s.fleet_form()


def test_form_offers_configured_providers_and_priced_types(form):
    assert form.provider.options == ("local",)
    labels = dict((name, label) for label, name in form.instance_type.options)
    assert form.instance_type.value == "t3.medium"
    assert labels["t3.medium"] == "aws · t3.medium · 2 vCPU · 4 GiB · $0.0416/h"
    assert {"e2-standard-2", "Standard_D2s_v3"} <= set(labels)  # the local cloud runs every cloud's types


@pytest.fixture
def offline_aws(monkeypatch, tmp_path):
    """moto's AWS with fake credentials: nothing reaches the network or the metadata service."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    with mock_aws():
        yield


def test_switching_provider_shows_its_region_and_its_types_priced_there(offline_aws):
    with cdb.connect(aws={"region": "eu-west-1"}, local={"clock": "virtual", "path": ":memory:"}) as s:
        form = s.fleet_form()
        assert form.provider.options == ("aws", "local") and form.provider.value == "local"  # the default provider
        form.provider.value = "aws"
        assert form.region.value == "eu-west-1"
        labels = dict((name, label) for label, name in form.instance_type.options)
        price = cdb.catalog.lookup("m5.large", "eu-west-1").on_demand_usd
        assert labels["m5.large"] == f"m5.large · 2 vCPU · 8 GiB · ${price:.4f}/h"  # one cloud: no cloud prefix
        assert "e2-standard-2" not in labels and form.instance_type.value == "t3.medium"


def test_live_validation_uses_the_model_rules(form):
    assert "Name the fleet" in form.validation.value and form.create.disabled  # a fresh form is no error
    form.name.value = "Web_Fleet"
    assert "name" in form.validation.value and "lowercase" in form.validation.value
    assert form.create.disabled and form.preview.disabled
    form.name.value = "web"
    form.tags.value = "env=dev\nno-equals-sign"
    assert "line 2" in form.validation.value and form.create.disabled
    form.tags.value = "env=dev\nowner=me"
    assert "ready" in form.validation.value and not form.create.disabled


def test_preview_shows_the_plan_and_changes_nothing(s, form):
    form.name.value = "web"
    form.capacity.value = 4
    form.preview.click()
    assert "nothing changed" in form.plan.value and "+$0.17/h" in form.plan.value and "+$121.47/month" in form.plan.value
    assert len(s.fleets()) == 0


def test_create_makes_the_fleet_and_refreshes_the_table(s, form):
    form.name.value = "web"
    form.description.value = "Web tier"
    form.instance_type.value = "m5.large"
    form.capacity.value = 2
    form.spot.value = True
    form.tags.value = "env=dev"
    form.create.click()
    assert form.status.text == "Created fleet web on local: 2 × m5.large"
    fleet = s.fleet("web")
    assert (fleet.instance_type, fleet.capacity, fleet.spot, fleet.tags, fleet.description) == (
        "m5.large",
        2,
        True,
        {"env": "dev"},
        "Web tier",
    )
    assert "<td class='text'>web</td>" in form.fleets.value


def test_after_create_the_form_is_clean_and_the_new_fleet_shows_its_planned_price(s, form):
    form.name.value = "web"
    form.capacity.value = 3
    form.preview.click()
    assert "Plan" in form.plan.value
    form.create.click()
    assert form.plan.value == ""  # the old plan does not stay above "Created fleet"
    assert form.name.value == "" and "Name the fleet" in form.validation.value
    # booting: nothing runs yet, but the planned price is the one Preview showed
    assert "<td class='num'>$0.00</td><td class='num'>$0.12</td>" in form.fleets.value


def test_an_existing_name_is_refused_as_you_type(s, form):
    s.create_fleet(cdb.FleetConfig("web", capacity=1))  # made elsewhere: the form hears of it
    form.name.value = "web"
    assert "fleet &#x27;web&#x27; already exists on local; pick another name" in form.validation.value
    assert form.create.disabled and form.preview.disabled


def test_each_action_clears_the_last_message(s, form, monkeypatch):
    form.name.value = "web"
    monkeypatch.setattr(s, "create_fleet", lambda *a, **k: (_ for _ in ()).throw(cdb.ConflictError("boom")))
    form.create.click()
    assert form.status.text.startswith("boom")
    monkeypatch.undo()
    form.preview.click()
    assert form.status.text == "" and "Plan" in form.plan.value


def test_failure_is_one_short_message(s, form, monkeypatch):
    form.name.value = "web"
    # the name is free when typed, taken by the time Create is clicked (made by another session)
    s.create_fleet(cdb.FleetConfig("web", capacity=1))
    monkeypatch.setattr(form, "_validate", lambda: cdb.FleetConfig("web", capacity=1, provider="local"))
    form.create.click()
    assert form.status.text.startswith("fleet 'web' already exists — Pick another name")
    assert "Traceback" not in form.status.message.value


def test_spot_on_a_type_without_spot_price_is_flagged(form):
    form.name.value = "burst"
    form.instance_type.value = "Standard_B2s"
    form.spot.value = True
    assert "spot" in form.validation.value.lower() and form.create.disabled


def test_parse_tags():
    assert parse_tags(" a = 1 \n\nb=x=y\n") == {"a": "1", "b": "x=y"}
    with pytest.raises(cdb.ValidationError, match="line 1"):
        parse_tags("=nokey")
