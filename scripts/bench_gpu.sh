#!/usr/bin/env bash
# CUDA latency and batch throughput of the shipped generator (and of the reference pix2pix
# generator, exported as for `make bench`), on a machine with an NVIDIA GPU.
#
#   scripts/bench_gpu.sh            -> target/bench/gpu.json, and a summary on stdout
#
# Needs the `gpu` runtime variant (make runtime-gpu: onnxruntime-gpu with the CUDA 13 and
# cuDNN 9 libraries in third_party/onnxruntime-gpu/) and an NVIDIA driver that supports CUDA 13.
# Latency is batch 1 with host tensors in and out (what the app does); throughput is images
# per second at batch 1, 4, 16 and 64. See BENCHMARKS.md.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
if [[ -x .venv/bin/python ]]; then python=.venv/bin/python; else python="${PYTHON:-python3}"; fi

if ! command -v nvidia-smi >/dev/null 2>&1 || ! nvidia-smi >/dev/null 2>&1; then
    echo "error: no NVIDIA GPU (nvidia-smi failed); the CUDA figures need one" >&2
    exit 1
fi
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader

make runtime-gpu
mkdir -p target/bench
if [[ ! -f target/bench/reference.onnx ]]; then
    "$python" -m training.export_reference --out target/bench/reference.onnx
fi
cargo bench --bench gpu -- --out target/bench/gpu.json "$@"
