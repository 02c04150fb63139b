"""Named RTN configurations. A preset is a frozen dataclass instance: ``PRESETS["fast"]``.

The config travels with the weights (as JSON in the safetensors metadata), so a weights file rebuilds the
network it was trained with; see ``oldfilm.models.weights``.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass(frozen=True)
class RTNConfig:
    """Sizes of the bidirectional recurrent transformer network (``oldfilm.models.rtn.RTN``).

    Attributes:
        name: preset name, recorded with the weights.
        in_channels: 1 restores luma (gray films; colour films keep their chroma), 3 restores RGB.
        scale: the recurrent features live at 1/scale of the input resolution (pixel-unshuffle in,
            pixel-shuffle out); 1 is the paper's full-resolution hidden state.
        hidden: channels C of the hidden state carried along the film (the paper: 16).
        embed: channels of the Swin groups.
        down: 2 puts a stride-2 conv before the Swin groups (the paper), 1 runs them at the hidden size.
        groups: residual Swin groups per direction.
        depth: Swin blocks per group (alternating plain and shifted windows).
        window: attention window side, in feature pixels.
        shift: shift of the shifted windows.
        heads: attention heads.
        mlp_ratio: width of the Swin MLP relative to ``embed``.
        tail: 3×3 conv layers after fusing the two directions (the paper: 3).
        shuffle_channels: channels at full resolution after the pixel-shuffle (only when scale > 1; 0 shuffles
            straight to the output channels).
        guided: the input carries, after the frame's ``in_channels``, as many more: a classical restoration
            of the frame (``oldfilm.restore.classical``). The decoded residual is added to that guide instead
            of the frame, and the last layer starts at zero, so an untrained network returns the classical
            restoration and training only has to learn what the classical method gets wrong.
        head_channels: width of the full-resolution head (``oldfilm.models.head.QualityHead``) that sees the
            shuffled features with the evidence a denoiser needs (noise map, degraded − guide, aligned
            neighbours, dirt score) and draws a gated residual on the guide; 0: the plain decoder. Needs a
            guided luma network with scale > 1 and shuffle_channels > 0.
        head_layers: 3×3 conv layers of that head before its output layer.
        head_highpass: the head's residual keeps only detail finer than this many pixels (a box filter of this
            side, applied twice, is subtracted from it; 0: the whole residual, less the frame mean). Local tone
            is the classical deflicker's job: run D learned broad brightness and contrast changes that grew
            along the recurrence and cost 2.7 dB PSNR-t on 24-frame validation clips while it gained on
            5-frame training crops.
        guide: a guided network's guide: the options of the classical restorer that makes it, as a JSON object
            (``oldfilm.restore.classical.ClassicalConfig`` fields); empty: that restorer's defaults. It travels
            with the weights, so a network always runs on the guide it was trained on, whatever the classical
            restorer's defaults become.
        flow_preset: the OpenCV DIS preset of the flows the network is given ("ultrafast", "fast", "medium"),
            pinned like the guide: the engine computes them with it and the trainer must too
            (``DataConfig.flow_preset``). On moving lights at night, "fast" misaligns; a network trained on
            "fast" flows lost 0.46 dB to its guide on 24-frame validation crops with them and 0.21 dB with
            "medium" ones (session 6).
    """

    name: str = "custom"
    in_channels: int = 1
    scale: int = 4
    hidden: int = 32
    embed: int = 32
    down: int = 1
    groups: int = 1
    depth: int = 2
    window: int = 8
    shift: int = 4
    heads: int = 2
    mlp_ratio: float = 2.0
    tail: int = 1
    shuffle_channels: int = 4
    guided: bool = False
    head_channels: int = 0
    head_layers: int = 2
    head_highpass: int = 0
    guide: str = ""
    flow_preset: str = "fast"

    def __post_init__(self) -> None:
        if self.head_channels and not (self.guided and self.in_channels == 1 and self.scale > 1
                                       and self.shuffle_channels > 0):
            raise ValueError("RTN config: a full-resolution head (head_channels > 0) needs a guided luma network "
                             "with scale > 1 and shuffle_channels > 0")
        if self.flow_preset not in ("ultrafast", "fast", "medium"):
            raise ValueError(f"RTN config: flow_preset must be ultrafast, fast or medium, not {self.flow_preset!r}")

    @property
    def input_channels(self) -> int:
        """Channels of the network's input: the frame's, and the guide's when ``guided``."""
        return self.in_channels * (2 if self.guided else 1)

    @property
    def multiple(self) -> int:
        """Input height and width must be multiples of this (the engine pads to it)."""
        return self.scale * self.down * self.window

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RTNConfig:
        """Build from a dict; unknown keys raise ``ValueError`` naming them."""
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(d) - known)
        if unknown:
            raise ValueError(f"unknown RTN config fields: {', '.join(unknown)}")
        return cls(**d)


