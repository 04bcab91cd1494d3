"""Function code given inline as {file name: source}: zipped like a directory, run for real."""

import pytest

import clusterdb_nb as cdb
from clusterdb_nb.code_zip import zip_directory, zip_files

HANDLER = "def handler(event, context):\n    return {'echo': event}\n"


def test_inline_code_runs_as_written_in_the_readme(s):
    s.create_function(cdb.FunctionConfig(name="echo", handler="main.handler", code={"main.py": HANDLER}))
    inv = s.invoke_function("echo", {"hello": "world"})
    assert inv.status == "success" and inv.result == {"echo": {"hello": "world"}}


def test_a_mapping_zips_to_the_same_bytes_as_the_same_files_in_a_directory(tmp_path):
    (tmp_path / "lib").mkdir()
    (tmp_path / "main.py").write_text(HANDLER)
    (tmp_path / "lib" / "util.py").write_bytes(b"X = 1\n")
    inline = {"lib/util.py": b"X = 1\n", "main.py": HANDLER}
    assert zip_files(inline) == zip_directory(tmp_path)
    assert cdb.FunctionConfig(name="f", code=inline).code_sha256 == cdb.FunctionConfig(name="f", code=tmp_path).code_sha256


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ({"main.py": 3}, "code: the source of 'main.py' is a int; give str or bytes"),
        ({"": HANDLER}, "code: file name '' is not a non-empty string"),
        ({"../main.py": HANDLER}, "code: zip entry '../main.py' escapes the code directory"),
    ],
)
def test_bad_inline_code_is_a_validation_error_on_code(code, message):
    with pytest.raises(cdb.ValidationError, match=message.replace("(", r"\(")) as exc:
        cdb.FunctionConfig(name="f", code=code)
    assert exc.value.field == "code"
