"""The sentinel-secret sweep: secrets put in every kind of config section never show.

``conftest.secrets_stay_secret`` (autouse) already fails any test whose log records,
warnings or clusterdb_nb errors contain a secret it configured. Here a session is
configured with ``SENTINEL``-derived secrets in a plug-in provider's section, in a
plug-in's own config model and in the AWS credentials, and everything a user
looks at is swept too: reprs, HTML, DataFrames, ``s.errors()`` rows and errors.
"""

from __future__ import annotations

import logging
import textwrap
import warnings

import pandas as pd
import pytest
from moto import mock_aws
from pydantic import SecretStr
from secret_sentinel import SENTINEL

import clusterdb_nb as cdb
from clusterdb_nb.config import hide_secrets, load_config, reveal_secrets
from clusterdb_nb.models import is_secret_key

SECRETS = {
    "vault token": SENTINEL + "-vault-token",
    "vault nested password": SENTINEL + "-vault-password",
    "vault int key": "80417293665512",
    "keyed token": SENTINEL + "-keyed-token",
    "keyed api_key": SENTINEL + "-keyed-api-key",
    "aws access key": "AKIA" + SENTINEL,
    "aws secret key": SENTINEL + "-aws-secret",
}

PLUGINS = '''
import clusterdb_nb as cdb
from clusterdb_nb import frames
from clusterdb_nb.providers.base import ComputeProvider, ProviderStatus
from pydantic import SecretStr


class Vault(ComputeProvider):
    """A model-less plug-in: gets its section as a dict, secrets as SecretStr."""
    kind = "vault"

    async def status(self):
        return ProviderStatus(provider=self.name, ok=True, detail="sealed", region="vault-1")

    async def list_fleets(self):
        raise cdb.ProviderError("the vault is sealed", provider=self.name, operation="list_fleets")

    async def list_instances(self, fleet=None, states=None):
        return frames.frame(frames.INSTANCES, [])


class KeyedSection(cdb.models.Model):
    token: str
    api_key: SecretStr
    region: str = "keyed-1"


class Keyed(Vault):
    """A plug-in with its own config model, taking its token as a plain str."""
    kind = "keyed"
    config_model = KeyedSection

    async def list_fleets(self):
        return []
'''


