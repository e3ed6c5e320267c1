#!/bin/sh
# Builds the peer-link frame decoder's libFuzzer target with clang (the main build uses g++)
# and runs it for a bounded time over a generated seed corpus. Any finding fails.
# Usage: run-fuzz.sh <source dir> <build dir> [seconds, default 20]
set -eu
src=$1
build=$2
seconds=${3:-20}
cxx=${DUALSP_FUZZ_CXX:-clang++}

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run-fuzz.sh: $cxx not found. The fuzz test needs clang and libclang-rt-14-dev" \
       "(both in tools/debian-packages.txt; run tools/install-deps)." >&2
  exit 1
fi
for f in peer.pb.cc heartbeat.pb.cc; do
  if [ ! -f "$build/proto/$f" ]; then
    echo "run-fuzz.sh: $build/proto/$f is missing; build the ipc target first." >&2
    exit 1
  fi
done

work=$build/tests/fuzz/work
rm -rf "$work"
mkdir -p "$work/seeds" "$work/corpus"
bin=$work/frame_decoder_fuzz

echo "run-fuzz.sh: compiling $bin with $cxx"
if ! "$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
     -I"$src" -I"$build" \
     "$src/tests/fuzz/frame_decoder_fuzz.cpp" "$src/ipc/frame_codec.cpp" \
     "$build/proto/peer.pb.cc" "$build/proto/heartbeat.pb.cc" \
     -lprotobuf-lite -lsodium -o "$bin"; then
  echo "run-fuzz.sh: compiling the fuzz target failed (libFuzzer comes with libclang-rt-14-dev)." >&2
  exit 1
fi

# The binary's generator mode writes a few valid and a few broken frame streams.
DUALSP_FUZZ_WRITE_SEEDS=$work/seeds "$bin"
cp "$work/seeds/"* "$work/corpus/"

echo "run-fuzz.sh: fuzzing for $seconds s"
status=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "$work/corpus" >"$work/fuzz.log" 2>&1 || status=$?
tail -n 25 "$work/fuzz.log"

findings=$(find "$work" -maxdepth 1 \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' \
  -o -name 'oom-*' -o -name 'slow-unit-*' \) | wc -l)
if [ "$status" -ne 0 ] || [ "$findings" -ne 0 ]; then
  echo "run-fuzz.sh: FAILED (exit $status, $findings finding(s) in $work; full log $work/fuzz.log)" >&2
  exit 1
fi
runs=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 runs in \2 s/p' "$work/fuzz.log")
echo "run-fuzz.sh: no findings ($runs)"
