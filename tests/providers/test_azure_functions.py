"""Azure Functions (Flex Consumption) through azure-mgmt-web against the fake, and the generated adapter."""

from __future__ import annotations

import io
import json
import zipfile

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.code_zip import zip_files
from clusterdb_nb.errors import ConflictError, NotFoundError, ProviderError, ValidationError
from clusterdb_nb.providers.azure import function_app
from clusterdb_nb.testing import FakeAzure, fake_azure

ECHO = zip_files(
    {
        "main.py": "import os\n\ndef handler(event, context):\n"
        "    return {'echo': event, 'function': context.function_name, 'memory': context.memory_limit_in_mb}\n",
        "env.py": "import os\n\ndef handler(event, context):\n    return os.environ['STAGE']\n",
        "fail.py": "def handler(event, context):\n    raise ValueError('bad input: ' + str(event))\n",
    }
)
CONFIG = cdb.FunctionConfig(name="echo", code=ECHO, provider="azure", environment={"STAGE": "dev"}, timeout_sec=30)


@pytest.fixture
def cloud():
    with fake_azure() as c:
        yield c


@pytest.fixture
def s(cloud: FakeAzure):
    with cdb.connect(azure=cloud.config()) as session:
        yield session


def app_of(cloud: FakeAzure) -> dict:
    (app,) = cloud.sites.values()
    return app


def test_create_function_makes_a_flex_consumption_app_with_settings_and_the_package(s, cloud):
    fn = s.create_function(CONFIG)
    assert (fn.name, fn.runtime, fn.handler, fn.version, fn.memory_mb, fn.timeout_sec) == (
        "echo",
        "python3.12",
        "main.handler",
        1,
        512,
        30,
    )
    assert fn.environment_keys == ["STAGE"] and fn.code_sha256 == CONFIG.code_sha256
    (plan,) = cloud.plans.values()
    assert plan["sku"] == {"name": "FC1", "tier": "FlexConsumption"}
    app = app_of(cloud)
    fac = app["properties"]["functionAppConfig"]
    assert fac["runtime"] == {"name": "python", "version": "3.12"}
    assert fac["scaleAndConcurrency"]["instanceMemoryMB"] == 512
    assert fac["deployment"]["storage"]["value"].startswith("https://clusterdb")
    assert app["settings"]["STAGE"] == "dev" and "AccountKey=" in app["settings"]["AzureWebJobsStorage"]
    names = zipfile.ZipFile(io.BytesIO(app["package"])).namelist()
    assert {"main.py", "function_app.py", "host.json", "requirements.txt"} <= set(names)
    host = json.loads(zipfile.ZipFile(io.BytesIO(app["package"])).read("host.json"))
    assert host["functionTimeout"] == "00:00:30"


def test_invoke_posts_to_the_app_with_the_function_key(s, cloud):
    s.create_function(CONFIG)
    inv = s.invoke_function("echo", b'{"x": 1}')
    assert inv.status == "success" and inv.provider == "azure"
    assert json.loads(inv.payload) == {"echo": {"x": 1}, "function": "echo", "memory": 512}
    assert inv.billed_ms >= 100 and inv.cost_usd > 0
    invokes = [u for m, u in cloud.calls if ".azurewebsites.net/api/echo" in u]
    assert invokes == ["https://" + app_of(cloud)["name"] + ".azurewebsites.net/api/echo"]


def test_app_settings_are_the_functions_environment(s):
    s.create_function(CONFIG._replace(name="env", handler="env.handler"))
    assert s.invoke_function("env", b"{}").result == "dev"


def test_a_raising_handler_is_an_error_with_lambdas_error_document(s):
    s.create_function(CONFIG._replace(name="fails", handler="fail.handler"))
    inv = s.invoke_function("fails", b'{"x": 2}')
    assert inv.status == "error"
    assert inv.error["errorType"] == "ValueError" and "bad input" in inv.error["errorMessage"]


def test_update_with_code_deploys_the_next_version(s, cloud):
    s.create_function(CONFIG)
    new = zip_files({"main.py": "def handler(event, context):\n    return 'v2'\n"})
    fn = s.update_function(CONFIG._replace(code=new, memory_mb=3000))
    assert fn.version == 2 and fn.memory_mb == 4096 and fn.code_sha256 != CONFIG.code_sha256
    assert json.loads(s.invoke_function("echo", b"{}").payload) == "v2"


def test_update_without_code_keeps_the_code_and_changes_settings(s):
    s.create_function(CONFIG)
    fn = s.update_function(CONFIG._replace(code=None, environment={"STAGE": "prod", "X": "1"}))
    assert fn.version == 2 and fn.environment_keys == ["STAGE", "X"] and fn.code_sha256 == CONFIG.code_sha256
    with pytest.raises(ValidationError, match="code: changing the handler"):
        s.update_function(CONFIG._replace(code=None, handler="fail.handler"))


def test_delete_function_removes_the_app_and_its_plan(s, cloud):
    s.create_function(CONFIG)
    s.delete_function("echo")
    assert cloud.sites == {} and cloud.plans == {}
    assert s.functions().empty
    with pytest.raises(NotFoundError):
        s.invoke_function("echo", b"{}")


