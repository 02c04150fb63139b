"""``curve.png`` of a run, drawn with OpenCV (no plotting dependency): training loss vs. step; for a guided
network the batch's PSNR gain over its guide; validation PSNR of the EMA weights per preset vs. step with the
classical restorer as dashed levels; and, when logged, the same in PSNR-t (restoration apart from the clip's
exposure)."""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np

_COLOURS = [(200, 80, 30), (40, 140, 40), (30, 30, 200), (160, 40, 160), (20, 150, 190)]  # BGR
_W, _H, _PAD = 520, 360, 55


def draw_curves(run_dir: str | Path, dest: str | Path | None = None) -> Path:
    """Draw ``run_dir``'s log.csv and val.csv into ``dest`` (default ``run_dir/curve.png``)."""
    run_dir = Path(run_dir)
    dest = Path(dest) if dest is not None else run_dir / "curve.png"
    train = _read(run_dir / "log.csv")
    val = _read(run_dir / "val.csv")
    left = _panel("training loss", "step", "loss")
    if train:
        steps = np.array([float(r["step"]) for r in train])
        loss = np.array([float(r["loss"]) for r in train])
        _plot(left, _raw_and_smoothed(steps, loss, _COLOURS[0]))
    panels = [left]
    gains = [r for r in train if r.get("gain_db")]
    if gains:  # the batch's PSNR gain over the guide: what learning moves, apart from each batch's damage
        gain = _panel("training gain over the guide (dB)", "step", "dB")
        steps = np.array([float(r["step"]) for r in gains])
        zero = (np.array([0.0, steps[-1]]), np.zeros(2), (0, 0, 0), True)
        _plot(gain, [*_raw_and_smoothed(steps, np.array([float(r["gain_db"]) for r in gains]), _COLOURS[1]), zero])
        panels.append(gain)
    panels.append(_val_panel(val, "psnr", "validation PSNR (dB), eval clip", "PSNR"))
    if any(r.get("psnr_tone") for r in val):
        panels.append(_val_panel(val, "psnr_tone", "validation PSNR-t (dB): tone aligned", "PSNR-t"))
    cv2.imwrite(str(dest), np.hstack(panels))
    return dest


