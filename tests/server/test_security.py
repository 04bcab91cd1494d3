"""Starting the server: where its token comes from, file permissions, loopback by default, TLS advice."""

from __future__ import annotations

import logging
import stat

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.server.auth import TOKEN_FILE, Tokens
from clusterdb_nb.server.run import is_loopback, uvicorn_config


@pytest.fixture(autouse=True)
def no_env_tokens(monkeypatch):
    monkeypatch.delenv("CLUSTERDB_API_TOKEN", raising=False)
    monkeypatch.delenv("CLUSTERDB_API_READONLY_TOKEN", raising=False)


def tokens_of(config):
    return config.app.state.settings.tokens


def test_first_start_generates_a_0600_token_printed_once(session, tmp_path, capsys):
    first = uvicorn_config(session, folder=tmp_path)
    printed = capsys.readouterr().err
    path = tmp_path / TOKEN_FILE
    token = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert token in printed and len(token) >= 32
    assert tokens_of(first).role(token) == "read-write"
    second = uvicorn_config(session, folder=tmp_path)
    assert capsys.readouterr().err == ""  # not printed again
    assert tokens_of(second).role(token) == "read-write"


def test_environment_and_token_file_set_the_token(session, tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERDB_API_TOKEN", "env-token-0123456789abcdef")
    assert tokens_of(uvicorn_config(session, folder=tmp_path)).role("env-token-0123456789abcdef") == "read-write"
    assert not (tmp_path / TOKEN_FILE).exists()
    f = tmp_path / "token"
    f.write_text("file-token-0123456789abcdef\n")
    ro = tmp_path / "ro"
    ro.write_text("view-token-0123456789abcdef")
    tokens = tokens_of(uvicorn_config(session, token_file=str(f), read_only_token_file=str(ro), folder=tmp_path))
    assert tokens.role("file-token-0123456789abcdef") == "read-write"
    assert tokens.role("view-token-0123456789abcdef") == "read-only"
    assert tokens.role("env-token-0123456789abcdef") is None  # --token-file wins over the environment


def test_short_or_unreadable_tokens_are_refused(session, tmp_path, monkeypatch):
    short = tmp_path / "short"
    short.write_text("abc")
    with pytest.raises(cdb.ValidationError) as err:
        uvicorn_config(session, token_file=str(short), folder=tmp_path)
    assert err.value.field == "--token-file"
    with pytest.raises(cdb.ValidationError):
        uvicorn_config(session, token_file=str(tmp_path / "missing"), folder=tmp_path)
    monkeypatch.setenv("CLUSTERDB_API_TOKEN", "short")
    with pytest.raises(cdb.ValidationError) as err:
        uvicorn_config(session, folder=tmp_path)
    assert err.value.field == "CLUSTERDB_API_TOKEN" and "short" not in str(err.value)


def test_listening_beyond_loopback_needs_an_explicit_token_and_warns_without_tls(session, tmp_path, monkeypatch, caplog):
    assert uvicorn_config(session, folder=tmp_path).host == "127.0.0.1"
    with pytest.raises(cdb.ValidationError) as err:
        uvicorn_config(session, host="0.0.0.0", folder=tmp_path)
    assert err.value.field == "--host"
    monkeypatch.setenv("CLUSTERDB_API_TOKEN", "env-token-0123456789abcdef")
    with caplog.at_level(logging.WARNING, logger="clusterdb_nb"):
        uvicorn_config(session, host="0.0.0.0", folder=tmp_path)
    assert "without TLS" in caplog.text
    with pytest.raises(cdb.ValidationError):
        uvicorn_config(session, host="0.0.0.0", certfile="cert.pem", folder=tmp_path)  # the key is missing


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("127.0.0.1", True), ("::1", True), ("localhost", True), ("0.0.0.0", False), ("10.0.0.5", False), ("example.com", False)],
)
def test_loopback_hosts(host, loopback):
    assert is_loopback(host) is loopback


def test_token_comparison_uses_every_token_and_keeps_roles_apart():
    tokens = Tokens(read_write=["a" * 20], read_only=["b" * 20])
    assert tokens.role("a" * 20) == "read-write" and tokens.role("b" * 20) == "read-only"
    assert tokens.role("a" * 19) is None and tokens.role("") is None and tokens.role("é" * 20) is None
    assert "a" * 20 not in repr(tokens)
