"""The errors a newcomer meets first: each one message, naming what they did, with the fix in it."""

import logging
import sys

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.providers import registry


def test_every_unknown_yaml_key_is_named_with_a_did_you_mean(tmp_path):
    path = tmp_path / "clusterdb.yaml"
    path.write_text("compute:\n  providers:\n    local:\n      clokc: virtual\n      sede: 3\nflet:\n  tags: {}\n")
    with pytest.raises(cdb.ValidationError) as exc:
        cdb.connect(path)
    err = exc.value
    assert err.message == (
        "unknown config keys: compute.providers.local.clokc (did you mean 'clock'?), "
        "compute.providers.local.sede (did you mean 'seed'?), flet (did you mean 'fleet'?)"
    )
    assert err.field == "compute.providers.local.clokc"
    assert "compute.providers.local takes: path, clock, seed" in err.solution


def test_an_unknown_key_without_a_close_match_is_named_alone():
    with pytest.raises(cdb.ValidationError, match=r"^unknown config key: fleet\.zzz$"):
        cdb.connect({"fleet": {"zzz": 1}})


def test_a_missing_fleet_names_the_call_the_user_made_and_the_provider_once(s, caplog, capsys):
    with caplog.at_level(logging.DEBUG, logger="clusterdb_nb"), pytest.raises(cdb.NotFoundError) as exc:
        s.update_fleet_capacity("no-such-fleet", 3)
    assert str(exc.value) == "[local/update_fleet_capacity] no fleet 'no-such-fleet' in local"
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize(
    ("call", "operation"),
    [
        (lambda s: s.stop_instance("i-nope"), "stop_instance"),
        (lambda s: s.delete_fleet("nope"), "delete_fleet"),
        (lambda s: s.invoke_function("nope"), "invoke_function"),
    ],
)
def test_lookups_inside_a_call_are_reported_as_that_call(s, call, operation):
    with pytest.raises(cdb.NotFoundError) as exc:
        call(s)
    assert (exc.value.provider, exc.value.operation) == ("local", operation)


def test_a_missing_sdk_says_what_to_install_in_the_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "boto3", None)
    for name in [m for m in sys.modules if m.startswith("clusterdb_nb.providers.aws")]:
        monkeypatch.delitem(sys.modules, name)
    with pytest.raises(cdb.NotSupportedError) as exc:
        registry.provider_class("aws")
    assert str(exc.value) == "[aws/connect] provider 'aws' needs boto3, which is not installed: pip install 'clusterdb-nb[aws]'"


def test_an_unknown_key_with_a_dot_in_it_is_named_too():
    with pytest.raises(cdb.ValidationError, match=r"^unknown config key: 0\.$"):
        cdb.connect({"0.": None})
