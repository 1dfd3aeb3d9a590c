#!/usr/bin/env bash
# Checks the captures written by TsharkTest (tshark_test.cpp) with Wireshark's dissectors.
#
# Usage: tests/unit/proto/tshark_check.sh <dir>
#   <dir>/ouch_soupbintcp.pcap  two OUCH 4.2 sessions over SoupBinTCP on tcp/9001 and a refused login
#   <dir>/itch_moldudp64.pcap   ITCH 5.0 over MoldUDP64 on udp/9002, a request to udp/9003
#
# Fails (exit 1) on any malformed packet, any expert warning or error (IP/TCP/UDP checksums are
# verified), an OUCH message the OUCH dissector did not take, or a decoded value that differs from
# the session the test scripted. Exit 2: tshark missing (apt-get install tshark; scripts/bootstrap).
#
# Wireshark 4.0 (Debian 12) has no ITCH 5.0 dissector: its nasdaq_itch is TotalView-ITCH 2.0/3.0
# (ASCII fields) and misreads 5.0's binary fields. So the ITCH capture is checked at the MoldUDP64
# level by tshark, and each ITCH 5.0 message's size and fields are checked here, at the spec's
# offsets, in the payload bytes tshark extracts (moldudp64.msgdata).
set -uo pipefail

dir=${1:?usage: tshark_check.sh <capture dir>}
if ! command -v tshark >/dev/null 2>&1; then
  echo "tshark_check: tshark not found; install it: DEBIAN_FRONTEND=noninteractive apt-get install -y tshark"
  exit 2
fi

ouch=(-r "$dir/ouch_soupbintcp.pcap" -d tcp.port==9001,soupbintcp
      -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE)
itch=(-r "$dir/itch_moldudp64.pcap" -d udp.port==9002,moldudp64 -d udp.port==9003,moldudp64
      -o udp.check_checksum:TRUE -o ip.check_checksum:TRUE)

failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

run_tshark() {  # tshark with its "running as root" chatter removed; fails the check if tshark fails
  local out rc
  out=$(tshark "$@" 2>&1)
  rc=$?
  out=$(grep -v -e '^Running as user "root"' <<<"$out")
  if ((rc != 0)); then
    fail "tshark $* exited with $rc: $out"
  fi
  printf '%s\n' "$out"
}

# 1. Nothing malformed, no expert warning or error: from the full tree (-V) and from the
#    expert fields (severity 0x600000 = warning, 0x800000 = error).
check_clean() {
  local name=$1
  shift
  local tree bad sev before=$failures
  tree=$(run_tshark "$@" -V)
  bad=$(grep -E 'Malformed Packet|Expert Info \((Warning|Error)' <<<"$tree")
  [[ -z "$bad" ]] || fail "$name: $bad"
  sev=$(run_tshark "$@" -T fields -e frame.number -e _ws.malformed -e _ws.expert.severity |
        awk -F'\t' '{ n = split($3, s, ","); for (i = 1; i <= n; i++) if (s[i] + 0 >= 6291456) { print; next }
                      if ($2 != "") print }')
  [[ -z "$sev" ]] || fail "$name: frames with expert warnings/errors or malformed: $sev"
  ((failures > before)) || echo "ok: $name decodes with no malformed packet and no expert warning or error"
}

check_clean "OUCH over SoupBinTCP" "${ouch[@]}"
check_clean "ITCH over MoldUDP64" "${itch[@]}"

# 2. Every SoupBinTCP data packet was taken by the OUCH dissector (its heuristic checks each
#    OUCH 4.2 message type against its exact length).
counts=$(run_tshark "${ouch[@]}" -T fields -E occurrence=a -E aggregator=, -e soupbintcp.packet_type -e ouch.packet_type |
         awk -F'\t' '{ n = split($1, t, ","); for (i = 1; i <= n; i++) if (t[i] == "'\''S'\''" || t[i] == "'\''U'\''") d++
                       if ($2 != "") o += split($2, u, ",") } END { print d + 0, o + 0 }')
read -r data_packets ouch_messages <<<"$counts"
if [[ "$data_packets" != "$ouch_messages" || "$data_packets" == 0 ]]; then
  fail "SoupBinTCP carried $data_packets data packets but OUCH decoded $ouch_messages messages"
else
  echo "ok: all $data_packets SoupBinTCP data packets decode as OUCH 4.2"
fi

