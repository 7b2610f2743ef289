#!/bin/bash
# The RUSTC_WRAPPER of every fuzz build (fuzz/oss-fuzz/build.sh, `cargo xtask fuzz`): the code
# under test (this repository's crates) and the fuzz drivers and checks (fuzz/src/, the
# corsproof-fuzz library) are built as cargo-fuzz asks, with SanitizerCoverage. Two kinds of
# crates are built without the coverage instrumentation, everything else unchanged (--cfg
# fuzzing, debug assertions, a sanitizer when OSS-Fuzz asks for one):
# - every third-party crate (url, idna, toml, serde_json, http, arbitrary, libfuzzer-sys...);
# - the fuzz targets themselves (fuzz/fuzz_targets/*.rs, the binaries of the corsproof-fuzz
#   package): what they hold is the decoding of libFuzzer's bytes into a structured input
#   (arbitrary's derives, picks from vocabularies), whose branches say how an input was
#   decoded, not what it made the code under test do.
#
# Why: libFuzzer's work per execution grows with the distinct edges the execution runs; edges
# inside third-party parsers guide the fuzzer through their code, not ours, and edges of the
# decoding make it keep inputs that are new only in their shape. fuzz/README.md ("Build
# configuration, and why"; "Coverage of this repository's crates only" and "The fuzz targets'
# decoding uninstrumented") has the side-by-side measurements: more executions per second,
# and as much or more of the code under test covered in the same time. Generic code
# is compiled in the crate that instantiates it: a dependency's generics instantiated in our
# crates (serde's derives, for one) keep their instrumentation, and the code under test keeps
# its work in non-generic functions (Response::new's from_lines, for one) so that a target
# calling it does not compile an uninstrumented copy.
#
# A crate is ours when cargo builds it from a directory under this repository
# (CARGO_MANIFEST_DIR, which cargo sets for every rustc it runs); a fuzz target is a binary
# (CARGO_BIN_NAME, set for binaries only) of the package in fuzz/.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
manifest_dir="$(cd "${CARGO_MANIFEST_DIR:-/}" 2>/dev/null && pwd -P)"
case "$manifest_dir/" in
  "$root"/fuzz/*) [ -n "${CARGO_BIN_NAME:-}" ] || exec "$@" ;;
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