def _raw_and_smoothed(x: np.ndarray, y: np.ndarray, colour: tuple[int, int, int]) -> list:
    """A noisy per-step series in grey and its moving average (over 1/25 of the run) in ``colour``."""
    k = max(1, len(y) // 25)
    return [(x, y, (190, 190, 190), False), (x[k - 1:], np.convolve(y, np.ones(k) / k, mode="valid"), colour, False)]


def _val_panel(val: list[dict[str, str]], key: str, title: str, ylabel: str) -> np.ndarray:
    """Validation ``key`` of the EMA weights per preset vs. step, the classical restorer dashed."""
    img = _panel(title, "step", ylabel)
    series, legend = [], []
    rows_with = [r for r in val if r.get(key)]
    last = max([float(r["step"]) for r in rows_with if r["method"] == "rtn"] or [1.0])
    for i, p in enumerate(sorted({r["preset"] for r in rows_with})):
        c = _COLOURS[i % len(_COLOURS)]
        rows = [r for r in rows_with if r["preset"] == p and r["method"] == "rtn"]
        if rows:
            series.append((np.array([float(r["step"]) for r in rows]), np.array([float(r[key]) for r in rows]),
                           c, False))
        ref = [float(r[key]) for r in rows_with if r["preset"] == p and r["method"] == "classical"]
        if ref:
            series.append((np.array([0.0, last]), np.array([ref[0]] * 2), c, True))
        legend.append((f"{p}: rtn (solid), classical (dashed)", c))
    _plot(img, series)
    for j, (text, c) in enumerate(legend):
        cv2.putText(img, text, (_PAD + 8, _PAD + 18 + 16 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.4, c, 1, cv2.LINE_AA)
    return img


def _read(path: Path) -> list[dict[str, str]]:
    if not path.exists():
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def _panel(title: str, xlabel: str, ylabel: str) -> np.ndarray:
    img = np.full((_H, _W, 3), 255, np.uint8)
    cv2.putText(img, title, (_PAD, 22), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, xlabel, (_W // 2, _H - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1, cv2.LINE_AA)
    cv2.putText(img, ylabel, (_W - 15 - 8 * len(ylabel), 22), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (90, 90, 90), 1,
                cv2.LINE_AA)
    return img


def _plot(img: np.ndarray, series: list[tuple[np.ndarray, np.ndarray, tuple[int, int, int], bool]]) -> None:
    """Axes with ticks and the polylines of ``series`` (x, y, BGR colour, dashed)."""
    x0, y0, x1, y1 = _PAD, _PAD - 20, _W - 15, _H - _PAD
    cv2.rectangle(img, (x0, y0), (x1, y1), (0, 0, 0), 1)
    finite = [(x, y) for x, y, _, _ in series if len(x)]
    if not finite:
        return
    xs = np.concatenate([x for x, _ in finite])
    ys = np.concatenate([y[np.isfinite(y)] for _, y in finite])
    xmin, xmax = 0.0, float(xs.max()) or 1.0
    ymin, ymax = float(ys.min()), float(ys.max())
    if ymax - ymin < 1e-9:
        ymin, ymax = ymin - 0.5, ymax + 0.5
    margin = 0.05 * (ymax - ymin)
    ymin, ymax = ymin - margin, ymax + margin

    def to_px(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        px = x0 + (x - xmin) / (xmax - xmin) * (x1 - x0)
        py = y1 - (y - ymin) / (ymax - ymin) * (y1 - y0)
        return np.stack([px, py], -1).round().astype(np.int32)

    for k in range(5):
        yv = ymin + (ymax - ymin) * k / 4
        xv = xmin + (xmax - xmin) * k / 4
        py, px = int(y1 - (y1 - y0) * k / 4), int(x0 + (x1 - x0) * k / 4)
        cv2.line(img, (x0, py), (x1, py), (230, 230, 230), 1)
        cv2.putText(img, f"{yv:.3g}", (2, py + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
        cv2.putText(img, f"{xv:.0f}", (px - 10, y1 + 14), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1, cv2.LINE_AA)
    for x, y, colour, dashed in series:
        ok = np.isfinite(y)
        pts = to_px(x[ok], y[ok])
        if len(pts) == 1:
            cv2.circle(img, tuple(int(v) for v in pts[0]), 3, colour, -1)
        for a, b in zip(pts[:-1], pts[1:], strict=True):
            if dashed:
                n = max(1, int(np.hypot(*(b - a)) // 8))
                for j in range(0, n, 2):
                    p = a + (b - a) * j / n
                    q = a + (b - a) * min(j + 1, n) / n
                    cv2.line(img, tuple(int(v) for v in p), tuple(int(v) for v in q), colour, 1, cv2.LINE_AA)
            else:
                cv2.line(img, tuple(int(v) for v in a), tuple(int(v) for v in b), colour, 1, cv2.LINE_AA)
        if not dashed and 1 < len(pts) <= 60:
            for p in pts:
                cv2.circle(img, tuple(int(v) for v in p), 2, colour, -1)


def draw_denoiser_curve(run_dir: str | Path, dest: str | Path | None = None) -> Path:
    """``curve.png`` of a learned denoiser's fit (``oldfilm.train.denoiser``): the training batches' PSNR and
    the held-out crops' PSNR of the network, against their input's (dashed), vs. step."""
    run_dir = Path(run_dir)
    dest = Path(dest) if dest is not None else run_dir / "curve.png"
    rows = _read(run_dir / "log.csv")
    img = _panel("learned denoiser: PSNR against the target", "step", "dB")
    if rows:
        step = np.array([float(r["step"]) for r in rows])
        _plot(img, [(step, np.array([float(r["loss_db"]) for r in rows]), (190, 190, 190), False),
                    (step, np.array([float(r["val_out_db"]) for r in rows]), _COLOURS[0], False),
                    (step, np.array([float(r["val_input_db"]) for r in rows]), _COLOURS[0], True)])
    for j, (text, c) in enumerate((("training batches", (150, 150, 150)),
                                   ("held-out crops: network (solid), its input (dashed)", _COLOURS[0]))):
        cv2.putText(img, text, (_PAD + 8, _PAD + 18 + 16 * j), cv2.FONT_HERSHEY_SIMPLEX, 0.4, c, 1, cv2.LINE_AA)
    cv2.imwrite(str(dest), img)
    return dest
