"""Optical flow: estimators and the package's one ``flow_warp``.

Convention: flow is ``(…, 2, H, W)`` float32 in pixels, (dx, dy), mapping a pixel of the *current* frame to
where it is in the *other* frame; warping the other frame by it brings that frame onto the current one.
"""

from oldfilm.flow.base import FlowEstimator
from oldfilm.flow.dis import DISFlow
from oldfilm.flow.warp import consistency_mask, flow_warp, resize_flow, warp_image

__all__ = ["FlowEstimator", "DISFlow", "flow_warp", "resize_flow", "warp_image", "consistency_mask"]