# 3. OUCH and SoupBinTCP field values, frame by frame (trailing spaces of alpha fields trimmed).
expected_ouch=$(cat <<'EOF'
4	'L'	ALICE																				
5	'A','S'		'S'																			9:30:00.000000000
9	'L'	BOB																				
10	'A','S'		'S'																			9:30:00.000000000
11	'U'		'O'	S1			'S'	1000			600519	15000000		99998	FRMA	'Y'		0				
12	'S'		'A'	S1			'S'	1000			600519	15000000		99998	FRMA	'Y'	1	0	'L'			9:30:00.000001000
13	'U','R'		'O'	B1			'B'	600			600519	15000000		0		'Y'		0				
14	'S'		'E'	S1					600				15000000							'A'	1	9:30:00.000002000
15	'S','S'		'A','E'	B1,B1			'B'	600	600		600519	15000000	15000000	0	FRMB	'Y'	2	0	'L'	'R'	1	9:30:00.000002000,9:30:00.000002000
17	'U'		'U'		S2			400				15010000		99998		'Y'		0				
18	'S'		'U'		S2	S1	'S'	400			600519	15010000		99998	FRMA	'Y'	3	0	'L'			9:30:00.000003000
19	'U'		'X'	S2				100														
20	'S'		'C'	S2						300												9:30:00.000004000
21	'U'		'X'	NOPE				0														
22	'S'		'I'	NOPE																		9:30:00.000005000
23	'U'		'O'	B2			'B'	100			600519	15000000		99998		'N'		0				
24	'S'		'J'	B2																		9:30:00.000006000
25	'U'		'O'	B3			'B'	100			600519	2147483647		0	FRMB	'Y'		0				
26	'S'		'E'	S2					100				15010000							'A'	2	9:30:00.000007000
27	'S','S'		'A','E'	B3,B3			'B'	100	100		600519	2147483647	15010000	0	FRMB	'Y'	4	0	'L'	'R'	2	9:30:00.000007000,9:30:00.000007000
28	'H'																					
29	'R'																					
30	'+'																					
31	'O'																					
32	'S','Z'		'S'																			9:30:00.000007000
36	'O'																					
37	'Z'																					
44	'L'	EVE																				
45	'J'																					
EOF
)
actual_ouch=$(run_tshark "${ouch[@]}" -Y soupbintcp -T fields -E occurrence=a -E aggregator=, \
  -e frame.number -e soupbintcp.packet_type -e soupbintcp.username -e ouch.packet_type -e ouch.order_token \
  -e ouch.replacement_order_token -e ouch.previous_order_token -e ouch.buy_sell_indicator -e ouch.shares \
  -e ouch.executed_shares -e ouch.decrement_shares -e ouch.stock -e ouch.price -e ouch.execution_price \
  -e ouch.tif -e ouch.firm -e ouch.display -e ouch.order_reference_number -e ouch.min_quantity \
  -e ouch.order_state -e ouch.liquidity_flag -e ouch.match_number -e ouch.timestamp |
  sed -E 's/ +(\t|,|$)/\1/g')
if [[ "$actual_ouch" != "$expected_ouch" ]]; then
  fail "OUCH field values differ (< expected, > tshark):"
  diff <(printf '%s\n' "$expected_ouch") <(printf '%s\n' "$actual_ouch")
else
  echo "ok: OUCH/SoupBinTCP field values of all $(wc -l <<<"$actual_ouch") SoupBinTCP frames match the script"
fi

# Reasons, and the login fields tshark shows only in the tree.
reasons=$(run_tshark "${ouch[@]}" -Y "ouch.reject_reason || ouch.cancel_reason || soupbintcp.reject_code" \
          -T fields -e frame.number -e ouch.reject_reason -e ouch.cancel_reason -e soupbintcp.reject_code | tr '\t' ' ')
[[ "$reasons" == $'20  \'U\' \n24 \'D\'  \n45   \'A\'' ]] || fail "reject/cancel reasons: $reasons"
tree=$(run_tshark "${ouch[@]}" -V -Y "soupbintcp.packet_type == 0x41 || soupbintcp.packet_type == 0x4c")
for want in "Session: 2026112501" "Next sequence number: 1" "Requested sequence number: 1" \
            "Requested sequence number: 0" "Password: hunter2"; do
  grep -qF "$want" <<<"$tree" || fail "login fields: '$want' not found"
done
((failures > 0)) || echo "ok: reject/cancel reasons and login fields"

# 4. MoldUDP64 framing: session, first sequence number and count of every datagram.
expected_mold=$(cat <<'EOF'
1	2026112501	1	5	1,2,3,4,5	12,39,39,12,36
2	2026112501	6	5	6,7,8,9,10	31,35,23,31,25
3	2026112501	11	3	11,12,13	25,44,50
4	2026112501	14	0		
5	2026112501	3	2		
6	2026112501	14	65535		
EOF
)
actual_mold=$(run_tshark "${itch[@]}" -T fields -E occurrence=a -E aggregator=, -e frame.number \
  -e moldudp64.session -e moldudp64.sequence -e moldudp64.count -e moldudp64.msgseq -e moldudp64.msglen)
if [[ "$actual_mold" != "$expected_mold" ]]; then
  fail "MoldUDP64 values differ (< expected, > tshark):"
  diff <(printf '%s\n' "$expected_mold") <(printf '%s\n' "$actual_mold")
