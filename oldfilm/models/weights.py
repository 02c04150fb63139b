"""Weights of every network the package ships: safetensors only, with the network's config as JSON and its
format tag in the file's metadata, written atomically; shipped files are checked against their SHA-256. No
pickle, ever.

A network class that saves here declares ``FORMAT`` (the tag, e.g. ``"rtn-1"``) and ``CONFIG`` (its frozen
config class, with ``to_dict``/``from_dict``), and keeps its config as ``self.cfg``: ``RTN`` here, the colour
refinement network in ``oldfilm.colorize.refine``. This module takes the class as an argument and so never
imports the layers above it.

``load_model("fast")`` loads the RTN file shipped in ``oldfilm/weights/`` (checked against
``SHIPPED_SHA256``); ``load_model("path/to/file.safetensors")`` loads any compatible file;
``load_weights(path, Network)`` does the same for any network class. Every failure is a ``WeightsError``
with one sentence.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import torch
from safetensors import safe_open
from safetensors.torch import save_file
from torch import nn

from oldfilm.errors import WeightsError
from oldfilm.models.presets import PRESETS
from oldfilm.models.rtn import RTN

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"
CONFIG_KEY = "oldfilm.config"
FORMAT_KEY = "oldfilm.format"

# SHA-256 of each shipped file (oldfilm/weights/<name>.safetensors, any network). The training issues add
# entries when they ship weights; a shipped file missing here or with another digest is refused.
SHIPPED_SHA256: dict[str, str] = {}

Net = TypeVar("Net", bound=nn.Module)


def save_weights(model: nn.Module, path: str | Path, extra_meta: dict[str, str] | None = None) -> Path:
    """Write ``model``'s parameters to ``path`` (.safetensors) with its config, its class's ``FORMAT`` tag
    (and ``extra_meta``, e.g. the training run, as strings) in the metadata, atomically (a reader never sees
    half a file). Returns the path."""
    path = Path(path)
    if path.suffix != ".safetensors":
        raise WeightsError(f"weights must be saved as .safetensors, not {path.name!r}")
    meta = {str(k): str(v) for k, v in (extra_meta or {}).items()}
    meta.update({CONFIG_KEY: json.dumps(model.cfg.to_dict()), FORMAT_KEY: type(model).FORMAT})
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in model.state_dict().items()}
    part = path.with_name(path.name + ".part")
    save_file(tensors, str(part), metadata=meta)
    part.replace(path)
    return path


def read_config(path: str | Path, network: type[nn.Module] = RTN) -> Any:
    """The config (``network.CONFIG``, default ``RTNConfig``) stored in a weights file's metadata."""
    path = _check_safetensors(Path(path))
    return _config_from(_metadata(path), path, network)


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
    return load_weights(_resolve(name_or_file), RTN, device, remap)


def load_weights(path: str | Path, network: type[Net], device: str | torch.device = "cpu",
                 remap: Callable[[str], str] | None = None) -> Net:
    """A ``network`` (a class with ``FORMAT`` and ``CONFIG``) built from the config in the file at ``path``,
    with its weights, in eval mode on ``device``. A file tagged with another network's format is refused.

    Args:
        path: a .safetensors file written by ``save_weights``.
        network: the class to build.
        device: where to put the model.
        remap: optional key renaming applied to the file's tensor names (to load older layouts).
    """
    path = _check_safetensors(Path(path))
    meta = _metadata(path)
    fmt = meta.get(FORMAT_KEY)
    if fmt is not None and fmt != network.FORMAT:
        raise WeightsError(f"{path.name} holds {fmt!r} weights, not {network.FORMAT!r} ({network.__name__})")
    cfg = _config_from(meta, path, network)
    model = network(cfg)
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            state = {(remap(k) if remap else k): f.get_tensor(k) for k in f.keys()}
    except Exception as e:  # safetensors raises its own error types
        raise WeightsError(f"cannot read the tensors in {path}: {e}") from e
    missing, unexpected = _compare_keys(model, state)
    name = getattr(cfg, "name", network.__name__)
    if missing or unexpected:
        raise WeightsError(
            f"{path.name} does not match the {name!r} network "
            f"(missing {len(missing)} tensors, e.g. {missing[:2]}; unexpected {len(unexpected)}, e.g. "
            f"{unexpected[:2]})"
        )
    try:
        model.load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise WeightsError(f"{path.name} does not match the {name!r} network: {_first_line(e)}") from e
    return model.to(device).eval()


def shipped_path(name: str) -> Path:
    """Where the package keeps the weights file ``name`` (an RTN preset, or ``"colorize-refine"``)."""
    return WEIGHTS_DIR / f"{name}.safetensors"


def verify_shipped(path: Path) -> Path:
    """``path``, a shipped weights file, if its SHA-256 is the one recorded in ``SHIPPED_SHA256``."""
    expected = SHIPPED_SHA256.get(path.name)
    if expected is None or sha256(path) != expected:
        raise WeightsError(f"the shipped weights {path.name} fail their SHA-256 check; reinstall oldfilm")
    return path


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
        return verify_shipped(path)
    path = Path(name_or_file)
    if not path.is_file():
        presets = ", ".join(PRESETS)
        raise WeightsError(f"weights file {str(path)!r} does not exist (or name a preset: {presets})")
    return path


def _check_safetensors(path: Path) -> Path:
    """Refuse anything that is not a readable .safetensors file — in particular pickle checkpoints, which
    can run code when loaded."""
    if not path.is_file():
        raise WeightsError(f"weights file {str(path)!r} does not exist")
    with open(path, "rb") as f:
        head = f.read(9)
    size = path.stat().st_size
    n = struct.unpack("<Q", head[:8])[0] if len(head) >= 8 else 0
    looks_safe = len(head) == 9 and 2 <= n <= size - 8 and head[8:9] == b"{"
    # a safetensors header length can start with byte 0x80 too (any length ≡ 128 mod 256): sniff for pickle
    # and zip (torch.save) only when the file is not laid out as safetensors
    if not looks_safe and (head[:1] == b"\x80" or head[:2] == b"PK"):
        raise WeightsError(f"{path.name} is a pickle/PyTorch checkpoint; only .safetensors weights load")
    if path.suffix != ".safetensors" or not looks_safe:
        raise WeightsError(f"{path.name} is not a safetensors file; only .safetensors weights are loaded")
    return path


def _metadata(path: Path) -> dict[str, str]:
    try:
        with safe_open(str(path), framework="pt", device="cpu") as f:
            return f.metadata() or {}
    except Exception as e:
        raise WeightsError(f"cannot read {path.name} as safetensors: {_first_line(e)}") from e


def _config_from(meta: dict[str, str], path: Path, network: type[nn.Module]) -> Any:
    if CONFIG_KEY not in meta:
        raise WeightsError(f"{path.name} has no oldfilm network config in its metadata (not from oldfilm?)")
    try:
        return network.CONFIG.from_dict(json.loads(meta[CONFIG_KEY]))
    except (ValueError, TypeError) as e:
        raise WeightsError(f"{path.name} has an unreadable network config: {_first_line(e)}") from e


def _compare_keys(model: nn.Module, state: dict[str, torch.Tensor]) -> tuple[list[str], list[str]]:
    own = set(model.state_dict())
    return sorted(own - set(state)), sorted(set(state) - own)


def _first_line(e: BaseException) -> str:
    return str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
