from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open

from oldfilm.errors import UsageError, WeightsError
from oldfilm.models.weights import load_model, save_weights
from oldfilm.train import losses
from oldfilm.train.config import TRAIN_PRESETS, TrainConfig, config_from_dict, load_config
from oldfilm.train.data import TrainClips
from oldfilm.train.loop import build_trainer, export_weights, lr_lambda, train
from oldfilm.train.plot import draw_curves
from tests.clips import moving_clip

ROOT = Path(__file__).resolve().parents[2]


def _held_out_loss(cfg: TrainConfig, model: torch.nn.Module) -> float:
    """Charbonnier loss of ``model`` on four fixed clips no training step sees."""
    ds = TrainClips(cfg.data, seed=99, per_step=4, multiple=cfg.model.multiple)
    batch = {k: torch.stack([ds[i][k] for i in range(4)]) for k in ("lq", "gt", "flows_fwd", "flows_bwd")}
    with torch.no_grad():
        out = model(batch["lq"], batch["flows_fwd"], batch["flows_bwd"])
    return float(losses.charbonnier(out, batch["gt"]))


def test_tiny_run_decreases_the_loss(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=30, lr=3e-3, warmup=3, ema=0.9)
    before = _held_out_loss(cfg, build_trainer(cfg, torch.device("cpu")).model)
    history = train(cfg, tmp_path)
    assert len(history) == 30 and all(np.isfinite(history))
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=True)
    trained = build_trainer(cfg, torch.device("cpu")).model
    trained.load_state_dict(state["model"])
    assert _held_out_loss(cfg, trained) < 0.9 * before
    assert np.mean(history[-10:]) < np.mean(history[:10])
    assert (tmp_path / "log.csv").read_text().count("\n") == 31
    draw_curves(tmp_path)
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_resume_reproduces_the_uninterrupted_run(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=6)
    straight = train(cfg, tmp_path / "a")
    first = train(cfg, tmp_path / "b", stop_at=3)
    assert json.loads((tmp_path / "b" / "config.json").read_text())["steps"] == 6
    rest = train(cfg, tmp_path / "b")
    assert first + rest == straight
    a = torch.load(tmp_path / "a" / "checkpoint.pt", weights_only=True)
    b = torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)
    assert a["step"] == b["step"] == 6
    for k in a["ema"]:
        assert torch.equal(a["ema"][k], b["ema"][k])


def test_a_time_budget_stops_with_a_checkpoint_that_resumes_exactly(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=5)
    straight = train(cfg, tmp_path / "a")
    first = train(cfg, tmp_path / "b", minutes=0.0)  # spent at once: one step, then a checkpoint
    assert len(first) == 1
    assert torch.load(tmp_path / "b" / "checkpoint.pt", weights_only=True)["step"] == 1
    rest = train(cfg, tmp_path / "b")
    assert first + rest == straight


