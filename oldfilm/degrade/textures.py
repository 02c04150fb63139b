"""Procedural contaminant textures: dust, scratches, hairs, blotches, cracks, emulsion damage, line scratches.

RTN blended 1k+ scanned texture images; none is available offline, so each kind is drawn here from a few
random numbers instead, then augmented as the paper augments its textures (random rotation, local crop,
contrast change, morphological dilation/erosion). User textures (``--textures DIR``) go through the same
augmentation.

Convention:
    A texture (a "patch") is a float32 (h, w) map in [0, 1]: how strongly each pixel is affected (0 = not at
    all). Whether it brightens, darkens or multiplies is decided when it is blended (``ops.blend``).
    Lengths and sizes are in output pixels. Lines and dust outlines are drawn anti-aliased (cv2 ``LINE_AA``
    with sub-pixel coordinates); blobs are drawn at twice the size and area-downsampled.
"""

from __future__ import annotations

import cv2
import numpy as np

from oldfilm.colorspace import from_float, rgb_to_luma, to_float

_SHIFT = 4
"""Fractional bits of cv2 drawing coordinates (1/16 pixel)."""


def _empty_canvas(points: np.ndarray, margin: float) -> tuple[np.ndarray, np.ndarray]:
    """A uint8 canvas covering ``points`` (N, 2) (x, y) plus ``margin``, and the points moved into it."""
    lo = points.min(axis=0) - margin
    hi = points.max(axis=0) + margin
    w, h = (np.ceil(hi - lo).astype(int) + 1).tolist()
    return np.zeros((h, w), np.uint8), points - lo


def _draw_path(canvas: np.ndarray, pts: np.ndarray, width: float, levels: np.ndarray) -> None:
    """Draw the polyline ``pts`` (N, 2) on ``canvas``; segment i at intensity ``levels[i]`` in [0, 1].

    Widths under one pixel are drawn one pixel wide and proportionally fainter.
    """
    thickness = max(int(round(width)), 1)
    fade = min(width, 1.0)
    fixed = np.round(pts * (1 << _SHIFT)).astype(np.int32)
    for i in range(len(fixed) - 1):
        value = int(255 * fade * float(levels[i]) + 0.5)
        if value > 0:
            p, q = fixed[i], fixed[i + 1]
            cv2.line(canvas, (int(p[0]), int(p[1])), (int(q[0]), int(q[1])), value, thickness, cv2.LINE_AA,
                     _SHIFT)


def _taper(n: int, rng: np.random.Generator) -> np.ndarray:
    """(n,) intensities along a stroke: faint ends, a random uneven middle."""
    t = np.linspace(0.0, 1.0, n)
    ends = np.minimum(1.0, np.sin(np.pi * t) * rng.uniform(1.5, 4.0))
    knots = rng.uniform(0.5, 1.0, 4)
    return ends * np.interp(t, np.linspace(0, 1, 4), knots)


def dust_polygons(rng: np.random.Generator, centres: np.ndarray, radii: np.ndarray) -> np.ndarray:
    """Irregular dust-speck outlines: (N, 7, 2) int32 fixed-point (x, y) vertices for cv2 drawing with
    ``shift=_SHIFT``, one random star-shaped heptagon of about ``radii[i]`` pixels around ``centres[i]``.

    Dust is drawn straight into the frame layer (``draw_polygons``) rather than as augmented patches: a
    frame has dozens of specks and the random outline already gives each its own shape and rotation.
    """
    n = len(radii)
    ang = np.sort(rng.uniform(0.0, 2 * np.pi, (n, 7)), axis=1)
    rad = radii[:, None] * rng.uniform(0.45, 1.0, (n, 7))
    pts = np.stack([centres[:, :1] + rad * np.cos(ang), centres[:, 1:] + rad * np.sin(ang)], axis=-1)
    return np.round(pts * (1 << _SHIFT)).astype(np.int32)


def draw_polygons(canvas: np.ndarray, polygons: list[np.ndarray], values: list[int]) -> None:
    """Fill each fixed-point polygon (``dust_polygons``) on uint8 ``canvas`` with its value, anti-aliased."""
    for poly, value in zip(polygons, values, strict=True):
        cv2.fillPoly(canvas, [poly], int(value), cv2.LINE_AA, _SHIFT)


