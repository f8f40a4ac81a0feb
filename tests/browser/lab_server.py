"""JupyterLab started for the browser tests: from this Python environment, on 127.0.0.1, on a free
port, with a token, serving a temporary copy of the notebooks; stopped with all its kernels."""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import psutil

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LabServer:
    """``LabServer(workdir).start()`` ... ``.stop()``; ``url(path)`` gives an address with the token."""

    def __init__(self, workdir: Path):
        self.workdir = Path(workdir)
        self.root = self.workdir / "notebooks"
        self.home = self.workdir / "deepcolor_home"
        self.log = self.workdir / "jupyterlab.log"
        self.port, self.token = free_port(), secrets.token_hex(16)
        self.proc = None

    def url(self, path: str = "") -> str:
        sep = "&" if "?" in path else "?"
        return f"http://127.0.0.1:{self.port}/{path.lstrip('/')}{sep}token={self.token}"

    def kernel_state(self, notebook: str):
        """The execution state ("starting", "idle", "busy") of ``notebook``'s kernel, or None."""
        with urllib.request.urlopen(self.url("api/sessions"), timeout=5) as r:
            sessions = json.load(r)
        states = [s["kernel"]["execution_state"] for s in sessions if s["path"] == notebook and s.get("kernel")]
        return states[0] if states else None

    def environment(self) -> dict:
        jupyter = self.workdir / "jupyter"
        kernel = jupyter / "data" / "kernels" / "python3"
        kernel.mkdir(parents=True)
        # the kernel runs on this environment's Python, whatever else is installed on the machine
        (kernel / "kernel.json").write_text(json.dumps({
            "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3 (ipykernel)", "language": "python"}))
        # no "news" pop-up over the notebook in the screenshots
        notification = jupyter / "config" / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
        notification.mkdir(parents=True)
        (notification / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "MPLBACKEND"))}
        env.update(DEEPCOLOR_PROFILE="smoke", DEEPCOLOR_HOME=str(self.home),
                   JUPYTER_PATH=str(jupyter / "data"), JUPYTER_DATA_DIR=str(jupyter / "data"),
                   JUPYTER_CONFIG_DIR=str(jupyter / "config"), JUPYTER_RUNTIME_DIR=str(jupyter / "runtime"),
                   IPYTHONDIR=str(jupyter / "ipython"))
        return env

    def start(self, timeout: float = 60) -> "LabServer":
        shutil.copytree(NOTEBOOKS, self.root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
        cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={self.port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={self.token}",
               f"--ServerApp.root_dir={self.root}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(cmd, cwd=self.root, env=self.environment(),
                                         stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with status {self.proc.returncode}:\n{self.log.read_text()}")
            try:
                with urllib.request.urlopen(self.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"JupyterLab did not answer within {timeout:.0f} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        """Stop the server and every process it started (kernels run in sessions of their own)."""
        if self.proc is None:
            return
        try:
            family = [psutil.Process(self.proc.pid), *psutil.Process(self.proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            family = []
        for p in family:
            try:
                p.terminate()
            except psutil.NoSuchProcess:
                pass
        _, alive = psutil.wait_procs(family, timeout=10)
        for p in alive:
            try:
                p.kill()
            except psutil.NoSuchProcess:
                pass
        self.proc.wait(timeout=10)
        self.proc = None
