#!/usr/bin/env bash
# The ctest core.wasm32_wasi_matches_native: runs the same seeded command stream through the core
# built natively and built for wasm32-wasi, and fails unless both print the same digest line
# (event count, FNV-1a of every event's bytes, state hash).
#
# Usage: run_compare.sh NODE RUN_MJS MODULE.wasm NATIVE_EXE COUNT SEED [SEED...]
#        run_compare.sh --unavailable "REASON"   (configure found no wasm toolchain: always fails)
set -euo pipefail

if [[ "${1:-}" == "--unavailable" ]]; then
  echo "FAIL: the wasm32-wasi build of the core was not configured: ${2:-unknown reason}" >&2
  echo "      Install the toolchain (scripts/bootstrap: clang-19 lld-19 libc++-19-dev-wasm32" >&2
  echo "      libc++abi-19-dev-wasm32 libclang-rt-19-dev-wasm32 wasi-libc nodejs) and re-run cmake," >&2
  echo "      or configure with -DPEREGRINE_WASM=OFF to leave this check out on purpose." >&2
  exit 1
fi

if [[ $# -lt 6 ]]; then
  echo "usage: $0 NODE RUN_MJS MODULE.wasm NATIVE_EXE COUNT SEED [SEED...]" >&2
  exit 2
fi
node=$1 runner=$2 module=$3 native=$4 count=$5
# node:wasi needs a flag before Node 20 (Debian 12's own nodejs is 18).
node_flags=()
if [[ $("$node" -p 'process.versions.node.split(".")[0]') -lt 20 ]]; then
  node_flags=(--experimental-wasi-unstable-preview1)
fi
shift 5

for f in "$module" "$native"; do
  if [[ ! -f "$f" ]]; then
    echo "FAIL: $f does not exist: build first (cmake --build <dir>; the wasm is target peregrine_wasm)" >&2
    exit 1
  fi
done

# wabt's validator, where installed: a malformed module fails here rather than in Node.
if command -v wasm-validate >/dev/null 2>&1; then
  wasm-validate "$module" || { echo "FAIL: wasm-validate rejects $module" >&2; exit 1; }
  echo "wasm-validate: ok ($(wc -c <"$module") bytes)"
fi

status=0
for seed in "$@"; do
  native_line=$("$native" "$seed" "$count") || {
    echo "FAIL: native run exited with $? (seed $seed)" >&2
    exit 1
  }
  wasm_line=$("$node" --no-warnings "${node_flags[@]}" "$runner" "$module" "$seed" "$count") || {
    echo "FAIL: wasm run exited with $? (seed $seed)" >&2
    exit 1
  }
  echo "native: $native_line"
  echo "wasm:   $wasm_line"
  if [[ -z "$native_line" || "$native_line" != "$wasm_line" ]]; then
    echo "FAIL: seed $seed: wasm32-wasi and native results differ" >&2
    status=1
  fi
done
if [[ $status -eq 0 ]]; then
  echo "OK: wasm32-wasi matches native for $# seed(s) x $count commands"
fi
exit $status
