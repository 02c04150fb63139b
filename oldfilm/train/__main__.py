"""``python -m oldfilm.train`` / ``torchrun --nproc_per_node=N -m oldfilm.train``: train, resume or export.

    python -m oldfilm.train --config fast-cpu --run runs/fast-cpu            # train (resumes if interrupted)
    torchrun --nproc_per_node=2 -m oldfilm.train --config tiny --run runs/t  # DDP (gloo on CPU)
    python -m oldfilm.train --run runs/fast-cpu --export oldfilm/weights/fast.safetensors
"""

from __future__ import annotations

import argparse
import logging
import sys

from oldfilm.train.api import run_training


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m oldfilm.train", description=__doc__.splitlines()[0])
    p.add_argument("--config", default="fast-cpu", help="a TRAIN_PRESETS name or a JSON config file")
    p.add_argument("--run", required=True, help="run folder (config, checkpoint, logs)")
    p.add_argument("--steps", type=int, default=None, help="override the total number of steps")
    p.add_argument("--stop-at", type=int, default=None, help="stop (with a checkpoint) at this step")
    p.add_argument("--export", default=None, help="write the run's EMA weights to this .safetensors file")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    run_training(args.config, args.run, steps=args.steps, stop_at=args.stop_at, export=args.export)
    return 0


if __name__ == "__main__":
    sys.exit(main())