def test_validation_logs_psnr_t_and_keeps_the_best_weights(tiny: TrainConfig, tmp_path: Path) -> None:
    from oldfilm.train.validate import ValClip, save_val_set

    clean = moving_clip(t=4, h=64, w=64, channels=1)[..., 0]
    noisy = np.clip(clean + np.random.default_rng(0).normal(0, 12, clean.shape), 0, 255).astype(np.uint8)
    tmp_path.mkdir(exist_ok=True)
    save_val_set([ValClip("light", noisy, clean)], tmp_path / "val_set.npz")  # stands in for bikes.mp4
    train(replace(tiny, steps=4, val_every=2), tmp_path)
    with open(tmp_path / "val.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [(r["step"], r["method"]) for r in rows] == [("0", "input"), ("0", "classical"), ("2", "rtn"), ("4", "rtn")]
    assert all(np.isfinite(float(r["psnr_tone"])) for r in rows)
    gains = {r["step"]: float(r["psnr_tone"]) - float(rows[1]["psnr_tone"]) for r in rows[2:]}
    best = max(gains, key=gains.get)
    with safe_open(str(tmp_path / "best.safetensors"), "pt") as f:
        assert f.metadata()["oldfilm.train.step"] == best
    assert load_model(tmp_path / "best.safetensors").cfg == tiny.model
    import cv2

    assert cv2.imread(str(tmp_path / "curve.png")).shape[1] == 3 * 520  # loss, PSNR and PSNR-t panels


def test_csv_begun_by_an_older_version_keeps_its_columns(tmp_path: Path) -> None:
    from oldfilm.train.runlog import append_csv

    path = tmp_path / "val.csv"
    path.write_text("step,psnr\n0,20\n")
    append_csv(path, ("step", "psnr", "psnr_tone"), {"step": 1, "psnr": 21.0, "psnr_tone": 22.0})
    assert path.read_text().splitlines() == ["step,psnr", "0,20", "1,21"]


def test_adversarial_stage_runs(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=3, loss=replace(tiny.loss, adversarial=0.01, adversarial_start=1, disc_channels=4,
                                              disc_depth=2))
    assert len(train(cfg, tmp_path)) == 3
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert rows[0]["disc"] == "" and rows[-1]["disc"] != ""  # the discriminator's loss, once the stage starts


def test_ddp_with_two_gloo_processes(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=2)
    cfg.save(tmp_path / "cfg.json")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
    # --standalone: torchrun binds its own free port (a port picked here and closed again could be taken
    # before torchrun binds it, which failed this test once on a fresh clone)
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
           "-m", "oldfilm.train", "--config", str(tmp_path / "cfg.json"), "--run-dir", str(tmp_path / "run")]
    # a spent time budget stops both ranks after the same step (else one would hang in the next all-reduce)
    proc = subprocess.run([*cmd, "--minutes", "0"], capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 1
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=True)["step"] == 2


def test_export_writes_loadable_safetensors(tiny: TrainConfig, tmp_path: Path) -> None:
    train(replace(tiny, steps=1), tmp_path)
    out = export_weights(tmp_path, tmp_path / "w.safetensors")
    model = load_model(out)
    assert model.cfg == tiny.model