LEGACY_GUIDE = json.dumps({
    "noise_estimator": "spatial", "similarity": "abs", "recursive": 0.0, "denoise_strength": 0.6,
    "denoise_sigma": 0.03, "noise_factor": 1.5, "spatial_denoise": 2.0, "spatial_from_residual": False,
    "local_deflicker": False, "sharpen": 0.0, "keep_border": False,
}, sort_keys=True)
"""The classical restorer as it was before the stress-suite stages (session 5; bit-exact to it, checked on
a noisy moving clip). Runs A and B of the quality network were made with this guide."""

SESSION5_GUIDE = json.dumps({
    "agree_threshold": 0.1, "deflicker": True, "deflicker_radius": 4, "denoise_sigma": 0.005, "denoise_strength": 1.0,
    "dirt_spot": 9, "flow_max_side": 640, "flow_preset": "fast", "keep_border": True, "keep_grain": 0.0,
    "line_scratches": True, "local_deflicker": True, "mask_dilate": 1, "max_gain": 1.4, "misalignment": 1.0,
    "noise_estimator": "temporal", "noise_factor": 3.0, "outlier_threshold": 0.05, "persistent_dirt": False,
    "radius": 2, "recursive": 1.0, "recursive_factor": 2.0, "sharpen": 1.0, "sharpen_sigma": 1.0,
    "similarity": "patch", "spatial_denoise": 1.0, "spatial_from_residual": True, "stabilize": False,
    "stabilize_max": 2.0, "stabilize_sigma": 2.0, "weak_ratio": 0.5,
}, sort_keys=True)
"""Every option of the classical restorer as its defaults stood at the end of session 5 (with the stress-suite
stages), pinned: the quality network's guide from run C on."""

SESSION7_GUIDE = json.dumps({**json.loads(SESSION5_GUIDE), "sharpen": 0.3}, sort_keys=True)
"""The classical restorer's defaults as they stand since session 6 (the unsharp mask at 0.3, chosen on training
windows), pinned. On the presets-train windows (training footage, the bench's presets, whole frames) it
scores 25.82 dB PSNR-t against SESSION5_GUIDE's 25.34: a network on SESSION5_GUIDE starts half a decibel
behind the restorer it is compared with (``benchmarks/stress_tune.py --suite presets-train``, session 7)."""

PRESETS: dict[str, RTNConfig] = {
    # RTN as published: 16-channel full-resolution hidden state, stride-2 conv to 64 channels,
    # 3 residual Swin groups × 2 blocks per direction, window 8, shift 4, 4 heads, MLP ratio 2.
    "rtn-paper": RTNConfig(
        name="rtn-paper", scale=1, hidden=16, embed=64, down=2, groups=3, depth=2,
        window=8, shift=4, heads=4, mlp_ratio=2.0, tail=3, shuffle_channels=0,
    ),
    # Our default: features at 1/4 resolution (pixel-unshuffle), one residual Swin group of 2 blocks per
    # direction, 2 heads of 16 channels (the paper's head width); chosen by benchmarks/speed.py to stay well
    # under 0.5 s/frame at 368×640 on a 2-core CPU, DIS flow included.
    "fast": RTNConfig(
        name="fast", scale=4, hidden=32, embed=32, down=1, groups=1, depth=2,
        window=8, shift=4, heads=2, mlp_ratio=2.0, tail=1, shuffle_channels=4,
    ),
    # "fast" guided by the classical restoration (its second input channel and its starting point; see
    # ``RTNConfig.guided``): the network learns what the classical method gets wrong
    "guided": RTNConfig(
        name="guided", scale=4, hidden=32, embed=32, down=1, groups=1, depth=2,
        window=8, shift=4, heads=2, mlp_ratio=2.0, tail=1, shuffle_channels=4, guided=True,
    ),
    # the guided network with capacity where the guide's error is (issue 14): recurrent features at 1/2
    # resolution, 8 shuffled channels and a 16-channel full-resolution head that sees the evidence (noise
    # map, degraded − guide, aligned neighbours, dirt score) and gates its residual on the guide
    "quality": RTNConfig(
        name="quality", scale=2, hidden=32, embed=32, down=1, groups=1, depth=2,
        window=8, shift=4, heads=2, mlp_ratio=2.0, tail=1, shuffle_channels=8, guided=True,
        head_channels=16, head_layers=2, head_highpass=7, guide=SESSION5_GUIDE,
    ),
}
