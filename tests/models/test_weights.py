from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

import oldfilm
from oldfilm.errors import WeightsError
from oldfilm.models import weights as W
from oldfilm.models.rtn import RTN

from .conftest import TINY, TINY_PAPER


def _saved(tmp_path: Path, cfg=TINY, name: str = "w.safetensors") -> tuple[RTN, Path]:
    torch.manual_seed(1)
    model = RTN(cfg).eval()
    return model, W.save_weights(model, tmp_path / name, {"run": "test"})


def test_safetensors_round_trip(tmp_path: Path) -> None:
    for cfg in (TINY, TINY_PAPER):
        model, path = _saved(tmp_path, cfg)
        loaded = oldfilm.load_model(path)
        assert loaded.cfg == cfg and not loaded.training
        assert W.read_config(path) == cfg
        x = torch.rand(1, 2, 1, 32, 32)
        f = torch.zeros(1, 1, 2, 32, 32)
        with torch.inference_mode():
            torch.testing.assert_close(loaded(x, f, f), model(x, f, f))
        meta = W._metadata(path)
        assert meta["run"] == "test" and json.loads(meta[W.CONFIG_KEY])["name"] == cfg.name


def test_refuses_pickle_files(tmp_path: Path) -> None:
    model = RTN(TINY)
    for name in ("w.pt", "w.pth", "w.safetensors"):  # a pickle in disguise too
        path = tmp_path / name
        torch.save(model.state_dict(), path)
        with pytest.raises(WeightsError, match="pickle"):
            W.load_model(path)
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(WeightsError, match="pickle"):
        W.load_model(path)


def test_refuses_other_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"hello, world, this is not safetensors")
    with pytest.raises(WeightsError, match="not a safetensors"):
        W.load_model(junk)
    with pytest.raises(WeightsError, match="does not exist"):
        W.load_model(tmp_path / "missing.safetensors")
    _, path = _saved(tmp_path)
    renamed = path.rename(tmp_path / "w.bin")
    with pytest.raises(WeightsError, match="not a safetensors"):
        W.load_model(renamed)
    with pytest.raises(WeightsError, match=".safetensors"):
        W.save_weights(RTN(TINY), tmp_path / "w.pt")


def test_refuses_files_without_config_or_with_wrong_tensors(tmp_path: Path) -> None:
    bare = tmp_path / "bare.safetensors"
    save_file({"x": torch.zeros(2)}, str(bare))
    with pytest.raises(WeightsError, match="no oldfilm network config"):
        W.load_model(bare)
    bad_cfg = tmp_path / "bad.safetensors"
    save_file({"x": torch.zeros(2)}, str(bad_cfg), metadata={W.CONFIG_KEY: json.dumps({"hiden": 3})})
    with pytest.raises(WeightsError, match="unreadable network config"):
        W.load_model(bad_cfg)
    wrong = tmp_path / "wrong.safetensors"
    save_file({"x": torch.zeros(2)}, str(wrong), metadata={W.CONFIG_KEY: json.dumps(TINY.to_dict())})
    with pytest.raises(WeightsError, match="does not match"):
        W.load_model(wrong)
    _, path = _saved(tmp_path)  # a key-remap hook can rename tensors
    with pytest.raises(WeightsError, match="does not match"):
        W.load_model(path, remap=lambda k: "old." + k)


def test_presets_load_only_checked_shipped_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(W, "WEIGHTS_DIR", tmp_path)
    with pytest.raises(WeightsError, match="no trained weights are shipped for the 'fast' preset"):
        W.load_model("fast")
    _, path = _saved(tmp_path, name="fast.safetensors")
    with pytest.raises(WeightsError, match="SHA-256"):
        W.load_model("fast")
    monkeypatch.setitem(W.SHIPPED_SHA256, "fast.safetensors", W.sha256(path))
    assert W.load_model("fast").cfg == TINY


def test_guided_config_travels_with_the_weights(tmp_path: Path) -> None:
    from dataclasses import replace

    cfg = replace(TINY, name="tiny-guided", guided=True)
    model, path = _saved(tmp_path, cfg)
    loaded = oldfilm.load_model(path)
    assert loaded.cfg == cfg and loaded.cfg.input_channels == 2
    x = torch.rand(1, 2, 2, 32, 32)
    f = torch.zeros(1, 1, 2, 32, 32)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(x, f, f), model(x, f, f))


def test_best_method_follows_the_shipped_weights(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oldfilm.restore.api import best_method, best_preset

    monkeypatch.setattr(W, "WEIGHTS_DIR", tmp_path)
    assert (best_method(), best_preset()) == ("classical", None)
    _saved(tmp_path, name="fast.safetensors")
    assert (best_method(), best_preset()) == ("rtn", "fast")
    _saved(tmp_path, name="guided.safetensors")
    assert (best_method(), best_preset()) == ("rtn", "guided")  # preferred when both ship


def test_a_safetensors_header_of_any_length_loads(tmp_path: Path) -> None:
    """The header's length is the file's first 8 bytes: one ≡ 128 mod 256 starts with byte 0x80, as a pickle
    does. Such a file is still safetensors and must load (one did once a config field was added)."""
    model = RTN(TINY)
    path = tmp_path / "w.safetensors"
    for pad in range(256):
        W.save_weights(model, path, {"pad": "x" * pad})
        if path.read_bytes()[0] == 0x80:
            break
    assert path.read_bytes()[0] == 0x80
    assert W.load_model(path).cfg == TINY
