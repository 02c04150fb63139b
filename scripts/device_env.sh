# Sourced by the device scripts (device_train.sh, device_parallel.sh) on the lent GPU machine: PyAV from
# .device/whl when its Python lacks it, the project and its cache on the path, the training corpus decoded
# from .device/cache/sources, and the GPU torch sees printed. Sets PY (default python3).
PY=${PY:-python3}
if ! "$PY" -c 'import av' 2>/dev/null; then
    "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target /tmp/site .device/whl/*.whl
    export PYTHONPATH=/tmp/site:${PYTHONPATH:-}
fi
export PYTHONPATH=$PWD:${PYTHONPATH:-} OLDFILM_CACHE=$PWD/.device/cache PYTHONUNBUFFERED=1
"$PY" -m oldfilm.train --build-corpus >/dev/null || exit 1
"$PY" -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(),
      torch.cuda.get_device_name(0) if torch.cuda.is_available() else "")'
