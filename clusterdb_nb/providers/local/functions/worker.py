"""The function worker: one process that imports one handler and serves its invocations.

The pool starts it as a script (stdlib only, so it starts fast and never
imports clusterdb_nb)::

    python -I -S worker.py HANDLER ARN ADDRESS_SPACE_LIMIT_BYTES

``-S`` skips ``site``'s ``.pth`` processing, which costs more than the rest
of a cold start; the handler imports from its code directory first, then from
the interpreter's site-packages (packages that need a ``.pth`` hook to load,
such as editable installs, belong in the zip).

with fd 0 = requests, fd 1 = responses (pipes from the pool) and fd 2 = the
log file. The handler's stdout and stderr both go to the log; stdin reads
nothing. Frames both ways are ``struct "!4sII"`` (magic, header length, body
length), a JSON header, then the body. After the handler is imported it sends
one init frame ``{"id": "init", ...}``; then, per request
``{"id": request_id, "nonce": ..., "timeout_ms": ...}`` + payload, it runs
``handler(event, context)`` and answers ``{"id", "nonce", "status", "error",
"duration_ms", "memory_used_mb"}`` + the response body (the pool checks that
id and nonce match), with errors shaped as Lambda's Python runtime shapes them;
a response over 6 MB is never sent, it is Lambda's Function.ResponseSizeTooLarge.
"""

from __future__ import annotations

import importlib
import json
import math
import os
import resource
import site
import struct
import sys
import time
from typing import Any

__all__ = ["FRAME", "LambdaContext", "MAGIC", "main", "MAX_RESPONSE_BYTES", "serve"]

MAGIC = b"CDBF"
FRAME = struct.Struct("!4sII")  # magic, header length, body length
MAX_RESPONSE_BYTES = 6 * 2**20  # Lambda's synchronous response limit
_THIS_FILE = os.path.abspath(__file__)


class LambdaContext:
    """What the handler gets as ``context``: the names Lambda's Python runtime gives it."""

    def __init__(self, request_id: str, arn: str, deadline: float) -> None:
        self.aws_request_id = request_id
        self.invoked_function_arn = arn
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))

    def __repr__(self) -> str:
        return f"LambdaContext(aws_request_id={self.aws_request_id}, invoked_function_arn={self.invoked_function_arn})"


