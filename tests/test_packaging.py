"""The package's public surface and its environments agree with each other."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

import wecom_eval

REPO = Path(__file__).resolve().parents[1]


def test_environment_yml_takes_its_python_packages_from_the_package():
    env = yaml.safe_load((REPO / "environment.yml").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    # conda provides the interpreter and pip only; every Python package comes from pyproject.toml.
    assert sorted(re.split(r"[=<>]", d)[0] for d in conda) == ["pip", "python"]
    assert pip == ["-e .[dev]"]
    python_pin = next(d for d in conda if d.startswith("python"))
    assert project["requires-python"] == ">=" + python_pin.split("=")[1]


def test_every_dependency_has_a_lower_bound():
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    deps = project["dependencies"] + [d for ds in project["optional-dependencies"].values() for d in ds]
    assert all(">=" in d for d in deps), [d for d in deps if ">=" not in d]


def test_public_names_are_exported_and_exist():
    assert wecom_eval.__all__, "the package must declare its public names"
    for name in wecom_eval.__all__:
        assert hasattr(wecom_eval, name), name
    public = {n for n in vars(wecom_eval) if not n.startswith("_")}
    modules = {n for n in public if type(getattr(wecom_eval, n)).__name__ == "module"}
    assert public - modules - {"annotations"} == set(wecom_eval.__all__)


def test_console_script_is_installed():
    bin_dir = Path(sys.executable).parent
    out = subprocess.run([str(bin_dir / "wecom-eval"), "--help"], capture_output=True, text=True)
    assert out.returncode == 0
    for command in ("demo", "fake-server", "fetch", "init", "ingest", "run", "notify", "check"):
        assert command in out.stdout


def test_a_command_imports_only_its_own_module() -> None:
    from wecom_eval.cli import _command_named

    assert _command_named(["--home", "/tmp/h", "-v", "run", "weekly", "--as-of", "2026-03-09"]) == "run"
    assert _command_named(["fake-server", "--help"]) == "fake-server"
    assert _command_named(["--help"]) is None and _command_named(["-h", "run"]) is None
    assert _command_named(["no-such-command"]) is None  # the listing says what exists


def test_importing_the_package_loads_no_heavy_library():
    code = (
        "import sys, wecom_eval, wecom_eval.reporting; "
        "print(sorted(m for m in ('pandas', 'duckdb', 'matplotlib') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_set_up_compiles_the_package_and_an_edited_module_is_compiled_afresh(tmp_path: Path) -> None:
    """``make setup`` writes the package's bytecode (where ``PYTHONDONTWRITEBYTECODE`` keeps every
    process from writing it); an edited module must then run as edited, never from stale code."""
    import os
    import shlex

    recipe = [line.strip() for line in (REPO / "Makefile").read_text(encoding="utf-8").splitlines()]
    (line,) = [r for r in recipe if "-m compileall" in r and not r.lstrip("@").startswith("#")]
    args = shlex.split(line.lstrip("@").replace("$(PY)", sys.executable))
    assert args[-1] == "wecom_eval" and "__pycache__/" in (REPO / ".gitignore").read_text(encoding="utf-8")
    package = tmp_path / "wecom_eval"
    package.mkdir()
    module = package / "figure.py"
    module.write_text("VALUE = 1\n", encoding="utf-8")
    subprocess.run(args, cwd=tmp_path, check=True)
    assert list((package / "__pycache__").glob("figure.*.pyc"))
    module.write_text("VALUE = 22\n", encoding="utf-8")  # another size; and a later time stamp
    os.utime(module, (module.stat().st_atime + 5, module.stat().st_mtime + 5))
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", "from wecom_eval import figure; print(figure.VALUE)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == "22"
