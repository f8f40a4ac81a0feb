"""deepcolor.kaggle: online, ``config.load("default")`` downloads the profile's Kaggle files itself.

No test here touches the network: a fake ``kagglehub`` (put into ``sys.modules``) serves a small
stand-in in the Kaggle layout from a local folder into a cache laid out as kagglehub lays it out
(``datasets/<owner>/<name>/versions/1/...`` with its ``.complete`` marks), and records every call.
It can refuse (kagglehub's HTTP 403 error), hand over a file cut short, fill the disk half-way or
be interrupted.  The stand-in's arrays are zeros written with ``open_memmap`` (sparse files).
"""

import errno
import shutil
import sys
import time
import types
from pathlib import Path

import numpy as np
import pytest

from deepcolor import config, kaggle, network, weights

L_REL, AB1, AB2, AB3 = "l/gray_scale.npy", "ab/ab/ab1.npy", "ab/ab/ab2.npy", "ab/ab/ab3.npy"
# the stand-in: enough images for default's 2,000 in L and ab1, a few in ab2 and ab3
REAL_REACHABLE = network.reachable  # the hub fixture replaces it
STAND_IN = {L_REL: (2072, 224, 224), AB1: (2048, 224, 224, 2), AB2: (16, 224, 224, 2), AB3: (8, 224, 224, 2)}


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The stand-in's files, as Kaggle serves them (zeros, except one marked pixel per file)."""
    root = tmp_path_factory.mktemp("kaggle_server")
    for rel, shape in STAND_IN.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        arr = np.lib.format.open_memmap(root / rel, "w+", np.uint8, shape)
        arr[0].flat[0] = 7
        arr.flush()
        del arr
    return root


def sparse_copy(src: Path, dst: Path, stop: int | None = None) -> None:
    """Copy ``src`` to ``dst`` (its first ``stop`` bytes), leaving runs of zeros as holes."""
    size = src.stat().st_size if stop is None else stop
    with open(src, "rb") as f, open(dst, "wb") as out:
        done = 0
        while done < size:
            chunk = f.read(min(1 << 22, size - done))
            out.write(chunk) if chunk.count(0) != len(chunk) else out.seek(len(chunk), 1)
            done += len(chunk)
        out.truncate(size)