def straight_scratch(rng: np.random.Generator, length: float, width: float) -> np.ndarray:
    """A short straight scratch, near-vertical (along the film's travel), tapered and uneven."""
    ang = np.pi / 2 + rng.normal(0.0, 0.12)
    n = 16
    t = np.linspace(0.0, length, n)
    pts = np.stack([t * np.cos(ang), t * np.sin(ang)], 1)
    canvas, pts = _empty_canvas(pts, width + 2)
    _draw_path(canvas, pts, width, _taper(n - 1, rng))
    return canvas.astype(np.float32) / 255.0


def curved_scratch(rng: np.random.Generator, length: float, width: float) -> np.ndarray:
    """A short curved scratch: a quadratic Bézier curve with a random bend."""
    p0 = np.zeros(2)
    p2 = np.array([rng.normal(0.0, 0.3), 1.0]) * length
    p1 = (p0 + p2) / 2 + np.array([rng.uniform(-0.2, 0.2) * length, 0.0])
    t = np.linspace(0.0, 1.0, 24)[:, None]
    pts = (1 - t) ** 2 * p0 + 2 * (1 - t) * t * p1 + t**2 * p2
    canvas, pts = _empty_canvas(pts, width + 2)
    _draw_path(canvas, pts, width, _taper(23, rng))
    return canvas.astype(np.float32) / 255.0


def hair(rng: np.random.Generator, length: float, width: float) -> np.ndarray:
    """A hair or fibre: a thin stroke whose direction wanders smoothly (curls, S-bends)."""
    n = 40
    turn = rng.normal(0.0, 0.22, n).cumsum() + rng.normal(0.0, 0.09) * np.arange(n)
    ang = rng.uniform(0, 2 * np.pi) + turn
    steps = np.stack([np.cos(ang), np.sin(ang)], 1) * (length / n)
    pts = np.vstack([np.zeros((1, 2)), steps.cumsum(0)])
    canvas, pts = _empty_canvas(pts, width + 2)
    levels = np.minimum(1.0, np.sin(np.linspace(0, np.pi, n)) * 6.0) * rng.uniform(0.75, 1.0)
    _draw_path(canvas, pts, width, levels)
    return canvas.astype(np.float32) / 255.0


def crack(rng: np.random.Generator, size: float, width: float) -> np.ndarray:
    """An emulsion crack: a jagged line that branches (up to three levels) within about ``size`` pixels."""
    step = max(size / 12.0, 1.5)
    paths: list[tuple[np.ndarray, float]] = []
    stack = [(np.zeros(2), rng.uniform(0, 2 * np.pi), size, 0)]
    while stack and len(paths) < 12:
        p, ang, budget, depth = stack.pop()
        pts = [p]
        for _ in range(max(int(budget / step), 2)):
            ang += rng.normal(0.0, 0.6)
            p = p + step * np.array([np.cos(ang), np.sin(ang)])
            pts.append(p)
            if depth < 2 and rng.random() < 0.2:
                side = rng.choice([-1.0, 1.0])
                turn, length = side * rng.uniform(0.5, 1.2), budget * rng.uniform(0.3, 0.6)
                stack.append((p, ang + turn, length, depth + 1))
        paths.append((np.array(pts), 1.0 - 0.25 * depth))
    allpts = np.vstack([q for q, _ in paths])
    canvas, _ = _empty_canvas(allpts, width + 2)
    lo = allpts.min(axis=0) - (width + 2)
    for q, level in paths:
        _draw_path(canvas, q - lo, width, np.full(len(q) - 1, level) * rng.uniform(0.7, 1.0, len(q) - 1))
    return canvas.astype(np.float32) / 255.0


def _blob_field(rng: np.random.Generator, size: int, roughness: float) -> np.ndarray:
    """(size, size) float32: > 0 inside an irregular blob centred in the square, < 0 outside."""
    noise = np.zeros((size, size), np.float32)
    for cells, weight in ((4, 1.0), (9, 0.5), (17, roughness)):
        grid = rng.random((cells, cells), dtype=np.float32)
        noise += weight * cv2.resize(grid, (size, size), interpolation=cv2.INTER_CUBIC)
    noise /= 1.5 + roughness
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32)
    d = np.hypot(xx - (size - 1) / 2, yy - (size - 1) / 2) / (size / 2)
    return (1.0 - d) * 0.8 + (noise - 0.5) * 0.9


