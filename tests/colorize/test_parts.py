"""The colouriser's parts: guided filter, L-preserving composition, exemplar transfer, colour metrics, the
refinement network and its weights file, and the file-level API."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from oldfilm.colorize.chroma import guided_filter, lab_to_rgb_keep_l
from oldfilm.colorize.refine import RefineConfig, RefineNet, Refiner, load_refiner
from oldfilm.colorize.transfer import transfer_colour
from oldfilm.colorspace import rgb_to_lab
from oldfilm.errors import InputError, UsageError, WeightsError
from oldfilm.metrics.colour import ciede2000_lab, colourfulness, delta_e
from oldfilm.models.weights import save_weights


def photo(h: int = 64, w: int = 80, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    img = cv2.resize(rng.random((h // 8, w // 8, 3)).astype(np.float32), (w, h), interpolation=cv2.INTER_CUBIC)
    return (np.clip(img, 0, 1) * 220 + 20).astype(np.uint8)


def test_guided_filter_keeps_constants_and_follows_the_guide() -> None:
    guide = np.tile(np.linspace(0, 1, 32, dtype=np.float32), (24, 1))
    const = np.full((24, 32, 2), 7.0, np.float32)
    np.testing.assert_allclose(guided_filter(guide, const, 3, 1e-3), const, atol=1e-3)
    lin = np.dstack([guide * 10, -guide * 5]).astype(np.float32)  # a linear function of the guide passes
    np.testing.assert_allclose(guided_filter(guide, lin, 3, 1e-6), lin, atol=0.05)


def test_composition_never_changes_lightness() -> None:
    L = np.linspace(5, 95, 64, dtype=np.float32)[None].repeat(8, 0)
    ab = np.full((8, 64, 2), 90.0, np.float32)  # far outside sRGB for most L
    rgb = lab_to_rgb_keep_l(L, ab)
    assert rgb.min() >= 0 and rgb.max() <= 1
    np.testing.assert_allclose(rgb_to_lab(rgb)[..., 0], L, atol=0.6)


def regions(h: int, w: int, order: tuple[int, ...], seed: int) -> np.ndarray:
    """Vertical bands whose colour goes with their brightness: dark blue, mid green, bright yellow."""
    colours = np.array([[30, 40, 120], [60, 150, 60], [240, 220, 80]], np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for k, c in enumerate(order):
        img[:, k * w // len(order):(k + 1) * w // len(order)] = colours[c]
    noise = np.random.default_rng(seed).normal(0, 6, (h, w, 1)).astype(np.float32)
    return np.clip(img + noise, 0, 255).astype(np.uint8)


def test_exemplar_transfer_gives_plausible_colours() -> None:
    exemplar = regions(60, 90, (0, 1, 2), 0)
    target = regions(48, 64, (2, 0, 1, 0), 1)  # another arrangement, another size
    L = rgb_to_lab(target)[..., 0]
    ab = transfer_colour(exemplar, L)
    assert ab.shape == (48, 64, 2)
    truth = rgb_to_lab(target)[..., 1:]
    assert np.abs(ab - truth).mean() < 0.3 * np.abs(truth).mean()  # far closer than gray
    with pytest.raises(InputError):
        transfer_colour(exemplar[..., :1], L)


def test_ciede2000_matches_reference_values() -> None:
    # Sharma et al. (2005) test pairs 1, 7 and 17
    lab1 = np.array([[50.0, 2.6772, -79.7751], [50.0, 0.0, 0.0], [50.0, 2.5, 0.0]])
    lab2 = np.array([[50.0, 0.0, -82.7485], [50.0, -1.0, 2.0], [73.0, 25.0, -18.0]])
    np.testing.assert_allclose(ciede2000_lab(lab1, lab2), [2.0425, 2.3669, 27.1492], atol=1e-3)
    img = photo()
    assert delta_e(img, img) == 0.0
    assert colourfulness(np.full((8, 8, 3), 128, np.uint8)) == 0.0
    assert colourfulness(img) > 5.0


def test_untrained_refiner_is_the_identity_and_has_gradients() -> None:
    net = RefineNet(RefineConfig(width=8, blocks=1))
    L, ab, conf = torch.rand(1, 1, 18, 22), torch.rand(1, 2, 18, 22), torch.rand(1, 1, 18, 22)
    out, hidden = net(L, ab, conf)
    torch.testing.assert_close(out, ab)
    out2, _ = net(L, ab, conf, torch.zeros(1, 2, 18, 22), hidden, L)
    assert out2.shape == ab.shape
    out2.sum().backward()
    assert net.head.weight.grad is not None and net.head.weight.grad.abs().sum() > 0


def test_refiner_weights_round_trip(tmp_path) -> None:
    net = RefineNet(RefineConfig(width=8, blocks=1)).eval()
    torch.nn.init.normal_(net.head.weight, std=0.01)
    path = save_weights(net, tmp_path / "r.safetensors", {"run": "test"})
    assert not (tmp_path / "r.safetensors.part").exists()  # written aside, then renamed
    loaded = load_refiner(path)
    assert loaded.cfg == net.cfg and not loaded.training
    L, ab, conf = torch.rand(1, 1, 12, 16), torch.rand(1, 2, 12, 16), torch.rand(1, 1, 12, 16)
    with torch.inference_mode():
        torch.testing.assert_close(loaded(L, ab, conf), net(L, ab, conf), rtol=0, atol=0)
    r = Refiner(loaded)
    out = r(np.full((12, 16), 50.0, np.float32), np.zeros((12, 16, 2), np.float32), np.ones((12, 16), np.float32),
            None)
    assert out.shape == (12, 16, 2)
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(WeightsError, match="not a safetensors"):
        load_refiner(tmp_path / "bad.safetensors")
    with pytest.raises(WeightsError, match="does not exist"):
        load_refiner(tmp_path / "missing.safetensors")


def test_refiner_and_rtn_weights_are_not_mistaken(tmp_path) -> None:
    from oldfilm.models.presets import PRESETS
    from oldfilm.models.rtn import RTN
    from oldfilm.models.weights import load_model

    refine = save_weights(RefineNet(RefineConfig(width=8, blocks=1)), tmp_path / "r.safetensors")
    rtn = save_weights(RTN(PRESETS["fast"]), tmp_path / "rtn.safetensors")
    with pytest.raises(WeightsError, match="'rtn-1' weights, not 'colorize-refine-1'"):
        load_refiner(rtn)
    with pytest.raises(WeightsError, match="'colorize-refine-1' weights, not 'rtn-1'"):
        load_model(refine)


def test_shipped_refiner_is_checked(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    from oldfilm.colorize import refine
    from oldfilm.models import weights as W

    shipped = tmp_path / "colorize-refine.safetensors"
    monkeypatch.setattr(refine, "SHIPPED", shipped)
    with pytest.raises(WeightsError, match="no colour-refinement weights are shipped"):
        load_refiner()
    save_weights(RefineNet(RefineConfig(width=8, blocks=1)), shipped)
    with pytest.raises(WeightsError, match="SHA-256"):
        load_refiner()
    monkeypatch.setitem(W.SHIPPED_SHA256, shipped.name, W.sha256(shipped))
    assert load_refiner().cfg == RefineConfig(width=8, blocks=1)


def test_usage_errors() -> None:
    from oldfilm.colorize.api import colorize_stream

    frames = [np.zeros((16, 16, 1), np.uint8)] * 2
    with pytest.raises(UsageError):
        list(colorize_stream(frames))
    with pytest.raises(UsageError):
        list(colorize_stream(frames, [photo(16, 16)], [0, 1]))
    with pytest.raises(UsageError):
        list(colorize_stream(frames, [photo(16, 16)], [None]))  # no clip to match against
    with pytest.raises(InputError):
        list(colorize_stream(frames, [np.zeros((16, 16, 3), np.uint8)], [0]))  # a gray "colour" reference


def test_colorize_file_to_file(tmp_path) -> None:
    from oldfilm.api import colorize
    from oldfilm.colorize.api import ColorizeConfig
    from oldfilm.io.images import read_image, write_image

    src = tmp_path / "clip"
    src.mkdir()
    key = photo(48, 64, 3)
    for i in range(5):
        write_image(src / f"{i:03d}.png", cv2.cvtColor(key, cv2.COLOR_RGB2GRAY)[..., None])
    ref = tmp_path / "key.png"
    write_image(ref, key)
    report = colorize(src, tmp_path / "out", refs=[ref], config=ColorizeConfig(refine="off"))
    assert report.frames == 5
    outs = sorted((tmp_path / "out").iterdir())
    assert len(outs) == 5
    last = read_image(outs[-1])
    assert np.abs(rgb_to_lab(last)[..., 1:] - rgb_to_lab(key)[..., 1:]).mean() < 2.0


def test_cli_colorize_still_into_full_chroma_h264(tmp_path) -> None:
    import av

    from oldfilm.cli import main
    from oldfilm.io.images import write_image

    src = tmp_path / "clip"
    src.mkdir()
    key = photo(48, 64, 4)
    for i in range(4):
        write_image(src / f"{i:03d}.png", cv2.cvtColor(key, cv2.COLOR_RGB2GRAY)[..., None])
    write_image(tmp_path / "key.png", key)
    dst = tmp_path / "out.mp4"
    args = ["colorize", str(src), str(dst), "--ref", str(tmp_path / "key.png"), "--ref-frame", "0", "--still",
            "--codec", "h264-444", "--refine", "off", "--quiet"]
    assert main(args) == 0
    with av.open(str(dst)) as c:
        assert c.streams.video[0].codec_context.pix_fmt == "yuv444p" and c.streams.video[0].frames == 4
