"""Tests of classroom packs (deepcolor.classroom, ``deepcolor classroom pack|use``).

The teacher's machine is played by a Kaggle-layout folder of real photo crops and a stand-in
weights file in a private Keras cache; its MD5s are made the ones Keras checks, so the real file
handling runs without the 215 MB download.  The ImageNet network itself is replaced by an embedder
whose output depends on each image, so that using a pack must reproduce these exact numbers.
"""

import hashlib
import json
import shutil

import numpy as np
import pytest

from deepcolor import classroom, classroom_install, cli, config, data, embeddings, network, weights

N_IMAGES = 6


class StandInEmbedder:
    """Plays Inception-ResNet-v2 in mode "imagenet": softmax rows made from each image's lightness."""

    mode, trained, seed = "imagenet", True, 0

    def build(self):
        return None

    def embed_into(self, out, read, progress=None):
        for start in range(0, len(out), 4):
            stop = min(start + 4, len(out))
            L = read(start, stop).reshape(stop - start, -1)[:, :1000].astype(np.float64)
            e = np.exp(L / 100)
            out[start:stop] = e / e.sum(axis=1, keepdims=True)


def md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def teacher(tmp_path, monkeypatch, make_kaggle_layout, photo_crops, lab8_opencv):
    """A machine with the Kaggle images (in $DEEPCOLOR_KAGGLE_DIR) and the Keras files cached, and no network."""
    _, l8, ab8 = lab8_opencv(photo_crops(N_IMAGES))
    kaggle = make_kaggle_layout(tmp_path / "teacher" / "kaggle", l8, ab8, (4, 2))
    models = tmp_path / "teacher" / "keras" / "models"
    models.mkdir(parents=True)
    (models / weights.WEIGHTS_FILE).write_bytes(np.random.default_rng(0).bytes(300_000))
    (models / weights.CLASS_INDEX_FILE).write_text(json.dumps({str(i): ["n0", f"class {i}"] for i in range(1000)}))
    monkeypatch.setattr(weights, "WEIGHTS_MD5", md5(models / weights.WEIGHTS_FILE))
    monkeypatch.setattr(weights, "CLASS_INDEX_MD5", md5(models / weights.CLASS_INDEX_FILE))
    monkeypatch.setenv("DEEPCOLOR_KAGGLE_DIR", str(kaggle))
    monkeypatch.setenv("KERAS_HOME", str(models.parent))
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "teacher" / "home"))
    monkeypatch.setattr(network, "reachable", lambda *args, **kwargs: False)
    return kaggle, models


@pytest.fixture
def built(teacher, tmp_path, monkeypatch):
    """(pack folder, the teacher's embeddings), then a fresh student laptop: its own DEEPCOLOR_HOME
    and Keras cache, no Kaggle copy, no network, and an embedder that must not be built."""
    kaggle, models = teacher
    out = classroom.pack(tmp_path / "pack", embedder=StandInEmbedder())
    ds = config.load("default").dataset()
    emb = StandInEmbedder()
    expected = np.zeros((len(ds), 1000), np.float32)
    emb.embed_into(expected, lambda a, b: ds.batch(np.arange(a, b))[0])

    monkeypatch.delenv("DEEPCOLOR_KAGGLE_DIR")
    monkeypatch.setenv("DEEPCOLOR_HOME", str(tmp_path / "student" / "home"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "student" / "keras"))
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "student" / "kagglehub"))

    def no_network_network(self):
        raise AssertionError("the embeddings were computed again instead of read from the pack")

    monkeypatch.setattr(embeddings.Embedder, "build", no_network_network)
    return out, expected


def test_pack_holds_exactly_what_the_default_profile_needs(built):
    out, _ = built
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == ["classroom-pack.json", "embeddings/imagenet.npy", "kaggle/ab/ab/ab1.npy",
                     "kaggle/l/gray_scale.npy", f"keras/{weights.CLASS_INDEX_FILE}", f"keras/{weights.WEIGHTS_FILE}"]
    manifest = json.loads((out / "classroom-pack.json").read_text())
    assert manifest["profile"] == "default" and manifest["images"] == N_IMAGES
    for rel, entry in manifest["files"].items():
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == entry["sha256"], rel
    assert len(data.load_kaggle(out / "kaggle")) == N_IMAGES  # one ab file, as a subset of the Kaggle layout
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".pack")], "a temporary folder was left behind"


