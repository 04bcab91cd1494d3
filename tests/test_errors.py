"""Tests for clusterdb_nb.errors: the hierarchy, the seed's troubleshooting lines, IPython rendering."""

from __future__ import annotations

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.errors import (
    AuthenticationError,
    ComputeError,
    ConflictError,
    NetworkError,
    NotFoundError,
    NotSupportedError,
    ProviderError,
    QuotaExceededError,
    ValidationError,
)

ALL_ERRORS = [
    ValidationError,
    AuthenticationError,
    QuotaExceededError,
    NotFoundError,
    ConflictError,
    NetworkError,
    ProviderError,
    NotSupportedError,
]


# --------------------------------------------------------------------------- the seed's troubleshooting table


@pytest.mark.parametrize(
    ("cls", "cause", "solution"),
    [
        (AuthenticationError, "Invalid or expired credentials", "Verify and update provider credentials"),
        (QuotaExceededError, "Resource quota exceeded", "Request quota increase or cleanup unused resources"),
        (NetworkError, None, "Verify network configuration and rules"),
    ],
)
def test_default_cause_and_solution_match_seed_table(cls, cause, solution):
    err = cls("Failed to do it", provider="aws", operation="create_fleet")
    if cause is not None:
        assert err.cause == cause
    assert err.solution == solution


def test_network_error_cause_mentions_firewall_rules():
    assert "firewall" in NetworkError("Failed to connect to instance").cause.lower()


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_has_a_cause_and_a_solution(cls):
    err = cls("boom")
    assert err.cause.strip() and err.solution.strip()


def test_explicit_cause_and_solution_override_defaults():
    err = AuthenticationError("Failed to authenticate with provider", cause="Token revoked", solution="Log in again")
    assert (err.cause, err.solution) == ("Token revoked", "Log in again")


# --------------------------------------------------------------------------- str and IPython rendering


def test_str_names_provider_and_operation():
    err = QuotaExceededError("Failed to create instance", provider="aws", operation="create_fleet")
    text = str(err)
    assert "aws" in text and "create_fleet" in text and "Failed to create instance" in text


def test_str_without_provider_is_the_message():
    assert str(ConflictError("fleet is busy")) == "fleet is busy"


def test_render_traceback_is_a_short_box_with_cause_and_solution():
    err = AuthenticationError("Failed to authenticate with provider", provider="gcp", operation="list_fleets")
    lines = err._render_traceback_()
    assert isinstance(lines, list) and all(isinstance(line, str) for line in lines)
    assert 1 <= len(lines) <= 6
    assert all(len(line) < 200 for line in lines)
    text = "\n".join(lines)
    assert "AuthenticationError" in text
    assert "gcp" in text and "list_fleets" in text
    assert "Invalid or expired credentials" in text
    assert "Verify and update provider credentials" in text
    assert "Traceback" not in text


def test_render_traceback_of_validation_error_names_the_field():
    err = ValidationError("capacity: must be >= 0 (got -1)", field="capacity", rule="must be >= 0")
    text = "\n".join(err._render_traceback_())
    assert "capacity" in text and "must be >= 0" in text


# --------------------------------------------------------------------------- hierarchy


@pytest.mark.parametrize("cls", ALL_ERRORS)
def test_every_error_is_a_compute_error_and_exported(cls):
    assert issubclass(cls, ComputeError)
    assert getattr(cdb, cls.__name__) is cls
    assert cls.__name__ in cdb.__all__


def test_validation_error_is_a_value_error_with_field_and_rule():
    err = ValidationError("name: bad", field="name", rule="lowercase", provider="aws")
    assert isinstance(err, ValueError) and isinstance(err, ComputeError)
    assert (err.field, err.rule, err.provider) == ("name", "lowercase", "aws")
    with pytest.raises(ValueError, match="name: bad"):
        raise err


def test_not_found_is_a_lookup_error():
    with pytest.raises(LookupError):
        raise NotFoundError("fleet 'web-fleet' not found")


def test_not_supported_is_a_not_implemented_error():
    with pytest.raises(NotImplementedError):
        raise NotSupportedError("spot fleets are not supported", provider="azure")


def test_unrelated_errors_are_not_value_errors():
    assert not issubclass(AuthenticationError, ValueError)
    assert not issubclass(QuotaExceededError, LookupError)
