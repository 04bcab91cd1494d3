"""The AWS provider's functions on moto's Lambda (without Docker; answers queued through moto's API)."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest
from aws_moto import REGION, queue_lambda_results, zip_of

import clusterdb_nb as cdb
from clusterdb_nb.frames import FUNCTIONS
from clusterdb_nb.providers.aws.functions import to_invocation

pytest_plugins = ["aws_moto"]  # moto fixtures: aws_env, mocked, raw, role, aws

CODE = zip_of({"main.py": "def handler(event, context):\n    return event\n"})
ECHO = cdb.FunctionConfig(
    name="echo",
    runtime="python3.12",
    handler="main.handler",
    memory_mb=256,
    timeout_sec=30,
    environment={"STAGE": "dev"},
    code=CODE,
    provider="aws",
)


def lambda_sha256(code: bytes) -> str:
    return base64.b64encode(hashlib.sha256(code).digest()).decode()


def test_create_function_deploys_the_zip_with_the_configured_role(aws, raw, role):
    fn = aws.create_function(ECHO)
    assert (fn.provider, fn.name, fn.version, fn.memory_mb, fn.timeout_sec) == ("aws", "echo", 1, 256, 30)
    assert fn.id == f"arn:aws:lambda:{REGION}:123456789012:function:echo"
    assert fn.code_sha256 == lambda_sha256(CODE) == ECHO.code_sha256 and fn.code_size == len(CODE)
    assert fn.environment_keys == ["STAGE"] and fn.updated_at.tzinfo is not None

    got = raw.lambda_.get_function(FunctionName="echo")["Configuration"]
    assert (got["Runtime"], got["Handler"], got["MemorySize"], got["Timeout"], got["Role"]) == (
        "python3.12",
        "main.handler",
        256,
        30,
        role,
    )
    assert got["Environment"]["Variables"] == {"STAGE": "dev"}
    assert [v["Version"] for v in raw.lambda_.list_versions_by_function(FunctionName="echo")["Versions"]] == ["$LATEST", "1"]


def test_update_function_publishes_code_and_configuration_as_a_new_version(aws, raw):
    aws.create_function(ECHO)
    new_code = zip_of({"main.py": "def handler(event, context):\n    return {'v': 2}\n"})
    fn = aws.update_function(cdb.FunctionConfig(name="echo", memory_mb=512, code=new_code, reserved_concurrency=5))
    assert (fn.version, fn.memory_mb, fn.timeout_sec, fn.reserved_concurrency) == (2, 512, 30, 5)  # timeout kept: not set
    assert fn.code_sha256 == lambda_sha256(new_code)
    got = raw.lambda_.get_function(FunctionName="echo")
    assert got["Configuration"]["MemorySize"] == 512 and got["Configuration"]["CodeSha256"] == lambda_sha256(new_code)
    assert got["Concurrency"]["ReservedConcurrentExecutions"] == 5
    assert [v["Version"] for v in raw.lambda_.list_versions_by_function(FunctionName="echo")["Versions"]] == ["$LATEST", "1", "2"]

    plan = aws.update_function(cdb.FunctionConfig(name="echo", timeout_sec=60), dry_run=True)
    assert plan.calls[0].call.startswith("lambda:UpdateFunctionCode(FunctionName='echo')")
    assert raw.lambda_.get_function(FunctionName="echo")["Configuration"]["Timeout"] == 30


def test_dry_runs_of_create_and_delete_name_the_lambda_calls(aws, raw):
    assert aws.create_function(ECHO, dry_run=True).calls[0].call == "lambda:CreateFunction(FunctionName='echo')"
    assert raw.lambda_.list_functions()["Functions"] == []
    aws.create_function(ECHO)
    assert aws.delete_function("echo", dry_run=True).calls[0].call == "lambda:DeleteFunction(FunctionName='echo')"
    assert [f["FunctionName"] for f in raw.lambda_.list_functions()["Functions"]] == ["echo"]


def test_functions_frame_lists_each_functions_newest_version(aws):
    aws.create_function(ECHO)
    aws.create_function(ECHO.model_copy(update={"name": "resize"}))
    aws.update_function(cdb.FunctionConfig(name="resize", timeout_sec=10))
    df = aws.functions()
    assert list(df.columns) == list(FUNCTIONS)
    assert df[["name", "provider", "version", "timeout_sec"]].values.tolist() == [
        ["echo", "aws", 1, 30],
        ["resize", "aws", 2, 10],
    ]


def test_invoke_returns_the_payload_lambda_answered(aws):
    aws.create_function(ECHO)
    queue_lambda_results(json.dumps({"statusCode": 200, "body": "hello"}))
    inv = aws.invoke_function("echo", {"name": "world"})
    assert isinstance(inv, cdb.Invocation) and inv.ok
    assert (inv.function, inv.version, inv.provider, inv.memory_mb) == ("echo", 1, "aws", 256)
    assert inv.result == {"statusCode": 200, "body": "hello"} and inv.error is None
    assert inv.request_id and inv.cost_usd == pytest.approx(0.20 / 1e6)  # no REPORT line from moto: the request charge


def test_a_function_error_is_an_error_result_not_an_exception(aws):
    aws.create_function(ECHO)
    # moto answers a response over Lambda's 6 MB limit with FunctionError: Unhandled, as Lambda does
    queue_lambda_results("x" * 6_100_000)
    inv = aws.invoke_function("echo", b"{}")
    assert inv.status == "error" and not inv.ok and inv.function_error == "Unhandled"
    assert inv.error["errorType"] == "Function.ResponseSizeTooLarge"
    assert "maximum allowed payload size" in inv.error["errorMessage"]


def test_log_tail_gives_timings_and_cold_start_and_timeouts_are_named():
    fn = cdb.Function(
        id="arn",
        name="echo",
        provider="aws",
        runtime="python3.12",
        handler="main.handler",
        memory_mb=1024,
        timeout_sec=3,
        version=4,
    )
    tail = (
        "START RequestId: r-1 Version: 4\nhello\nEND RequestId: r-1\nREPORT RequestId: r-1\tDuration: 999.12 ms\t"
        "Billed Duration: 1000 ms\tMemory Size: 1024 MB\tMax Memory Used: 70 MB\tInit Duration: 180.50 ms\t\n"
    )
    out = {
        "StatusCode": 200,
        "ExecutedVersion": "4",
        "Payload": b'"ok"',
        "LogResult": base64.b64encode(tail.encode()).decode(),
        "ResponseMetadata": {"RequestId": "r-1"},
    }
    inv = to_invocation(out, fn, None)
    assert (inv.duration_ms, inv.billed_ms, inv.memory_used_mb, inv.init_ms, inv.cold_start) == (999.12, 1000, 70, 180.5, True)
    assert "hello" in inv.logs and inv.cost_usd == pytest.approx(0.2e-6 + 1.0 * 0.0000166667)
    timed_out = {
        **out,
        "FunctionError": "Unhandled",
        "Payload": b'{"errorType": "Sandbox.Timedout", "errorMessage": "Task timed out after 3.00 seconds"}',
    }
    assert to_invocation(timed_out, fn, None).status == "timeout"


def test_delete_function_removes_it(aws, raw):
    aws.create_function(ECHO)
    assert aws.delete_function("echo") is None
    assert raw.lambda_.list_functions()["Functions"] == []
    with pytest.raises(cdb.NotFoundError):
        aws.invoke_function("echo", b"{}")


def test_create_without_a_role_or_code_is_rejected_before_calling_lambda(raw, aws_env):
    with cdb.connect(aws={"region": REGION}) as s:
        with pytest.raises(cdb.ValidationError) as err:
            s.create_function(ECHO)
        assert err.value.field == "function_role_arn"
        with pytest.raises(cdb.ValidationError) as err:
            s.create_function(ECHO.model_copy(update={"code": None}))
        assert err.value.field == "code"
    assert raw.lambda_.list_functions()["Functions"] == []
