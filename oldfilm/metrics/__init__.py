"""Quality metrics on numpy images and frame sequences.

Full-reference: ``psnr``, ``ssim`` (scikit-image's values); temporal: ``ewarp`` (Lai et al. 2018),
``flicker``; no-reference: ``niqe``, ``brisque`` (the LIVE models). ``evaluate`` scores whole clips.
"""

from oldfilm.metrics.fullref import psnr, ssim
from oldfilm.metrics.noref import brisque, niqe
from oldfilm.metrics.temporal import ewarp, flicker

__all__ = ["psnr", "ssim", "ewarp", "flicker", "niqe", "brisque"]
