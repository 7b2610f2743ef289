#!/bin/bash
# The RUSTC_WRAPPER of every fuzz build (fuzz/oss-fuzz/build.sh, `cargo xtask fuzz`): this
# repository's crates (the code under test and the fuzz targets) are built as cargo-fuzz asks,
# with SanitizerCoverage; every other crate (url, idna, toml, serde_json, http, arbitrary,
# libfuzzer-sys...) is built without the coverage instrumentation, everything else unchanged
# (--cfg fuzzing, debug assertions, a sanitizer when OSS-Fuzz asks for one).
#
# Why: libFuzzer's work per execution grows with the distinct edges the execution runs, and
# edges inside third-party parsers guide the fuzzer through their code, not ours.
# fuzz/README.md ("Coverage of this repository's crates only") has the side-by-side
# measurements: more executions per second and more of our own edges covered in the same
# time. Generic code of a dependency instantiated in our crates (serde's derives, for one)
# is compiled in our crates and keeps its instrumentation.
#
# A crate is ours when cargo builds it from a directory under this repository
# (CARGO_MANIFEST_DIR, which cargo sets for every rustc it runs).
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
manifest_dir="$(cd "${CARGO_MANIFEST_DIR:-/}" 2>/dev/null && pwd -P)"
case "$manifest_dir/" in
  "$root"/*) exec "$@" ;;
esac
rustc="$1"
shift
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -Cpasses=sancov-module | -Cllvm-args=-sanitizer-coverage-*) ;;
    -C)
      # The same flags written as two arguments.
      case "${2:-}" in
        passes=sancov-module | llvm-args=-sanitizer-coverage-*) shift ;;
        *) args+=("$1") ;;
      esac
      ;;
    *) args+=("$1") ;;
  esac
  shift
done
exec "$rustc" ${args[@]+"${args[@]}"}
