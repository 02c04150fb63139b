"""Weights: safetensors only, with the network's config as JSON in the file's metadata. No pickle, ever.

``load_model("fast")`` loads the file shipped in ``oldfilm/weights/`` (checked against ``SHIPPED_SHA256``);
``load_model("path/to/file.safetensors")`` loads any compatible file. Every failure is a ``WeightsError``
with one sentence.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path

import torch
from safetensors import safe_open
from safetensors.torch import save_file

from oldfilm.errors import WeightsError
from oldfilm.models.presets import PRESETS, RTNConfig
from oldfilm.models.rtn import RTN

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
CONFIG_KEY = "oldfilm.config"
FORMAT_KEY = "oldfilm.format"
FORMAT = "rtn-1"

# SHA-256 of each shipped file (oldfilm/weights/<preset>.safetensors). The training issue adds entries when it
# ships weights; a shipped file missing here or with another digest is refused.
SHIPPED_SHA256: dict[str, str] = {}


def save_weights(model: RTN, path: str | Path, extra_meta: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters to ``path`` (.safetensors) with its config (and ``extra_meta``, e.g. the
    training run, as strings) in the metadata, atomically (a reader never sees half a file). Returns the
    path."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise WeightsError(f"weights must be saved as .safetensors, not {path.name!r}")
    meta = {str(k): str(v) for k, v in (extra_meta or {}).items()}
    meta.update({CONFIG_KEY: json.dumps(model.cfg.to_dict()), FORMAT_KEY: FORMAT})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    part = path.with_name(path.name + ".part")
    save_file(tensors, str(part), metadata=meta)
    part.replace(path)
    return path


def read_config(path: str | Path) -> RTNConfig:
    """The ``RTNConfig`` stored in a weights file's metadata."""
    path = _check_safetensors(Path(path))
    return _config_from(_metadata(path), path)


def load_model(
    name_or_file: str | Path,
    device: str | torch.device = "cpu",
    remap: Callable[[str], str] | None = None,
) -> RTN:
    """An ``RTN`` in eval mode with its weights.

    Args:
        name_or_file: a preset name (``"fast"``, ``"rtn-paper"``: the weights shipped with the package) or
            the path of a .safetensors file written by ``save_weights``.
        device: where to put the model.
        remap: optional key renaming applied to the file's tensor names (to load older layouts).
    """
    path = _resolve(name_or_file)
    meta = _metadata(path)
    cfg = _config_from(meta, path)
    model = RTN(cfg)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            state = {(remap(k) if remap else k): f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types
        raise WeightsError(f"cannot read the tensors in {path}: {e}") from e
    missing, unexpected = _compare_keys(model, state)
    if missing or unexpected:
        raise WeightsError(
            f"{path.name} does not match the {cfg.name!r} network "
            f"(missing {len(missing)} tensors, e.g. {missing[:2]}; unexpected {len(unexpected)}, e.g. "
            f"{unexpected[:2]})"
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise WeightsError(f"{path.name} does not match the {cfg.name!r} network: {_first_line(e)}") from e
    return model.to(device).eval()


def shipped_path(preset: str) -> Path:
    """Where the package keeps the weights of ``preset``."""
    return WEIGHTS_DIR / f"{preset}.safetensors"


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _resolve(name_or_file: str | Path) -> Path:
    if isinstance(name_or_file, str) and name_or_file in PRESETS:
        path = shipped_path(name_or_file)
        if not path.is_file():
            raise WeightsError(
                f"no trained weights are shipped for the {name_or_file!r} preset yet; pass --weights FILE "
                "(a .safetensors file) to use the RTN method"
            )
        expected = SHIPPED_SHA256.get(path.name)
        if expected is None or sha256(path) != expected:
            raise WeightsError(f"the shipped weights {path.name} fail their SHA-256 check; reinstall oldfilm")
        return path
    return _check_safetensors(Path(name_or_file))


def _check_safetensors(path: Path) -> Path:
    """Refuse anything that is not a readable .safetensors file — in particular pickle checkpoints, which
    can run code when loaded."""
    if not path.is_file():
        presets = ", ".join(PRESETS)
        raise WeightsError(f"weights file {str(path)!r} does not exist (or name a preset: {presets})")
    with open(path, "rb") as f:
        head = f.read(9)
    if head[:1] == b"\x80" or head[:2] == b"PK":
        raise WeightsError(f"{path.name} is a pickle/PyTorch checkpoint; only .safetensors weights load")
    size = path.stat().st_size
    n = struct.unpack("<Q", head[:8])[0] if len(head) >= 8 else 0
    if path.suffix != ".safetensors" or len(head) < 9 or not 2 <= n <= size - 8 or head[8:9] != b"{":
        raise WeightsError(f"{path.name} is not a safetensors file; only .safetensors weights are loaded")
    return path


def _metadata(path: Path) -> dict[str, str]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return f.metadata() or {}
    except Exception as e:
        raise WeightsError(f"cannot read {path.name} as safetensors: {_first_line(e)}") from e


def _config_from(meta: dict[str, str], path: Path) -> RTNConfig:
    if CONFIG_KEY not in meta:
        raise WeightsError(f"{path.name} has no oldfilm network config in its metadata (not from oldfilm?)")
    try:
        return RTNConfig.from_dict(json.loads(meta[CONFIG_KEY]))
    except (ValueError, TypeError) as e:
        raise WeightsError(f"{path.name} has an unreadable network config: {_first_line(e)}") from e


def _compare_keys(model: RTN, state: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    own = set(model.state_dict())
    return sorted(own - set(state)), sorted(set(state) - own)


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
