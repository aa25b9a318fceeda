#!/usr/bin/env bash
# Download (here, where pip reaches PyPI) exactly the wheels benchmarks/gpu/run.sh installs on the GPU
# machine (Python 3.12, torch 2.11 and the packages its image lists in the device docs already there).
#
# Why this list: it is what `sys.modules` holds after gpu_job loads a FastConformer-TDT .nemo and
# transcribes through the batched engine (96 distributions; measured with importlib.metadata's
# packages_distributions), minus what the GPU image already has. NeMo itself goes in with --no-deps.
# antlr4-python3-runtime 4.9.3 (omegaconf's parser) is published as an sdist only: built into a wheel.
# silero-vad's wheel carries eight model files (11 MB); the copy made here keeps the two gpu_job.engine.vad
# loads (sequence ONNX, TorchScript) and drops the rest, so the set fits the 64 MiB a run may carry.
# Usage: bash benchmarks/gpu/fetch_wheels.sh [DIR=.whl]
set -euo pipefail
dir="${1:-.whl}"
mkdir -p "$dir"
pins=(
  nemo_toolkit==3.0.0 av==18.1.0 silero-vad==6.2.3 py3langid==0.4.0 julius==0.2.8
  omegaconf==2.3.0 hydra-core==1.3.2 lhotse==1.33.0 librosa==0.11.0 soundfile==0.14.0 cffi==2.1.1
  pydantic==2.14.4 pydantic_core==2.50.5 annotated-types==0.8.0 typing-inspection==0.4.5
  kaldialign==0.12.0 cytoolz==1.2.0 intervaltree==3.2.1 braceexpand==0.1.7 webdataset==1.0.2
  datasets==5.2.0 dill==0.4.1 multiprocess==0.70.19 decorator==5.3.1 pooch==1.9.0 platformdirs==4.14.9
  nv-one-logger-core==2.3.1 nv-one-logger-training-telemetry==2.3.1
  nv-one-logger-pytorch-lightning-integration==2.3.1 overrides==7.7.0 StrEnum==0.4.15 toml==0.10.2
  googleapis-common-protos==1.76.0 httpx2==2.16.2 httpcore2==2.16.2 sniffio==1.3.1 truststore==0.10.5
)
for pin in "${pins[@]}"; do
  python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_24_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 --platform any -d "$dir" "$pin"
done
python3 -m pip wheel -q --no-deps -w "$dir" antlr4-python3-runtime==4.9.3
python3 - "$dir" <<'PY'
import pathlib, sys, zipfile
d = pathlib.Path(sys.argv[1])
(src,) = d.glob("silero_vad-6.2.3-*.whl")
keep = ("silero_vad_16k_sequence.onnx", "silero_vad.jit")
tmp = src.with_suffix(".tmp")
with zipfile.ZipFile(src) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
    for item in zin.infolist():
        name = item.filename
        if "/data/" in name and not name.endswith(("__init__.py", *keep)):
            continue
        data = zin.read(name)
        if name.endswith("RECORD"):
            data = b"\n".join(l for l in data.split(b"\n") if b"/data/" not in l or l.split(b",")[0].endswith((b"__init__.py", *(k.encode() for k in keep)))) + b"\n"
        zout.writestr(item, data)
tmp.replace(src)
PY
ls -l "$dir"
du -cb "$dir"/*.whl | tail -1 | awk '{printf "total %.1f MiB in %s\n", $1/1048576, "'"$dir"'"}'
