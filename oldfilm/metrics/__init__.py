"""Quality metrics on numpy images and frame sequences.

Full-reference: ``psnr``, ``ssim`` (scikit-image's values), ``tone_aligned_psnr`` (PSNR-t: after one gain and
offset per clip, from ``tone_moments`` of each frame pair); temporal: ``ewarp`` (Lai et al. 2018),
``flicker`` (``flicker_per_frame``: its series); no-reference: ``niqe``, ``brisque`` (the LIVE models).
``evaluate_clip`` scores frame streams and ``evaluate_paths`` videos or frame folders (``oldfilm metrics``).
"""

from oldfilm.metrics.clip import ClipScores, evaluate_clip, evaluate_paths
from oldfilm.metrics.fullref import psnr, ssim, tone_aligned_psnr, tone_moments
from oldfilm.metrics.noref import brisque, niqe
from oldfilm.metrics.temporal import ewarp, flicker, flicker_per_frame

__all__ = ["psnr", "ssim", "tone_aligned_psnr", "tone_moments", "ewarp", "flicker", "flicker_per_frame", "niqe",
           "brisque", "evaluate_clip", "evaluate_paths", "ClipScores"]