def _read_exact(fd: int, n: int) -> bytes | None:
    chunks, got = [], 0
    while got < n:
        chunk = os.read(fd, min(n - got, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _read_frame(fd: int) -> tuple[dict[str, Any], bytes] | None:
    head = _read_exact(fd, FRAME.size)
    if head is None:
        return None
    magic, header_len, body_len = FRAME.unpack(head)
    if magic != MAGIC:
        return None
    data = _read_exact(fd, header_len + body_len)
    if data is None:
        return None
    return json.loads(data[:header_len]), data[header_len:]


def _write_frame(fd: int, header: dict[str, Any], body: bytes = b"") -> None:
    head = json.dumps(header).encode()
    view = memoryview(FRAME.pack(MAGIC, len(head), len(body)) + head + body)
    while view:
        view = view[os.write(fd, view) :]


def _peak_rss_mb() -> int:
    """Peak resident memory of this process (VmHWM; ru_maxrss where /proc is missing)."""
    try:
        with open("/proc/self/status", "rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return math.ceil(int(line.split()[1]) / 1024)
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return math.ceil(peak / (2**20 if sys.platform == "darwin" else 1024))


def _limit_address_space(limit: int) -> None:
    """Cap this process's address space; allocations beyond it raise MemoryError."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            used = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return  # no /proc: the peak-RSS check in the pool is the only limit
    resource.setrlimit(resource.RLIMIT_AS, (used + limit, used + limit))


def _error(exc: BaseException, error_type: str | None = None, message: str | None = None) -> dict[str, Any]:
    """Lambda's error shape; the stack trace starts at the first frame outside this file."""
    import traceback  # only failures pay for it

    frames = traceback.extract_tb(exc.__traceback__)
    while frames and frames[0].filename == _THIS_FILE:
        frames.pop(0)
    return {
        "errorMessage": str(exc) if message is None else message,
        "errorType": error_type or type(exc).__name__,
        "stackTrace": traceback.format_list([(f.filename, f.lineno or 0, f.name, f.line) for f in frames]),  # no carets
    }


def _log_error(error: dict[str, Any]) -> None:
    """Print the error to the log as Lambda's runtime does: ``[ERROR] Type: message`` and the traceback."""
    lines = [f"[ERROR] {error['errorType']}: {error['errorMessage']}"]
    if error["stackTrace"]:
        lines.append("Traceback (most recent call last):")
        lines.extend(line.rstrip("\n") for line in error["stackTrace"])
    print("\n".join(lines), file=sys.stdout, flush=True)


def _load(handler: str) -> Any:
    module_name, attr = handler.rsplit(".", 1)
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise _Fault("Runtime.BuiltInModuleConflict", f"Cannot use built-in module {module_name} as a handler module")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise _Fault("Runtime.ImportModuleError", f"Unable to import module '{module_name}': {exc}") from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise _Fault("Runtime.UserCodeSyntaxError", f"Syntax error in module '{module_name}': {exc}", trace) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise _Fault("Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}'") from None


class _Fault(Exception):
    """A runtime error with Lambda's ``Runtime.*`` type."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.result = {"errorMessage": message, "errorType": error_type, "stackTrace": trace or []}


def _to_json(value: Any) -> bytes:
    def default(obj: Any) -> Any:
        decimal = sys.modules.get("decimal")  # a Decimal can only come from a handler that imported decimal
        if decimal is not None and isinstance(obj, decimal.Decimal):
            return float(obj)
        raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")

    if isinstance(value, bytes):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=default).encode()
    except (TypeError, ValueError) as exc:
        raise _Fault("Runtime.MarshalError", f"Unable to marshal response: {exc}") from None


def _failure(exc: BaseException) -> tuple[str, dict[str, Any]]:
    if isinstance(exc, _Fault):
        return "error", exc.result
    if isinstance(exc, MemoryError):
        return "out_of_memory", _error(exc, "Runtime.OutOfMemory", "Runtime exited with error: out of memory")
    return "error", _error(exc)


def serve(handler_name: str, arn: str, requests: int, responses: int) -> None:
    """Import the handler, report the init, then answer requests until the pool closes the pipe."""
    started = time.monotonic()
    try:
        handler = _load(handler_name)
    except BaseException as exc:  # noqa: BLE001 - anything the user's module raises is reported, as Lambda does
        status, failure = _failure(exc)
        _log_error(failure)
        _write_frame(responses, {"id": "init", "status": status, "error": failure, "memory_used_mb": _peak_rss_mb()})
        return
    init_ms = (time.monotonic() - started) * 1000
    _write_frame(responses, {"id": "init", "status": "ok", "error": None, "init_ms": init_ms, "memory_used_mb": _peak_rss_mb()})
    while True:
        frame = _read_frame(requests)
        if frame is None:
            return
        request, payload = frame
        start = time.monotonic()
        context = LambdaContext(request["id"], arn, start + request["timeout_ms"] / 1000)
        body, status = b"", "success"
        error: dict[str, Any] | None = None
        try:
            body = _to_json(handler(json.loads(payload), context))
            if len(body) > MAX_RESPONSE_BYTES:
                message = (
                    f"Response payload size ({len(body)} bytes) exceeded maximum allowed payload size "
                    f"({MAX_RESPONSE_BYTES} bytes)."
                )
                raise _Fault("Function.ResponseSizeTooLarge", message)
        except Exception as exc:  # noqa: BLE001 - an uncaught handler exception is the invocation's result
            status, error = _failure(exc)
        duration_ms = (time.monotonic() - start) * 1000
        if error is not None:
            error["requestId"] = request["id"]
            _log_error(error)
            body = json.dumps(error).encode()
        sys.stdout.flush()
        sys.stderr.flush()
        reply = {
            "id": request["id"],
            "nonce": request["nonce"],
            "status": status,
            "error": error,
            "duration_ms": duration_ms,
            "memory_used_mb": _peak_rss_mb(),
        }
        _write_frame(responses, reply, body)
        if status == "out_of_memory":
            return


def main(argv: list[str]) -> None:
    handler_name, arn, limit = argv[1], argv[2], int(argv[3])
    requests, responses = os.dup(0), os.dup(1)  # dup'd fds are not inherited by the handler's subprocesses
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(2, 1)  # the handler's stdout joins stderr in the log file
    os.close(devnull)
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sys.path[:0] = [os.getcwd()]  # the code directory, as /var/task on Lambda
    sys.path.extend(site.getsitepackages())
    _limit_address_space(limit)
    serve(handler_name, arn, requests, responses)


if __name__ == "__main__":
    main(sys.argv)
