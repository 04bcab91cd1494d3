"""The REST API: every endpoint against the local cloud, errors as problem+json, dry runs, pagination."""

from __future__ import annotations

import base64
import json

import pandas as pd
import pytest

from clusterdb_nb import code_zip
from clusterdb_nb.server.app import rows_json

V1 = "/api/v1"
WEB = {"name": "web", "capacity": 3, "instance_type": "t3.medium", "max_capacity": 10}
ECHO = "def handler(event, context):\n    return {'echo': event}\n"


def problem_of(r, status):
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["status"] == status and body["type"].startswith("urn:clusterdb-nb:error:")
    assert {"title", "detail", "cause", "solution"} <= set(body)
    assert "Traceback" not in r.text
    return body


@pytest.fixture
def web(api, session):
    assert api.post(f"{V1}/fleets", json=WEB).status_code == 201
    session.local.advance("1min")
    return api


def test_health_needs_no_token(anon):
    r = anon.get("/healthz")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_fleet_lifecycle_create_list_get_update_capacity_autoscaling_delete(api, session):
    r = api.post(f"{V1}/fleets", json=WEB)
    assert r.status_code == 201 and r.json()["name"] == "web" and r.json()["capacity"] == 3
    session.local.advance("1min")
    listed = api.get(f"{V1}/fleets").json()
    assert [f["name"] for f in listed["items"]] == ["web"] and listed["next_page_token"] is None and listed["errors"] == {}
    got = api.get(f"{V1}/fleets/web").json()
    assert got["running"] == 3 and got["provider"] == "local"
    r = api.put(f"{V1}/fleets/web", json={"name": "web", "description": "front end", "max_capacity": 20})
    assert r.status_code == 200 and r.json()["description"] == "front end" and r.json()["max_capacity"] == 20
    r = api.put(f"{V1}/fleets/web/capacity", json={"capacity": 5})
    assert r.status_code == 200 and r.json()["capacity"] == 5
    assert session.fleet("web").capacity == 5  # the same session the notebook sees
    r = api.put(f"{V1}/fleets/web/autoscaling", json={"min_capacity": 2, "max_capacity": 8, "target_cpu_utilization": 60})
    assert r.status_code == 200 and r.json()["auto_scaling"]["target_cpu_utilization"] == 60
    r = api.delete(f"{V1}/fleets/web")
    assert r.status_code == 204 and r.content == b""
    problem_of(api.get(f"{V1}/fleets/web"), 404)


def test_dry_run_on_every_fleet_mutation_returns_the_plan_and_changes_nothing(web, session):
    plan = web.put(f"{V1}/fleets/web/capacity?dry_run=true", json={"capacity": 6}).json()
    price = session.hourly_price("t3.medium")
    assert plan["operation"] == "update_fleet_capacity"
    assert plan["hourly_cost_delta_usd"] == pytest.approx(3 * price)
    create = web.post(f"{V1}/fleets?dry_run=true", json={**WEB, "name": "api"})
    assert create.status_code == 200 and create.json()["hourly_cost_after_usd"] == pytest.approx(3 * price)
    assert web.delete(f"{V1}/fleets/web?dry_run=true").json()["hourly_cost_after_usd"] == 0.0
    assert web.put(f"{V1}/fleets/web?dry_run=true", json={"name": "web", "capacity": 4}).json()["operation"] == "update_fleet"
    auto = web.put(f"{V1}/fleets/web/autoscaling?dry_run=true", json={"min_capacity": 1, "max_capacity": 2})
    assert auto.json()["operation"] == "configure_auto_scaling"
    assert [f["name"] for f in web.get(f"{V1}/fleets").json()["items"]] == ["web"]
    assert session.fleet("web").capacity == 3 and session.fleet("web").auto_scaling is None


def test_instances_list_get_start_stop_terminate_and_dry_runs(web, session):
    items = web.get(f"{V1}/instances").json()["items"]
    assert len(items) == 3 and {i["state"] for i in items} == {"running"} and items[0]["launched_at"].endswith("Z")
    iid = items[0]["id"]
    assert web.get(f"{V1}/instances/{iid}").json()["fleet"] == "web"
    assert web.post(f"{V1}/instances/{iid}/stop?dry_run=true").json()["hourly_cost_after_usd"] == 0.0
    assert web.post(f"{V1}/instances/{iid}/stop").json()["state"] == "stopping"
    session.local.advance("1min")
    assert web.get(f"{V1}/instances?state=stopped").json()["items"][0]["id"] == iid
    assert web.post(f"{V1}/instances/{iid}/start").json()["state"] == "pending"
    assert web.delete(f"{V1}/instances/{iid}?dry_run=true").json()["operation"] == "terminate_instance"
    assert web.delete(f"{V1}/instances/{iid}").json()["state"] == "terminating"
    assert len(web.get(f"{V1}/instances?fleet=web&state=all").json()["items"]) == 4  # the fleet replaced it
    problem_of(web.post(f"{V1}/instances/{iid}/start"), 409)


