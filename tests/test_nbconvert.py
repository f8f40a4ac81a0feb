"""``jupyter nbconvert --to notebook --execute`` runs the notebooks with sliders to the end, under smoke.

nbconvert, papermill and a teacher pre-running the course execute a notebook with nbclient, which
stands in for the browser's Output widget: it sends what an ``ipywidgets.interact`` shows back to
the kernel on the channel where it waits for the cell's reply, and that wait was sometimes never
woken (02's image browser hung in 2 runs of 3, 01's a-b plane stalled in 3 of 5; see
``deepcolor/lessons/sliders.py``).  nbval does not stand in for widgets, so the notebooks' nbval
run cannot see it.

Three things make the hang show here as it does for a student:

- matplotlib's inline backend, not ``MPLBACKEND=Agg`` (which the test session sets): with Agg a
  figure shows as a line of text, too small to matter;
- no per-cell timeout: ``--ExecutePreprocessor.timeout=N`` turns the hang into an N-second delay
  (nbclient reads the reply when the wait ends) and the run would pass;
- instead, a limit on the wall time of the whole run, several times what a run takes.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"
LIMIT_S = {"01_lab_color_space": 180, "02_dataset": 240, "11_colour_as_classes": 480}
"""The notebooks with sliders over figures, and the seconds a whole ``nbconvert`` run of each may
take; on 2 CPU cores under smoke, 01 and 02 take about 15-20 s from an empty cache and 11 about a
minute."""


@pytest.mark.parametrize("name", sorted(LIMIT_S))
def test_nbconvert_execute_runs_the_notebook_to_the_end(name, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}  # Jupyter's inline figures, as a student gets
    env["DEEPCOLOR_PROFILE"] = "smoke"
    command = [sys.executable, "-m", "jupyter", "nbconvert", "--to", "notebook", "--execute",
               f"{name}.ipynb", "--output-dir", str(tmp_path), "--output", f"{name}.out.ipynb"]
    try:
        result = subprocess.run(command, cwd=NOTEBOOKS, env=env, capture_output=True, text=True,
                                timeout=LIMIT_S[name], check=False)
    except subprocess.TimeoutExpired as exc:
        stderr = exc.stderr.decode(errors="replace") if isinstance(exc.stderr, bytes) else exc.stderr or ""
        pytest.fail(f"jupyter nbconvert --execute {name}.ipynb did not finish in {LIMIT_S[name]} s: a hang "
                    f"(is a figure shown through ipywidgets.interact? use deepcolor.lessons.sliders.figure_slider)."
                    f"\n{stderr[-2000:]}", pytrace=False)
    assert result.returncode == 0, f"jupyter nbconvert --execute {name}.ipynb failed:\n{result.stderr[-4000:]}"
    executed = json.loads((tmp_path / f"{name}.out.ipynb").read_text())
    code = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
    assert all(cell["execution_count"] is not None for cell in code), "not every code cell ran"
    errors = [out for cell in code for out in cell["outputs"] if out["output_type"] == "error"]
    assert not errors, f"{name}: error outputs: {[e['ename'] + ': ' + e['evalue'] for e in errors]}"
    shown = [out for cell in code for out in cell["outputs"] if "image/png" in out.get("data", {})]
    assert shown, f"{name}: no figure was shown inline (is MPLBACKEND set for the kernel?)"
