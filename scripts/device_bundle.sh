#!/usr/bin/env bash
# Prepare .device/ (git-ignored) for training on a lent GPU machine, which reaches no package registry:
#   .device/whl/av-*.whl           PyAV for the machine's Python 3.12 (decodes the sources there)
#   .device/cache/sources/*        the packaged clips (training videos, and bikes.mp4 for validation only)
#   .device/runs/NAME/             the run to resume (checkpoint, config, logs, validation set), when RUN_DIR is given
# Usage: scripts/device_bundle.sh [RUN_DIR]      then, with the device tool:
#   run(command="bash scripts/device_train.sh CONFIG NAME MINUTES", carry=[".device"])
# The corpus is rebuilt on the machine from the sources (its scikit-image/scikit-learn give their photographs,
# the bundle brings the Debian packages' ones: .device/cache/sources/*-photos):
# 129 MB of decoded frames would not fit the 64 MiB that may travel.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
mkdir -p .device/whl .device/cache/sources .device/runs
AV=$("$PY" -c 'import av; print(av.__version__)')
ls .device/whl/av-"$AV"-*.whl >/dev/null 2>&1 || "$PY" -m pip download -q --no-deps --only-binary=:all: \
    --python-version 3.12 --implementation cp --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    -d .device/whl "av==$AV"
"$PY" - <<'PY'
import shutil
from pathlib import Path
from oldfilm.io.sources import CLIPS, packaged_clip
from oldfilm.train.validate import VAL_CLIP
for name in CLIPS:  # the training clips and the validation clip (the validation curve needs it), no other
    if CLIPS[name].role != "train" and name != VAL_CLIP:
        continue
    src = packaged_clip(name)
    dest = Path(".device/cache/sources") / src.name
    if src.is_dir():  # a folder of frames (the office clip)
        shutil.copytree(src, dest, dirs_exist_ok=True)
    else:
        shutil.copy2(src, dest)
# the photographs of Debian packages (corpus.DEB_PHOTOS): the machine cannot download them
from oldfilm.train.corpus import deb_photo_dirs
for kept in deb_photo_dirs().values():
    shutil.copytree(kept, Path(".device/cache/sources") / kept.name, dirs_exist_ok=True)
PY
# a corpus decoded here by an earlier dry run would travel too (160 MB): the machine decodes its own
rm -rf .device/cache/corpus
if [ $# -ge 1 ]; then
    name=$(basename "$1")
    mkdir -p ".device/runs/$name"
    for f in checkpoint.pt config.json log.csv val.csv val_set.npz; do
        [ -f "$1/$f" ] && cp "$1/$f" ".device/runs/$name/"
    done
fi
size=$(du -sm .device | cut -f1)
echo ".device: ${size} MB"
if [ "$size" -gt 60 ]; then
    echo "warning: .device is over 60 MB; with the repository it may exceed the 64 MiB that travels" >&2
fi