def test_using_a_pack_runs_the_default_profile_offline_from_it(built, tmp_path, capsys):
    out, expected = built
    assert cli.main(["classroom", "use", str(out)]) == 0
    assert "checked 5 files" in capsys.readouterr().out

    cfg = config.load("default")
    assert cfg.fallbacks == [] and cfg.name == "default" and cfg.embedding_mode == "imagenet"
    assert cfg.kaggle_dir == tmp_path / "student" / "home" / "classroom"
    ds = cfg.dataset()
    teacher_ds = data.load_kaggle(tmp_path / "teacher" / "kaggle")
    assert len(ds) == N_IMAGES
    np.testing.assert_array_equal(ds.batch_raw(range(N_IMAGES))[1], teacher_ds.batch_raw(range(N_IMAGES))[1])
    np.testing.assert_array_equal(cfg.embeddings(ds), expected)  # read from the cache: Embedder.build raises
    assert weights.imagenet_weights_path().read_bytes() == (out / "keras" / weights.WEIGHTS_FILE).read_bytes()

    assert cli.main(["classroom", "use", str(out)]) == 0, "using a pack again replaces the earlier install"
    np.testing.assert_array_equal(config.load("default").embeddings(ds), expected)


def snapshot(folder):
    """Every file under ``folder`` (hidden ones too) with its SHA-256: what an install left."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def resign(out, rel=None, **changes):
    """Rewrite the pack's manifest as if the pack had been made so: ``rel``'s size and SHA-256 as
    the file now is (``rel`` gone: its entry dropped), and the top-level ``changes``."""
    manifest = json.loads((out / classroom.MANIFEST).read_text())
    if rel is not None and (out / rel).exists():
        manifest["files"][rel] = {"bytes": (out / rel).stat().st_size,
                                  "sha256": hashlib.sha256((out / rel).read_bytes()).hexdigest()}
    manifest.update(changes)
    (out / classroom.MANIFEST).write_text(json.dumps(manifest))


def embeddings_one_row_short(out):
    rel = "embeddings/imagenet.npy"
    np.save(out / rel, np.load(out / rel)[:-1])
    resign(out, rel)
    return rel


def an_extra_ab_file(out):
    rel = "kaggle/ab/ab/ab2.npy"
    np.save(out / rel, np.load(out / "kaggle" / "ab" / "ab" / "ab1.npy")[:2])
    resign(out, rel)
    return "kaggle/l/gray_scale.npy"  # its 6 images against 8 in the ab files


def another_image_count(out):
    resign(out, images=N_IMAGES + 1)
    return classroom.MANIFEST


@pytest.mark.parametrize("earlier", [False, True], ids=["fresh", "over an earlier install"])
@pytest.mark.parametrize("tamper", [embeddings_one_row_short, an_extra_ab_file, another_image_count])
def test_a_pack_whose_checked_files_do_not_fit_together_installs_nothing(built, tmp_path, capsys, tamper, earlier):
    out, expected = built
    student = tmp_path / "student"
    if earlier:
        assert cli.main(["classroom", "use", str(out)]) == 0
    before = snapshot(student)
    capsys.readouterr()
    named = tamper(out)

    assert cli.main(["classroom", "use", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepcolor: error: the classroom pack's parts do not fit together: ")
    assert str(out / named) in err
    assert len(err.strip().splitlines()) == 1 and "make the pack again" in err
    assert snapshot(student) == before, "the images or Keras files were put in place before the check"
    assert [p.name for p in (student / "home").iterdir()] == (["classroom"] if earlier else [])
    if earlier:  # the earlier install still runs the profile, embeddings read from its cache
        cfg = config.load("default")
        np.testing.assert_array_equal(cfg.embeddings(cfg.dataset()), expected)


@pytest.mark.parametrize("where", ["images folder", "Keras cache"])
def test_what_appears_at_a_destination_while_use_runs_is_kept_and_the_rest_taken_back(
        built, tmp_path, capsys, monkeypatch, where):
    out, _ = built
    images = tmp_path / "student" / "home" / "classroom"
    models = tmp_path / "student" / "keras" / "models"
    real = classroom_install.mark_layout  # called while staging: after every look at the destinations

    def and_meanwhile(folder, manifest):
        real(folder, manifest)
        if where == "images folder":
            images.mkdir()
            (images / "notes.txt").write_text("mine")
        else:
            (models / weights.WEIGHTS_FILE).write_bytes(b"my own download")

    monkeypatch.setattr(classroom_install, "mark_layout", and_meanwhile)
    assert cli.main(["classroom", "use", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    if where == "images folder":
        assert f"refusing to replace {images}" in err and (images / "notes.txt").read_text() == "mine"
        assert sorted(p.name for p in images.iterdir()) == ["notes.txt"]
        assert list(models.iterdir()) == [], "the Keras files put in place before the refusal were left there"
    else:
        assert str(models / weights.WEIGHTS_FILE) in err and "appeared while" in err
        assert (models / weights.WEIGHTS_FILE).read_bytes() == b"my own download"
        assert sorted(p.name for p in models.iterdir()) == [weights.WEIGHTS_FILE]
        assert not images.exists()
    assert config.load("default").fallbacks, "nothing was installed, so default must still fall back"


def test_pack_judges_what_appeared_at_out_when_it_swaps(teacher, tmp_path, capsys, monkeypatch):
    earlier = classroom.pack(tmp_path / "earlier", embedder=StandInEmbedder())
    out = tmp_path / "pack"
    real, appear = classroom.write_images, []

    def and_meanwhile(ds, root, batch=256):
        appear.pop()()
        return real(ds, root, batch)

    monkeypatch.setattr(classroom, "write_images", and_meanwhile)
    appear.append(lambda: (out.mkdir(), (out / "lesson plan.txt").write_text("mine")))
    assert cli.main(["classroom", "pack", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"refusing to replace {out}: it is not a classroom pack" in err and len(err.strip().splitlines()) == 1
    assert [p.name for p in out.iterdir()] == ["lesson plan.txt"] and (out / "lesson plan.txt").read_text() == "mine"

    out = tmp_path / "pack2"
    appear.append(lambda: shutil.copytree(earlier, out))
    assert cli.main(["classroom", "pack", str(out)]) == 2, "an earlier pack is replaced only with --force"
    assert "already holds a classroom pack; pass --force" in capsys.readouterr().err
    assert snapshot(out) == snapshot(earlier)


def flip_one_byte(path, offset=-1):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("rel", ["kaggle/ab/ab/ab1.npy", f"keras/{weights.WEIGHTS_FILE}", "embeddings/imagenet.npy"])
def test_a_flipped_byte_fails_naming_the_file_and_installs_nothing(built, rel, tmp_path, capsys):
    out, _ = built
    flip_one_byte(out / rel)
    assert cli.main(["classroom", "use", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("deepcolor: error: the classroom pack is damaged:") and str(out / rel) in err
    assert len(err.strip().splitlines()) == 1
    student = tmp_path / "student"
    left = sorted(p.relative_to(student).as_posix() for p in student.rglob("*") if p.is_file())
    assert left == [], f"a damaged pack installed {left}"


def test_a_missing_file_fails_naming_it(built, capsys):
    out, _ = built
    (out / "kaggle" / "l" / "gray_scale.npy").unlink()
    assert cli.main(["classroom", "use", str(out)]) == 2
    err = capsys.readouterr().err
    assert "incomplete" in err and str(out / "kaggle" / "l" / "gray_scale.npy") in err
    assert config.load("default").fallbacks, "nothing was installed, so default must still fall back"


def test_a_folder_without_a_manifest_is_not_a_pack(tmp_path, capsys):
    (tmp_path / "photos").mkdir()
    assert cli.main(["classroom", "use", str(tmp_path / "photos")]) == 2
    assert "is not a classroom pack: it has no classroom-pack.json" in capsys.readouterr().err


def test_a_different_keras_file_already_cached_is_never_overwritten(built, tmp_path, capsys):
    out, _ = built
    mine = tmp_path / "student" / "keras" / "models" / weights.WEIGHTS_FILE
    mine.parent.mkdir(parents=True)
    mine.write_bytes(b"half a download")
    assert cli.main(["classroom", "use", str(out)]) == 2
    assert str(mine) in capsys.readouterr().err and mine.read_bytes() == b"half a download"
    assert not (tmp_path / "student" / "home" / "classroom").exists()


def test_pack_refuses_a_folder_of_other_files_and_needs_force_for_an_earlier_pack(teacher, tmp_path, capsys):
    mine = tmp_path / "notes"
    mine.mkdir()
    (mine / "lesson plan.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a classroom pack"):
        classroom.pack(mine, embedder=StandInEmbedder())
    assert [p.name for p in mine.iterdir()] == ["lesson plan.txt"]

    out = classroom.pack(tmp_path / "pack", embedder=StandInEmbedder())
    assert cli.main(["classroom", "pack", str(out)]) == 2
    assert "already holds a classroom pack; pass --force" in capsys.readouterr().err
    assert cli.main(["classroom", "pack", str(out), "--force"]) == 0  # the embeddings come from the teacher's cache
    assert f"classroom pack for the default profile: {out}" in capsys.readouterr().out
    (out / "extra.txt").write_text("a note of the teacher's")
    with pytest.raises(FileExistsError, match="extra.txt"):
        classroom.pack(out, force=True, embedder=StandInEmbedder())
    assert (out / "extra.txt").read_text() == "a note of the teacher's"


def test_smoke_needs_no_pack():
    with pytest.raises(ValueError, match="runs offline without a pack"):
        classroom.needs(config.PROFILES["smoke"])