class FakeKagglehub(types.ModuleType):
    """``kagglehub`` with ``dataset_download(handle, path=..., force_download=...)`` and ``login()``."""

    def __init__(self, served: Path, cache: Path):
        super().__init__("kagglehub")
        self.served, self.cache = served, cache
        self.calls, self.fetched, self.logins = [], [], []
        self.refuse = None  # an HTTP status to refuse every download with
        self.cut_short = 0  # how many downloads arrive cut short (and marked complete)
        self.disk_full = False  # the next download fills the disk half-way
        self.interrupt = False  # the next download is stopped half-way (Ctrl-C)

    def login(self, *args, **kwargs):
        self.logins.append(args)

    def dataset_download(self, handle, path=None, *, force_download=False, output_dir=None):
        assert handle == kaggle.KAGGLE_HANDLE and path in STAND_IN and output_dir is None
        self.calls.append((path, force_download))
        base = self.cache / "datasets" / handle
        out, marker = base / "versions" / "1" / path, base / ".complete" / "1" / f"{path}.complete"
        if self.refuse:
            import requests

            response = requests.Response()
            response.status_code, response.url = self.refuse, f"https://www.kaggle.com/datasets/{handle}"
            raise self.http_error(f"{self.refuse} Client Error.\n\nYou don't have permission to access "
                                     f"resource at URL: {response.url}.", response=response)
        if marker.exists() and out.exists() and not force_download:
            return str(out)
        marker.unlink(missing_ok=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        size = (self.served / path).stat().st_size
        if self.disk_full or self.interrupt:
            sparse_copy(self.served / path, out, stop=size // 2)
            if self.disk_full:
                self.disk_full = False
                raise OSError(errno.ENOSPC, "No space left on device", str(out))
            self.interrupt = False
            raise KeyboardInterrupt
        sparse_copy(self.served / path, out, stop=size - 1000 if self.cut_short else None)
        self.cut_short = max(self.cut_short - 1, 0)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
        self.fetched.append(path)
        return str(out)


@pytest.fixture
def hub(served, tmp_path, monkeypatch):
    """Online, with the fake kagglehub: Kaggle answers, Google's storage (the ImageNet weights) not,
    no Kaggle credentials, an empty kagglehub cache and Keras cache."""
    real = pytest.importorskip("kagglehub.exceptions")

    fake = FakeKagglehub(served, tmp_path / "kagglehub")
    fake.http_error = real.KaggleApiHTTPError  # what kagglehub raises on an HTTP 401 or 403
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    monkeypatch.setattr(kaggle, "KAGGLE_FILES", STAND_IN)
    monkeypatch.setattr(network, "reachable", lambda url, timeout=3.0: "kaggle.com" in url)
    for name in ("DEEPCOLOR_OFFLINE", "DEEPCOLOR_KAGGLE_DIR", "KAGGLE_USERNAME", "KAGGLE_KEY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(fake.cache))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "home"))
    return fake


def the_file(fake, rel) -> Path:
    return fake.cache / "datasets" / kaggle.KAGGLE_HANDLE / "versions" / "1" / rel


def test_sizes_follow_from_the_shapes_and_default_needs_two_files():
    assert kaggle.file_bytes(L_REL) == 1_254_400_128 and kaggle.file_bytes(AB1) == 1_003_520_128
    assert kaggle.file_bytes(AB3) == 501_760_128
    assert kaggle.files_for(2000) == [L_REL, AB1] and kaggle.files_for(10_001) == [L_REL, AB1, AB2]
    assert kaggle.files_for(0) == list(kaggle.KAGGLE_FILES)
    default = sum(kaggle.file_bytes(rel) for rel in kaggle.files_for(2000))
    assert round(default / 1e9, 2) == 2.26 and round(sum(map(kaggle.file_bytes, kaggle.KAGGLE_FILES)) / 1e9, 2) == 3.76


def test_default_downloads_only_its_two_files_once_and_opens_2000_images(hub, capsys):
    cfg = config.load("default")
    assert cfg.name == "default" and cfg.profile.data == "kaggle"
    assert not [f for f in cfg.fallbacks if "Kaggle" in f], cfg.fallbacks  # only the weights are missing
    assert hub.fetched == [L_REL, AB1] and hub.logins == []  # never ab2 or ab3, and no login
    said = capsys.readouterr().out
    assert "Downloading 0.31 GB of the Kaggle set" in said and str(kaggle.cache_folder()) in said
    ds = cfg.dataset()
    assert len(ds) == 2000 and ds.source == "kaggle[:2048][:2000]"
    l8, ab8 = ds.batch_raw([0, 1999])
    assert l8[0, 0, 0] == 7 and ab8[0, 0, 0, 0] == 7 and ab8.shape == (2, 224, 224, 2)

    calls = list(hub.calls)
    again = config.load("default")
    assert again.kaggle_dir == cfg.kaggle_dir and hub.calls == calls, "a second load must fetch nothing"


def test_full_then_fetches_only_the_files_it_still_lacks(hub, monkeypatch):
    config.load("default")
    monkeypatch.setattr(weights, "weights_available", lambda *a, **k: True)  # full refuses to fall back
    cfg = config.load("full")
    assert hub.fetched == [L_REL, AB1, AB2, AB3]  # L and ab1 were not fetched again
    assert len(cfg.dataset()) == 2072 and cfg.dataset().source == "kaggle"


def test_a_file_cut_short_is_never_trusted_and_is_fetched_again(hub, capsys):
    hub.cut_short = 1  # the first download arrives short, and kagglehub marked it complete
    cfg = config.load("default")
    assert cfg.name == "default" and hub.fetched == [L_REL, L_REL, AB1]
    assert hub.calls[:2] == [(L_REL, False), (L_REL, True)]
    assert "arrived damaged" in capsys.readouterr().out
    assert kaggle.why_not_whole(the_file(hub, L_REL), STAND_IN[L_REL]) is None


def test_a_file_damaged_twice_falls_back_and_is_removed(hub):
    hub.cut_short = 2
    cfg = config.load("default")
    assert cfg.name == "default-offline"
    assert any("arrived damaged twice" in f and L_REL in f for f in cfg.fallbacks), cfg.fallbacks
    assert not the_file(hub, L_REL).exists(), "a damaged file stayed behind"


def test_an_interrupted_download_resumes_cleanly(hub):
    hub.interrupt = True
    with pytest.raises(KeyboardInterrupt):
        config.load("default")
    partial = the_file(hub, L_REL)
    assert partial.exists() and kaggle.find_local_kaggle(2000) is None  # half a file is never taken for one
    cfg = config.load("default")
    assert cfg.name == "default" and len(cfg.dataset()) == 2000 and hub.fetched == [L_REL, AB1]


def test_a_refusal_says_how_to_log_in_and_falls_back(hub, capsys):
    hub.refuse = 403
    cfg = config.load("default")
    assert cfg.name == "default-offline"
    (why,) = [f for f in cfg.fallbacks if "Kaggle" in f]
    assert "403" in why and "\n" not in why
    for how in ("kagglehub.login()", "KAGGLE_USERNAME", "KAGGLE_KEY", "~/.kaggle/kaggle.json"):
        assert how in why
    assert "OFFLINE FALLBACK" in cfg.banner() and "Traceback" not in capsys.readouterr().err


def test_a_disk_too_small_is_refused_before_anything_is_fetched(hub, monkeypatch):
    usage = shutil.disk_usage(".")
    monkeypatch.setattr(kaggle.shutil, "disk_usage", lambda p: usage._replace(free=1_000_000))
    cfg = config.load("default")
    assert cfg.name == "default-offline" and hub.calls == []
    (why,) = [f for f in cfg.fallbacks if "Kaggle" in f]
    needed = sum(kaggle.file_bytes(rel) for rel in (L_REL, AB1))
    assert f"{needed:,} bytes" in why and "1,000,000 are free" in why and str(kaggle.cache_folder()) in why


def test_a_disk_filling_up_leaves_nothing_half_written(hub):
    hub.disk_full = True
    cfg = config.load("default")
    assert cfg.name == "default-offline"
    (why,) = [f for f in cfg.fallbacks if "Kaggle" in f]
    assert "disk is full" in why and str(kaggle.cache_folder()) in why and "\n" not in why
    assert not the_file(hub, L_REL).exists(), "the half-written file stayed behind"
    assert config.load("default").name == "default"  # with space again, it downloads


def test_offline_the_fallback_comes_within_5_seconds(hub, monkeypatch):
    """The worst case: every connection hangs until the probe's timeout (a firewall that drops packets)."""
    def hangs(address, timeout):
        time.sleep(timeout)
        raise OSError("timed out")

    monkeypatch.setattr(network, "reachable", REAL_REACHABLE)
    monkeypatch.setattr(network, "socket", types.SimpleNamespace(create_connection=hangs))
    start = time.perf_counter()
    cfg = config.load("default")
    banner = cfg.banner()
    assert time.perf_counter() - start < 5.0
    assert cfg.name == "default-offline" and cfg.embedding_mode == "untrained" and hub.calls == []
    assert "cannot reach www.kaggle.com" in banner



def test_deepcolor_offline_probes_nothing_and_says_why(hub, monkeypatch):
    def no_probe(*args, **kwargs):
        raise AssertionError("DEEPCOLOR_OFFLINE=1, yet the network was probed")

    monkeypatch.setenv("DEEPCOLOR_OFFLINE", "1")
    monkeypatch.setattr(network, "reachable", no_probe)
    start = time.perf_counter()
    cfg = config.load("default")
    assert time.perf_counter() - start < 1.0
    assert cfg.name == "default-offline" and hub.calls == []
    assert cfg.banner().count("DEEPCOLOR_OFFLINE=1") == 2  # the Kaggle files and the weights
    assert not weights.weights_available()
    with pytest.raises(weights.WeightsUnavailableError, match="DEEPCOLOR_OFFLINE=1 forbids"):
        weights.fetch(weights.WEIGHTS_FILE, weights.WEIGHTS_URL, weights.WEIGHTS_MD5, None, "The weights are")
    monkeypatch.setenv("DEEPCOLOR_OFFLINE", "perhaps")
    with pytest.raises(ValueError, match="DEEPCOLOR_OFFLINE"):
        config.load("default")


def test_the_command_line_downloads_the_whole_set(hub, capsys):
    from deepcolor import cli

    assert cli.main(["data", "kaggle"]) == 0
    assert hub.fetched == [L_REL, AB1, AB2, AB3]
    assert "LabDataset(2072 images of 224x224, source='kaggle'" in capsys.readouterr().out


def test_only_a_prefix_of_the_kaggle_files_opens_as_the_first_images(tmp_path, monkeypatch, make_kaggle_layout):
    from deepcolor.data import DatasetFormatError, load_kaggle

    shapes = {L_REL: (6, 224, 224), AB1: (3, 224, 224, 2), AB2: (2, 224, 224, 2), AB3: (1, 224, 224, 2)}
    monkeypatch.setattr(kaggle, "KAGGLE_FILES", shapes)
    l8, ab8 = np.zeros((6, 224, 224), np.uint8), np.zeros((6, 224, 224, 2), np.uint8)
    l8[:, 0, 0] = np.arange(6)
    ds = load_kaggle(make_kaggle_layout(tmp_path / "ab1", l8, ab8, (3,)))
    assert len(ds) == 3 and ds.source == "kaggle[:3]" and list(ds.batch_raw([0, 1, 2])[0][:, 0, 0]) == [0, 1, 2]
    assert len(load_kaggle(make_kaggle_layout(tmp_path / "ab12", l8, ab8, (3, 2)))) == 5
    with pytest.raises(DatasetFormatError, match="6 images but the ab files hold 2"):  # not ab1's count
        load_kaggle(make_kaggle_layout(tmp_path / "short", l8, ab8, (2,)))
    written = make_kaggle_layout(tmp_path / "ours", l8, ab8, (3,))
    (written / ".deepcolor-dataset").write_text("{}")
    with pytest.raises(DatasetFormatError, match="6 images but the ab files hold 3"):  # a dataset deepcolor wrote
        load_kaggle(written)
