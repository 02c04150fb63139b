"""A run's resume state as one safetensors file, small enough to commit (a few MB for a CPU-sized network),
so that a training run spans sessions on new machines: ``export_resume`` after a session's slice,
``import_resume`` on the next machine before ``oldfilm.train`` picks the run up again.

What ``checkpoint.pt`` holds, flattened: tensors under ``model.``, ``ema.``, ``disc.``, ``opt.<i>.<name>``,
``disc_opt.<i>.<name>`` and ``rng.torch``; everything else (step, the optimisers' parameter groups, the
schedule, the run's ``config.json``) as JSON in the metadata. Safetensors, not a pickle: loading it runs no
code.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, safe_open, save_file

_FORMAT = "oldfilm.resume/1"


def _flatten_opt(prefix: str, state: dict[str, Any] | None, tensors: dict[str, torch.Tensor],
                 meta: dict[str, str]) -> None:
    if state is None:
        return
    for idx, per in state["state"].items():
        for name, value in per.items():
            tensors[f"{prefix}.{idx}.{name}"] = torch.as_tensor(value).clone().contiguous()
    meta[f"{prefix}.param_groups"] = json.dumps(state["param_groups"])


def _unflatten_opt(prefix: str, tensors: dict[str, torch.Tensor], meta: dict[str, str]) -> dict[str, Any] | None:
    key = f"{prefix}.param_groups"
    if key not in meta:
        return None
    state: dict[int, dict[str, torch.Tensor]] = {}
    for name, t in tensors.items():
        if name.startswith(prefix + "."):
            idx, field = name[len(prefix) + 1:].split(".", 1)
            state.setdefault(int(idx), {})[field] = t
    return {"state": state, "param_groups": json.loads(meta[key])}


_LOGS = ("log.csv", "val.csv")


def export_resume(run_dir: str | Path, dest_dir: str | Path) -> Path:
    """Write ``run_dir``'s checkpoint and config as one safetensors file, ``dest_dir/resume.safetensors``
    (atomically), with the run's ``log.csv`` and ``val.csv`` beside it so its curves go on too."""
    run_dir, dest_dir = Path(run_dir), Path(dest_dir)
    dest = dest_dir / "resume.safetensors"
    ck = torch.load(run_dir / "checkpoint.pt", map_location="cpu", weights_only=True)
    tensors: dict[str, torch.Tensor] = {}
    for part in ("model", "ema", "disc"):
        for name, t in (ck.get(part) or {}).items():
            tensors[f"{part}.{name}"] = t.contiguous()
    meta = {"format": _FORMAT, "step": str(int(ck["step"])), "sched": json.dumps(ck["sched"]),
            "config": (run_dir / "config.json").read_text()}
    _flatten_opt("opt", ck["opt"], tensors, meta)
    _flatten_opt("disc_opt", ck.get("disc_opt"), tensors, meta)
    tensors["rng.torch"] = ck["torch_rng"]
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    save_file(tensors, str(part), metadata=meta)
    os.replace(part, dest)
    for name in _LOGS:
        if (run_dir / name).exists():
            tmp = dest_dir / (name + ".part")
            tmp.write_bytes((run_dir / name).read_bytes())
            os.replace(tmp, dest_dir / name)
    return dest


def import_resume(src_dir: str | Path, run_dir: str | Path) -> Path:
    """Rebuild ``run_dir`` (``config.json``, ``checkpoint.pt``, the logs) from what ``export_resume`` wrote
    into ``src_dir``; the run then resumes where it was exported. Refuses to overwrite a checkpoint that is
    as far or further."""
    from oldfilm.errors import UsageError
    from oldfilm.train.loop import save_checkpoint_state

    src_dir, run_dir = Path(src_dir), Path(run_dir)
    src = src_dir / "resume.safetensors"
    if not src.is_file():
        raise UsageError(f"no resume state at {src}")
    with safe_open(str(src), framework="pt") as f:
        meta = f.metadata() or {}
    if meta.get("format") != _FORMAT:
        raise UsageError(f"{src} is not an oldfilm resume state")
    step = int(meta["step"])
    ckpt = run_dir / "checkpoint.pt"
    if ckpt.exists():
        have = int(torch.load(ckpt, map_location="cpu", weights_only=True)["step"])
        if have >= step:
            raise UsageError(f"{ckpt} is already at step {have} ≥ {step}; not overwritten")
    tensors = load_file(str(src))

    def part(prefix: str) -> dict[str, torch.Tensor] | None:
        d = {k[len(prefix) + 1:]: v for k, v in tensors.items() if k.startswith(prefix + ".")}
        return d or None

    state = {"step": step, "model": part("model"), "ema": part("ema"), "disc": part("disc"),
             "opt": _unflatten_opt("opt", tensors, meta), "sched": json.loads(meta["sched"]),
             "disc_opt": _unflatten_opt("disc_opt", tensors, meta), "torch_rng": tensors["rng.torch"],
             "cuda_rng": []}
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(meta["config"])
    for name in _LOGS:
        if (src_dir / name).exists():
            (run_dir / name).write_bytes((src_dir / name).read_bytes())
    save_checkpoint_state(state, ckpt)
    return ckpt
