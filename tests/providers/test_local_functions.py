"""Functions on the local cloud: handlers really run in worker processes, with Lambda's semantics."""

import asyncio
import io
import json
import os
import textwrap
import time
import zipfile

import numpy as np
import pytest

import clusterdb_nb as cdb
from clusterdb_nb.frames import COSTS, INVOCATIONS
from clusterdb_nb.providers.function_billing import BILLING

COUNTER = """
import os
count = 0

def handler(event, context):
    global count
    count += 1
    return {"count": count, "pid": os.getpid(), "event": event}
"""


def code(tmp_path, source, name="main.py"):
    """A code directory holding ``source`` as ``name``."""
    folder = tmp_path / f"code-{len(list(tmp_path.iterdir()))}"
    folder.mkdir()
    (folder / name).write_text(textwrap.dedent(source))
    return folder


def create(s, tmp_path, source, name="fn", **config):
    return s.create_function(cdb.FunctionConfig(name=name, code=code(tmp_path, source), **config))


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def host_pids(s, name=None):
    """Host process ids of the session's function workers (a handler's own pid is its sandbox's)."""
    return s.manager.providers["local"].functions.function_pool.worker_pids(name)


def zip_of(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, text in entries.items():
            zf.writestr(zipfile.ZipInfo(name), text)
    return buf.getvalue()


# ----------------------------------------------------------------------------- lifecycle


def test_create_get_list_and_conflict(s, tmp_path):
    fn = create(s, tmp_path, COUNTER, memory_mb=256, environment={"STAGE": "dev"})
    assert (fn.name, fn.version, fn.memory_mb, fn.environment_keys, fn.provider) == ("fn", 1, 256, ["STAGE"], "local")
    assert fn.code_sha256 and fn.code_size > 0
    assert s.manager.providers["local"].supports("invoke_function")
    df = s.functions()
    assert df[["name", "version", "memory_mb"]].values.tolist() == [["fn", 1, 256]]
    assert df["code_sha256"].iloc[0] == fn.code_sha256
    with pytest.raises(cdb.ConflictError, match="already exists"):
        create(s, tmp_path, COUNTER)


def test_create_needs_code(s):
    with pytest.raises(cdb.ValidationError) as err:
        s.create_function(cdb.FunctionConfig(name="fn"))
    assert err.value.field == "code"
    assert len(s.functions()) == 0


def test_warm_invocations_keep_module_state_and_a_new_version_starts_over(s, tmp_path):
    create(s, tmp_path, COUNTER)
    runs = [s.invoke_function("fn", {"n": i}) for i in range(3)]
    first_workers = host_pids(s)
    assert [r.result["count"] for r in runs] == [1, 2, 3] and len(first_workers) == 1
    assert [r.cold_start for r in runs] == [True, False, False]
    assert len({r.result["pid"] for r in runs}) == 1
    assert runs[0].result["event"] == {"n": 0}
    assert runs[0].init_ms is not None and runs[1].init_ms is None

    fn = s.update_function(cdb.FunctionConfig(name="fn", code=code(tmp_path, COUNTER + "\n# v2\n")))
    assert fn.version == 2
    after = [s.invoke_function("fn") for _ in range(2)]
    assert [r.result["count"] for r in after] == [1, 2] and [r.version for r in after] == [2, 2]
    assert after[0].cold_start and not pid_alive(first_workers[0])


def test_update_merges_only_the_fields_given_and_skips_a_no_op(s, tmp_path):
    first = create(s, tmp_path, COUNTER, memory_mb=512, environment={"A": "1"})
    s.invoke_function("fn")
    same = s.update_function(cdb.FunctionConfig(name="fn", memory_mb=512))
    assert same.version == 1
    assert s.invoke_function("fn").result["count"] == 2  # still warm: nothing changed
    bigger = s.update_function(cdb.FunctionConfig(name="fn", memory_mb=1024))
    assert (bigger.version, bigger.memory_mb, bigger.environment_keys) == (2, 1024, ["A"])
    assert bigger.code_sha256 == first.code_sha256 and bigger.handler == "main.handler"
    inv = s.invoke_function("fn")
    assert (inv.result["count"], inv.cold_start, inv.memory_mb) == (1, True, 1024)


def test_delete_stops_workers_and_keeps_billed_invocations(s, tmp_path):
    create(s, tmp_path, COUNTER)
    s.invoke_function("fn")
    (pid,) = host_pids(s)
    s.delete_function("fn")
    assert not pid_alive(pid) and len(s.functions()) == 0
    with pytest.raises(cdb.NotFoundError):
        s.invoke_function("fn")
    assert s.invocations()["function"].tolist() == ["fn"]
    assert s.costs(by="resource").query("kind == 'function'")["requests"].tolist() == [1]


def test_functions_and_invocations_persist_in_the_state_file(tmp_path):
    state = {"clock": "virtual", "path": str(tmp_path / "local.db")}
    with cdb.connect(local=state) as s:
        create(s, tmp_path, COUNTER)
        first = s.invoke_function("fn")
    with cdb.connect(local=state) as s:
        again = s.invoke_function("fn")  # the code comes back from the state file, in a new worker
        assert (again.cold_start, again.result["count"]) == (True, 1)
        assert s.invocations()["request_id"].tolist() == [first.request_id, again.request_id]
        assert first.request_id != again.request_id


def test_non_python_runtime_is_not_supported_locally(s, tmp_path):
    with pytest.raises(cdb.NotSupportedError) as err:
        create(s, tmp_path, COUNTER, runtime="nodejs20.x")
    assert (err.value.provider, err.value.operation) == ("local", "create_function")
    assert "nodejs20.x" in str(err.value)
    create(s, tmp_path, COUNTER)
    with pytest.raises(cdb.NotSupportedError) as err:
        s.update_function(cdb.FunctionConfig(name="fn", runtime="java21"))
    assert err.value.operation == "update_function"
    assert s.manager.providers["local"].supports("create_function")


# ----------------------------------------------------------------------------- context and environment


def test_context_carries_lambdas_fields(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        def handler(event, context):
            return {k: getattr(context, k) for k in ("function_name", "function_version", "memory_limit_in_mb",
                    "aws_request_id", "invoked_function_arn")} | {"left": context.get_remaining_time_in_millis()}
        """,
        name="ctx",
        memory_mb=256,
        timeout_sec=5,
    )
    inv = s.invoke_function("ctx")
    assert inv.result["function_name"] == "ctx"
    assert inv.result["function_version"] == "1"
    assert inv.result["memory_limit_in_mb"] == "256"  # a string, as on Lambda
    assert inv.result["aws_request_id"] == inv.request_id
    assert inv.result["invoked_function_arn"] == "arn:aws:lambda:local:000000000000:function:ctx:1"
    assert 4000 < inv.result["left"] <= 5000


def test_request_ids_are_uuids_reproducible_for_a_seed(tmp_path):
    ids = []
    for _ in range(2):
        with cdb.connect(local={"clock": "virtual", "seed": 11, "path": ":memory:"}) as s:
            create(s, tmp_path, COUNTER)
            ids.append([s.invoke_function("fn").request_id for _ in range(2)])
    assert ids[0] == ids[1] and ids[0][0] != ids[0][1] and len(ids[0][0]) == 36


def test_handler_sees_its_environment_and_the_runtimes_but_no_parent_secret(s, tmp_path, monkeypatch):
    monkeypatch.setenv("CLUSTERDB_TEST_SECRET", "hunter2")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "parent-key")
    create(
        s,
        tmp_path,
        """
        import os
        def handler(event, context):
            return dict(os.environ)
        """,
        environment={"STAGE": "dev"},
    )
    env = s.invoke_function("fn").result
    assert env["STAGE"] == "dev"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn" and env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["_HANDLER"] == "main.handler" and env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert "CLUSTERDB_TEST_SECRET" not in env and "AWS_SECRET_ACCESS_KEY" not in env
    assert "hunter2" not in json.dumps(env) and "parent-key" not in json.dumps(env)


def test_reserved_and_oversized_environments_are_rejected(s):
    # the local cloud runs Lambda's rules, checked before any call
    with pytest.raises(cdb.ValidationError, match="reserved") as err:
        s.create_function(cdb.FunctionConfig(name="fn", environment={"AWS_LAMBDA_FUNCTION_NAME": "x"}))
    assert err.value.field == "environment"
    with pytest.raises(cdb.ValidationError, match="4 KB"):
        s.create_function(cdb.FunctionConfig(name="fn", environment={"BIG": "x" * 4100}))
    assert s.functions().empty


@pytest.mark.parametrize("runtime", ["python3.9", "python3.13", "python3.14"])
def test_lambda_python_runtimes_are_accepted(runtime):
    assert cdb.FunctionConfig(name="fn", runtime=runtime).runtime == runtime


# ----------------------------------------------------------------------------- results, errors, logs


def test_prints_are_the_invocations_logs(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        import sys
        print("loading")
        def handler(event, context):
            print("to stdout", event["n"])
            print("to stderr", file=sys.stderr)
            return "ok"
        """,
    )
    first, second = s.invoke_function("fn", {"n": 1}), s.invoke_function("fn", {"n": 2})
    assert first.logs == "loading\nto stdout 1\nto stderr\n"  # the init's output goes with the cold start
    assert second.logs == "to stdout 2\nto stderr\n"
    assert second.result == "ok"
    assert s.invocations("fn")["logs"].tolist() == [first.logs, second.logs]


def test_an_uncaught_exception_is_an_unhandled_error_like_lambdas(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        def handler(event, context):
            return helper(event["x"])

        def helper(x):
            raise ValueError(f"bad x: {x}")
        """,
    )
    inv = s.invoke_function("fn", {"x": 42})
    assert (inv.status, inv.ok, inv.function_error) == ("error", False, "Unhandled")
    assert inv.error["errorType"] == "ValueError" and inv.error["errorMessage"] == "bad x: 42"
    trace = inv.error["stackTrace"]
    assert len(trace) == 2 and "in handler" in trace[0] and 'raise ValueError(f"bad x: {x}")' in trace[1]
    assert all("worker.py" not in line for line in trace)
    assert inv.result == {**inv.error, "requestId": inv.request_id}
    assert inv.logs.startswith("[ERROR] ValueError: bad x: 42\nTraceback (most recent call last):")
    row = s.invocations().iloc[0]
    assert (row["status"], row["error_type"], row["error_message"]) == ("error", "ValueError", "bad x: 42")
    assert not s.invoke_function("fn", {"x": 1}).cold_start  # the worker survives a handled error


@pytest.mark.parametrize(
    ("source", "handler", "error_type", "message"),
    [
        ("def handler(e, c): return 1", "nomodule.handler", "Runtime.ImportModuleError", "Unable to import module 'nomodule'"),
        ("def handler(e, c): return 1", "main.missing", "Runtime.HandlerNotFound", "Handler 'missing' missing on module 'main'"),
        ("def handler(e, c) return 1", "main.handler", "Runtime.UserCodeSyntaxError", "Syntax error in module 'main'"),
        ("raise RuntimeError('no config')", "main.handler", "RuntimeError", "no config"),
        ("def handler(e, c): return {1, 2}", "main.handler", "Runtime.MarshalError", "Unable to marshal response"),
    ],
)
def test_runtime_errors_carry_lambdas_error_types(s, tmp_path, source, handler, error_type, message):
    create(s, tmp_path, source, handler=handler)
    inv = s.invoke_function("fn")
    assert inv.status == "error" and inv.error["errorType"] == error_type
    assert message in inv.error["errorMessage"]


def test_handlers_import_installed_packages_and_return_decimals(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        import decimal
        import yaml  # installed in the notebook's environment, not in the zip

        def handler(event, context):
            return {"doc": yaml.safe_load("a: 1"), "price": decimal.Decimal("1.25")}
        """,
    )
    assert s.invoke_function("fn").result == {"doc": {"a": 1}, "price": 1.25}


def test_timeout_kills_the_worker_and_reports_it(s, tmp_path):
    create(
        s,
        tmp_path,
        """
        import os, time
        def handler(event, context):
            if event.get("sleep"):
                print("going to sleep")
                time.sleep(30)
            return os.getpid()
        """,
        timeout_sec=1,
    )
    s.invoke_function("fn")
    (pid,) = host_pids(s)
    inv = s.invoke_function("fn", {"sleep": True})
    assert inv.status == "timeout" and inv.error["errorType"] == "Sandbox.Timedout"
    assert inv.error["errorMessage"].endswith("Task timed out after 1.00 seconds")
    assert inv.duration_ms == 1000.0 and inv.billed_ms == 1000
    assert inv.logs == "going to sleep\n"
    assert not pid_alive(pid)
    assert s.invoke_function("fn").cold_start


@pytest.mark.parametrize(
    "allocation",
    ["b'x' * (300 * 2**20)", "bytearray(64 * 2**30)"],
    ids=["touched-past-the-limit", "beyond-the-address-space-cap"],
)
def test_allocating_past_the_memory_size_is_out_of_memory(s, tmp_path, allocation):
    create(
        s,
        tmp_path,
        f"""
        import os
        def handler(event, context):
            if event.get("grow"):
                data = {allocation}
                return len(data)
            return os.getpid()
        """,
        memory_mb=128,
    )
    s.invoke_function("fn")
    (pid,) = host_pids(s)
    inv = s.invoke_function("fn", {"grow": True})
    assert inv.status == "out_of_memory" and inv.error["errorType"] == "Runtime.OutOfMemory"
    assert "out of memory" in inv.error["errorMessage"]
    assert not pid_alive(pid) and s.invoke_function("fn").cold_start
    assert s.invocations()["status"].tolist() == ["success", "out_of_memory", "success"]


def test_memory_used_is_reported_and_stays_under_the_limit_for_small_handlers(s, tmp_path):
    create(s, tmp_path, COUNTER, memory_mb=128)
    inv = s.invoke_function("fn")
    assert 0 < inv.memory_used_mb < 128


# ----------------------------------------------------------------------------- limits


def test_payloads_over_6_mb_are_rejected_and_nothing_runs(s, tmp_path):
    create(s, tmp_path, COUNTER)
    big = json.dumps({"blob": "x" * (6 * 2**20)}).encode()
    with pytest.raises(cdb.ValidationError, match="6 MB") as err:
        s.invoke_function("fn", big)
    assert err.value.field == "payload"
    with pytest.raises(cdb.ValidationError, match="JSON"):
        s.invoke_function("fn", b"{not json")
    assert len(s.invocations()) == 0


def test_responses_over_6_mb_are_an_error(s, tmp_path):
    create(s, tmp_path, "def handler(event, context):\n    return 'x' * (6 * 2**20 + 1)\n")
    inv = s.invoke_function("fn")
    assert inv.status == "error" and inv.error["errorType"] == "Function.ResponseSizeTooLarge"
    assert len(inv.payload) < 1000


def test_invocations_beyond_the_concurrency_limit_are_throttled(s, tmp_path):
    create(
        s,
        tmp_path,
        "import time\ndef handler(event, context):\n    time.sleep(0.5)\n    return 'done'\n",
        reserved_concurrency=2,
    )

    async def burst():
        return await asyncio.gather(*(s.manager.invoke_function("fn", {}) for _ in range(4)), return_exceptions=True)

    results = asyncio.run(burst())
    done = [r for r in results if isinstance(r, cdb.Invocation)]
    throttled = [r for r in results if isinstance(r, cdb.QuotaExceededError)]
    assert len(done) == 2 and all(r.result == "done" for r in done)
    assert len(throttled) == 2 and "TooManyRequestsException" in str(throttled[0])
    assert len(s.invocations()) == 2  # throttled requests are neither run nor billed
    assert s.invoke_function("fn").ok  # slots are given back


# ----------------------------------------------------------------------------- code packaging


def test_zip_slip_archives_are_rejected_when_the_config_is_built(s):
    for evil in ("../evil.py", "/etc/evil.py", "lib/../../evil.py"):
        with pytest.raises(cdb.ValidationError, match="escapes the code directory") as err:
            cdb.FunctionConfig(name="fn", code=zip_of({"main.py": "x = 1", evil: "boom"}))
        assert err.value.field == "code"
    assert len(s.functions()) == 0


def test_code_must_be_a_zip_and_the_path_must_exist(tmp_path):
    with pytest.raises(cdb.ValidationError, match="not a zip"):
        cdb.FunctionConfig(name="fn", code=b"print('hi')")
    with pytest.raises(cdb.ValidationError, match="no such file"):
        cdb.FunctionConfig(name="fn", code=tmp_path / "missing")


def test_a_directory_zips_deterministically(tmp_path):
    folder = code(tmp_path, COUNTER)
    (folder / "pkg").mkdir()
    (folder / "pkg" / "util.py").write_text("X = 1\n")
    first = cdb.FunctionConfig(name="fn", code=folder)
    (folder / "__pycache__").mkdir()
    (folder / "__pycache__" / "main.cpython-311.pyc").write_bytes(b"\0")
    os.utime(folder / "main.py", (1, 1))
    second = cdb.FunctionConfig(name="fn", code=str(folder))
    assert first.code == second.code and first.code_sha256 == second.code_sha256
    assert sorted(zipfile.ZipFile(io.BytesIO(first.code)).namelist()) == ["main.py", "pkg/util.py"]
    (folder / "pkg" / "util.py").write_text("X = 2\n")
    assert cdb.FunctionConfig(name="fn", code=folder).code_sha256 != first.code_sha256


def test_code_from_a_zip_file_and_from_bytes_is_the_same(s, tmp_path):
    data = zip_of({"app/handler.py": "def run(event, context):\n    return event['v'] * 2\n"})
    (tmp_path / "fn.zip").write_bytes(data)
    from_path = cdb.FunctionConfig(name="fn", code=tmp_path / "fn.zip", handler="app.handler.run")
    assert from_path.code == data and from_path.code_sha256 == cdb.FunctionConfig(name="fn", code=data).code_sha256
    s.create_function(from_path)
    assert s.invoke_function("fn", {"v": 21}).result == 42


# ----------------------------------------------------------------------------- frames, costs, display, cleanup


def test_invocations_frame_has_stable_columns(s, tmp_path):
    empty = s.invocations()
    assert list(empty.columns) == list(INVOCATIONS) and len(empty) == 0
    create(s, tmp_path, COUNTER)
    s.invoke_function("fn")
    s.local.advance("10s")
    s.invoke_function("fn")
    df = s.invocations("fn")
    assert list(df.columns) == list(INVOCATIONS) and (df.dtypes == empty.dtypes).all()
    assert str(df["started_at"].dt.tz) == "UTC"
    assert (df["started_at"].iloc[1] - df["started_at"].iloc[0]).total_seconds() == 10.0  # the local clock
    assert df["cold_start"].tolist() == [True, False] and df["billed_ms"].dtype == np.int64
    assert len(s.invocations("other")) == 0


def test_function_costs_are_billed_like_lambda(s, tmp_path):
    create(s, tmp_path, COUNTER, memory_mb=512)
    runs = [s.invoke_function("fn") for _ in range(3)]
    rule = BILLING["aws"]
    costs = s.costs(by="resource")
    assert list(costs.columns) == list(COSTS)
    row = costs.query("kind == 'function'").iloc[0]
    assert (row["resource"], row["requests"], row["provider"]) == ("fn", 3, "local")
    billed = sum(r.billed_ms for r in runs)
    for r in runs:  # billed in 1 ms steps, init included (durations are shown rounded to the microsecond)
        assert r.billed_ms - 1 < r.duration_ms + (r.init_ms or 0) <= r.billed_ms + 1e-3
    assert row["running_seconds"] == pytest.approx(billed / 1000)
    expected = 3 * 0.20 / 1e6 + billed / 1000 * 0.5 * 0.0000166667
    assert row["cost_usd"] == pytest.approx(expected, rel=1e-6, abs=1e-11)  # money is kept to 1e-12 USD
    assert sum(r.cost_usd for r in runs) == pytest.approx(expected, rel=1e-6, abs=1e-11)
    assert rule.billed_ms(0.2) == 1
    kinds = s.costs(by="kind")
    assert kinds.query("kind == 'function'")["requests"].tolist() == [3]
    assert len(s.costs(end="2026-01-04", by="resource")) == 0  # invocations are dated by the local clock (2026-01-05)


@pytest.mark.parametrize(("rule", "step"), [("gcp", 100), ("azure", 1)])
def test_the_billing_rule_is_chosen_by_the_local_config(tmp_path, rule, step):
    with cdb.connect(local={"clock": "virtual", "path": ":memory:", "function_billing": rule}) as s:
        create(s, tmp_path, COUNTER, memory_mb=200)
        inv = s.invoke_function("fn")
        assert inv.billed_ms >= 100 and inv.billed_ms % step == 0  # GCP: 100 ms steps; Azure: at least 100 ms
        assert inv.billed_ms < 100 + inv.duration_ms + (inv.init_ms or 0) + step  # neither bills the init
        row = s.costs(by="resource").query("kind == 'function'").iloc[0]
        assert row["cost_usd"] == pytest.approx(float(BILLING[rule].cost_usd(inv.billed_ms, 200, inv.memory_used_mb)))


def test_billing_rules_match_the_published_prices():
    aws, gcp, azure = BILLING["aws"], BILLING["gcp"], BILLING["azure"]
    assert float(aws.cost_usd(1000, 1024)) == pytest.approx(0.2e-6 + 0.0000166667)
    assert list(gcp.billed_ms([1, 100, 101])) == [100, 100, 200]
    # 256 MB tier: 0.25 GB and 0.4 GHz for 0.1 s
    assert float(gcp.cost_usd(100, 200)) == pytest.approx(0.4e-6 + 0.1 * 0.25 * 0.0000025 + 0.1 * 0.4 * 0.00001)
    assert list(azure.billed_ms([1, 250.5])) == [100, 251]
    # observed 130 MB rounds up to 256 MB
    assert float(azure.cost_usd(1000, 1536, 130)) == pytest.approx(0.2e-6 + 0.25 * 0.000016)


def test_idle_workers_stop_after_the_idle_timeout_on_the_local_clock(tmp_path):
    with cdb.connect(local={"clock": "virtual", "path": ":memory:", "function_idle_seconds": 300}) as s:
        create(s, tmp_path, COUNTER)
        s.invoke_function("fn")
        (pid,) = host_pids(s)
        s.local.advance("299s")
        assert not s.invoke_function("fn").cold_start
        s.local.advance("5min")
        inv = s.invoke_function("fn")
        assert inv.cold_start and inv.result["count"] == 1 and not pid_alive(pid)


def test_on_the_wall_clock_idle_workers_stop_by_themselves(tmp_path):
    with cdb.connect(local={"clock": "wall", "path": ":memory:", "function_idle_seconds": 0.5}) as s:
        create(s, tmp_path, COUNTER)
        s.invoke_function("fn")
        (pid,) = host_pids(s)
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not pid_alive(pid)  # nobody invoked: the pool's reaper stopped it
        assert s.invoke_function("fn").cold_start


def test_closing_the_session_stops_every_worker(tmp_path):
    s = cdb.connect(local={"clock": "virtual", "path": ":memory:"})
    create(s, tmp_path, COUNTER, name="one")
    create(s, tmp_path, COUNTER, name="two")
    for name in ("one", "two"):
        s.invoke_function(name)
    pids = host_pids(s)
    assert len(pids) == 2
    assert all(pid_alive(pid) for pid in pids)
    s.close()
    assert not any(pid_alive(pid) for pid in pids)


def test_invocation_displays_well_in_a_notebook(s, tmp_path):
    create(s, tmp_path, "def handler(event, context):\n    print('hi <b>')\n    return {'answer': 42}\n")
    inv = s.invoke_function("fn")
    html = inv._repr_html_()
    assert "success" in html and "&quot;answer&quot;: 42" in html and "hi &lt;b&gt;" in html and "cold start" in html
    assert repr(inv).startswith("<Invocation fn:1 success (cold,")
    assert isinstance(inv, cdb.Invocation)
