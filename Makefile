# sketch2face. Two commands do all the setup on a fresh machine:
#   make run    fetch ONNX Runtime, build (release) and start the desktop app
#   make test   fetch ONNX Runtime, create the Python venv, run every Rust and Python test
#   make test-rust   the quick path: the Rust tests only, without the Python venv (5.9 GB)
#   make doctor      check the prerequisites first; says what is missing and how to get it
# Every step is idempotent: a second run only does what changed.

CARGO  ?= cargo
PYTHON ?= .venv/bin/python
# Written after `make venv` succeeded; redone when training/requirements.txt changes.
VENV_STAMP := .venv/.installed

.DEFAULT_GOAL := help
.PHONY: help runtime runtime-gpu build run test test-rust bench bench-gpu dist test-dist

help:  ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed -E 's/:.*## /\t/' | expand -t 18

.PHONY: doctor
doctor:  ## check the prerequisites (Rust, Python, build tools, libraries, disk): what is missing, how to get it
	@scripts/doctor.sh

runtime:  ## ONNX Runtime 1.31.1 (CPU) from its PyPI wheel -> third_party/onnxruntime/
	scripts/fetch-onnxruntime.sh cpu

runtime-gpu:  ## ONNX Runtime 1.31.1 with CUDA 13 + cuDNN 9 -> third_party/onnxruntime-gpu/ (several GB)
	scripts/fetch-onnxruntime.sh gpu

build: runtime  ## release build of the app and the command line
	$(CARGO) build --release

run: runtime  ## start the desktop app
	$(CARGO) run --release

test: runtime $(VENV_STAMP)  ## every test: Rust (unit, integration, app), a short fuzz run, Python (training/), the bundle
	$(CARGO) test
	scripts/app_recovery.sh
	scripts/fuzz.sh all $(FUZZ_SECONDS)
	$(PYTHON) -m pytest training/tests -q
	PROFILE=$(TEST_DIST_PROFILE) CARGO=$(CARGO) scripts/test-dist.sh

test-rust: runtime  ## the Rust tests only
	$(CARGO) test

.PHONY: soak
SOAK_STEPS ?= 10000
soak: runtime  ## the app soak, release build: SOAK_STEPS (10,000) random operations in the headless harness (CI: 1,000, debug)
	SOAK_STEPS=$(SOAK_STEPS) $(CARGO) test --release --test soak -- --nocapture

.PHONY: test-recovery
test-recovery:  ## the app under Xvfb: draw, kill -9, restart, the drawing is back (needs xvfb xdotool x11-apps imagemagick)
	$(CARGO) build
	scripts/app_recovery.sh

# ---- fuzzing (fuzz/README.md) -------------------------------------------------------------------
# Seconds per target in `make test` and `make fuzz`; `scripts/fuzz.sh TARGET SECONDS --keep` grows the corpus.
FUZZ_SECONDS ?= 30

.PHONY: fuzz
fuzz:  ## every fuzz target for FUZZ_SECONDS (default 30) each, from the committed corpus (libFuzzer, stable Rust)
	scripts/fuzz.sh all $(FUZZ_SECONDS)

# ---- the download (README "Download and run") ------------------------------------------------------------
# `make dist` bundles the release build; PROFILE=debug bundles the debug build instead. The tests bundle the
# debug build `cargo test` has just made, so CI never builds twice (a release build takes ~10 min on 2 cores).
PROFILE ?= release
TEST_DIST_PROFILE ?= debug

dist: runtime  ## the download: dist/sketch2face-<version>-linux-x86_64.tar.gz (release build)
	PROFILE=$(PROFILE) CARGO=$(CARGO) scripts/dist.sh

test-dist: runtime  ## bundle, unpack, run bare from elsewhere, install, uninstall (debug build)
	PROFILE=$(TEST_DIST_PROFILE) CARGO=$(CARGO) scripts/test-dist.sh

# ---- benchmarks (BENCHMARKS.md) ----------------------------------------------------------------
bench: runtime $(VENV_STAMP) target/bench/reference.onnx  ## benchmarks (release) -> target/bench/summary.json
	$(CARGO) bench --bench pipeline
	$(CARGO) bench --bench face
	$(CARGO) bench --bench side_by_side -- --out target/bench/side_by_side.json
	$(CARGO) bench --bench live -- --out target/bench/live.json
	$(CARGO) bench --bench live -- --photographic true --out target/bench/live_v3.json
	$(CARGO) bench --bench serve_load -- --out target/bench/serve_load.json
	$(PYTHON) scripts/bench_summary.py

bench-gpu:  ## CUDA latency and batch throughput (needs an NVIDIA GPU; fetches the gpu runtime)
	scripts/bench_gpu.sh

# The reference pix2pix generator with random weights, for the side-by-side run (never committed).
target/bench/reference.onnx: training/export_reference.py training/networks.py training/export.py | $(VENV_STAMP)
	$(PYTHON) -m training.export_reference --out $@

$(VENV_STAMP): training/requirements.txt
	$(MAKE) venv
	touch $@

# The training pipeline's targets: venv, data, train, evaluate, export, guide, test-training.
include training/Makefile.inc
