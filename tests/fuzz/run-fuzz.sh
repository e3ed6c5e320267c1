#!/bin/sh
# Builds one libFuzzer target with clang (the main build uses g++) and runs it for a bounded
# time over the seed corpus the target writes itself. Any finding fails.
# Usage: run-fuzz.sh <source dir> <build dir> [seconds, default 20] [target, default
#        frame_decoder_fuzz]
# Targets (each file's header says what it feeds and which invariants it checks):
#   frame_decoder_fuzz      the peer link's frame decoder
#   config_store_fuzz       recovery of the configuration store from whatever files are on disk
#   heartbeat_fuzz          UDP heartbeat frames and midplane slots (MAC, parse, conversion), and
#                           the election driven by hostile beats, time steps and chassis answers
#   event_destination_fuzz  event subscription Destination URLs: parse, policy, request head
#   request_handlers_fuzz   spweb's dispatcher and route handlers (real route table, fake spd
#                           and status board): methods, paths, queries, headers, bodies
# A target may come with tests/fuzz/<target>.dict (libFuzzer -dict).
set -eu
src=$1
build=$2
seconds=${3:-20}
target=${4:-frame_decoder_fuzz}
cxx=${DUALSP_FUZZ_CXX:-clang++}
defines=
libs=

case $target in
  frame_decoder_fuzz)
    sources="$src/ipc/frame_codec.cpp $build/proto/peer.pb.cc $build/proto/heartbeat.pb.cc"
    protos="peer.pb.cc heartbeat.pb.cc" ;;
  config_store_fuzz)
    sources="$src/sp/config_store/config_store.cpp $src/sp/config_store/journal.cpp
             $src/sp/config_store/crc32c.cpp $src/sp/durable_file.cpp $src/platform/log.cpp $src/platform/text.cpp
             $build/proto/config.pb.cc $build/proto/heartbeat.pb.cc"
    protos="config.pb.cc heartbeat.pb.cc" ;;
  heartbeat_fuzz)
    sources="$src/heartbeat/election.cpp $src/heartbeat/heartbeat_frame.cpp
             $src/heartbeat/midplane_path.cpp $src/platform/midplane_segment.cpp
             $src/platform/private_shm.cpp $src/platform/privilege.cpp $src/ipc/frame_codec.cpp
             $src/platform/log.cpp
             $src/platform/text.cpp $build/proto/heartbeat.pb.cc $build/proto/peer.pb.cc"
    protos="heartbeat.pb.cc peer.pb.cc" ;;
  event_destination_fuzz)
    sources="$src/ipc/event_destination.cpp"
    protos="" ;;
  request_handlers_fuzz)
    web=$src/webserver
    sources="$web/http_types.cpp $web/route_table.cpp $web/redfish_messages.cpp
             $web/redfish_format.cpp $web/bus_command.cpp $web/read_cache.cpp $web/request_body.cpp
             $web/request_read_cache.cpp $web/query.cpp $web/query_apply.cpp
             $web/config_access.cpp $web/sse_stream.cpp $web/dispatcher.cpp $web/idempotency.cpp
             $web/routes/*.cpp
             $build/webserver/console_assets.cpp
             $web/auth.cpp $web/account_access.cpp $web/protocol.cpp
             $src/ipc/event_destination.cpp $src/ipc/event_json.cpp $src/platform/log.cpp
             $src/platform/text.cpp $src/platform/tls_certificate.cpp
             $src/platform/tls_private_file.cpp
             $build/proto/bus.pb.cc $build/proto/command.pb.cc
             $build/proto/config.pb.cc $build/proto/heartbeat.pb.cc"
    protos="bus.pb.cc command.pb.cc config.pb.cc heartbeat.pb.cc"
    # The HTTPS certificate's routes too (routes/certificate_service.cpp, OpenSSL's libcrypto).
    defines="-DDUALSP_FIRMWARE_VERSION=\"0.0.0+fuzz\" -DDUALSP_TLS_CERTIFICATES=1"
    libs=-lcrypto ;;
  *)
    echo "run-fuzz.sh: unknown target $target" >&2
    exit 1 ;;
esac

if ! command -v "$cxx" >/dev/null 2>&1; then
  echo "run-fuzz.sh: $cxx not found. The fuzz test needs clang and libclang-rt-14-dev" \
       "(both in tools/debian-packages.txt; run tools/install-deps)." >&2
  exit 1
fi
for f in $protos; do
  if [ ! -f "$build/proto/$f" ]; then
    echo "run-fuzz.sh: $build/proto/$f is missing; build the ipc target first." >&2
    exit 1
  fi
done
# The web console's files, embedded by the main build (webserver/console/embed.cmake).
case $sources in
  *console_assets.cpp*)
    if [ ! -f "$build/webserver/console_assets.cpp" ]; then
      echo "run-fuzz.sh: $build/webserver/console_assets.cpp is missing; build the webserver target first." >&2
      exit 1
    fi ;;
esac

work=$build/tests/fuzz/work-$target
rm -rf "$work"
mkdir -p "$work/seeds" "$work/corpus"
bin=$work/$target

# One object per source, two at a time, through ccache when there is one: the request handlers
# target has some forty sources, and a second run (or CI after a first) then only links.
launcher=
if command -v ccache >/dev/null 2>&1; then launcher=ccache; fi
flags="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
mkdir -p "$work/obj"
echo "run-fuzz.sh: compiling $bin with $launcher $cxx"
i=0
for f in "$src/tests/fuzz/$target.cpp" $sources; do
  i=$((i + 1))
  printf '%s\0%s\0' "$f" "$work/obj/$i-$(basename "$f").o"
done | xargs -0 -n 2 -P "${DUALSP_FUZZ_JOBS:-2}" sh -c \
  'exec $0 $1 -c -I"$2" -I"$3" $4 "$5" -o "$6"' "${launcher:-env}" "$cxx $flags" "$src" "$build" \
  "$defines" || {
  echo "run-fuzz.sh: compiling the fuzz target failed (libFuzzer comes with libclang-rt-14-dev)." >&2
  exit 1
}
if ! "$cxx" $flags "$work"/obj/*.o -lprotobuf-lite -lsodium $libs -pthread -lrt -o "$bin"; then
  echo "run-fuzz.sh: linking the fuzz target failed." >&2
  exit 1
fi

# The binary's generator mode writes a few valid and a few broken frame streams.
DUALSP_FUZZ_WRITE_SEEDS=$work/seeds "$bin"
cp "$work/seeds/"* "$work/corpus/"

dict=
if [ -f "$src/tests/fuzz/$target.dict" ]; then dict=-dict=$src/tests/fuzz/$target.dict; fi

echo "run-fuzz.sh: fuzzing for $seconds s"
status=0
"$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $dict \
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
