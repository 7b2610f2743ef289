#!/bin/bash -eu
# Builds every fuzz target of fuzz/ into $OUT, with its dictionary and seed corpus, following
# OSS-Fuzz's documented Rust layout (base-builder-rust, `cargo fuzz build -O`; with debug
# assertions and overflow checks, which turn silent wrap-arounds into findings). The same
# script serves ClusterFuzzLite (.clusterfuzzlite/build.sh) and runs locally, as `cargo xtask
# ci` does:
#   OUT=/tmp/fuzz-out SANITIZER=none RUSTC_BOOTSTRAP=1 fuzz/oss-fuzz/build.sh
# (locally, without the base image's nightly toolchain, RUSTC_BOOTSTRAP=1 lets stable accept
# cargo-fuzz's -Z flags; SANITIZER=none builds without AddressSanitizer;
# CARGO_FUZZ_BUILD_FLAGS adds `cargo fuzz build` flags, e.g. the --no-trace-compares of
# `cargo xtask fuzz`, so that both share one build).
SRC_DIR="${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -d "$SRC_DIR/corsproof/fuzz" ]; then
  SRC_DIR="$SRC_DIR/corsproof"
fi
: "${OUT:?set OUT to the output directory}"
mkdir -p "$OUT"
cd "$SRC_DIR"

flags=(-O --debug-assertions)
if [ "${SANITIZER:-address}" = "none" ]; then
  flags+=(--sanitizer none)
fi
read -r -a extra <<< "${CARGO_FUZZ_BUILD_FLAGS:-}"
flags+=(${extra[@]+"${extra[@]}"})
cargo fuzz build "${flags[@]}"

release=fuzz/target/x86_64-unknown-linux-gnu/release
for source in fuzz/fuzz_targets/*.rs; do
  target=$(basename "${source%.rs}")
  cp "$release/$target" "$OUT/"
  cp fuzz/dicts/cors.dict "$OUT/$target.dict"
  rm -f "$OUT/${target}_seed_corpus.zip"
  # The checked-in seeds and the kept crashes (corpus/regressions/), so that ClusterFuzzLite
  # and OSS-Fuzz replay the regressions too.
  seeds=("corpus/$target"/*)
  if [ -d "corpus/regressions/$target" ]; then
    seeds+=("corpus/regressions/$target"/*)
  fi
  zip -q -j "$OUT/${target}_seed_corpus.zip" "${seeds[@]}"
done