def test_a_failed_deployment_on_create_leaves_nothing_behind_and_a_retry_works(s, cloud):
    cloud.inject("deployment_failed")
    with pytest.raises(ProviderError, match="deployment of .* failed: Build failed"):
        s.create_function(CONFIG)
    assert cloud.sites == {} and cloud.plans == {} and s.functions().empty
    assert s.create_function(CONFIG).version == 1
    assert s.invoke_function("echo", b'{"x": 1}').result["echo"] == {"x": 1}


def test_a_failed_deployment_on_update_keeps_the_live_code_and_its_settings(s, cloud):
    s.create_function(CONFIG)
    before = s.functions().iloc[0]
    broken = CONFIG.model_copy(update={"code": zip_files({"main.py": "def handler(event, context):\n    return 'new'\n"})})
    cloud.inject("deployment_failed")
    with pytest.raises(ProviderError, match="Build failed"):
        s.update_function(broken)
    fn = s.functions().iloc[0]
    assert (fn["version"], fn["code_sha256"]) == (before["version"], before["code_sha256"])
    assert s.invoke_function("echo", b'{"x": 1}').result["echo"] == {"x": 1}


def test_create_twice_is_a_conflict_and_listing_shows_ours(s):
    s.create_function(CONFIG)
    with pytest.raises(ConflictError):
        s.create_function(CONFIG)
    assert s.functions()["name"].tolist() == ["echo"]


def test_what_does_not_map_is_refused_before_any_call(s, cloud):
    with pytest.raises(ValidationError, match="reserved_concurrency"):
        s.create_function(CONFIG._replace(reserved_concurrency=5))
    with pytest.raises(ValidationError, match="AzureWebJobs"):
        s.create_function(CONFIG._replace(environment={"AzureWebJobsStorage": "x"}))
    assert cloud.calls == []


def test_the_generated_adapter_runs_a_lambda_handler_unchanged(tmp_path):
    from clusterdb_nb.code_zip import extract
    from clusterdb_nb.testing.azure_functions_host import run

    extract(function_app.package(CONFIG, 2048), tmp_path)
    status, body, mimetype = run(tmp_path, "echo", b'{"k": [1, 2]}')
    assert (status, mimetype) == (200, "application/json")
    assert json.loads(body) == {"echo": {"k": [1, 2]}, "function": "echo", "memory": 2048}
    status, body, _ = run(tmp_path, "echo", b"")
    assert json.loads(body)["echo"] == {}


def test_the_adapter_refuses_a_zip_with_its_own_function_app_py():
    code = zip_files({"main.py": "def handler(e, c):\n    return 1\n", "function_app.py": "x = 1\n"})
    with pytest.raises(ValidationError, match="function_app.py is generated"):
        function_app.package(CONFIG._replace(code=code), 512)


@pytest.mark.parametrize(("asked", "size"), [(128, 512), (512, 512), (513, 2048), (2048, 2048), (4096, 4096)])
def test_memory_rounds_up_to_a_flex_consumption_instance_size(asked, size):
    from clusterdb_nb.providers.azure.functions import instance_memory

    assert instance_memory(asked) == size


def test_the_users_requirements_are_kept_and_get_azure_functions():
    code = zip_files({"main.py": "def handler(e, c):\n    return 1\n", "requirements.txt": "numpy==2.1\n"})
    package = zipfile.ZipFile(io.BytesIO(function_app.package(CONFIG._replace(code=code), 512)))
    assert package.read("requirements.txt").decode() == "numpy==2.1\nazure-functions\n"
    assert package.namelist().count("requirements.txt") == 1


def test_the_package_goes_by_one_deploy_as_flex_consumption_documents(s, cloud):
    """azure-cli's Flex deploy: POST the zip to <scm>/api/publish?RemoteBuild=..., then poll /api/deployments/latest."""
    s.create_function(CONFIG)
    scm = "https://" + app_of(cloud)["name"] + ".scm.azurewebsites.net"
    deploy = [(m, u) for m, u in cloud.calls if ".scm." in u]
    assert deploy[0] == ("POST", f"{scm}/api/publish?RemoteBuild=true")  # Python: the platform installs requirements.txt
    assert set(deploy[1:]) == {("GET", f"{scm}/api/deployments/latest")}
    import requests  # the fake, as the platform, takes only a zip with a bearer token

    url = f"{scm}/api/publish?RemoteBuild=true"
    zipped = {"Authorization": "Bearer t", "Content-Type": "application/zip"}
    assert requests.post(url, data=ECHO, headers={**zipped, "Content-Type": "application/octet-stream"}).status_code == 415
    assert requests.post(url, data=ECHO, headers={"Content-Type": "application/zip"}).status_code == 401
    answer = requests.post(url, data=ECHO, headers=zipped)
    assert answer.status_code == 202 and requests.get(f"{scm}/api/deployments/latest").json()["id"] == answer.text


def test_app_settings_flex_consumption_refuses_are_refused_before_any_call(s, cloud):
    with pytest.raises(ValidationError, match="FUNCTIONS_WORKER_RUNTIME") as err:
        s.create_function(CONFIG._replace(environment={"FUNCTIONS_WORKER_RUNTIME": "python"}))
    assert err.value.field == "environment" and cloud.calls == []