def test_config_round_trips_and_presets_load(tmp_path: Path) -> None:
    cfg = TRAIN_PRESETS["fast-cpu"]
    assert all(config_from_dict(json.loads(c.to_json())) == c for c in TRAIN_PRESETS.values())
    cfg.save(tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == cfg and load_config("tiny") == TRAIN_PRESETS["tiny"]
    (tmp_path / "bad.json").write_text('{"stepz": 3}')
    with pytest.raises(UsageError, match="stepz"):
        load_config(tmp_path / "bad.json")


def test_schedule_warms_up_then_decays() -> None:
    f = lr_lambda(replace(TRAIN_PRESETS["tiny"], steps=100, warmup=10, min_lr_ratio=0.1))
    assert f(0) == pytest.approx(0.1) and f(9) == pytest.approx(1.0)
    assert f(55) < f(20) < 1.0 and f(100) == pytest.approx(0.1)


def test_losses() -> None:
    x = torch.rand(2, 3, 1, 16, 16)
    assert losses.charbonnier(x, x, 0.0) == 0
    zero = torch.zeros(2, 2, 2, 16, 16)
    assert losses.temporal_consistency(x, x, zero) == pytest.approx(1e-3)
    flicker = x + torch.tensor([0.0, 0.1, 0.0]).view(1, 3, 1, 1, 1)
    assert losses.temporal_consistency(flicker, x, zero) > 0.05
    # tone-invariant fit: blind to each frame's exposure, not to detail
    darker = x - torch.tensor([0.05, 0.1, 0.02]).view(1, 3, 1, 1, 1)
    torch.testing.assert_close(losses.match_means(darker, x), x)
    assert losses.charbonnier(losses.match_means(darker.flip(-1), x), x, 0.0) > 0.1
    # clip-affine fit: blind to one gain and offset per clip (a fade), not to per-frame flicker or detail
    faded = 0.7 * x + 0.12
    torch.testing.assert_close(losses.match_clip_affine(faded, x), x, atol=1e-4, rtol=0)
    assert losses.charbonnier(losses.match_clip_affine(0.7 * flicker + 0.12, x), x, 0.0) > 0.01
    assert losses.charbonnier(losses.match_clip_affine(faded.flip(-1), x), x, 0.0) > 0.1


def test_ssim_matches_scikit_image_and_sees_grain_more_than_mse() -> None:
    from skimage.metrics import structural_similarity

    rng = np.random.default_rng(0)
    clean = torch.from_numpy(np.clip(np.add.outer(np.arange(48), np.arange(48)) / 96.0, 0, 1)).float()
    noisy = (clean + 0.05 * torch.from_numpy(rng.standard_normal((48, 48))).float()).clamp(0, 1)
    ours = float(losses.ssim(noisy.view(1, 1, 1, 48, 48), clean.view(1, 1, 1, 48, 48)))
    ref = structural_similarity(noisy.numpy(), clean.numpy(), gaussian_weights=True, sigma=1.5,
                                use_sample_covariance=False, data_range=1.0)
    assert ours == pytest.approx(ref, abs=2e-3) and ours < 0.9
    assert float(losses.ssim(clean.view(1, 1, 1, 48, 48), clean.view(1, 1, 1, 48, 48))) == pytest.approx(1.0)
    # grain of the same energy as a uniform offset costs the same MSE but far more SSIM
    offset = clean + float((noisy - clean).pow(2).mean().sqrt())
    assert float(losses.ssim(offset.view(1, 1, 1, 48, 48), clean.view(1, 1, 1, 48, 48))) > ours + 0.2


def test_ssim_term_is_logged_and_snapshots_are_saved(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=4, snapshot_every=2, loss=replace(tiny.loss, ssim=1.0))
    train(cfg, tmp_path)
    with open(tmp_path / "log.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert all(0.0 < float(r["ssim"]) < 1.0 for r in rows)
    snaps = sorted(p.name for p in (tmp_path / "snapshots").iterdir())
    assert snaps == ["step-000002.safetensors", "step-000004.safetensors"]
    assert load_model(tmp_path / "snapshots" / snaps[0]).cfg == tiny.model


def test_vgg_weights_must_be_safetensors(tmp_path: Path) -> None:
    (tmp_path / "vgg.pth").write_bytes(b"\x80\x02")
    with pytest.raises(WeightsError):
        losses.load_vgg19(tmp_path / "vgg.pth")
    from safetensors.torch import save_file

    vgg = losses.VGG19Features()
    save_file({k: v for k, v in vgg.state_dict().items() if k.startswith("features.")}, str(tmp_path / "v.safetensors"))
    net = losses.load_vgg19(tmp_path / "v.safetensors")
    x = torch.rand(1, 2, 1, 32, 32)
    assert float(losses.perceptual(net, x, x)) == 0.0


def test_cli_train_command(tiny: TrainConfig, tmp_path: Path) -> None:
    from oldfilm.cli import main

    replace(tiny, steps=1).save(tmp_path / "cfg.json")
    assert main(["-q", "train", str(tmp_path / "run"), "--config", str(tmp_path / "cfg.json")]) == 0
    assert (tmp_path / "run" / "checkpoint.pt").exists()
    assert main(["-q", "train", str(tmp_path / "run"), "--config", "nope"]) == 2
    weights = tmp_path / "w.safetensors"
    assert main(["-q", "train", str(tmp_path / "run"), "--export", str(weights)]) == 0
    assert main(["-q", "train", str(tmp_path / "ft"), "--config", str(tmp_path / "cfg.json"),
                 "--init", str(weights)]) == 0
    assert json.loads((tmp_path / "ft" / "config.json").read_text())["init"] == str(weights)
    assert main(["-q", "train", str(tmp_path / "ft2"), "--config", str(tmp_path / "cfg.json"),
                 "--init", str(tmp_path / "missing.safetensors")]) == 2  # one-line error
    assert not (tmp_path / "ft2").exists()  # nothing written


def test_init_starts_a_run_from_given_weights(tiny: TrainConfig, tmp_path: Path) -> None:
    train(tiny, tmp_path / "a", stop_at=3)
    src = export_weights(tmp_path / "a", tmp_path / "a.safetensors")
    tuned = replace(tiny, init=str(src))
    start = build_trainer(tuned, torch.device("cpu"))
    fresh = build_trainer(replace(tiny, seed=tiny.seed), torch.device("cpu"))
    loaded = load_model(src).state_dict()
    assert all(torch.equal(v, loaded[k]) for k, v in start.model.state_dict().items())
    assert all(torch.equal(v, loaded[k]) for k, v in start.ema.state_dict().items())
    assert any(not torch.equal(v, loaded[k]) for k, v in fresh.model.state_dict().items())
    other = replace(tiny, model=replace(tiny.model, hidden=tiny.model.hidden * 2), init=str(src))
    with pytest.raises(UsageError, match="differs"):
        build_trainer(other, torch.device("cpu"))
    # onto another guide or flow preset: the same parameters, other inputs
    moved = replace(tiny, model=replace(tiny.model, guide='{"sharpen": 0.3}', flow_preset="medium"),
                    data=replace(tiny.data, flow_preset="medium"), init=str(src))
    state = build_trainer(moved, torch.device("cpu")).model.state_dict()
    assert all(torch.equal(v, loaded[k]) for k, v in state.items())


def test_init_onto_a_wider_head_computes_the_same_and_can_learn(tiny: TrainConfig, tmp_path: Path) -> None:
    """A wider head grows from trained weights without changing the output; nothing else may differ."""
    model = replace(tiny.model, guided=True, head_channels=4, head_layers=2)
    cfg = replace(tiny, model=model)
    train(cfg, tmp_path / "a", stop_at=2)
    old = load_model(export_weights(tmp_path / "a", tmp_path / "a.safetensors"))
    with torch.no_grad():  # a head far from its start: every layer and the gate matter
        for p in old.decoder.head.parameters():
            p.normal_(0.0, 0.3)
    src = save_weights(old, tmp_path / "trained.safetensors")
    wide = replace(cfg, model=replace(model, name="tiny-wide", head_channels=8), init=str(src))
    grown = build_trainer(wide, torch.device("cpu")).model
    assert grown.state_dict()["decoder.head.body.1.weight"].shape[:2] == (8, 8)
    torch.manual_seed(0)
    frames = torch.rand(1, 3, 2, 16, 16)
    flows = torch.randn(1, 2, 2, 16, 16)
    old.eval()
    grown.eval()
    with torch.no_grad():
        assert torch.allclose(old(frames, flows, -flows), grown(frames, flows, -flows), atol=1e-6)
    new_in = grown.state_dict()["decoder.head.body.1.weight"][4:, :4]
    assert new_in.abs().sum() > 0  # the new channels read the old ones: they are not stuck at zero
    with pytest.raises(UsageError, match="differs"):  # the recurrent part may not change
        build_trainer(replace(wide, model=replace(wide.model, hidden=model.hidden * 2)), torch.device("cpu"))
    with pytest.raises(UsageError, match="differs"):  # nor the head's depth
        build_trainer(replace(wide, model=replace(wide.model, head_layers=3)), torch.device("cpu"))


def test_a_fine_tune_resumes_after_its_init_weights_are_gone(tiny: TrainConfig, tmp_path: Path) -> None:
    """A resume state moved to a new machine does not bring the file the run was initialised from."""
    train(tiny, tmp_path / "a", stop_at=2)
    src = export_weights(tmp_path / "a", tmp_path / "init.safetensors")
    tuned = replace(tiny, steps=4, init=str(src))
    straight = train(tuned, tmp_path / "b")
    first = train(tuned, tmp_path / "c", stop_at=2)
    src.unlink()
    assert first + train(tuned, tmp_path / "c") == straight


def test_a_finished_run_goes_on_with_more_steps(tiny: TrainConfig, tmp_path: Path) -> None:
    cfg = replace(tiny, steps=3)
    assert len(train(cfg, tmp_path)) == 3
    assert train(cfg, tmp_path) == []  # finished: nothing to do
    assert len(train(cfg, tmp_path, steps=5)) == 2
    assert torch.load(tmp_path / "checkpoint.pt", weights_only=True)["step"] == 5
    assert json.loads((tmp_path / "config.json").read_text())["steps"] == 5
