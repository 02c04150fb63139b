"""``python -m oldfilm.train`` / ``torchrun --nproc_per_node=N -m oldfilm.train``: build the corpus, train,
resume or export.

    python -m oldfilm.train --build-corpus                                       # decode the training sources
    python -m oldfilm.train --config fast-cpu --run-dir runs/fast-cpu            # train (resumes if interrupted)
    python -m oldfilm.train --config fast-gpu --run-dir runs/gpu --minutes 9     # a 9-minute slice, then resume
    torchrun --nproc_per_node=2 -m oldfilm.train --config tiny --run-dir runs/t  # DDP (gloo on CPU)
    python -m oldfilm.train --run-dir runs/fast-cpu --export oldfilm/weights/fast.safetensors
    python -m oldfilm.train --run-dir runs/q --export-resume docs/runs/q    # commit a run's state (safetensors)
    python -m oldfilm.train --run-dir runs/q --import-resume docs/runs/q    # next session: then train again
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys

from oldfilm.train.api import run_training


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m oldfilm.train", description=__doc__.splitlines()[0])
    p.add_argument("--config", default="fast-cpu", help="a TRAIN_PRESETS name or a JSON config file")
    p.add_argument("--run-dir", default=None, help="run folder (config, checkpoint, logs)")
    p.add_argument("--steps", type=int, default=None, help="the total number of steps (also of a resumed run)")
    p.add_argument("--stop-at", type=int, default=None, help="stop (with a checkpoint) at this step")
    p.add_argument("--minutes", type=float, default=None,
                   help="stop (with a checkpoint) after this many minutes of wall time; run again to resume")
    p.add_argument("--init", default=None, help="start a new run from these .safetensors weights (fine-tune)")
    p.add_argument("--export", default=None, help="write the run's EMA weights to this .safetensors file")
    p.add_argument("--export-resume", default=None, metavar="DIR",
                   help="write the run's resume state (resume.safetensors + logs) into DIR, small enough to commit")
    p.add_argument("--import-resume", default=None, metavar="DIR",
                   help="rebuild the run folder from a resume state written by --export-resume")
    p.add_argument("--build-corpus", action="store_true", help="only decode the training sources into the cache")
    args = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    # SIGTERM unwinds like Ctrl-C, so DataLoader workers are shut down instead of being orphaned
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    if args.build_corpus:
        from oldfilm.train.corpus import build_corpus

        print(build_corpus())
        return 0
    if args.run_dir is None:
        p.error("--run-dir is required")
    if args.export_resume or args.import_resume:
        from oldfilm.train.resume import export_resume, import_resume

        if args.export_resume:
            print(export_resume(args.run_dir, args.export_resume))
        else:
            print(import_resume(args.import_resume, args.run_dir))
        return 0
    run_training(args.config, args.run_dir, steps=args.steps, stop_at=args.stop_at, init=args.init,
                 export=args.export, minutes=args.minutes)
    return 0


if __name__ == "__main__":
    sys.exit(main())
