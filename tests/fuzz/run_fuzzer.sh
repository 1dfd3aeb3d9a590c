#!/usr/bin/env bash
# Runs one libFuzzer target briefly for ctest (tests/fuzz/CMakeLists.txt).
#
# Usage: run_fuzzer.sh <fuzzer> <seed corpus dir> <work dir> <runs> <max seconds>
#        run_fuzzer.sh --unavailable "<reason>"      (the toolchain is missing: fail, saying why)
#
# New inputs libFuzzer finds go to <work dir>/corpus (in the build tree); the seeds in the source
# tree are only read. A crash leaves its input in <work dir>/ and fails the test.
set -euo pipefail

if [[ "${1:-}" == "--unavailable" ]]; then
  echo "fuzz target not built: ${2:-unknown reason}"
  exit 1
fi

fuzzer=$1 seeds=$2 work=$3 runs=$4 seconds=$5
mkdir -p "$work/corpus"
exec "$fuzzer" -runs="$runs" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds"
