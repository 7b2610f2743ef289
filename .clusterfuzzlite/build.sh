#!/bin/bash -eu
# ClusterFuzzLite reuses OSS-Fuzz's build script.
exec "$SRC/corsproof/fuzz/oss-fuzz/build.sh"
