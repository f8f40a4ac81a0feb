"""The ways to install the course agree with each other, importing it has no side effects, and the
wheel a user installs (distribution ``deepcolor-course``) carries the course's notebooks."""

import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    import tomli as tomllib

import pytest
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


# ================================================================ the distribution a user installs

NOTEBOOKS = ROOT / "notebooks"
COURSE = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) + ["SOLUTIONS.md"]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel built, as a user's pip builds it from the published sdist: the sdist built from
    the checkout's files, then the wheel from the sdist (offline, with this environment's
    setuptools), both outside the checkout."""
    work = tmp_path_factory.mktemp("build")
    tree = work / "tree"
    for name in ("pyproject.toml", "setup.py", "MANIFEST.in", "README.md"):
        (tree / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, tree / name)
    for folder in ("deepcolor", "notebooks"):
        shutil.copytree(ROOT / folder, tree / folder, ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    sdist = subprocess.run([sys.executable, "-c", "from setuptools import build_meta; print(build_meta.build_sdist('dist'))"],
                           cwd=tree, capture_output=True, text=True, timeout=300)
    assert sdist.returncode == 0, sdist.stderr[-3000:]
    archive = tree / "dist" / sdist.stdout.strip().splitlines()[-1]
    built = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                            "-w", str(work / "wheel"), str(archive)], capture_output=True, text=True, timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    (found,) = (work / "wheel").glob("*.whl")
    return found


def test_the_distribution_has_a_name_of_its_own():
    """`deepcolor` on PyPI is an unrelated project: the course is `deepcolor-course`, imported as deepcolor."""
    assert pyproject()["project"]["name"] == "deepcolor-course"
    assert pyproject()["project"]["scripts"] == {"deepcolor": "deepcolor.cli:main"}
    readme = (ROOT / "README.md").read_text()
    assert "pip install deepcolor-course" in readme
    assert re.search(r"unrelated.{0,200}`deepcolor`|`deepcolor`.{0,200}unrelated", readme, re.S)
    commands = "\n".join(re.findall(r"```bash\n(.*?)```", readme, re.S))
    assert not re.search(r"pip install [^\n]*(?<![-\w])deepcolor(?![-\w])", commands), \
        "an install command names the other project"
    assert "-e ." in (ROOT / "environment.yml").read_text()


def test_the_wheel_carries_every_notebook_and_the_solutions_byte_for_byte(wheel):
    assert wheel.name.startswith("deepcolor_course-")
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        for name in COURSE:
            assert z.read(f"deepcolor/notebooks/{name}") == (NOTEBOOKS / name).read_bytes(), name
        shipped = sorted(n.removeprefix("deepcolor/notebooks/") for n in names if n.startswith("deepcolor/notebooks/"))
        assert shipped == sorted(COURSE)
        metadata = z.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
        entry_points = z.read(next(n for n in names if n.endswith(".dist-info/entry_points.txt"))).decode()
    assert "\nName: deepcolor-course\n" in metadata
    assert "deepcolor = deepcolor.cli:main" in entry_points
    assert not [n for n in names if n.startswith(("tests/", "notebooks/", "benchmarks/")) or "__pycache__" in n]


def test_an_installed_wheel_copies_the_course_from_its_own_package_data(wheel, tmp_path):
    """Installed without -e and run outside the checkout: the package data, not notebooks/, is read."""
    site = tmp_path / "site"
    installed = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile", "-q", "--target",
                                str(site), str(wheel)], capture_output=True, text=True, timeout=300)
    assert installed.returncode == 0, installed.stderr[-3000:]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(site), "DEEPCOLOR_HOME": str(tmp_path / "h")}
    code = ("import deepcolor, deepcolor.course as c, sys; from deepcolor import cli;"
            "print(deepcolor.__file__); print(c.course_source()); sys.exit(cli.main(['notebooks', 'my-course']))")
    run = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    package, source = run.stdout.splitlines()[:2]
    assert package == str(site / "deepcolor" / "__init__.py")
    assert source == str(site / "deepcolor" / "notebooks")
    for name in COURSE:
        assert (tmp_path / "my-course" / name).read_bytes() == (NOTEBOOKS / name).read_bytes(), name
