"""Function code as a deployment zip: zip bytes, a path to a zip, a directory, or {file name: source}.

A directory or a mapping of file names to source is zipped deterministically (sorted entries, fixed timestamps and
permissions, no ``__pycache__``), so the same files always give the same
bytes and the same ``code_sha256``::

    >>> code = read_code("handlers/")          # or read_code("build/fn.zip"), or zip bytes as they are
    >>> code = zip_files({"main.py": "def handler(event, context):\n    return event\n"})
    >>> check_zip(code)                        # zip-slip, not a zip, unextractable names -> ValidationError
    >>> check_zip_size(code, 50 * 2**20, 250 * 2**20)   # a cloud's own limits (its ``FunctionRules``)
    >>> code_sha256(code)                      # Lambda's CodeSha256: base64 of the SHA-256 digest
"""

from __future__ import annotations

import base64
import hashlib
import io
import os
import re
import stat
import zipfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from .errors import ValidationError

__all__ = [
    "check_zip",
    "check_zip_size",
    "code_sha256",
    "extract",
    "MAX_NAME_BYTES",
    "MAX_PATH_BYTES",
    "read_code",
    "zip_directory",
    "zip_files",
]

MAX_NAME_BYTES = 255  # the longest file name Linux and macOS file systems take
MAX_PATH_BYTES = 4095  # and the longest path
_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_SKIPPED_DIRS = {"__pycache__"}
_DRIVE = re.compile(r"^[A-Za-z]:")


def _invalid(detail: str, rule: str) -> ValidationError:
    return ValidationError(f"code: {detail}", field="code", rule=rule)


def read_code(source: str | os.PathLike[str]) -> bytes:
    """The zip bytes of ``source``: a directory (zipped deterministically) or a zip file."""
    path = Path(source).expanduser()
    if path.is_dir():
        return zip_directory(path)
    if path.is_file():
        return path.read_bytes()
    raise ValueError("no such file or directory (expected zip bytes, a path to a zip file, or a directory)")


def zip_directory(path: str | os.PathLike[str]) -> bytes:
    """Zip every file under ``path`` with stable order, timestamps and permissions.

    >>> zip_directory("handlers/") == zip_directory("handlers/")
    True
    """
    root = Path(path)
    files = sorted(
        (p for p in root.rglob("*") if p.is_file() and not _SKIPPED_DIRS.intersection(p.relative_to(root).parts)),
        key=lambda p: p.relative_to(root).as_posix(),
    )
    executable = stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH
    entries = [
        (file.relative_to(root).as_posix(), file.read_bytes(), bool(file.stat().st_mode & executable))
        for file in files
        if file.suffix != ".pyc"
    ]
    return _zip(entries)


def zip_files(files: Mapping[str, str | bytes]) -> bytes:
    """Zip ``{file name: source}`` (text is UTF-8 encoded) as ``zip_directory`` would zip those files.

    A bad name or source is a ValueError (``FunctionConfig`` reports it as a ValidationError on ``code``).

    >>> zip_files({"main.py": "def handler(event, context):\n    return {'ok': True}\n"})
    """
    entries = []
    for name, source in sorted(files.items()):
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"file name {name!r} is not a non-empty string (expected {{file name: source}})")
        if not isinstance(source, (str, bytes)):
            raise ValueError(f"the source of {name!r} is a {type(source).__name__}; give str or bytes")
        entries.append((name, source.encode() if isinstance(source, str) else source, False))
    return _zip(entries)


def _zip(entries: list[tuple[str, bytes, bool]]) -> bytes:
    """(name, content, executable) entries as zip bytes with fixed timestamps and permissions."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, content, executable in entries:
            info = zipfile.ZipInfo(name, date_time=_ZIP_EPOCH)
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3  # unix, so the permissions above are honoured
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, content, compresslevel=6)
    return buf.getvalue()


def check_zip(code: bytes) -> None:
    """Raise ValidationError unless ``code`` is a zip whose entries stay inside it and can be extracted."""
    try:
        entries = zipfile.ZipFile(io.BytesIO(code)).infolist()
    except zipfile.BadZipFile:
        raise _invalid("not a zip archive (pass zip bytes, a path to a zip, or a directory)", "zip archive") from None
    for info in entries:
        name = info.filename
        if name.startswith(("/", "\\")) or _DRIVE.match(name) or ".." in PurePosixPath(name.replace("\\", "/")).parts:
            raise _invalid(
                f"zip entry {name!r} escapes the code directory (absolute path or '..')",
                "no absolute paths or '..' in zip entries",
            )
    _check_extractable(entries)


def check_zip_size(code: bytes, max_zip_bytes: int, max_unzipped_bytes: int, cloud: str = "the cloud") -> None:
    """Raise ValidationError when ``code`` (a checked zip) is larger than ``cloud`` takes, zipped or unzipped.

    >>> check_zip_size(code, 50 * 2**20, 250 * 2**20, "AWS Lambda")
    """
    zipped, limit = len(code) / 2**20, max_zip_bytes / 2**20
    if len(code) > max_zip_bytes:
        raise _invalid(f"the zip is {zipped:.1f} MB; {cloud} takes at most {limit:g} MB", f"zip <= {limit:g} MB")
    unzipped = sum(info.file_size for info in zipfile.ZipFile(io.BytesIO(code)).infolist())
    if unzipped > max_unzipped_bytes:
        limit = max_unzipped_bytes / 2**20
        raise _invalid(
            f"the code unzips to {unzipped / 2**20:.1f} MB; {cloud} takes at most {limit:g} MB",
            f"unzipped code <= {limit:g} MB",
        )


def _check_extractable(entries: list[zipfile.ZipInfo]) -> None:
    """Refuse names a file system cannot hold and a path that is both a file and a directory."""
    files: set[str] = set()
    dirs: set[str] = set()
    for info in entries:
        path = PurePosixPath(info.filename.replace("\\", "/"))
        parts = [p for p in path.parts if p not in ("", ".")]
        if len(info.filename.encode()) > MAX_PATH_BYTES or any(len(p.encode()) > MAX_NAME_BYTES for p in parts):
            raise _invalid(
                f"zip entry {info.filename[:80]!r}... has a name too long to extract "
                f"(at most {MAX_NAME_BYTES} bytes a name, {MAX_PATH_BYTES} a path)",
                "extractable entry names",
            )
        if "\x00" in info.filename:
            raise _invalid(f"zip entry {info.filename!r} has a NUL byte in its name", "extractable entry names")
        dirs.update("/".join(parts[:i]) for i in range(1, len(parts)))
        (dirs if info.is_dir() else files).add("/".join(parts))
    clash = sorted(files & dirs)
    if clash:
        raise _invalid(
            f"zip entry {clash[0]!r} is both a file and a directory, so the zip cannot be extracted",
            "no path that is both a file and a directory",
        )


def code_sha256(code: bytes) -> str:
    """The base64 of a zip's SHA-256 digest (Lambda's ``CodeSha256``; the local cloud keys code by it)."""
    return base64.b64encode(hashlib.sha256(code).digest()).decode("ascii")


def extract(code: bytes, target: str | os.PathLike[str]) -> None:
    """Unpack ``code`` into ``target`` after checking it."""
    check_zip(code)
    with zipfile.ZipFile(io.BytesIO(code)) as zf:
        zf.extractall(target)