else
  echo "ok: MoldUDP64 sessions, sequence numbers, counts and block lengths (heartbeat, request, end of session)"
fi

# 5. ITCH 5.0 messages from the payload bytes: size by type, header, then fields at spec offsets.
declare -A itch_size=([S]=12 [R]=39 [H]=25 [A]=36 [F]=40 [E]=31 [X]=23 [D]=19 [U]=35 [P]=44 [I]=50)
declare -A msg
while IFS=$'\t' read -r seqs datas; do
  IFS=, read -r -a s <<<"$seqs"
  IFS=, read -r -a d <<<"$datas"
  for i in "${!s[@]}"; do msg[${s[$i]}]=${d[$i]}; done
done < <(run_tshark "${itch[@]}" -Y "moldudp64.msgseq" -T fields -E occurrence=a -E aggregator=, \
           -e moldudp64.msgseq -e moldudp64.msgdata)

hex_of() { printf '%s' "$1" | od -An -tx1 | tr -d ' \n'; }
# field <seq> <offset> <length> <expected hex>
field() {
  local all=${msg[$1]:-}
  local got=${all:$(($2 * 2)):$(($3 * 2))}
  [[ "$got" == "$4" ]] || fail "ITCH message $1 bytes $2..$(($2 + $3 - 1)): $got, expected $4"
}
types=""
before_itch=$failures
for seq in $(printf '%s\n' "${!msg[@]}" | sort -n); do
  data=${msg[$seq]}
  case ${data:0:2} in
    [4-5][0-9a-f]) type=$(printf "\\x${data:0:2}") ;;  # an upper-case letter
    *) type="?" ;;
  esac
  types+=$type
  size=0
  [[ "$type" == "?" ]] || size=${itch_size[$type]:-0}
  ((${#data} == size * 2)) || fail "ITCH message $seq type $type is $((${#data} / 2)) bytes, ITCH 5.0 says $size"
  field "$seq" 3 2 0000  # tracking number
done
[[ "$types" == "SRRSAEUXEHHPI" ]] || fail "ITCH message types $types"

# System events: stock locate 0, timestamp 09:29:59.999999000, event codes O and Q.
field 1 1 2 0000; field 1 5 6 1f1aced9ec18; field 1 11 1 "$(hex_of O)"; field 4 11 1 "$(hex_of Q)"
# Stock Directory of 688001: locate 2, stock, market category, round lot size 1, round lots only N.
field 3 1 2 0002; field 3 11 8 "$(hex_of '688001  ')"; field 3 21 4 00000001; field 3 25 1 "$(hex_of N)"
field 3 26 1 "$(hex_of C)"; field 3 27 2 "$(hex_of 'Z ')"; field 3 29 1 "$(hex_of P)"
# Add Order: locate 1, order 1, sell 1000 600519 @ 1500.0000.
field 5 1 2 0001; field 5 11 8 0000000000000001; field 5 19 1 "$(hex_of S)"; field 5 20 4 000003e8
field 5 24 8 "$(hex_of '600519  ')"; field 5 32 4 00e4e1c0
# Order Executed: order 1, 600 shares, match 1.
field 6 11 8 0000000000000001; field 6 19 4 00000258; field 6 23 8 0000000000000001
# Order Replace: order 1 -> 3, 400 @ 1501.0000.
field 7 11 8 0000000000000001; field 7 19 8 0000000000000003; field 7 27 4 00000190; field 7 31 4 00e508d0
# Order Cancel: order 3, 300 shares; Order Executed: order 3, 100 shares, match 2.
field 8 11 8 0000000000000003; field 8 19 4 0000012c
field 9 11 8 0000000000000003; field 9 19 4 00000064; field 9 23 8 0000000000000002
# Trading actions on 688001: halted, then trading.
field 10 1 2 0002; field 10 11 8 "$(hex_of '688001  ')"; field 10 19 1 "$(hex_of H)"; field 11 19 1 "$(hex_of T)"
# Trade (non-cross): buy 200 600519 @ 1500.0000, match 99; NOII: 688001, direction B, prices.
field 12 19 1 "$(hex_of B)"; field 12 20 4 000000c8; field 12 32 4 00e4e1c0; field 12 36 8 0000000000000063
field 13 11 8 00000000000003e8; field 13 19 8 00000000000000c8; field 13 27 1 "$(hex_of B)"
field 13 28 8 "$(hex_of '688001  ')"; field 13 36 4 0007a508; field 13 48 1 "$(hex_of C)"
((failures > before_itch)) || echo "ok: ${#msg[@]} ITCH 5.0 messages ($types): sizes, headers and fields at their spec offsets"

if ((failures > 0)); then
  echo "tshark_check: $failures failure(s)"
  exit 1
fi
echo "tshark_check: all checks passed ($(tshark --version 2>/dev/null | head -1))"
