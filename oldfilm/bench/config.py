"""What a benchmark run measures: windows of the evaluation clips and the named runs (``QUICK``, ``FULL``,
``STRESS``, ``STRESS_TRAIN``; ``SUITES`` by name)."""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class Window:
    """A run of frames cut from an evaluation clip.

    Attributes:
        start: first frame index (0-based) in the clip.
        frames: number of frames.
        colour: True keeps RGB; False converts to 1-channel BT.601 luma (a black-and-white film).
        clip: the evaluation clip (``oldfilm.io.sources.EVAL_CLIPS``).
        max_side: frames are downscaled (area) so that their longer side is at most this; 0 keeps the size.
    """

    start: int
    frames: int
    colour: bool = False
    clip: str = "bikes"
    max_side: int = 0

    @property
    def variant(self) -> str:
        return "colour" if self.colour else "gray"


@dataclass(frozen=True)
class BenchConfig:
    """What one benchmark run measures.

    Attributes:
        name: "quick" or "full" (names the report files).
        windows: frame windows of ``bikes.mp4`` (its cuts are at frames 30, 76, 137, 187 and 242).
        presets: degradation presets (``oldfilm.degrade.presets.PRESETS`` keys).
        seed: root seed of the degradations (one derived stream per window and preset).
        noref_every: NIQE/BRISQUE are scored on every k-th frame (they cost ~0.1 s each).
        methods: names of the methods to run (``baselines.default_methods``); empty runs all.
        by_clip: report one row group per clip plus their mean (the stress suite) instead of per preset.
        film_frames: restore this many frames of the real film (``REAL_FILMS``) too and score them without
            reference (0: not).
    """

    name: str
    windows: tuple[Window, ...]
    presets: tuple[str, ...] = ("light", "medium", "heavy")
    seed: int = 2022
    noref_every: int = 4
    methods: tuple[str, ...] = ()
    by_clip: bool = False
    film_frames: int = 0


QUICK = BenchConfig("quick", (Window(150, 16),))
FULL = BenchConfig("full", (Window(40, 48), Window(150, 48), Window(150, 48, colour=True)), noref_every=3)
STRESS_WINDOWS = {"bikes": 150, "diver": 100, "motion": 40, "balle": 100, "lego": 40}
"""First frame of each evaluation clip's stress window (chosen before any restorer ran on them)."""
STRESS = BenchConfig("stress", tuple(Window(s, 32, clip=c, max_side=480) for c, s in STRESS_WINDOWS.items()),
                     presets=("stress",), noref_every=4, by_clip=True, film_frames=144)
STRESS_TRAIN = BenchConfig("stress-train", (Window(40, 32, clip="city", max_side=480),
                                            Window(130, 32, clip="city", max_side=480),
                                            Window(10, 32, clip="bigbuckbunny", max_side=480),
                                            Window(90, 32, clip="bigbuckbunny", max_side=480)),
                           presets=("stress",), noref_every=4, by_clip=True)
"""The stress damage on windows of the *training* clips: what the classical restorer is tuned on."""
PRESETS_TRAIN = BenchConfig("presets-train", (Window(40, 24, clip="city", max_side=480),
                                              Window(130, 24, clip="city", max_side=480),
                                              Window(10, 24, clip="bigbuckbunny", max_side=480),
                                              Window(90, 24, clip="bigbuckbunny", max_side=480),
                                              Window(20, 24, clip="office"), Window(100, 24, clip="office")),
                            by_clip=True)
"""The light/medium/heavy presets on windows of the *training* clips (the dlib office frames among them: real
low-light camera footage): what the classical restorer's preset behaviour is tuned on."""
PRESETS_EVAL = BenchConfig("presets-eval", tuple(replace(w, frames=32) for w in STRESS.windows),
                           noref_every=4, by_clip=True)
"""The light/medium/heavy presets on the stress suite's windows of every evaluation clip: the full bench's
measure over all the evaluation clips rather than bikes alone (issue 14 asks for it; the networks' five-clip
validation, ``train.config.VAL_WINDOWS``, uses other windows of the same clips)."""
SUITES = {"quick": QUICK, "full": FULL, "stress": STRESS, "stress-train": STRESS_TRAIN,
          "presets-train": PRESETS_TRAIN, "presets-eval": PRESETS_EVAL}