def test_post_instances_creates_a_standalone_instance(api, session):
    body = {"name": "bastion", "instance_type": "t3.micro", "provider": "local", "region": "local", "tags": {"team": "ops"}}
    plan = api.post(f"{V1}/instances?dry_run=true", json=body)
    assert plan.status_code == 200 and plan.json()["hourly_cost_delta_usd"] == pytest.approx(session.hourly_price("t3.micro"))
    r = api.post(f"{V1}/instances", json=body)
    assert r.status_code == 201 and r.json()["fleet"] is None and r.json()["tags"] == {"team": "ops", "Name": "bastion"}
    problem_of(api.post(f"{V1}/instances", json=body), 409)


def test_pagination_walks_every_item_once(api, session):
    api.post(f"{V1}/fleets", json={**WEB, "capacity": 7})
    seen, token, pages = [], None, 0
    while True:
        params = {"limit": 3, **({"page_token": token} if token else {})}
        page = api.get(f"{V1}/instances", params=params).json()
        seen += [i["id"] for i in page["items"]]
        pages += 1
        token = page["next_page_token"]
        if token is None:
            break
    assert pages == 3 and len(seen) == 7 and len(set(seen)) == 7
    assert seen == list(session.instances()["id"])
    problem_of(api.get(f"{V1}/instances", params={"page_token": "not-a-token"}), 400)
    problem_of(api.get(f"{V1}/instances", params={"limit": 0}), 400)


def test_functions_deploy_list_get_update_invoke_delete(api):
    code = base64.b64encode(code_zip.zip_files({"main.py": ECHO})).decode()
    r = api.post(f"{V1}/functions", json={"name": "echo", "code": code})
    assert r.status_code == 201 and r.json()["name"] == "echo" and r.json()["version"] == 1
    assert [f["name"] for f in api.get(f"{V1}/functions").json()["items"]] == ["echo"]
    assert api.get(f"{V1}/functions/echo").json()["runtime"] == "python3.12"
    assert api.put(f"{V1}/functions/echo", json={"name": "echo", "memory_mb": 256}).json()["memory_mb"] == 256
    inv = api.post(f"{V1}/functions/echo/invoke", json={"x": 1}).json()
    assert inv["status"] == "success" and inv["result"] == {"echo": {"x": 1}}
    assert api.delete(f"{V1}/functions/echo?dry_run=true").json()["operation"] == "delete_function"
    assert api.delete(f"{V1}/functions/echo").status_code == 204
    problem_of(api.get(f"{V1}/functions/echo"), 404)


def test_function_code_is_base64_zip_and_never_a_server_path(api):
    problem_of(api.post(f"{V1}/functions", json={"name": "echo", "code": "/etc/passwd"}), 400)
    problem_of(api.post(f"{V1}/functions", json={"name": "echo", "code": base64.b64encode(b"not a zip").decode()}), 400)
    problem_of(api.post(f"{V1}/functions", json={"name": "echo"}), 400)  # creating needs code


def test_costs_utilization_status_capabilities(web, session):
    session.local.advance("2h")
    costs = web.get(f"{V1}/costs", params={"by": "fleet"}).json()["items"]
    assert costs[0]["fleet"] == "web" and costs[0]["cost_usd"] > 0
    by_resource = web.get(f"{V1}/costs", params={"by": "resource", "start": "2026-01-05", "end": "2026-01-06"}).json()
    assert len(by_resource["items"]) == 3
    problem_of(web.get(f"{V1}/costs", params={"by": "colour"}), 400)
    util = web.get(f"{V1}/fleets/web/utilization", params={"period": "1h"}).json()["items"]
    assert util and {"time", "cpu_percent", "running"} <= set(util[0])
    status = web.get(f"{V1}/status").json()
    assert status[0]["provider"] == "local" and status[0]["ok"] is True
    caps = web.get(f"{V1}/capabilities").json()
    assert caps["standalone instances"]["local"] == "✓"


@pytest.mark.parametrize(
    ("method", "path", "body", "field"),
    [
        ("post", "/fleets", {"name": "Web"}, "name"),
        ("post", "/fleets", {"name": "web", "capacity": -1}, "capacity"),
        ("post", "/fleets", {"name": "web", "capacity": "3"}, "capacity"),
        ("post", "/fleets", {"name": "web", "colour": "red"}, "colour"),
        ("post", "/fleets", {"name": "web", "min_capacity": 5, "max_capacity": 2}, "min_capacity"),
        ("put", "/fleets/web/capacity", {"capacity": True}, "capacity"),
        ("put", "/fleets/web", {"name": "other"}, "name"),
        ("post", "/instances", {"name": "x", "instance_type": "t3.micro"}, "provider"),
    ],
)
def test_bad_bodies_are_400_problems_naming_the_field(web, method, path, body, field):
    doc = problem_of(getattr(web, method)(V1 + path, json=body), 400)
    assert doc["title"] == "ValidationError" and doc["field"] == field


def test_a_body_that_is_not_json_is_a_400_problem(api):
    r = api.post(f"{V1}/fleets", content=b"{not json", headers={"content-type": "application/json"})
    problem_of(r, 400)


