"""Cloud Functions (2nd gen) through google-cloud-functions' REST client against ``fake_gcp()``.

The fake runs the deployed zip's generated ``clusterdb_entry`` in a Python subprocess, as Functions
Framework would call it, so these tests run the real adapter around the real handler.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from collections.abc import Iterator

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.code_zip import zip_files
from clusterdb_nb.providers.gcp import functions
from clusterdb_nb.testing.gcp import FakeGcp, fake_gcp

SECTION = {"project_id": "demo", "credentials": "anonymous", "poll_seconds": 0.01, "retry_initial_seconds": 0.01}
HANDLER = """
import os

def handler(event, context):
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {"image": event["image"], "stage": os.environ["STAGE"], "fn": context.function_name,
            "left_ms": context.get_remaining_time_in_millis() > 0}
"""
FN = cdb.FunctionConfig(
    name="thumbnailer",
    runtime="python312",
    handler="main.handler",
    memory_mb=256,
    timeout_sec=10,
    environment={"STAGE": "dev"},
    code={"main.py": HANDLER},
    provider="gcp",
)


@pytest.fixture
def cloud() -> Iterator[FakeGcp]:
    with fake_gcp(validate=True) as fake:
        yield fake
    assert fake.schema_errors == []


@pytest.fixture
def s(cloud: FakeGcp) -> Iterator[cdb.ComputeSession]:
    with cdb.connect(gcp=SECTION) as session:
        yield session


def test_create_uploads_the_zip_with_the_adapter_and_builds_it(s, cloud):
    fn = s.create_function(FN)
    assert (fn.name, fn.runtime, fn.handler, fn.memory_mb, fn.timeout_sec, fn.version) == (
        "thumbnailer",
        "python312",
        "main.handler",
        256,
        10,
        1,
    )
    assert fn.environment_keys == ["STAGE"] and fn.code_sha256
    (stored,) = cloud.functions.values()
    names = zipfile.ZipFile(io.BytesIO(stored["_code"])).namelist()
    assert sorted(names) == ["clusterdb_entry.py", "main.py"]
    build = stored["buildConfig"]
    assert (
        build["entryPoint"] == "clusterdb_entry"
        and build["environmentVariables"]["GOOGLE_FUNCTION_SOURCE"] == "clusterdb_entry.py"
    )
    assert stored["serviceConfig"]["availableMemory"] == "256M"
    assert any(m == "PUT" and "storage.googleapis.com" in u for m, u in cloud.calls)


def test_invoke_runs_the_lambda_style_handler(s):
    s.create_function(FN)
    inv = s.invoke_function("thumbnailer", {"image": "cat.png"})
    assert inv.status == "success"
    assert inv.result == {"image": "cat.png", "stage": "dev", "fn": "thumbnailer", "left_ms": True}


def test_a_failing_handler_is_an_error_result_with_lambdas_document(s):
    s.create_function(FN)
    inv = s.invoke_function("thumbnailer", {"fail": True})
    assert inv.status == "error"
    assert inv.error["errorType"] == "ValueError" and inv.error["errorMessage"] == "asked to fail"


def test_update_keeps_unset_fields_and_rolls_a_revision(s, cloud):
    s.create_function(FN)
    fn = s.update_function(cdb.FunctionConfig(name="thumbnailer", runtime="python312", memory_mb=512, provider="gcp"))
    assert (fn.memory_mb, fn.timeout_sec, fn.environment_keys, fn.version) == (512, 10, ["STAGE"], 2)
    new_code = {"main.py": "def handler(event, context):\n    return 'v2'\n"}
    fn = s.update_function(cdb.FunctionConfig(name="thumbnailer", runtime="python312", code=new_code, provider="gcp"))
    assert fn.version == 3 and s.invoke_function("thumbnailer", {}).result == "v2"


def test_delete_and_list(s):
    s.create_function(FN)
    assert s.functions()["name"].tolist() == ["thumbnailer"]
    s.delete_function("thumbnailer")
    assert s.functions().empty
    with pytest.raises(cdb.NotFoundError):
        s.invoke_function("thumbnailer", {})


def test_creating_twice_is_a_conflict(s):
    s.create_function(FN)
    with pytest.raises(cdb.ConflictError):
        s.create_function(FN)


def test_the_generated_adapter_under_a_flask_like_request(tmp_path):
    """The adapter alone, as Functions Framework calls it: JSON body, raw text body, and the trace id."""
    code = functions.with_adapter(
        zip_files({"main.py": "def handler(event, context):\n    return [event, context.aws_request_id]\n"}), "main.handler"
    )
    zipfile.ZipFile(io.BytesIO(code)).extractall(tmp_path)
    driver = """
import json, sys
sys.path.insert(0, sys.argv[1])
import clusterdb_entry
class R:
    headers = {"X-Cloud-Trace-Context": "abc/1;o=1"}
    def __init__(self, data): self.data = data
    def get_json(self, silent=False):
        try: return json.loads(self.data)
        except ValueError: return None
    def get_data(self, as_text=False): return self.data
print(json.dumps([clusterdb_entry.clusterdb_entry(R('{"a": 1}')), clusterdb_entry.clusterdb_entry(R("plain"))]))
"""
    out = subprocess.run([sys.executable, "-c", driver, str(tmp_path)], capture_output=True, text=True, check=True)
    (body1, status1, _), (body2, _, _) = json.loads(out.stdout)
    assert status1 == 200 and json.loads(body1) == [{"a": 1}, "abc"] and json.loads(body2) == ["plain", "abc"]


def test_the_adapter_replaces_an_older_one_in_the_zip():
    once = functions.with_adapter(zip_files({"main.py": "x = 1\n"}), "main.handler")
    twice = functions.with_adapter(once, "main.other")
    names = zipfile.ZipFile(io.BytesIO(twice)).namelist()
    assert names.count("clusterdb_entry.py") == 1
    assert "main.other" in zipfile.ZipFile(io.BytesIO(twice)).read("clusterdb_entry.py").decode()


def test_the_lambda_spelling_of_a_runtime_deploys_unchanged_as_googles(s):
    """The same FunctionConfig as on local and AWS (runtime "python3.12") deploys to Cloud Functions as python312."""
    fn = s.create_function(FN.model_copy(update={"runtime": "python3.12", "name": "same-config"}))
    assert fn.runtime == "python312"
    assert functions.google_runtime("nodejs20.x") == "nodejs20"
