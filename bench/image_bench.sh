#!/usr/bin/env bash
# The image benchmark of docs/image.md: a DistilBERT-base-shaped random checkpoint baked into
# onnx fp32, onnx int8 and torch fp32 images (make image), then for each image N fresh
# containers (python -m bench coldstart --image): start → first answer, peak memory on the
# ~380-token request, image size. Results: bench/out/image/*.json and the markdown rows.
#
#   bench/image_bench.sh [RUNS]        (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-5}
model=models/distilbert-base-random
out=bench/out/image
[[ -f "$model/config.json" ]] || .venv/bin/python -m bench.fake_model "$model" --preset distilbert-base >/dev/null
mkdir -p "$out"
images=()
for variant in onnx:fp32 onnx:int8 torch:fp32; do
  runtime=${variant%:*} precision=${variant#*:}
  images+=("$(make --no-print-directory image MODEL_SOURCE="$model" RUNTIME="$runtime" \
    PRECISION="$precision" IMAGE="qa-bench:$runtime-$precision" 2>>"$out/build.log" | tail -n1)")
done
for image in "${images[@]}"; do
  .venv/bin/python -m bench coldstart --image "$image" --runs "$runs" --out "$out" 2>>"$out/runs.log"
done
