"""How much of each notebook's time JAX spends compiling, on the CPU (``KERAS_BACKEND=jax``).

Runs the notebooks in order under nbval, as CI's JAX part does (``.ci/run``): the ``smoke``
profile by default, in one ``DEEPCOLOR_HOME`` shared by all of them, so each reuses the runs and
embeddings of the ones before it.  Every Python process started (pytest and each notebook's kernel)
loads a ``sitecustomize.py`` from a temporary folder put first on ``PYTHONPATH``; once ``jax`` is
imported it registers a ``jax.monitoring`` duration listener that adds up, per process, JAX's three
compile events:

- ``/jax/core/compile/jaxpr_trace_duration``: tracing Python into a jaxpr (``trace``);
- ``/jax/core/compile/jaxpr_to_mlir_module_duration``: lowering the jaxpr to MLIR (``lower``);
- ``/jax/core/compile/backend_compile_duration``: XLA's compile, or reading it from the persistent
  compilation cache (``xla``).

Prints one line per notebook: wall seconds, the three parts, their sum and its share of the wall.
Run with ``--home`` twice to see what a warm compilation cache (``$DEEPCOLOR_HOME/jax-cache``) gives
a second session: the second run finds the first run's compiled steps (and its runs and embeddings).
To see the cache alone, start the second run in an empty home at the same path holding only the
first run's ``jax-cache``: JAX's cache keys name the folder (its GPU autotuning cache lives there),
so a copy in another folder finds nothing.

    KERAS_BACKEND=jax python benchmarks/jax_compile.py                  # notebooks 00-11, smoke
    KERAS_BACKEND=jax python benchmarks/jax_compile.py --notebooks 04 05 --functions 5   # and what compiles
    KERAS_BACKEND=jax python benchmarks/jax_compile.py --home /tmp/jax-home   # cold: a new folder
    KERAS_BACKEND=jax python benchmarks/jax_compile.py --home /tmp/jax-home   # again: warm
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVENTS = {"trace": "/jax/core/compile/jaxpr_trace_duration",
          "lower": "/jax/core/compile/jaxpr_to_mlir_module_duration",
          "xla": "/jax/core/compile/backend_compile_duration"}

# Loaded by every Python process of a run: after ``import jax`` (never before, so that a process that
# does not use JAX does not pay for importing it), sum the compile events into $JAX_COMPILE_LOG/<pid>.json.
SITECUSTOMIZE = '''
import importlib.abc, importlib.util, json, os, sys

EVENTS = %r
_totals = dict.fromkeys(EVENTS, 0.0)
_functions = {}  # XLA compiles by function name: [count, seconds]
_path = os.path.join(os.environ["JAX_COMPILE_LOG"], "%%d.json" %% os.getpid())


def _listener(event, duration, fun_name="?", **kwargs):
    for part, name in EVENTS.items():
        if event == name:
            _totals[part] += duration
            if part == "xla":
                seen = _functions.setdefault(fun_name, [0, 0.0])
                seen[0], seen[1] = seen[0] + 1, seen[1] + duration
            with open(_path, "w") as f:  # at every event: a kernel may be stopped without atexit
                json.dump({"totals": _totals, "functions": _functions}, f)


class _AfterJax(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "jax":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("jax")
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            module.monitoring.register_event_duration_secs_listener(_listener)

        spec.loader.exec_module = exec_module
        return spec


sys.meta_path.insert(0, _AfterJax())
''' % (EVENTS,)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--notebooks", nargs="+", default=None,
                        help="notebook numbers to run, in order (default: all)")
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("--home", type=Path, default=None,
                        help="DEEPCOLOR_HOME to use and keep (default: a new temporary folder)")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per notebook")
    parser.add_argument("--functions", type=int, default=0,
                        help="also print each notebook's N functions that took XLA longest to compile")
    return parser.parse_args(argv)


def notebooks(numbers):
    found = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    return [nb for nb in found if not numbers or nb.name[:2] in numbers]


def compile_seconds(log: Path):
    """The compile events of every process that wrote to ``log``: seconds per part, and
    ``{function: [XLA compiles, seconds]}``."""
    totals, functions = dict.fromkeys(EVENTS, 0.0), {}
    for file in log.glob("*.json"):
        found = json.loads(file.read_text())
        for part, seconds in found["totals"].items():
            totals[part] += seconds
        for name, (count, seconds) in found["functions"].items():
            seen = functions.setdefault(name, [0, 0.0])
            seen[0], seen[1] = seen[0] + count, seen[1] + seconds
    return totals, functions


def main(argv=None):
    args = parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="deepcolor-jax-compile-"))
    (work / "site").mkdir()
    (work / "site" / "sitecustomize.py").write_text(SITECUSTOMIZE)
    home = args.home or work / "home"
    env = dict(os.environ, KERAS_BACKEND=os.environ.get("KERAS_BACKEND", "jax"), DEEPCOLOR_PROFILE=args.profile,
               DEEPCOLOR_OFFLINE="1", DEEPCOLOR_HOME=str(home), MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="2",
               PYTHONPATH=os.pathsep.join(filter(None, [str(work / "site"), os.environ.get("PYTHONPATH")])))
    print(f"profile {args.profile}, backend {env['KERAS_BACKEND']}, {os.cpu_count()} CPUs, DEEPCOLOR_HOME {home}\n"
          f"{'notebook':26} {'wall s':>7} {'trace':>6} {'lower':>6} {'xla':>6} {'compile s':>9} {'share':>6}  result",
          flush=True)
    command = [sys.executable, "-m", "pytest", "--nbval-lax", "--nbval-current-env", "-q", "-p", "no:cacheprovider"]
    total_wall, total_compile = 0.0, dict.fromkeys(EVENTS, 0.0)
    for notebook in notebooks(args.notebooks):
        log = work / notebook.stem
        log.mkdir()
        start = time.perf_counter()
        try:
            result = subprocess.run([*command, str(notebook)], cwd=ROOT, env=dict(env, JAX_COMPILE_LOG=str(log)),
                                    capture_output=True, text=True, timeout=args.timeout, check=False)
            status = "passed" if result.returncode == 0 else "FAILED"
        except subprocess.TimeoutExpired:
            result, status = None, f"stopped after {args.timeout} s"
        wall = time.perf_counter() - start
        parts, functions = compile_seconds(log)
        total_wall += wall
        for part, seconds in parts.items():
            total_compile[part] += seconds
        print(row(notebook.stem, wall, parts, status), flush=True)
        if status == "FAILED":
            print(result.stdout[-3000:], flush=True)
        for name, (count, seconds) in sorted(functions.items(), key=lambda f: -f[1][1])[:args.functions]:
            print(f"    {seconds:6.1f} s  {count:4d} x  {name}", flush=True)
    print(row("all", total_wall, total_compile, f"({total_wall / 60:.1f} min)"))
    shutil.rmtree(work, ignore_errors=True)  # the hook and the logs; a --home folder is kept


def row(name: str, wall: float, parts: dict, status: str) -> str:
    spent = sum(parts.values())
    return (f"{name:26} {wall:7.1f} {parts['trace']:6.1f} {parts['lower']:6.1f} {parts['xla']:6.1f} "
            f"{spent:9.1f} {spent / wall:6.0%}  {status}")


if __name__ == "__main__":
    main()