def test_a_body_over_the_limit_is_a_413_problem(api):
    problem_of(api.post(f"{V1}/fleets", json={"name": "web", "description": "x" * 300_000}), 413)


def test_unknown_resources_are_404_and_an_unknown_provider_400(api):
    problem_of(api.get(f"{V1}/instances/i-nope"), 404)
    assert problem_of(api.get(f"{V1}/fleets/web", params={"provider": "mars"}), 400)["field"] == "provider"


def test_auth_missing_wrong_and_read_only(anon, web, read_only):
    for headers in ({}, {"Authorization": "Bearer wrong-token-0123456789"}, {"Authorization": "Basic abc"}):
        r = anon.get(f"{V1}/fleets", headers=headers)
        assert problem_of(r, 401) and r.headers["www-authenticate"] == "Bearer"
    ro = read_only
    assert anon.get(f"{V1}/fleets", headers=ro).status_code == 200
    problem_of(anon.put(f"{V1}/fleets/web/capacity", json={"capacity": 5}, headers=ro), 403)
    problem_of(anon.delete(f"{V1}/fleets/web", headers=ro), 403)
    assert web.get(f"{V1}/fleets/web").json()["capacity"] == 3


def test_every_path_of_the_api_needs_a_token(anon, app):
    for route in app.routes:
        path = getattr(route, "path", "")
        if not path.startswith(V1):
            continue
        for method in route.methods - {"HEAD"}:
            url = path.replace("{fleet}", "web").replace("{instance}", "i-1").replace("{function}", "echo")
            assert anon.request(method, url).status_code == 401, (method, url)


def test_cors_is_off_unless_configured(api, session):
    from fastapi.testclient import TestClient

    from clusterdb_nb.server import ServerSettings, Tokens, create_app

    r = api.options(f"{V1}/fleets", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in r.headers
    app = create_app(session, ServerSettings(tokens=Tokens(read_write=["x" * 20]), cors_origins=["https://ops.example"]))
    with TestClient(app) as client:
        r = client.options(f"{V1}/fleets", headers={"Origin": "https://ops.example", "Access-Control-Request-Method": "GET"})
    assert r.headers["access-control-allow-origin"] == "https://ops.example"


def test_openapi_lists_every_endpoint_of_the_issue(anon):
    spec = anon.get("/openapi.json").json()
    ops = {(m.upper(), p) for p, item in spec["paths"].items() for m in item}
    expected = {
        ("POST", "/api/v1/fleets"),
        ("GET", "/api/v1/fleets"),
        ("GET", "/api/v1/fleets/{fleet}"),
        ("PUT", "/api/v1/fleets/{fleet}"),
        ("DELETE", "/api/v1/fleets/{fleet}"),
        ("PUT", "/api/v1/fleets/{fleet}/capacity"),
        ("PUT", "/api/v1/fleets/{fleet}/autoscaling"),
        ("GET", "/api/v1/fleets/{fleet}/utilization"),
        ("POST", "/api/v1/instances"),
        ("GET", "/api/v1/instances"),
        ("GET", "/api/v1/instances/{instance}"),
        ("POST", "/api/v1/instances/{instance}/start"),
        ("POST", "/api/v1/instances/{instance}/stop"),
        ("DELETE", "/api/v1/instances/{instance}"),
        ("POST", "/api/v1/functions"),
        ("GET", "/api/v1/functions"),
        ("GET", "/api/v1/functions/{function}"),
        ("PUT", "/api/v1/functions/{function}"),
        ("DELETE", "/api/v1/functions/{function}"),
        ("POST", "/api/v1/functions/{function}/invoke"),
        ("GET", "/api/v1/costs"),
        ("GET", "/api/v1/status"),
        ("GET", "/api/v1/capabilities"),
    }
    assert expected <= ops
    assert anon.get("/docs").status_code == 200


def test_invoke_takes_any_json_body_and_refuses_what_is_not_json(api):
    code = base64.b64encode(code_zip.zip_files({"main.py": ECHO})).decode()
    api.post(f"{V1}/functions", json={"name": "echo", "code": code})
    assert api.post(f"{V1}/functions/echo/invoke", json=[1, "two"]).json()["result"] == {"echo": [1, "two"]}
    assert api.post(f"{V1}/functions/echo/invoke").json()["result"] == {"echo": {}}
    r = api.post(f"{V1}/functions/echo/invoke", content=b"\x00\xff", headers={"content-type": "application/octet-stream"})
    assert problem_of(r, 400)["field"] == "payload"


def test_listed_timestamps_are_rfc3339_utc_with_microseconds_and_nat_is_null():
    df = pd.DataFrame(
        {
            "at": pd.to_datetime(["2026-01-05T00:00:40.123456Z", None, "2026-01-05T01:00:00+02:00"], utc=True, format="ISO8601"),
            "cost_usd": [1.5, float("nan"), 0.0],
        }
    )
    assert json.loads(rows_json(df)) == [
        {"at": "2026-01-05T00:00:40.123456Z", "cost_usd": 1.5},
        {"at": None, "cost_usd": None},
        {"at": "2026-01-04T23:00:00Z", "cost_usd": 0.0},
    ]
