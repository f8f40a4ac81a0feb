"""deepcolor.config: profiles, and the offline fallback of the default profile."""

import numpy as np
import pytest

from deepcolor import config, sample


@pytest.fixture
def offline(monkeypatch, tmp_path):
    """No Kaggle copy anywhere, no ImageNet weights, no network."""
    import deepcolor.weights as weights

    monkeypatch.delenv(config.KAGGLE_ENV, raising=False)
    monkeypatch.setenv("KAGGLEHUB_CACHE", str(tmp_path / "kagglehub"))
    monkeypatch.setattr(weights, "weights_available", lambda *a, **k: False)


def test_profile_comes_from_the_environment(monkeypatch, offline):
    monkeypatch.setenv(config.PROFILE_ENV, "smoke")
    assert config.load().name == "smoke"
    monkeypatch.delenv(config.PROFILE_ENV)
    assert config.load().name == "default-offline"  # default, fallen back to the sample
    monkeypatch.setenv(config.PROFILE_ENV, "huge")
    with pytest.raises(ValueError, match="smoke, default, full"):
        config.load()


def test_smoke_profile_is_small_and_says_it_is_not_a_result(offline):
    cfg = config.load("smoke")
    p = cfg.profile
    assert (p.data, p.embedding_mode) == ("sample", "untrained")
    assert 12 <= p.n_images <= 64 and p.epochs <= 2 and p.input_size % 8 == 0
    assert "not results" in cfg.banner() and "UNTRAINED" in cfg.banner()
    assert not cfg.fallbacks


def test_default_falls_back_offline_with_a_banner(offline):
    cfg = config.load("default")
    assert cfg.profile.data == "sample" and cfg.embedding_mode == "untrained"
    assert cfg.name == "default-offline"  # runs and captions never pass as the default profile's
    banner = cfg.banner()
    assert banner.count("OFFLINE FALLBACK") == 2
    assert "Kaggle data not found" in banner and "ImageNet weights" in banner
    ds = cfg.dataset()
    photos = len(sample.source_photos())
    assert len(ds) == config.OFFLINE_FALLBACK["n_images"] + config.HELD_OUT_CROPS * photos and ds.source == "sample"
    parts = cfg.split(ds)
    assert len({str(g) for g in ds.groups[parts.test]}) >= 2  # at least two photos never trained on
    assert len(parts.test_seen) and ds.held_out[parts.test_seen].all()


def test_full_refuses_to_fall_back(offline):
    with pytest.raises(RuntimeError, match="full profile needs"):
        config.load("full")


def test_default_uses_a_local_kaggle_copy(monkeypatch, offline, kaggle_photos, tmp_path):
    nested = tmp_path / "kagglehub"
    monkeypatch.setenv(config.KAGGLE_ENV, str(kaggle_photos.root))
    cfg = config.load("default")
    assert cfg.kaggle_dir == kaggle_photos.root and cfg.profile.data == "kaggle"
    assert len(cfg.fallbacks) == 1  # only the weights are missing
    ds = cfg.dataset()
    assert len(ds) == len(kaggle_photos.rgb)  # n_images (2,000) is more than the copy holds
    assert nested.exists() is False


def test_subset_spans_ab_files_and_stays_lazy(kaggle_photos):
    from deepcolor.data import load_kaggle

    ds = load_kaggle(kaggle_photos.root)
    sub = ds.subset(6)  # ab files hold 4/4/2: crosses into the second
    assert len(sub) == 6 and [len(p) for p in sub.ab8_parts] == [4, 2]
    L, ab = sub.batch(np.arange(6))
    L_all, ab_all = ds.batch(np.arange(6))
    np.testing.assert_array_equal(L, L_all)
    np.testing.assert_array_equal(ab, ab_all)
    assert isinstance(sub.l8, np.memmap)


def test_train_config_takes_the_profile_and_overrides(offline):
    cfg = config.load("smoke")
    tc = cfg.train_config("arch2", lr=0.01)
    assert (tc.arch, tc.lr, tc.input_size, tc.epochs) == ("arch2", 0.01, cfg.profile.input_size, cfg.profile.epochs)


def test_the_study_trains_at_the_study_input_size_and_changes_nothing_else(monkeypatch, offline, kaggle_photos):
    monkeypatch.setenv(config.KAGGLE_ENV, str(kaggle_photos.root))
    cfg = config.load("default")
    study = cfg.for_study()
    assert (cfg.profile.input_size, study.profile.input_size) == (96, 64)
    assert study.train_config("base").input_size == 64 and cfg.train_config("base").input_size == 96
    assert study.profile == config.replace(cfg.profile, input_size=64)  # only the size
    assert (study.name, study.kaggle_dir, study.fallbacks) == (cfg.name, cfg.kaggle_dir, cfg.fallbacks)
    study.fallbacks.append("x")
    assert "x" not in cfg.fallbacks  # its own list
    for name in ("smoke", "full"):  # the other notebooks' size
        profile = config.PROFILES[name]
        assert config.Config(profile).for_study().profile.input_size == profile.input_size
    monkeypatch.delenv(config.KAGGLE_ENV)
    offline_cfg = config.load("default")
    assert offline_cfg.for_study().profile.input_size == offline_cfg.profile.input_size == 32


def test_environment_names_backend_and_version():
    env = config.environment()
    import deepcolor

    assert env["deepcolor"] == deepcolor.__version__ and env["backend"] == "tensorflow" and env["devices"]
