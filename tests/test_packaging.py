"""The ways to install the course agree with each other, and importing it has no side effects."""

import re
import subprocess
import sys
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import yaml

ROOT = Path(__file__).resolve().parent.parent


def pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def requirement(spec: str):
    """'numpy>=1.26,<3' -> ('numpy', '>=1.26,<3'), with spaces removed, names normalised and
    environment markers (conda installs for one Python) dropped."""
    m = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*)", spec.split(";")[0])
    name = re.sub(r"[-_.]+", "-", m.group(1)).lower()
    return name, m.group(2).replace(" ", "")


def conda_environment():
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = {}, {}
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            pip.update(requirement(d) for d in dep["pip"] if not d.startswith("-e"))
        else:
            conda.update([requirement(dep)])
    return conda, pip, env


def test_environment_yml_matches_pyproject():
    project = pyproject()["project"]
    wanted = dict(requirement(d) for d in project["dependencies"])
    for extra in ("test", "kaggle"):
        wanted.update(requirement(d) for d in project["optional-dependencies"][extra])
    conda, pip, env = conda_environment()
    have = {**conda, **pip}
    missing = sorted(set(wanted) - set(have))
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"
    different = {name: (wanted[name], have[name]) for name in wanted if wanted[name] != have[name]}
    assert not different, f"version ranges differ (pyproject, environment.yml): {different}"
    extra = sorted(set(have) - set(wanted) - {"python", "pip"})
    assert not extra, f"in environment.yml but not in pyproject.toml: {extra}"
    assert conda["python"] == ">=" + project["requires-python"].removeprefix(">=")
    assert any(isinstance(d, dict) and "-e ." in d["pip"] for d in env["dependencies"])


def test_dependencies_are_ranges_not_pins():
    for dep in pyproject()["project"]["dependencies"]:
        assert "==" not in dep, f"{dep}: use a version range, not an exact pin"


def test_readme_test_command_is_what_ci_runs():
    readme = (ROOT / "README.md").read_text()
    ci = (ROOT / ".ci" / "run").read_text()
    command = re.search(r"^TEST_COMMAND='(.+)'$", ci, re.M).group(1)
    assert command in readme, "the README's test command and .ci/run disagree"


def test_import_has_no_side_effects(tmp_path):
    code = (
        "import sys, os; import deepcolor, deepcolor.data, deepcolor.config, deepcolor.metrics, deepcolor.paper;"
        "heavy = [m for m in ('keras', 'tensorflow', 'jax', 'torch', 'kagglehub') if m in sys.modules];"
        "print(heavy, os.listdir('.'))"
    )
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "DEEPCOLOR_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[] []", proc.stdout  # no backend imported, nothing written
    assert proc.stderr == ""
    assert not (tmp_path / "home").exists()
