"""Fixtures and helpers for the AWS provider tests: moto's ``mock_aws`` and raw boto3 clients.

Nothing reaches the network: fake credentials come from the environment,
shared config files and the instance metadata service are switched off, and
every call is answered by moto in-process (or by a test's own answer,
registered first on a client's ``before-send`` event).

Test modules load the fixtures with ``pytest_plugins = ["aws_moto"]`` and import
the helpers directly, so this module is imported before pytest could rewrite its
asserts: PYTEST_DONT_REWRITE.
"""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
import requests
from botocore.exceptions import ClientError, ConnectionClosedError
from moto import mock_aws

import clusterdb_nb as cdb

REGION = "us-east-1"
ACCOUNT = "123456789012"
AMI_X86 = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
AMI_ARM = "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
MOTO_API = "http://motoapi.amazonaws.com/moto-api/static"


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    """Fake credentials in the environment, and no shared files, profile or metadata service."""
    for var in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))


@pytest.fixture
def mocked(aws_env: None) -> Iterator[None]:
    """moto's in-process AWS, with Lambda answered without Docker."""
    with mock_aws(config={"lambda": {"use_docker": False}}):
        yield


@pytest.fixture
def raw(mocked: None) -> SimpleNamespace:
    """Separate boto3 clients, to see what the adapter really created."""
    names = ("ec2", "autoscaling", "lambda", "cloudwatch", "ssm", "iam", "ce")
    return SimpleNamespace(**{n.replace("lambda", "lambda_"): boto3.client(n, region_name=REGION) for n in names})


@pytest.fixture
def role(raw: SimpleNamespace) -> str:
    """A Lambda execution role that exists in the mocked account."""
    trust = {"Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    return str(raw.iam.create_role(RoleName="cdb-fn", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])


@pytest.fixture
def aws(raw: SimpleNamespace, role: str) -> Iterator[cdb.ComputeSession]:
    """A session whose only provider is AWS (moto), with a Lambda role configured."""
    session = cdb.connect(aws={"region": REGION, "function_role_arn": role})
    yield session
    session.close()


def provider(session: cdb.ComputeSession) -> Any:
    return session.manager.providers["aws"]


def ssm_value(raw: SimpleNamespace, name: str) -> str:
    return str(raw.ssm.get_parameter(Name=name)["Parameter"]["Value"])


def group(raw: SimpleNamespace, name: str) -> dict[str, Any]:
    found = raw.autoscaling.describe_auto_scaling_groups(AutoScalingGroupNames=[name])["AutoScalingGroups"]
    assert len(found) == 1, f"no group {name!r}"
    return dict(found[0])


def template_version(raw: SimpleNamespace, spec: dict[str, str]) -> dict[str, Any]:
    """The launch template version a group's spec points at (data + VersionDescription)."""
    v = raw.ec2.describe_launch_template_versions(LaunchTemplateId=spec["LaunchTemplateId"], Versions=[spec["Version"]])
    return dict(v["LaunchTemplateVersions"][0])


def live_instances(raw: SimpleNamespace, **filters: str) -> list[dict[str, Any]]:
    """Instances that are not terminated, optionally filtered (e.g. ``**{"tag:aws:autoscaling:groupName": "web"}``)."""
    flt = [{"Name": "instance-state-name", "Values": ["pending", "running", "stopping", "stopped"]}]
    flt += [{"Name": k, "Values": [v]} for k, v in filters.items()]
    return [i for r in raw.ec2.describe_instances(Filters=flt)["Reservations"] for i in r["Instances"]]


def zip_of(files: dict[str, str]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return buf.getvalue()


def queue_lambda_results(*results: str) -> None:
    """What moto's Docker-less Lambda answers to the next invocations (moto's documented API)."""
    resp = requests.post(f"{MOTO_API}/lambda-simple/response", json={"results": list(results), "region": REGION}, timeout=5)
    assert resp.status_code == 201


def queue_cost_results(*results: dict[str, Any]) -> None:
    """What moto's Cost Explorer answers to the next GetCostAndUsage requests (moto's documented API)."""
    resp = requests.post(f"{MOTO_API}/ce/cost-and-usage-results", json={"results": list(results)}, timeout=5)
    assert resp.status_code == 201


def fail_first(client: Any, operation: str, error: Callable[[Any], Exception], times: int = 1) -> list[Any]:
    """Make ``client``'s first ``times`` ``operation`` requests fail with ``error(request)`` before they reach moto.

    The handler runs first on botocore's ``before-send`` event, so moto never
    sees a failed attempt. Returns every request seen (failed or passed on),
    so a test can check what each attempt sent.
    """
    seen: list[Any] = []

    def handler(request: Any, **_: Any) -> None:
        seen.append(request)
        if len(seen) <= times:
            raise error(request)

    event = f"before-send.{client.meta.service_model.service_id.hyphenize()}.{operation}"
    client.meta.events.register_first(event, handler)
    return seen


def dropped(request: Any) -> Exception:
    """The connection closed before AWS answered (botocore retries this)."""
    return ConnectionClosedError(endpoint_url=request.url)


def aws_error(code: str, message: str, operation: str) -> Callable[[Any], Exception]:
    """AWS answering ``operation`` with the error ``code``."""
    return lambda request: ClientError({"Error": {"Code": code, "Message": message}}, operation)


def params_of(client: Any, operation: str) -> Callable[[], list[dict[str, Any]]]:
    """Record the parameters of every ``operation`` call ``client`` makes; returns a getter."""
    seen: list[dict[str, Any]] = []
    client.meta.events.register(
        f"provide-client-params.{client.meta.service_model.service_id.hyphenize()}.{operation}",
        lambda params, **_: seen.append(dict(params)),
    )
    return lambda: seen
