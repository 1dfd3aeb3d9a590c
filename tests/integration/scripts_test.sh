#!/usr/bin/env bash
# scripts/send-order and scripts/itch-dump as a newcomer runs them (issue #20): with no server,
# with a price that is not a number and other bad input, each says what is wrong in one line on
# stderr and exits non-zero, never with a Python traceback; against the real server (demo
# configuration, ephemeral ports, no journal), reject and login-reject reasons are printed by name
# and a market order's price reads "market".
# Usage: scripts_test.sh PEREGRINE_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
work=$(mktemp -d)
server_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# expect_refusal STATUS 'STDERR TEXT' SCRIPT ARGS...: exit STATUS, exactly one stderr line holding
# the text, nothing on stdout, no traceback.
expect_refusal() {
  local want_status=$1 want=$2 script=$3
  shift 3
  local status=0
  python3 "$src/scripts/$script" "$@" >"$work/out" 2>"$work/err" || status=$?
  local what="$script $*"
  [[ $status == "$want_status" ]] || fail "$what: exit $status, want $want_status"
  [[ $(wc -l <"$work/err") == 1 ]] || fail "$what: stderr is not one line: $(cat "$work/err")"
  grep -qF -- "$want" "$work/err" || fail "$what: stderr lacks '$want': $(cat "$work/err")"
  ! grep -q Traceback "$work/err" || fail "$what: a traceback"
  [[ ! -s $work/out ]] || fail "$what: stdout not empty: $(cat "$work/out")"
}

# A port nobody listens on: bound by the kernel's choice, then released.
closed=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
expect_refusal 1 "send-order: cannot connect to 127.0.0.1:$closed: Connection refused (is the server running?" \
  send-order --port "$closed" B 100 600519 1700.00
expect_refusal 1 "itch-dump: cannot connect to 127.0.0.1:$closed: Connection refused (is the server running?" \
  itch-dump --port "$closed"
# Bad input is refused before any connection is tried (the closed port proves it: no 'connect').
expect_refusal 2 "send-order: price 'abc' is not a number (write e.g. 1700.00, or MKT for a market order)" \
  send-order --port "$closed" B 100 600519 abc
for price in 1700.00001 0 -5 nan 1e400 214748.3647; do
  expect_refusal 2 "send-order: price '$price' must be above 0, below 214748.3647, with at most 4 decimals" \
    send-order --port "$closed" B 100 600519 "$price"
done
expect_refusal 2 "send-order: shares 0 must be from 1 to 4294967295" send-order --port "$closed" B 0 600519 1700.00
expect_refusal 2 "send-order: symbol '60051900X' must be 1 to 8 letters or digits" \
  send-order --port "$closed" B 100 60051900X 1700.00
expect_refusal 2 "send-order: token 'TOKEN-LONGER-THAN-14' must be 1 to 14 printable characters without spaces" \
  send-order --port "$closed" B 100 600519 1700.00 TOKEN-LONGER-THAN-14

# The real server, for the replies' wording.
"$bin" --config "$src/config/demo.yaml" --ouch-listen 127.0.0.1:0 --itch-listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 --journal-dir "" >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 400); do grep -q "ready:" "$work/server.out" && break; sleep 0.05; done  # at most 20 s (ASan)
port=$(sed -nE 's/.*OUCH [0-9.]+:([0-9]+),.*/\1/p' "$work/server.out")
[[ -n $port ]] || { echo "scripts_test: server did not start"; cat "$work/server.err"; exit 1; }

send() { python3 "$src/scripts/send-order" --port "$port" "$@"; }
out=$(send B 150 600519 1700.00 ODD1) || fail "odd lot: exit $?"
grep -qF "Rejected: token ODD1 reason e (odd lot order restriction)" <<<"$out" || fail "odd lot: $out"
out=$(send B 100 999999 1700.00 UNK1) || fail "unknown stock: exit $?"
grep -qF "Rejected: token UNK1 reason S (invalid stock)" <<<"$out" || fail "unknown stock: $out"
out=$(send B 100 600519 MKT MKT1) || fail "market order: exit $?"
grep -qE "Accepted: token MKT1 B 100 600519 @ market order ref [0-9]+" <<<"$out" || fail "market order: $out"
grep -qF "Canceled: token MKT1 100 shares, reason I (immediate or cancel)" <<<"$out" || fail "market order: $out"
grep -qF "214748.3647" <<<"$out" && fail "market order shows the sentinel price: $out"
status=0
out=$(send --password wrongpass B 100 600519 1700.00 2>&1) || status=$?
[[ $status == 1 ]] || fail "bad password: exit $status"
grep -qF "Login Rejected: reason A (not authorized)" <<<"$out" || fail "bad password: $out"

kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
if ((failures)); then
  echo "scripts_test: $failures failure(s)"
  exit 1
fi
echo "scripts_test: all checks passed"