def blotch(rng: np.random.Generator, size: float) -> np.ndarray:
    """A blotch or stain: soft-edged irregular region of uneven density, sometimes with a darker rim."""
    s = max(int(size), 5)
    field = _blob_field(rng, s, 0.2)
    soft = rng.uniform(0.08, 0.3)
    alpha = np.clip(field / soft, 0.0, 1.0)
    alpha = alpha * alpha * (3 - 2 * alpha)  # smoothstep
    if rng.random() < 0.35:  # drying ring
        alpha = np.maximum(alpha * 0.5, np.exp(-(((field - 0.04) / 0.05) ** 2)))
    density = 0.75 + 0.25 * cv2.resize(rng.random((6, 6), dtype=np.float32), (s, s))
    return (alpha * density * rng.uniform(0.35, 0.9)).astype(np.float32)


def emulsion_damage(rng: np.random.Generator, size: float) -> np.ndarray:
    """Lost emulsion: a ragged hard-edged patch with a mottled interior and a few flakes around it."""
    s = max(int(size), 5)
    field = _blob_field(rng, 2 * s, 0.8)
    field -= rng.uniform(0.0, 0.15)
    hard = (field > 0).astype(np.float32)
    mottle = 0.65 + 0.35 * cv2.resize(rng.random((s // 3 + 2, s // 3 + 2), dtype=np.float32), (2 * s, 2 * s))
    patch = cv2.resize(hard * mottle, (s, s), interpolation=cv2.INTER_AREA)
    return patch * np.float32(rng.uniform(0.7, 1.0))


def augment(patch: np.ndarray, rng: np.random.Generator, *, max_angle: float = 180.0,
            crop: bool = True) -> np.ndarray:
    """The paper's texture augmentation: local crop (when ``crop``; blobs are not cut, which would give them
    straight edges), rotation (|angle| ≤ ``max_angle`` degrees), dilation or erosion, and a contrast change
    (gamma and gain). Returns a new float32 patch in [0, 1]."""
    h, w = patch.shape
    if crop and min(h, w) >= 8 and rng.random() < 0.35:
        ch, cw = int(h * rng.uniform(0.6, 1.0)), int(w * rng.uniform(0.6, 1.0))
        y0, x0 = int(rng.integers(0, h - ch + 1)), int(rng.integers(0, w - cw + 1))
        patch = patch[y0:y0 + ch, x0:x0 + cw]
    if max_angle >= 90.0 and rng.random() < 0.5:
        patch = np.rot90(patch, int(rng.integers(1, 4)))
    angle = rng.uniform(-max_angle, max_angle) if max_angle < 90.0 else rng.uniform(-45.0, 45.0)
    patch = rotate_patch(np.ascontiguousarray(patch), angle)
    r = rng.random()
    if r < 0.15:
        patch = cv2.dilate(patch, np.ones((2, 2), np.uint8))
    elif r < 0.3 and min(patch.shape) > 4:
        eroded = cv2.erode(patch, np.ones((2, 2), np.uint8))
        if eroded.max() > 0.3 * patch.max():
            patch = eroded
    return np.clip(rng.uniform(0.75, 1.0) * patch ** rng.uniform(0.7, 1.4), 0.0, 1.0).astype(np.float32)


def rotate_patch(patch: np.ndarray, angle: float) -> np.ndarray:
    """Rotate ``patch`` by ``angle`` degrees about its centre into a canvas that holds all of it."""
    if abs(angle) < 0.5:
        return patch
    h, w = patch.shape
    m = cv2.getRotationMatrix2D((w / 2.0, h / 2.0), angle, 1.0)
    cos, sin = abs(m[0, 0]), abs(m[0, 1])
    nw, nh = int(np.ceil(h * sin + w * cos)), int(np.ceil(h * cos + w * sin))
    m[0, 2] += nw / 2.0 - w / 2.0
    m[1, 2] += nh / 2.0 - h / 2.0
    return cv2.warpAffine(patch, m, (nw, nh), flags=cv2.INTER_LINEAR, borderValue=0)


def texture_from_image(img: np.ndarray, max_side: int = 512) -> np.ndarray:
    """A user texture image (H, W[, C], any dtype) → uint8 (h, w) patch, bright defect on dark (inverted when
    the image is mostly bright, i.e. dark marks on white paper), downscaled to at most ``max_side``."""
    luma = rgb_to_luma(img if img.ndim == 3 else img[..., None])
    if float(luma.mean()) > 0.5:
        luma = 1.0 - luma
    h, w = luma.shape
    if max(h, w) > max_side:
        f = max_side / max(h, w)
        luma = cv2.resize(luma, (max(int(w * f), 1), max(int(h * f), 1)), interpolation=cv2.INTER_AREA)
    return from_float(luma, np.uint8)


def real_texture(tex: np.ndarray, rng: np.random.Generator, short_side: int) -> np.ndarray:
    """A user texture (from ``texture_from_image``) scaled to 15–100% of the frame's short side, augmented."""
    target = rng.uniform(0.15, 1.0) * short_side
    f = target / max(tex.shape)
    size = (max(int(tex.shape[1] * f), 1), max(int(tex.shape[0] * f), 1))
    return augment(to_float(cv2.resize(tex, size, interpolation=cv2.INTER_AREA)), rng)


def paste_max(layer: np.ndarray, patch: np.ndarray, cy: int, cx: int, opacity: float) -> None:
    """Combine ``opacity × patch`` into ``layer`` (H, W) in place by maximum, centred at (cy, cx), clipped to
    the layer."""
    ph, pw = patch.shape
    y0, x0 = cy - ph // 2, cx - pw // 2
    ly0, lx0 = max(y0, 0), max(x0, 0)
    ly1, lx1 = min(y0 + ph, layer.shape[0]), min(x0 + pw, layer.shape[1])
    if ly1 <= ly0 or lx1 <= lx0:
        return
    src = patch[ly0 - y0:ly1 - y0, lx0 - x0:lx1 - x0] * np.float32(opacity)
    dst = layer[ly0:ly1, lx0:lx1]
    np.maximum(dst, src, out=dst)


def line_scratch(layer: np.ndarray, x: float, width: float, strength: float, rng: np.random.Generator,
                 extent: tuple[float, float] = (0.0, 1.0)) -> None:
    """Draw a near-vertical line scratch centred at column ``x`` into ``layer`` (H, W) in place (by maximum).

    Each frame shows a different stretch of the scratched film, so the brightness along the line, its small
    waviness and its breaks are drawn anew per frame; ``x`` carries the persistence.
    ``extent``: the rows covered, as fractions of the height.
    """
    h, w = layer.shape
    y0, y1 = int(extent[0] * h), max(int(extent[1] * h), int(extent[0] * h) + 1)
    n = y1 - y0
    ys = np.arange(n, dtype=np.float32)
    knots = rng.random(n // 10 + 2).astype(np.float32)
    profile = strength * (0.5 + 0.5 * np.interp(ys, np.linspace(0, n - 1, len(knots)), knots))
    if rng.random() < 0.4:  # breaks in the scratch
        gaps = np.interp(ys, np.linspace(0, n - 1, n // 20 + 2), rng.random(n // 20 + 2))
        profile = profile * np.clip((gaps - 0.2) * 8.0, 0.0, 1.0)
    centre = x + 0.35 * np.sin(ys * (2 * np.pi / rng.uniform(40.0, 200.0)) + rng.uniform(0, 2 * np.pi))
    half = width / 2.0
    c0 = max(int(np.floor(x - half - 2)), 0)
    c1 = min(int(np.ceil(x + half + 2)) + 1, w)
    if c1 <= c0:
        return
    cols = np.arange(c0, c1, dtype=np.float32)
    alpha = np.clip(half + 0.5 - np.abs(cols[None, :] - centre[:, None]), 0.0, 1.0) * profile[:, None]
    dst = layer[y0:y1, c0:c1]
    np.maximum(dst, alpha.astype(np.float32), out=dst)
