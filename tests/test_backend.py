"""Keras starts quietly (deepcolor.backend): no C++ start-up lines under the notebooks' first cells
or the command line, whatever TF_CPP_MIN_LOG_LEVEL the test run itself uses.

conftest.py sets TF_CPP_MIN_LOG_LEVEL=2 for every pytest run, which would hide the very lines these
tests look for; so the processes started here get an environment without it.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from deepcolor import backend

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

NOISE = [
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n",
    b"I0000 00:00:1795888933.517174   20535 cudart_stub.cc:31] Could not find cuda drivers on your machine, "
    b"GPU will not be used.\n",
    b"W0000 00:00:1795888933.690455   20535 cpu_feature_guard.cc:227] This TensorFlow binary is optimized\n",
    b"E0000 00:00:1795888939.949454   20535 cuda_platform.cc:52] failed call to cuInit: INTERNAL: CUDA error: "
    b"Failed call to cuInit: UNKNOWN ERROR (303)\n",
]
KEPT = [
    b"E0000 00:00:1795888939.949454   20535 bfc_allocator.cc:485] Allocator ran out of memory\n",
    b"/x/deepcolor/data.py:12: UserWarning: L looks scaled to [0, 1]\n",
    b"Traceback (most recent call last):\n",
]


def quiet_env():
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["DEEPCOLOR_PROFILE"] = "smoke"
    return env


@pytest.mark.parametrize("line", NOISE)
def test_startup_noise_is_recognised(line):
    assert backend.is_startup_noise(line)


@pytest.mark.parametrize("line", KEPT)
def test_errors_and_python_warnings_are_not_noise(line):
    assert not backend.is_startup_noise(line)


def test_filtered_stderr_writes_back_everything_but_the_noise_in_order(capfd):
    with backend.filtered_stderr():
        for line in (KEPT[1], NOISE[1], KEPT[0], NOISE[3]):
            os.write(2, line)
    assert capfd.readouterr().err.encode() == KEPT[1] + KEPT[0]


def first_cells():
    """The distinct first code cells of the notebooks: {source: [notebook names]}."""
    import nbformat

    found = {}
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cell = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        found.setdefault(cell.source, []).append(path.stem)
    return found


@pytest.mark.parametrize("source", list(first_cells()), ids=lambda s: first_cells()[s][0])
def test_a_notebooks_first_cell_writes_nothing_to_stderr(source, monkeypatch, tmp_path):
    """Each distinct first cell (most notebooks share one) in a fresh kernel, as a student runs it."""
    import nbformat
    from nbclient import NotebookClient

    for key, value in quiet_env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    NotebookClient(nb, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}).execute()
    outputs = nb.cells[0].outputs
    stderr = [o.get("text", "") for o in outputs if o.get("name") == "stderr"]
    assert stderr == [], f"{first_cells()[source]}: the first cell wrote to stderr: {stderr}"
    assert any("Profile: smoke" in o.get("text", "") for o in outputs), "the cell did not run"


def test_a_command_that_imports_keras_prints_only_its_own_error(tmp_path):
    """`deepcolor colorize` starts Keras before it looks at the model; with a missing model its
    stderr must be the one error line, not TensorFlow's start-up lines."""
    from PIL import Image

    Image.new("RGB", (40, 30), (90, 120, 200)).save(tmp_path / "photo.png")
    missing = tmp_path / "no-model.keras"
    result = subprocess.run([sys.executable, "-m", "deepcolor.cli", "colorize", str(tmp_path / "photo.png"), "-o", str(tmp_path / "out"),
                             "--model", str(missing)], env=quiet_env(), capture_output=True, text=True, timeout=180)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("deepcolor: error:") and "no-model.keras" in lines[0], result.stderr


def test_training_prints_no_backend_line_on_this_cpu(tmp_path):
    """A run of `deepcolor train` with TF_CPP_MIN_LOG_LEVEL unset, as a student runs it: not one of
    TensorFlow's C++ lines reaches stderr, neither at start-up nor when the first model trains (on a
    CPU without AVX-512, oneDNN's "supports DT_INT32 only on platforms with AVX-512" comes then)."""
    from deepcolor.backend import _CXX_LINE

    words = ["train", "--arch", "arch3", "--input-size", "16", "--epochs", "1", "--batch-size", "4", "-n", "9",
             "--embeddings", "none", "--runs-dir", str(tmp_path)]
    result = subprocess.run([sys.executable, "-m", "deepcolor.cli", *words], env=quiet_env(), capture_output=True,
                            timeout=300)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    backend_lines = [line for line in result.stderr.splitlines() if _CXX_LINE.match(line)]
    assert backend_lines == [], b"\n".join(backend_lines).decode(errors="replace")


