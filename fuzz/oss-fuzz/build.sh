#!/bin/bash -eu
# Builds every fuzz target of fuzz/ into $OUT, with its dictionary, seed corpus and libFuzzer
# options, following OSS-Fuzz's documented Rust layout (base-builder-rust, `cargo fuzz build
# -O`). The build flags are the ones `cargo xtask fuzz` (xtask/src/fuzz.rs, BUILD_FLAGS) and
# CI build with, so that CI measures what OSS-Fuzz and ClusterFuzzLite run: debug assertions
# and overflow checks on (silent wrap-arounds become findings) and no trace-compares
# instrumentation, and coverage instrumentation of the code under test only: not of
# third-party crates, nor of the fuzz targets' input decoding (fuzz/README.md, "Build
# configuration, and why", has the measurements).
# The one difference: OSS-Fuzz builds with its sanitizer (AddressSanitizer, project.yaml);
# locally and in CI, SANITIZER=none. The same script serves ClusterFuzzLite
# (.clusterfuzzlite/build.sh) and runs locally, as `cargo xtask ci` does:
#   OUT=/tmp/fuzz-out SANITIZER=none RUSTC_BOOTSTRAP=1 fuzz/oss-fuzz/build.sh
# (locally, without the base image's nightly toolchain, RUSTC_BOOTSTRAP=1 lets stable accept
# cargo-fuzz's -Z flags; CARGO_FUZZ_BUILD_FLAGS adds `cargo fuzz build` flags for
# experiments, and CI leaves it unset).
SRC_DIR="${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}"
if [ -d "$SRC_DIR/corsproof/fuzz" ]; then
  SRC_DIR="$SRC_DIR/corsproof"
fi
: "${OUT:?set OUT to the output directory}"
mkdir -p "$OUT"
cd "$SRC_DIR"

# Coverage instrumentation for the code under test and the fuzz drivers only
# (fuzz/scope-coverage.sh says why). Cargo does not rebuild a crate when the wrapper changes,
# but does when RUSTFLAGS do: the marker cfg (numbered: it goes up when the wrapper's rule
# changes) keeps artifacts of builds under another rule from being reused.
export RUSTC_WRAPPER="$SRC_DIR/fuzz/scope-coverage.sh"
export RUSTFLAGS="${RUSTFLAGS:-} --cfg corsproof_coverage_scope_2"
flags=(-O --debug-assertions --no-trace-compares)
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
  # libFuzzer options (max_len), also read by `cargo xtask fuzz`.
  if [ -f "fuzz/options/$target.options" ]; then
    cp "fuzz/options/$target.options" "$OUT/"
  fi
  rm -f "$OUT/${target}_seed_corpus.zip"
  # The checked-in seeds and the kept crashes (corpus/regressions/), so that ClusterFuzzLite
  # and OSS-Fuzz replay the regressions too.
  seeds=("corpus/$target"/*)
  if [ -d "corpus/regressions/$target" ]; then
    seeds+=("corpus/regressions/$target"/*)
  fi
  zip -q -j "$OUT/${target}_seed_corpus.zip" "${seeds[@]}"
done

# The live target's server: nginx from the base image's packages (the Dockerfile installs
# nginx-light), copied next to the binaries with the shared libraries it needs besides the C
# library, since the image that runs the fuzzers has no nginx. The live target starts
# $OUT/nginx with LD_LIBRARY_PATH=$OUT/nginx-lib (fuzz/src/live.rs).
nginx_bin=""
for candidate in "$(command -v nginx || true)" /usr/sbin/nginx; do
  if [ -n "$candidate" ] && [ -x "$candidate" ]; then
    nginx_bin="$candidate"
    break
  fi
done
if [ -n "$nginx_bin" ]; then
  cp "$nginx_bin" "$OUT/nginx"
  rm -rf "$OUT/nginx-lib"
  mkdir -p "$OUT/nginx-lib"
  ldd "$nginx_bin" | awk '$2 == "=>" && $3 ~ /^\// {print $3}' \
    | grep -v -E '/(libc|libm|libpthread|libdl|ld-linux[^/]*)\.so' \
    | while read -r lib; do cp -L "$lib" "$OUT/nginx-lib/"; done
fi