@pytest.fixture
def plugins(tmp_path, monkeypatch):
    (tmp_path / "sweep_plugins.py").write_text(PLUGINS)
    dist = tmp_path / "sweep_plugins-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: sweep-plugins\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        textwrap.dedent("""
        [clusterdb_nb.providers]
        vault = sweep_plugins:Vault
        keyed = sweep_plugins:Keyed
        """)
    )
    monkeypatch.syspath_prepend(str(tmp_path))


def sentinel_config() -> dict:
    return {
        "compute": {
            "default_provider": "local",
            "providers": {
                "local": {"clock": "virtual", "path": ":memory:"},
                "vault": {
                    "address": "https://vault.example",
                    "token": SECRETS["vault token"],
                    "auth": {"user": "ops", "password": SECRETS["vault nested password"]},
                    "unseal_keys": [int(SECRETS["vault int key"])],
                    "key_name": "ops-key",
                },
                "keyed": {"token": SECRETS["keyed token"], "api_key": SECRETS["keyed api_key"]},
            },
        }
    }


def assert_hidden(*shown: object) -> None:
    for item in shown:
        text = item.to_string() + item.to_html() if isinstance(item, pd.DataFrame) else str(item)
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name} shown in {text[:300]!r}"
        assert SENTINEL not in text


def test_the_watch_catches_a_leak(secrets_stay_secret):
    logging.getLogger("clusterdb_nb").warning("token is %s", SENTINEL)
    with pytest.warns(UserWarning):
        warnings.warn(f"oops {SENTINEL}", stacklevel=1)
    cdb.ValidationError(f"bad {SENTINEL}")
    assert [kind for kind, _ in secrets_stay_secret.texts if SENTINEL in _] == ["log record", "warning", "ValidationError"]
    secrets_stay_secret.texts.clear()


def test_plugin_sections_hide_secret_looking_keys():
    cfg = load_config(sentinel_config())
    vault = cfg.compute.providers.sections()["vault"]
    assert isinstance(vault["token"], SecretStr) and vault["token"].get_secret_value() == SECRETS["vault token"]
    assert isinstance(vault["auth"]["password"], SecretStr) and vault["auth"]["user"] == "ops"
    assert vault["unseal_keys"] == [SecretStr(SECRETS["vault int key"])]
    assert (vault["address"], vault["key_name"]) == ("https://vault.example", "ops-key")
    assert_hidden(repr(cfg), str(cfg), cfg.model_dump_json(), cfg._repr_html_(), repr(vault))
    assert reveal_secrets(vault)["auth"]["password"] == SECRETS["vault nested password"]


@pytest.mark.parametrize(
    "key",
    [
        "token",
        "api_token",
        "apiKey",
        "API_KEY",
        "secret",
        "client_secret",
        "password",
        "db_passwd",
        "credentials",
        "private_key",
        "access_key",
        "session_token",
        "sas_token",
        "connection_string",
        "passphrase",
        "keys",
    ],
)
def test_secret_looking_keys(key):
    assert is_secret_key(key)
    assert isinstance(hide_secrets({key: "value-123"})[key], SecretStr)


@pytest.mark.parametrize(
    "key",
    [
        "key_name",
        "ssh_key_name",
        "kms_key_id",
        "access_key_id",
        "credentials_file",
        "secret_arn",
        "token_url",
        "password_file",
        "keyboard",
        "monkey",
        "region",
        "passthrough",
        "tokenizer",
        "use_token_cache_dir",
        "ssh_public_key",
        "publicKeys",
    ],
)
def test_reference_or_unrelated_keys_stay_plain(key):
    assert not is_secret_key(key)
    assert hide_secrets({key: "value-123"}) == {key: "value-123"}


def test_builtin_sections_type_every_secret_looking_field_as_secret():
    from pydantic import BaseModel

    from clusterdb_nb import config

    for section in (
        config.AwsConfig,
        config.AwsCredentials,
        config.GcpConfig,
        config.AzureConfig,
        config.AzureCredentials,
        config.LocalConfig,
    ):
        for name, field in section.model_fields.items():
            if is_secret_key(name):
                kind = field.annotation
                secret = kind in (SecretStr, SecretStr | None) or (isinstance(kind, type) and issubclass(kind, BaseModel))
                assert secret or name == "credentials", f"{section.__name__}.{name} looks secret but is {kind}"


def test_plugin_error_of_a_secret_field_hides_its_value(plugins):
    raw = sentinel_config()
    raw["compute"]["providers"]["keyed"] = {"token": ["not", "a", SECRETS["keyed token"]], "api_key": 5}
    with pytest.raises(cdb.ValidationError) as info:
        cdb.connect(raw)
    assert info.value.field.startswith("token")
    assert_hidden(info.value, info.value.rule, info.value.solution)


def test_sweep_a_session_with_sentinel_secrets(plugins, monkeypatch, tmp_path, recwarn, caplog):
    for var in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    raw = sentinel_config()
    raw["compute"]["providers"]["aws"] = {
        "region": "us-east-1",
        "credentials": {"access_key": SECRETS["aws access key"], "secret_key": SECRETS["aws secret key"]},
    }
    caplog.set_level(logging.DEBUG, logger="clusterdb_nb")
    shown: list[object] = []
    with mock_aws(), cdb.connect(raw) as s:
        keyed = s.manager.providers["keyed"].config
        assert (keyed.token, keyed.api_key.get_secret_value()) == (SECRETS["keyed token"], SECRETS["keyed api_key"])
        s.create_fleet(cdb.FleetConfig("web", capacity=2, provider="local"))
        s.local.advance("5min")
        shown += [repr(s), s._repr_html_() if hasattr(s, "_repr_html_") else "", repr(s.manager), repr(s.manager.config)]
        shown += [s.manager.config._repr_html_(), s.manager.config.model_dump_json(), str(s.manager.config.model_dump())]
        shown += [s.status(), s.fleets(), s.instances(), s.functions(), s.costs(), s.local.history()]
        errors = s.errors()
        assert "the vault is sealed" in errors.to_string()
        shown += [errors, *errors.astype(str).itertuples()]
        for bad in (
            lambda: s.create_fleet(cdb.FleetConfig("web", provider="vault")),
            lambda: s.fleet("nope"),
            lambda: s.configure_auto_scaling("web", {"max_capacity": True}),
            lambda: s.update_fleet_capacity("web", 10**9),
        ):
            with pytest.raises(cdb.ComputeError) as info:
                bad()
            shown += [info.value, info.value.cause, info.value.solution, *info.value.lines()]
    shown += [w.message for w in recwarn.list] + [r.getMessage() for r in caplog.records]
    assert any("vault" in str(w.message) for w in recwarn.list)
    assert_hidden(*shown)