def test_the_retracing_warning_alone_is_dropped():
    import logging

    def record(message):
        return logging.LogRecord("tensorflow", logging.WARNING, __file__, 1, message, None, None)

    assert not backend._drop_retracing_warnings(record("5 out of the last 5 calls to <function f> triggered "
                                                       "tf.function retracing. Tracing is expensive ..."))
    assert backend._drop_retracing_warnings(record("Some other warning a student should read"))


# ------------------------------------------------------------- JAX's compilation cache in DEEPCOLOR_HOME

class FakeKeras:
    """Stands for the keras module in use_compilation_cache: only ``keras.backend.backend()``."""

    def __init__(self, name):
        self.backend = type("Backend", (), {"backend": staticmethod(lambda: name)})


def test_no_compilation_cache_under_another_backend(tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "home"))
    modules = set(sys.modules)
    assert backend.use_compilation_cache(FakeKeras("tensorflow")) is None
    assert not (tmp_path / "home").exists() and "jax" not in set(sys.modules) - modules


@pytest.fixture
def jax_config():
    """jax.config with no cache folder set, restored afterwards."""
    jax = pytest.importorskip("jax")
    names = ("jax_compilation_cache_dir", "jax_persistent_cache_min_compile_time_secs")
    saved = {name: getattr(jax.config, name) for name in names}
    jax.config.update("jax_compilation_cache_dir", None)
    yield jax.config
    for name, value in saved.items():
        jax.config.update(name, value)


def test_the_compilation_cache_goes_in_deepcolor_home_under_jax(jax_config, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "home"))
    folder = backend.use_compilation_cache(FakeKeras("jax"))
    assert folder == str(tmp_path / "home" / backend.JAX_CACHE_DIR) and Path(folder).is_dir()
    assert jax_config.jax_compilation_cache_dir == folder
    assert jax_config.jax_persistent_cache_min_compile_time_secs == backend.MIN_COMPILE_SECONDS


def test_a_users_own_compilation_cache_is_kept(jax_config, tmp_path, monkeypatch):
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "home"))
    jax_config.update("jax_compilation_cache_dir", str(tmp_path / "mine"))
    assert backend.use_compilation_cache(FakeKeras("jax")) is None
    assert jax_config.jax_compilation_cache_dir == str(tmp_path / "mine") and not (tmp_path / "home").exists()


def test_an_unwritable_home_leaves_jax_compiling_as_before(jax_config, tmp_path, monkeypatch):
    (tmp_path / "home").write_text("a file where the folder should be")
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "home"))
    assert backend.use_compilation_cache(FakeKeras("jax")) is None
    assert jax_config.jax_compilation_cache_dir is None


def test_start_sets_the_cache_under_jax_and_importing_deepcolor_does_not(tmp_path):
    """In fresh processes under KERAS_BACKEND=jax: importing deepcolor sets no cache folder, start()
    sets $DEEPCOLOR_HOME/jax-cache, and a JAX_COMPILATION_CACHE_DIR of the user's own is kept."""
    pytest.importorskip("jax")
    code = ("import deepcolor, jax; print(jax.config.jax_compilation_cache_dir);"
            "from deepcolor.backend import start; start(); print(jax.config.jax_compilation_cache_dir)")
    env = dict(quiet_env(), KERAS_BACKEND="jax", DEEPCOLOR_HOME=str(tmp_path / "home"))
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    for extra, after in (({}, str(tmp_path / "home" / "jax-cache")), ({"JAX_COMPILATION_CACHE_DIR": "/tmp/mine"}, "/tmp/mine")):
        result = subprocess.run([sys.executable, "-c", code], env={**env, **extra}, capture_output=True, text=True,
                                timeout=300)
        assert result.returncode == 0, result.stderr
        assert result.stdout.split() == [extra.get("JAX_COMPILATION_CACHE_DIR", "None"), after]
