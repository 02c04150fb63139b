"""A training run is one ``TrainConfig``: frozen dataclasses with a docstring per field, saved as JSON
beside the checkpoint (``config.json``) and reloaded from there to resume. Named runs: ``TRAIN_PRESETS``.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from oldfilm.errors import UsageError
from oldfilm.models.presets import PRESETS as MODEL_PRESETS
from oldfilm.models.presets import SESSION7_GUIDE, RTNConfig
from oldfilm.train.motion import MotionConfig

VAL_WINDOWS: tuple[tuple[str, int], ...] = (("bikes", 100), ("diver", 200), ("motion", 150), ("balle", 180),
                                            ("lego", 100))
"""(clip, first frame) of the several-clip validation (``TrainConfig.val_windows``, ``train.validate``): one
window of each evaluation clip, none overlapping a window of the restoration benchmark (full, quick, stress),
chosen before any network ran on them. Issue 14 asked for validation on several clips; until session 7 one
clip (bikes 40–63, inside the full bench's gray window) picked the runs' best weights."""


@dataclass(frozen=True)
class DataConfig:
    """How training clips are sampled and degraded (see ``oldfilm.train.data``)."""

    frames: int = 7
    """T, frames per training clip (the paper: 7)."""
    crop: tuple[int, int] = (128, 256)
    """Smallest and largest square crop side; a size is drawn per step, rounded down to the model multiple."""
    still_prob: float = 0.35
    """Probability that a clip is made from a photograph by synthetic camera motion instead of a video."""
    strides: tuple[int, ...] = (1, 2, 3)
    """Frame strides drawn for video clips (faster apparent motion)."""
    scale: tuple[float, float] = (0.6, 1.0)
    """Content scale: a crop of side S/scale is taken and resized to S (zoom-out augmentation)."""
    hflip_prob: float = 0.5
    """Probability of a horizontal flip."""
    vflip_prob: float = 0.1
    """Probability of a vertical flip."""
    reverse_prob: float = 0.5
    """Probability of playing the clip backwards."""
    degrade: str = "paper"
    """Degradation preset (``oldfilm.degrade.presets.PRESETS`` key): the training distribution."""
    degrade_extra: tuple[str, ...] = ()
    """More presets; each clip then draws its preset uniformly from ``(degrade, *degrade_extra)``."""
    weave: bool = True
    """Gate weave in training pairs. Off: the network cannot know a frame's sub-pixel shift against the
    clean target, so weave in the pairs only teaches it to blur; at inference it leaves weave as it is."""
    defect_scale: tuple[float, float] = (0.8, 1.25)
    """Size of defects relative to a 256-pixel frame, drawn per clip (sets the degrader's reference size)."""
    flow_preset: str = "fast"
    """OpenCV DIS preset for the flows given to the network (as the engine computes them)."""
    corpus: str = ""
    """Corpus folder; empty: ``<oldfilm cache>/corpus`` (built on first use)."""
    motion: MotionConfig = field(default_factory=MotionConfig)
    """Synthetic camera motion for clips made from photographs."""
    low_key_prob: float = 0.0
    """Probability that a clean clip is darkened into a low-key scene (a gamma from ``low_key_gamma`` on the
    clean frames, before the damage): the training sources are bright (an animation, a daylight street,
    photographs) while old films are often dark; run C gained on training clips and lost 3 dB on a night
    street."""
    low_key_gamma: tuple[float, float] = (1.6, 3.0)
    """Range of that gamma (clean values x → x**gamma)."""
    soft_prob: float = 0.0
    """Probability that a clean clip is soft (a Gaussian blur from ``soft_sigma`` on the clean frames, before
    the damage): real footage is often soft — defocused backgrounds, night scenes, telecine optics — while the
    training sources are sharp (an animation, downscaled video, photographs). Run E, trained on sharp clips
    only, copied back part of the degraded − guide difference (correlation 0.28 in flat areas of the medium
    validation clip, 0.04 with the true error): on sharp clips that difference holds lost detail, on soft
    ones only grain."""
    soft_sigma: tuple[float, float] = (0.8, 2.5)
    """Range of that blur's sigma, pixels."""
    long_prob: float = 0.0
    """Probability that a step's clips (with shards: a shard's) are long and small — ``long_frames`` frames
    at a crop from ``long_crop``, about the pixels of a normal clip — so that the recurrence learns to stay
    steady over more frames than ``frames``: run D, trained on 5-frame clips only, gained 0.33 dB on fresh
    5-frame training clips and lost 0.25 dB on the same clips 24 frames long (its hidden state drifted)."""
    long_frames: int = 12
    """T of a long clip."""
    long_crop: tuple[int, int] = (64, 80)
    """Smallest and largest square crop side of a long clip."""
    flow_error_prob: float = 0.0
    """Probability that a clip's flows are made wrong in places (``data.perturb_flows``: smooth blobs of
    error up to ``flow_error_px`` pixels, drawn per frame pair and direction): at inference DIS misaligns on
    moving lights, occlusions and grain (run F lost 0.46 dB on the night street with "fast" flows, 1.36 with
    none), while on the training sources its flows are nearly right, so the network learns to trust warped
    neighbours more than a film allows."""
    flow_error_px: float = 4.0
    """Largest displacement error of such a blob, pixels."""
    guide_context: float = 1.0
    """A guided sample is made this many times larger (each side), degraded, given its guide and flows, and then
    cut to its centre: the guide and the flows then see past the crop's edges as they do inside a whole frame.
    Run on a 144-px crop, the classical restorer is 0.77 dB worse on those pixels than on a 320-px frame (12
    draws, session 8; up to 4.5 dB on one): content entering at the crop's edge is taken for dirt, and the
    deflicker has less to go on. 1: the crop itself (the guide is made on it)."""
    shard_count: int = 0
    """Precomputed shards of training pairs reused across epochs (``oldfilm.train.shards``); 0: every sample
    is made when it is drawn."""
    shard_size: int = 32
    """Samples per shard (one crop size each); a multiple of the batch size."""
    shard_dir: str = ""
    """Folder of the shard sets; empty: ``<oldfilm cache>/shards``."""


@dataclass(frozen=True)
class LossConfig:
    """Loss terms and their weights (the paper: L1 1, perceptual 1, adversarial 0.01)."""

    pixel: float = 1.0
    """Weight of the Charbonnier reconstruction loss."""
    charbonnier_eps: float = 1e-3
    """Charbonnier epsilon (0 gives L1)."""
    tone_invariant: bool = False
    """Reconstruction and perceptual terms compare output and target after matching each frame's mean: the
    network is not taught an exposure (the degradation's tone change cannot be told from a clip), only
    defects and detail; the temporal term still ties frame-to-frame changes. Run the result with the
    engine's tone anchor on."""
    relative: bool = False
    """The reconstruction term is each clip's gain over the guide in decibels, 10·log10(MSE(out, gt) /
    MSE(guide, gt)), averaged over the batch (guided networks only): a lightly damaged clip, where the guide
    is nearly right, counts as much as a heavily damaged one, and every change to already-right pixels costs
    in proportion to how little there was to repair. It is minus the mean PSNR gain the benchmark scores."""
    relative_raw: float = 1.0
    """With ``relative``: the weight of the raw dB gain; the rest, 1 − this, is the gain after one gain and
    offset per clip (PSNR-t's alignment, for the guide and the output alike), which a tone change cannot win.
    A little raw gain keeps the clip's contrast from drifting where the aligned gain is blind."""
    clip_affine: bool = False
    """Stronger than ``tone_invariant``: compare after the one gain and offset per clip that best maps the
    output onto the target (the alignment of the benchmark's PSNR-t), so neither exposure nor global contrast
    is taught — a faded clip's lost contrast cannot be told from a clip either. Flicker (per-frame changes)
    still counts."""
    ssim: float = 0.0
    """Weight of 1 − SSIM(output, target) (``losses.ssim``, per frame, luma): a term that sees structure.
    Grain put back where the guide removed it costs little in MSE but much in SSIM's structure term (run G:
    SSIM 0.83 against the classical restorer's 0.91 on the medium validation clip at about the same PSNR)."""
    temporal: float = 0.5
    """Weight of the temporal-consistency loss (frame-to-frame change of the output vs. of the target)."""
    perceptual: float = 0.0
    """Weight of the VGG19 perceptual loss; used only when ``vgg_weights`` is set (paper: 1)."""
    vgg_weights: str = ""
    """A VGG19 ``.safetensors`` file (torchvision key names ``features.N.weight``) supplied by the user."""
    adversarial: float = 0.0
    """Weight of the generator hinge loss from the temporal PatchGAN (paper: 0.01); 0 disables the GAN."""
    adversarial_start: int = 0
    """Step at which the adversarial fine-tuning stage starts."""
    disc_channels: int = 32
    """Width of the discriminator's first layer."""
    disc_depth: int = 4
    """Stride-2 layers of the discriminator."""
    disc_lr: float = 2e-4
    """Adam learning rate of the discriminator."""


@dataclass(frozen=True)
class TrainConfig:
    """A whole training run."""

    name: str = "custom"
    """Run name (recorded with the exported weights)."""
    model: RTNConfig = field(default_factory=lambda: MODEL_PRESETS["fast"])
    """The network trained."""
    data: DataConfig = field(default_factory=DataConfig)
    """Training clips."""
    loss: LossConfig = field(default_factory=LossConfig)
    """Loss terms."""
    init: str = ""
    """A ``.safetensors`` file (``save_weights``) whose parameters start a fresh run (fine-tuning); its
    network config must equal ``model``. Ignored on resume (the checkpoint has the state)."""
    steps: int = 100_000
    """Total optimiser steps (the cosine schedule ends here)."""
    batch_size: int = 8
    """Clips per step and per process."""
    lr: float = 2e-4
    """Peak Adam learning rate (the paper: 2e-4)."""
    betas: tuple[float, float] = (0.9, 0.99)
    """Adam betas."""
    weight_decay: float = 0.0
    """Adam weight decay."""
    warmup: int = 1000
    """Linear warm-up steps."""
    min_lr_ratio: float = 0.01
    """Final learning rate as a fraction of ``lr`` (cosine decay)."""
    grad_clip: float = 1.0
    """Gradient-norm clipping threshold (0: off)."""
    ema: float = 0.999
    """EMA decay of the weights (ramped up as min(ema, (1+s)/(10+s)))."""
    seed: int = 0
    """Seed of everything random in the run (data, initialisation)."""
    workers: int = 2
    """DataLoader worker processes per training process (0: load in the main process)."""
    device: str = "auto"
    """"auto" (CUDA when present), "cpu" or "cuda"."""
    amp: bool = True
    """bf16 autocast on CUDA (ignored on CPU)."""
    threads: int = 0
    """CPU threads for torch (0: leave torch's default)."""
    log_every: int = 10
    """Steps between rows of ``log.csv``."""
    snapshot_every: int = 0
    """Save the EMA weights every this many steps to ``snapshots/step-NNNNNN.safetensors`` in the run folder
    (0: never): a slice on a lent GPU validates them afterwards, elsewhere, instead of spending its minutes on
    the CPU-bound validation."""
    val_every: int = 500
    """Steps between validations (0: never)."""
    val_start: int = 40
    """First frame of the evaluation clip used for validation (bikes 40–75 is one shot with a person walking
    through: the motion where a recurrent network ghosts)."""
    val_frames: int = 24
    """Frames of the evaluation clip used for validation."""
    val_windows: tuple[tuple[str, int], ...] = ()
    """(clip, first frame) of several evaluation clips to validate on (``VAL_WINDOWS``: one window
    of each, outside the benchmark's); empty: bikes from ``val_start`` alone, as runs before session 7.
    Scores are means over the clips, per preset."""
    val_size: tuple[int, int] = (272, 640)
    """(H, W) centre crop of the evaluation clip used for validation."""
    val_presets: tuple[str, ...] = ("light", "medium", "heavy")
    """Degradation presets of the validation clips (fixed seeds)."""
    checkpoint_minutes: float = 5.0
    """Minutes between checkpoints (one is always written at the end)."""

    def __post_init__(self) -> None:
        if self.data.flow_preset != self.model.flow_preset:
            raise UsageError(f"training config {self.name!r}: the data's flow preset {self.data.flow_preset!r} "
                             f"differs from the network's {self.model.flow_preset!r} (the engine uses the network's)")

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def save(self, path: str | Path) -> None:
        """Write ``to_json()`` atomically (a run's config is rewritten when its total steps change)."""
        part = Path(path).with_suffix(".json.part")
        part.write_text(self.to_json())
        os.replace(part, path)


def config_from_dict(d: dict[str, Any], cls: type = TrainConfig) -> Any:
    """Rebuild a (nested) config dataclass from ``asdict`` output; unknown keys raise ``UsageError``."""
    known = {f.name: f for f in fields(cls)}
    unknown = sorted(set(d) - set(known))
    if unknown:
        raise UsageError(f"unknown {cls.__name__} fields: {', '.join(unknown)}")
    kwargs: dict[str, Any] = {}
    defaults = cls()
    for name, value in d.items():
        current = getattr(defaults, name)
        if is_dataclass(current) and isinstance(value, dict):
            kwargs[name] = config_from_dict(value, type(current))
        elif isinstance(value, list):
            kwargs[name] = _tuples(value)
        else:
            kwargs[name] = value
    return cls(**kwargs)


def _tuples(value: Any) -> Any:
    """JSON lists back into the (nested) tuples the configs hold."""
    return tuple(_tuples(v) for v in value) if isinstance(value, list) else value


def load_config(path_or_name: str | Path) -> TrainConfig:
    """A ``TRAIN_PRESETS`` name or a JSON file (a saved ``config.json``, or any subset of its fields)."""
    if isinstance(path_or_name, str) and path_or_name in TRAIN_PRESETS:
        return TRAIN_PRESETS[path_or_name]
    path = Path(path_or_name)
    if not path.is_file():
        raise UsageError(f"no training config {str(path)!r}: give a JSON file or one of {', '.join(TRAIN_PRESETS)}")
    try:
        d = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise UsageError(f"{path} is not valid JSON: {e}") from None
    return config_from_dict(d)


_TINY_MODEL = RTNConfig(name="tiny", scale=2, hidden=8, embed=8, groups=1, depth=2, window=4, shift=2, heads=2,
                        tail=1, shuffle_channels=4)

_QUALITY_CPU = TrainConfig(
    name="quality-cpu", model=MODEL_PRESETS["quality"],
    data=DataConfig(frames=5, crop=(96, 128), degrade="transfer-light",
                    degrade_extra=("light", "transfer-light", "medium", "transfer", "heavy"), weave=False,
                    low_key_prob=0.35, shard_count=200, shard_size=16),
    loss=LossConfig(relative=True, temporal=0.1), steps=8000, batch_size=4, lr=2e-4, warmup=50,
    ema=0.995, workers=1, threads=1, log_every=5, val_every=500, checkpoint_minutes=5.0,
)
_QUALITY_CPU_LONG = replace(
    _QUALITY_CPU, name="quality-cpu-long", steps=6000, lr=1e-4,
    data=replace(_QUALITY_CPU.data, long_prob=0.5, long_frames=12, long_crop=(64, 80), shard_count=300))

_QUALITY_GPU = replace(
    _QUALITY_CPU_LONG, name="quality-gpu", model=replace(MODEL_PRESETS["quality"], flow_preset="medium"),
    data=replace(_QUALITY_CPU_LONG.data, soft_prob=0.3, flow_preset="medium", frames=7, crop=(128, 192),
                 long_prob=0.5, long_frames=32, long_crop=(96, 128), shard_count=0),
    steps=1000, batch_size=8, lr=1e-4, workers=7, threads=0, log_every=10, val_every=0, snapshot_every=100,
    checkpoint_minutes=2.0)

_GUIDED_CPU = TrainConfig(
    name="guided-cpu", model=MODEL_PRESETS["guided"],
    data=DataConfig(crop=(96, 128), degrade_extra=("light", "medium", "heavy"), weave=False),
    steps=4500, batch_size=4, lr=4e-4, warmup=50, ema=0.995, workers=1, threads=2, log_every=5,
    val_every=500, checkpoint_minutes=5.0,
)

TRAIN_PRESETS: dict[str, TrainConfig] = {
    # what the tests run: a tiny network on 32-pixel crops for a few steps
    "tiny": TrainConfig(
        name="tiny", model=_TINY_MODEL, data=DataConfig(frames=3, crop=(32, 48)), steps=20, batch_size=2,
        warmup=2, lr=1e-3, workers=0, log_every=1, val_every=0, threads=1, checkpoint_minutes=60.0,
        val_start=0, val_frames=3, val_size=(64, 64),
    ),
    # the 2-core CPU recipe (small crops, higher lr: few steps available); docs/model-card.md tells how the
    # measured run got there (its schedule was lengthened twice while it ran, the light mix added at 2291)
    "fast-cpu": TrainConfig(
        name="fast-cpu", data=DataConfig(crop=(96, 128), degrade_extra=("light",)), steps=4000, batch_size=4,
        lr=4e-4, warmup=50, ema=0.995, workers=1, threads=2, log_every=5, val_every=100, checkpoint_minutes=5.0,
    ),
    # fine-tuning of a fast-cpu run (--init its weights): the benchmark's presets in the mix, no gate weave in
    # the pairs, a lower peak rate
    "fast-cpu-ft": TrainConfig(
        name="fast-cpu-ft", data=DataConfig(crop=(96, 128), degrade_extra=("light", "medium", "heavy"), weave=False),
        steps=6500, batch_size=4, lr=2e-4, warmup=50, ema=0.995, workers=1, threads=2, log_every=5, val_every=200,
        checkpoint_minutes=5.0,
    ),
    # a guided network (RTNConfig.guided: the classical restoration is its second input and its starting
    # point) from scratch on the 2-core CPU, with the fine-tune's data mix
    "guided-cpu": _GUIDED_CPU,
    # the same with a tone-invariant loss (session 3's 1,500-step experiment; the engine anchors a guided
    # network's mean by default, which such weights need)
    "guided-cpu-ti": replace(_GUIDED_CPU, name="guided-ti", loss=LossConfig(tone_invariant=True), steps=1500,
                             val_every=0),
    # fine-tuning of guided-cpu-ti (--init its weights) with light damage drawn twice as often: that network
    # changed nearly clean footage it should have left alone (session 4)
    "guided-cpu-ft": replace(_GUIDED_CPU, name="guided-ft", loss=LossConfig(tone_invariant=True), steps=4000, lr=2e-4,
                             data=replace(_GUIDED_CPU.data, degrade_extra=("light", "light", "medium", "heavy")),
                             val_every=1000),
    # guided-cpu-ft with the per-clip gain-and-offset-invariant loss (session 4's experiment: does the network
    # learn restoration once it cannot win by changing contrast?)
    "guided-cpu-at": replace(_GUIDED_CPU, name="guided-at", loss=LossConfig(clip_affine=True), steps=3000, lr=2e-4,
                             data=replace(_GUIDED_CPU.data, degrade_extra=("light", "light", "medium", "heavy")),
                             val_every=500),
    # the guided recipe at scale, for a lent GPU in 10-minute slices (scripts/device_train.sh guided-gpu NAME 8):
    # evaluation-scale crops, the benchmark's presets in the mix, the mean-invariant loss of runs 3–4 (the
    # clip-affine loss of run 5 let the global gain drift), validation every 1,000 steps keeping best.safetensors
    "guided-gpu": TrainConfig(name="guided-gpu", model=MODEL_PRESETS["guided"],
                              data=DataConfig(degrade_extra=("light", "light", "medium", "heavy"), weave=False),
                              loss=LossConfig(tone_invariant=True), steps=100_000, batch_size=16, workers=8,
                              val_every=1000, checkpoint_minutes=3.0),
    # the quality network (issue 14: features at 1/2 resolution, a full-resolution head with the denoiser's
    # evidence, a gated residual on the guide) on the 2-core CPU: precomputed shards reused across epochs, the
    # per-clip dB loss so that light clips count as much as heavy ones, half the clips lightly damaged, half
    # the clips with what digitised transfers add (degrade presets transfer-light / transfer: breathing local
    # flicker, lingering dirt, clumped grain), a small temporal term, one torch thread (work goes on beside it)
    "quality-cpu": _QUALITY_CPU,
    # run E (session 6): quality-cpu with half of the clips 12 frames long at 64–80 pixels (the recurrence
    # learns to stay steady past 5 frames) and the head's residual limited to detail (``head_highpass``);
    # started from run D's weights (--init), which the high-pass alone moved from 32.5 to 34.3 dB on light
    "quality-cpu-long": _QUALITY_CPU_LONG,
    # run F (session 6): run E's recipe with real low-light camera footage in the corpus (the dlib office
    # frames, ``TRAIN_VIDEOS``) and soft clean clips (``soft_prob``); E's validation fell while its training
    # gain rose (33.36 → 32.76 dB on light from step 500 to 1,000), so validation every 250 steps
    "quality-cpu-real": replace(_QUALITY_CPU_LONG, name="quality-cpu-real", steps=4000, val_every=250,
                                data=replace(_QUALITY_CPU_LONG.data, soft_prob=0.3)),
    # run G (session 6): F with DIS "medium" flows, in training and pinned in the network for the engine: with
    # "fast" flows, the gain over the guide on the night street fell as clips got longer (the flows misalign
    # on moving lights); D's weights alone went from 34.26 to 34.80 dB on light with "medium" flows
    "quality-cpu-flow": replace(_QUALITY_CPU_LONG, name="quality-cpu-flow", steps=4000, val_every=250,
                                model=replace(MODEL_PRESETS["quality"], flow_preset="medium"),
                                data=replace(_QUALITY_CPU_LONG.data, soft_prob=0.3, flow_preset="medium")),
    # session 7's two recipes for one lent GPU slice, run side by side (scripts/device_parallel.sh, each with
    # half of the machine's 16 cores making fresh clips; --init run G's best weights). quality-gpu is G at
    # the engine's scale: no reused shards, 7-frame clips at 128–192 px and, half the time, 32-frame clips
    # (the engine's window) at 96–128 px. quality-gpu-remedy adds the model card's two remedies for what G
    # still does wrong on the night street: an SSIM term (grain put back) and wrong flows in places (trust)
    "quality-gpu": _QUALITY_GPU,
    "quality-gpu-remedy": replace(_QUALITY_GPU, name="quality-gpu-remedy",
                                  loss=replace(_QUALITY_GPU.loss, ssim=5.0),
                                  data=replace(_QUALITY_GPU.data, flow_error_prob=0.5)),
    # quality-gpu-remedy carried on on the 2-core CPU from its GPU slice's best snapshot (--init): clips and
    # long clips scaled down to what two cores make in a second or two, a lower peak rate, validation every
    # 250 steps keeping the best weights
    "quality-cpu-remedy": replace(
        _QUALITY_GPU, name="quality-cpu-remedy", loss=replace(_QUALITY_GPU.loss, ssim=5.0),
        data=replace(_QUALITY_GPU.data, flow_error_prob=0.5, crop=(96, 128), long_frames=24, long_crop=(64, 96)),
        steps=4000, batch_size=4, lr=5e-5, workers=1, threads=1, log_every=5, val_every=250, snapshot_every=250,
        checkpoint_minutes=5.0, val_windows=VAL_WINDOWS),
    # the remedy recipe on the classical restorer's current defaults as guide (SESSION7_GUIDE: sharpen 0.3),
    # from R-700 (--init): its pinned guide (sharpen 1.0) is 0.48 dB behind those defaults on training footage,
    # and it gains +0.43 dB over that guide there; on the 2-core CPU at the GPU slice's clip scale, batch 4
    "quality-remedy-guide7": replace(
        _QUALITY_GPU, name="quality-remedy-guide7",
        model=replace(MODEL_PRESETS["quality"], flow_preset="medium", guide=SESSION7_GUIDE),
        loss=replace(_QUALITY_GPU.loss, ssim=5.0), data=replace(_QUALITY_GPU.data, flow_error_prob=0.5),
        steps=2000, batch_size=4, lr=5e-5, warmup=20, workers=1, threads=1, log_every=5, snapshot_every=100,
        checkpoint_minutes=5.0),
    # session 8: quality-remedy-guide7 with 31 more photographs in the corpus (corpus.DEB_PHOTOS) and half of
    # the clips made from photographs: on fresh draws from the training sources R7-400 gains +0.3–0.5 dB over
    # its guide, on fixed windows of real footage about +0.1 whatever the frame size (benchmarks/window_gap.py),
    # so more content is the next thing to try; from R7-400 (--init), validated on the five clips every 250 steps
    "quality-more-stills": replace(
        _QUALITY_GPU, name="quality-more-stills",
        model=replace(MODEL_PRESETS["quality"], flow_preset="medium", guide=SESSION7_GUIDE),
        loss=replace(_QUALITY_GPU.loss, ssim=5.0),
        data=replace(_QUALITY_GPU.data, flow_error_prob=0.5, still_prob=0.5),
        steps=2000, batch_size=4, lr=5e-5, warmup=20, workers=1, threads=1, log_every=5, snapshot_every=100,
        val_every=250, val_windows=VAL_WINDOWS, checkpoint_minutes=5.0),
    # session 8's recipe for the next GPU slice: quality-more-stills at the GPU scale of quality-gpu (batch 8,
    # 7 cores of fresh clips), with what session 8 found: gate weave in the pairs (every bench preset has it;
    # the gain on fresh draws fell +0.46 → +0.33 dB with it) and guides and flows made on a 1.5× larger clip
    # (guide_context); --init the weights exported from training/quality-more-stills
    "quality-gpu-next": replace(
        _QUALITY_GPU, name="quality-gpu-next",
        model=replace(MODEL_PRESETS["quality"], flow_preset="medium", guide=SESSION7_GUIDE),
        loss=replace(_QUALITY_GPU.loss, ssim=5.0),
        data=replace(_QUALITY_GPU.data, flow_error_prob=0.5, still_prob=0.5, weave=True, guide_context=1.5)),
    # session 9: quality-more-stills with a head of twice the width (32 channels, ≈ 3× its compute): a hashed
    # linear refinement of the guide wins +0.09 dB on held-out draws (benchmarks/guide_ceiling.py linear), the
    # 16-channel head +0.3–0.5 on its own draws; does more capacity at the pixel raise that? --init the
    # quality-more-stills weights: the head is widened without changing its output (train.loop._init_from)
    "quality-wide-cpu": replace(
        _QUALITY_GPU, name="quality-wide-cpu",
        model=replace(MODEL_PRESETS["quality"], name="quality-wide", head_channels=32, flow_preset="medium",
                      guide=SESSION7_GUIDE),
        loss=replace(_QUALITY_GPU.loss, ssim=5.0),
        data=replace(_QUALITY_GPU.data, flow_error_prob=0.5, still_prob=0.5),
        steps=2000, batch_size=4, lr=5e-5, warmup=20, workers=1, threads=1, log_every=5, snapshot_every=100,
        val_every=250, val_windows=VAL_WINDOWS, checkpoint_minutes=5.0),
    # the recipe at scale, for a GPU
    "fast-gpu": TrainConfig(name="fast-gpu", data=DataConfig(degrade_extra=("light",)), steps=100_000,
                            batch_size=16, workers=8, val_every=2000),
}


def with_overrides(cfg: TrainConfig, **changes: Any) -> TrainConfig:
    """``cfg`` with top-level fields replaced (``None`` values are ignored)."""
    return replace(cfg, **{k: v for k, v in changes.items() if v is not None})
