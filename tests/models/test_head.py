"""The full-resolution quality head: identity on the guide when untrained, exact streaming, evidence."""

from __future__ import annotations

import pytest
import torch

from oldfilm.models.head import EVIDENCE_CHANNELS, evidence
from oldfilm.models.presets import PRESETS, RTNConfig
from oldfilm.models.rtn import RTN

HEADED = RTNConfig(name="tiny-q", scale=2, hidden=8, embed=8, heads=2, groups=1, depth=2, window=4, shift=2,
                   shuffle_channels=4, guided=True, head_channels=6, head_layers=2)


def _clip(t: int = 5, h: int = 32, w: int = 48) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.rand(1, t, 2, h, w, generator=g)
    return x, 2 * torch.randn(1, t - 1, 2, h, w, generator=g), 2 * torch.randn(1, t - 1, 2, h, w, generator=g)


def test_untrained_headed_network_returns_the_guide_exactly() -> None:
    x, ff, fb = _clip()
    with torch.no_grad():
        y = RTN(HEADED).eval()(x, ff, fb)
    assert torch.equal(y, x[:, :, 1:])


def test_streaming_in_chunks_equals_the_whole_clip() -> None:
    torch.manual_seed(1)
    model = RTN(HEADED).eval()
    with torch.no_grad():
        for p in model.parameters():  # move off the identity so the head and its neighbours matter
            p.add_(0.05 * torch.randn_like(p))
        x, ff, fb = _clip(t=6)
        whole = model(x, ff, fb)
        ffc = torch.cat([ff[:, :1], ff], dim=1)
        a, state = model.forward_chunk(x, ffc[:, :4], fb, None, keep=4, state=None)
        b, _ = model.forward_chunk(x[:, 4:], ffc[:, 4:], fb[:, 4:], None, keep=2, state=state)
    assert not torch.equal(whole, x[:, :, 1:])
    assert torch.allclose(torch.cat([a, b], dim=1), whole, atol=1e-6)
    # the head moves detail, never a frame's exposure: each frame keeps its guide's mean
    assert torch.allclose(whole.mean(dim=(2, 3, 4)), x[:, :, 1].mean(dim=(2, 3)), atol=1e-6)
    assert state.frame is not None and state.frame.shape == (1, 1, 32, 48)


def test_evidence_channels_and_dirt_score() -> None:
    frame = torch.full((1, 2, 8, 8), 0.5)
    frame[0, 0, 3, 3] = 1.0  # a bright speck in the degraded frame only
    prev = nxt = torch.full((1, 1, 8, 8), 0.5)
    ev = evidence(frame, prev, nxt)
    assert ev.shape == (1, EVIDENCE_CHANNELS, 8, 8)
    assert ev[0, 6, 3, 3] == pytest.approx(0.5) and ev[0, 6].sum() == pytest.approx(0.5)  # dirt
    assert ev[0, 3, 3, 3] > 0.05 and ev[0, 3, 0, 7] < 1e-3  # the noise map sees the speck locally
    assert torch.equal(evidence(frame, None, None)[:, 4:], torch.zeros(1, 3, 8, 8))


def test_a_head_needs_a_guided_luma_network() -> None:
    with pytest.raises(ValueError, match="guided"):
        RTNConfig(head_channels=8)
    assert PRESETS["quality"].head_channels > 0 and PRESETS["quality"].scale == 2


def test_the_quality_network_pins_every_option_of_its_guide() -> None:
    import json
    from dataclasses import asdict, fields

    from oldfilm.restore.classical import GUIDE_ADDED, ClassicalConfig, guide_config

    pinned = json.loads(PRESETS["quality"].guide)
    # nothing left to the defaults of the day: an option added since the guide was pinned is pinned by GUIDE_ADDED
    assert set(pinned) | set(GUIDE_ADDED) == {f.name for f in fields(ClassicalConfig)}
    assert not set(pinned) & set(GUIDE_ADDED)
    assert asdict(guide_config(PRESETS["quality"].guide)) == {**pinned, **GUIDE_ADDED}


def test_local_mean_keeps_shape_and_ramps_and_the_highpass_head_drops_broad_residuals() -> None:
    from oldfilm.models.head import QualityHead, local_mean

    ramp = torch.arange(40.0).view(1, 1, 1, 40).expand(1, 1, 30, 40)
    m = local_mean(ramp, 7)
    assert m.shape == ramp.shape
    assert torch.allclose(m[..., 7:-7], ramp[..., 7:-7], atol=1e-4)  # a box filter keeps linear ramps
    head = QualityHead(4, 6, 1, highpass=7)
    with torch.no_grad():  # a residual that is a smooth ramp and an open gate: nothing of it may pass
        head.last.bias[1] = 20.0
        feats, ev = torch.zeros(1, 4, 30, 40), torch.zeros(1, 7, 30, 40)
        ev[:, :1] = ramp / 40
        head.body[0].weight.zero_()
        head.body[0].bias.zero_()
        head.body[0].weight[:, 4] = 1.0 / 9  # body sees the degraded ramp only
        head.last.weight[0] = 0.1
        out = head(feats, ev)
        plain = QualityHead(4, 6, 1)
        plain.load_state_dict(head.state_dict())
        broad = plain(feats, ev)
    assert (broad - ev[:, 1:2])[..., 8:-8, 8:-8].abs().max() > 0.05  # without the high-pass the ramp passes
    assert (out - ev[:, 1:2])[..., 8:-8, 8:-8].abs().max() < 1e-3


def test_a_head_highpass_must_be_an_odd_side() -> None:
    from oldfilm.models.head import QualityHead

    with pytest.raises(ValueError, match="odd"):
        QualityHead(4, 6, 1, highpass=6)
