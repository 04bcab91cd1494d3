"""The offline fake's Azure Functions host: runs a deployed ``function_app.py`` (Python v2 model).

``run(app_dir, route, body)`` starts a fresh Python process with the package on its path and a
minimal ``azure.functions`` (``FunctionApp.route``, ``HttpRequest``, ``HttpResponse``, ``Context``,
``AuthLevel``), calls the function registered for ``route`` with the request body and returns
``(status, body, mimetype)`` -- what the Functions host would answer over HTTPS::

    >>> run(Path("/tmp/app"), "echo", b'{"x": 1}')
    (200, b'{"x": 1}', 'application/json')
"""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

__all__ = ["run"]

RUNNER = r"""
import base64, enum, inspect, json, sys, types, uuid

functions = types.ModuleType("azure.functions")

class AuthLevel(str, enum.Enum):
    ANONYMOUS = "anonymous"
    FUNCTION = "function"
    ADMIN = "admin"

class HttpRequest:
    def __init__(self, method, url, body, headers=None, params=None, route_params=None):
        self.method, self.url, self._body = method, url, body
        self.headers, self.params, self.route_params = headers or {}, params or {}, route_params or {}
    def get_body(self):
        return self._body
    def get_json(self):
        return json.loads(self._body)

class HttpResponse:
    def __init__(self, body=None, status_code=200, headers=None, mimetype="text/plain", charset="utf-8"):
        self._body = body.encode(charset) if isinstance(body, str) else (body or b"")
        self.status_code, self.headers, self.mimetype = status_code, headers or {}, mimetype
    def get_body(self):
        return self._body

class Context:
    def __init__(self, invocation_id, function_name):
        self.invocation_id, self.function_name = invocation_id, function_name

class FunctionApp:
    def __init__(self, http_auth_level=AuthLevel.FUNCTION):
        self.http_auth_level, self.routes = http_auth_level, {}
    def route(self, route=None, methods=None, auth_level=None):
        def register(fn):
            self.routes[route or fn.__name__] = fn
            return fn
        return register

for name, value in list(locals().items()):
    if name in ("AuthLevel", "HttpRequest", "HttpResponse", "Context", "FunctionApp"):
        setattr(functions, name, value)
import azure
azure.functions = functions
sys.modules["azure.functions"] = functions

app_dir, route = sys.argv[1], sys.argv[2]
sys.path.insert(0, app_dir)
import function_app
app = next(v for v in vars(function_app).values() if isinstance(v, FunctionApp))
fn = app.routes[route]
body = base64.b64decode(sys.stdin.read())
kwargs = {"req": HttpRequest("POST", "/api/" + route, body)}
if "context" in inspect.signature(fn).parameters:
    kwargs["context"] = Context(str(uuid.uuid4()), route)
answer = fn(**kwargs)
encoded = base64.b64encode(answer.get_body()).decode()
print(json.dumps({"status": answer.status_code, "body": encoded, "mimetype": answer.mimetype}))
"""


def run(
    app_dir: Path, route: str, body: bytes, timeout: float = 60.0, settings: dict[str, str] | None = None
) -> tuple[int, bytes, str]:
    """Call the function at ``route`` of the package in ``app_dir`` with ``body``; app ``settings`` are its environment."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", RUNNER, str(app_dir), route],
            input=base64.b64encode(body).decode(),
            capture_output=True,
            text=True,
            timeout=timeout,
            cwd=app_dir,
            env={**os.environ, **(settings or {})},
        )
    except subprocess.TimeoutExpired:
        return 504, b'{"errorType": "FunctionTimeout", "errorMessage": "The function timed out"}', "application/json"
    if done.returncode != 0:
        error = {"errorType": "HostError", "errorMessage": done.stderr.strip().splitlines()[-1] if done.stderr else ""}
        return 500, json.dumps(error).encode(), "application/json"
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    return int(answer["status"]), base64.b64decode(answer["body"]), str(answer["mimetype"])
