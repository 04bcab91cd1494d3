"""Credentials, endpoints and retries from the aws config; botocore errors as ours."""

from __future__ import annotations

import asyncio

import pytest
from aws_moto import ACCOUNT, REGION, provider
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError
from moto.core import set_initial_no_auth_action_count

import clusterdb_nb as cdb
from clusterdb_nb.providers.aws.errors import translate

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role, aws

SEED_AUTH = ("Invalid or expired credentials", "Verify and update provider credentials")


def signed_with(session: cdb.ComputeSession) -> list[str]:
    """Record the access key id each STS request is signed with (the request still goes to moto)."""
    keys: list[str] = []

    def record(request, **_):
        keys.append(request.headers["Authorization"].decode().split("Credential=")[1].split("/")[0])

    provider(session).clients.client("sts").meta.events.register_first("before-send.sts.GetCallerIdentity", record)
    return keys


def test_credentials_from_the_config_sign_the_requests(raw):
    with cdb.connect(aws={"region": REGION, "credentials": {"access_key": "AKIACONFIGKEY0000001", "secret_key": "s3cr3t"}}) as s:
        keys = signed_with(s)
        assert bool(s.status()["ok"].iloc[0])
        assert keys == ["AKIACONFIGKEY0000001"]
        assert "s3cr3t" not in repr(provider(s).config)


def test_a_named_profile_is_read_from_the_shared_credentials_file(raw, tmp_path, monkeypatch):
    creds = tmp_path / "credentials"
    creds.write_text("[dev]\naws_access_key_id = AKIAPROFILEKEY000001\naws_secret_access_key = other\n")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(creds))
    with cdb.connect(aws={"region": REGION, "profile": "dev"}) as s:
        keys = signed_with(s)
        s.status()
        assert keys == ["AKIAPROFILEKEY000001"]


def test_endpoint_url_points_every_client_at_an_emulator_and_the_quota_is_read(aws_env):
    identity = (
        f"<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::{ACCOUNT}:user/dev</Arn>"
        f"<UserId>AIDA</UserId><Account>{ACCOUNT}</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
    )
    quota = '{"Quota": {"ServiceCode": "ec2", "QuotaCode": "L-1216C47A", "Value": 32.0}}'
    seen = []

    def emulator(body: str):  # answers in place of, say, LocalStack on localhost:4566; nothing is sent
        def answer(request, **_):
            seen.append(request.url)
            return AWSResponse(request.url, 200, {}, _Raw(body.encode()))

        return answer

    with cdb.connect(aws={"region": REGION, "endpoint_url": "http://localhost:4566"}) as s:
        p = provider(s)
        p.clients.client("sts").meta.events.register_first("before-send.sts.GetCallerIdentity", emulator(identity))
        p.clients.client("service-quotas").meta.events.register_first(
            "before-send.service-quotas.GetServiceQuota", emulator(quota)
        )
        row = s.status().iloc[0]
        assert len(seen) == 2 and all(url.startswith("http://localhost:4566") for url in seen)
        assert row["account"] == ACCOUNT and "on-demand vCPU quota 32" in row["detail"]
        assert asyncio.run(p.quotas()) == {"on_demand_vcpu_quota": 32.0}
        assert p.clients.client("lambda").meta.endpoint_url == "http://localhost:4566"


class _Raw:
    def __init__(self, body: bytes) -> None:
        self.body = body

    def stream(self, **_):
        yield self.body


def test_credentials_aws_rejects_are_an_authentication_error_with_the_seeds_advice(raw):
    with cdb.connect(aws={"region": REGION}) as s:

        @set_initial_no_auth_action_count(0)  # moto checks every request's credentials from here on
        def calls() -> None:
            assert not s.status()["ok"].iloc[0]
            with pytest.raises(cdb.AuthenticationError) as err:
                s.create_fleet(cdb.FleetConfig("web", capacity=1, instance_type="t3.micro"))
            assert (err.value.cause, err.value.solution) == SEED_AUTH
            assert err.value.provider == "aws" and err.value.operation == "create_fleet"
            assert "Failed to authenticate with provider" in err.value.message

        calls()


def test_no_credentials_anywhere_is_an_authentication_error(raw, monkeypatch):
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    with cdb.connect(aws={"region": REGION}) as s:
        status = s.status().iloc[0]
        assert not status["ok"] and "Unable to locate credentials" in status["detail"]
        with pytest.raises(cdb.AuthenticationError, match="Failed to authenticate") as err:
            s.create_fleet(cdb.FleetConfig("web", capacity=1, instance_type="t3.micro"))
        assert err.value.cause == SEED_AUTH[0]


@pytest.mark.parametrize(
    ("code", "kind", "cause"),
    [
        ("ExpiredToken", cdb.AuthenticationError, SEED_AUTH[0]),
        ("UnrecognizedClientException", cdb.AuthenticationError, SEED_AUTH[0]),
        ("AccessDenied", cdb.AuthenticationError, "The credentials are valid but lack the permission for this call"),
        ("UnauthorizedOperation", cdb.AuthenticationError, "The credentials are valid but lack the permission for this call"),
        ("LimitExceeded", cdb.QuotaExceededError, "Resource quota exceeded"),
        ("VcpuLimitExceeded", cdb.QuotaExceededError, "Resource quota exceeded"),
        ("InsufficientInstanceCapacity", cdb.QuotaExceededError, "Resource quota exceeded"),
        ("InvalidInstanceID.NotFound", cdb.NotFoundError, cdb.NotFoundError.default_cause),
        ("ResourceNotFoundException", cdb.NotFoundError, cdb.NotFoundError.default_cause),
        ("IncorrectInstanceState", cdb.ConflictError, cdb.ConflictError.default_cause),
        ("AlreadyExists", cdb.ConflictError, cdb.ConflictError.default_cause),
        ("Throttling", cdb.ProviderError, "Too many requests to the AWS API"),
        ("InvalidParameterValue", cdb.ValidationError, cdb.ValidationError.default_cause),
        ("InternalFailure", cdb.ProviderError, cdb.ProviderError.default_cause),
    ],
)
def test_aws_error_codes_map_to_our_errors(code, kind, cause):
    exc = ClientError({"Error": {"Code": code, "Message": "from AWS"}}, "RunInstances")
    err = translate(exc, "aws", "create_fleet")
    assert type(err) is kind and err.cause == cause
    assert (err.provider, err.operation) == ("aws", "create_fleet") and code in err.message


def test_an_auto_scaling_group_that_does_not_exist_is_not_found():
    exc = ClientError(
        {"Error": {"Code": "ValidationError", "Message": "AutoScalingGroup name not found - 'web'"}}, "DeleteAutoScalingGroup"
    )
    assert isinstance(translate(exc, "aws", "delete_fleet"), cdb.NotFoundError)


def test_sdk_errors_without_a_response_map_by_kind():
    assert isinstance(translate(NoCredentialsError(), "aws", "status"), cdb.AuthenticationError)
    net = translate(EndpointConnectionError(endpoint_url="https://ec2.us-east-1.amazonaws.com"), "aws", "list_instances")
    assert isinstance(net, cdb.NetworkError) and "endpoint_url" in net.cause
    unrelated = KeyError("x")
    assert translate(unrelated, "aws", "status") is unrelated
