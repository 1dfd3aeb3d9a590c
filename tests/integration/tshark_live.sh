#!/usr/bin/env bash
# A live capture of a scripted order-entry session with the real server, decoded by Debian's
# tshark as SoupBinTCP + OUCH 4.2: fails on any malformed packet or expert warning/error, and
# unless the OUCH messages the script causes are all there.
# Usage: tshark_live.sh PEREGRINE_BINARY SOURCE_DIR
set -euo pipefail
bin=$1 src=$2
command -v tshark >/dev/null || { echo "tshark_live: tshark not found (scripts/bootstrap installs it)"; exit 1; }
work=$(mktemp -d)
server_pid="" tshark_pid=""
cleanup() {
  [[ -n $server_pid ]] && kill -9 "$server_pid" 2>/dev/null || true
  [[ -n $tshark_pid ]] && kill -9 "$tshark_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

"$bin" --config "$src/config/demo.yaml" --ouch-listen 127.0.0.1:0 --itch-listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 --low-latency-mode true --journal-dir "$work/journal" \
  >"$work/server.out" 2>"$work/server.err" &
server_pid=$!
for _ in $(seq 100); do grep -q "ready:" "$work/server.out" && break; sleep 0.05; done
port=$(sed -nE 's/.*OUCH [0-9.]+:([0-9]+),.*/\1/p' "$work/server.out")
[[ -n $port ]] || { echo "tshark_live: server did not start"; cat "$work/server.err"; exit 1; }

tshark -i lo -f "tcp port $port" -w "$work/ouch.pcap" >/dev/null 2>"$work/tshark.err" &
tshark_pid=$!
for _ in $(seq 200); do grep -q "Capturing on" "$work/tshark.err" && break; sleep 0.05; done
grep -q "Capturing on" "$work/tshark.err" || { echo "tshark_live: capture did not start"; cat "$work/tshark.err"; exit 1; }

send() { python3 "$src/scripts/send-order" --port "$port" "$@" >>"$work/client.out"; }
send --user DEMO1 --password demo1pass S 300 600519 1700.00 SELL1
send --user DEMO2 --password demo2pass B 100 600519 1700.00 BUY1
send --user DEMO2 --password demo2pass B 100 600519 1690.00 BUY2
send --user DEMO2 --password demo2pass B 150 600519 1700.00 ODDLOT   # refused by the core: 'e'
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=""
sleep 0.5
kill -INT "$tshark_pid"; wait "$tshark_pid" || true; tshark_pid=""

decode=(-r "$work/ouch.pcap" -d "tcp.port==$port,soupbintcp")
bad=$(tshark "${decode[@]}" -T fields -e frame.number -e _ws.malformed -e _ws.expert.severity 2>/dev/null |
      awk -F'\t' '$2 != "" || $3 ~ /(6|8)00000/')
[[ -z $bad ]] || { echo "tshark_live: malformed or expert warnings: $bad"; exit 1; }
ouch=$(tshark "${decode[@]}" -Y ouch -V 2>/dev/null)
for want in "Enter Order" "Accepted" "Executed" "Rejected"; do
  grep -q "$want" <<<"$ouch" || { echo "tshark_live: no OUCH $want decoded"; cat "$work/client.out"; exit 1; }
done
echo "tshark_live: $(grep -c '^Frame ' <<<"$ouch") frames with OUCH decoded cleanly"
