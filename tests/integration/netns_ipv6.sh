#!/usr/bin/env bash
# IPv6 end to end (root only): three real prosed in network namespaces on a
# bridge, as in netns_calls.sh, with IPv6 addresses (fd77::/64, no DAD).
# Alice (fd77::1) and bob (fd77::2) have IPv6 only; carol is dual stack
# (198.18.0.3 and fd77::3) and names her multicast interface by its IPv4
# address (the daemon finds the interface name for IPv6 multicast).
#
#  1. discovery on the IPv6 group (ff15::7072:6f73; carol announces on the
#     IPv4 group too): each daemon lists the two others;
#  2. group call on the IPv6 multicast group ff15::7072:6f73:1: alice calls,
#     bob and carol join, alice talks: 50 RTP packets from her application
#     reach the applications of bob and carol byte-exact; then carol talks
#     (her IPv6 sockets beside her IPv4 ones on the same ports) and alice
#     and bob hear her byte-exact;
#  3. private call alice -> bob over IPv6 (call control to the announced
#     IPv6 address, media to the SDP's), media both ways, byte-exact;
#  4. the capture on the bridge ports (tshark): the media went over IPv6
#     (group media to the group, private media unicast), none over IPv4;
#  5. the daemons stop cleanly on SIGTERM; no sanitizer report in the logs.
#
# Not root, or no ip/tshark/dumpcap, or namespaces not permitted: prints
# why and exits 77 (CTest: skipped).
#
# usage: netns_ipv6.sh PATH_TO_PROSE PATH_TO_PROSED
set -u
skip() {
  echo "SKIP: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
for t in ip tshark dumpcap python3; do
  command -v $t >/dev/null || skip "$t is not installed"
done
PROSE=$(realpath "${1:?usage: netns_ipv6.sh PROSE PROSED}")
PROSED=$(realpath "${2:?usage: netns_ipv6.sh PROSE PROSED}")
WORK=$(mktemp -d /tmp/prose-netns6-XXXXXX)
. "$(dirname "$0")/lib.sh"

TAG=prose6$$
NSB=$TAG-br
declare -A NS=([alice]=$TAG-alice [bob]=$TAG-bob [carol]=$TAG-carol)
declare -A ADDR6=([alice]=fd77::1 [bob]=fd77::2 [carol]=fd77::3)
declare -A ADDR4=([alice]= [bob]= [carol]=198.18.0.3)
declare -A IFACE=([alice]=eth0 [bob]=eth0 [carol]=198.18.0.3)
GADDR=ff15::7072:6f73:1
GAPP=40004
PAPP=40000
GMEDIA=30000
PMEDIA=50000
NSEND=50

daemons=()
pids=()
cleanup() {
  for p in "${daemons[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for u in $USERS; do ip netns del "${NS[$u]}" 2>/dev/null; done
  ip netns del "$NSB" 2>/dev/null
  if [[ $fail -ne 0 || -n "${KEEP_WORK:-}" ]]; then
    for f in "$WORK"/{alice,bob,carol}.log; do
      [[ -f $f ]] || continue
      echo "==== $f (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the network --------------------------------------------------------------
ip netns add "$NSB" 2>/dev/null || skip "cannot create network namespaces here"
nsx() { ip netns exec "${NS[$1]}" "${@:2}"; }
{
  set -e
  ip -n "$NSB" link set lo up
  ip -n "$NSB" link add br0 type bridge
  # No MLD snooping: without a querier the bridge would forward groups by
  # whatever reports it happened to see.
  ip -n "$NSB" link set br0 type bridge mcast_snooping 0
  ip -n "$NSB" link set br0 up
  for u in $USERS; do
    ip netns add "${NS[$u]}"
    ip -n "$NSB" link add v$u type veth peer name eth0 netns "${NS[$u]}"
    ip -n "$NSB" link set v$u master br0 up
    ip -n "${NS[$u]}" link set lo up
    # nodad: the daemon binds the address at once.
    ip -n "${NS[$u]}" -6 addr add "${ADDR6[$u]}/64" dev eth0 nodad
    if [[ -n ${ADDR4[$u]} ]]; then
      ip -n "${NS[$u]}" addr add "${ADDR4[$u]}/24" dev eth0
    fi
    ip -n "${NS[$u]}" link set eth0 up
    [[ -z ${ADDR4[$u]} ]] || ip -n "${NS[$u]}" route add 224.0.0.0/4 dev eth0
  done
  set +e
} || {
  bad "network setup"
  exit 1
}

# ---- the daemons and their applications -------------------------------------------
note "provisioning ($(elapsed) s)"
check "provisioning" provision_domain || exit 1
ip netns exec "$NSB" dumpcap -q -i valice -i vbob -i vcarol -f udp -w "$WORK/cap.pcapng" \
  >"$WORK/dumpcap.log" 2>&1 &
capture=$!
pids+=($capture)
check "capture started" wait_until 10 test -s "$WORK/cap.pcapng"
for u in $USERS; do
  addr=${ADDR6[$u]}
  [[ -z ${ADDR4[$u]} ]] || addr="${ADDR4[$u]}, ${ADDR6[$u]}"
  cat >"$WORK/$u.conf" <<EOF
[identity]
uri = sip:$u@example.org
store = $WORK/$u-dev

[network]
interface = ${IFACE[$u]}
address = $addr
ipv6 = true

[discovery]
announce_interval_ms = 300
announce_ttl_ms = 3000

[media]
app_address = 127.0.0.1
max_calls = 2

[control]
socket = $WORK/$u.sock

[floor]
T201 = 150

[log]
level = info

[group $GROUP]
address = $GADDR
media_port = $GMEDIA
EOF
  ip netns exec "${NS[$u]}" "$PROSED" --config "$WORK/$u.conf" >"$WORK/$u.log" 2>&1 &
  eval "PID_$u=$!"
  DAEMON_PIDS="${DAEMON_PIDS:-} $!"
  daemons+=($!)
  ip netns exec "${NS[$u]}" python3 "$RTPAPP" recv 127.0.0.1 $((GAPP + 1)) \
    "$WORK/$u-group.json" 120 &
  pids+=($!)
  ip netns exec "${NS[$u]}" python3 "$RTPAPP" recv 127.0.0.1 $((PAPP + 1)) \
    "$WORK/$u-private.json" 120 &
  pids+=($!)
done
for u in $USERS; do check "$u discovers 2 peers" wait_until 10 has_peers $u 2; done
note "discovery done ($(elapsed) s)"
app_send() { nsx $1 python3 "$RTPAPP" send 127.0.0.1 $(($2 + 1)) 127.0.0.1 $2 $3 0 $4 10; }
heard() {
  local f="$WORK/$1-$2.json"
  wait_until 2 got_at_least "$f" $3 0 $4 $5
  check "$1 heard $3: $5..$4 wanted, got $(received "$f" $3 0 $4) (exact bad dup)" \
    got_at_least "$f" $3 0 $4 $5
}

# ---- group call on the IPv6 group --------------------------------------------------
check "alice: call group" ctl alice call group $GROUP
for u in bob carol; do check "$u joined" wait_until 5 in_call $u group S3; done
check "alice: ptt press" ctl alice ptt press --group $GROUP
check "alice may send" wait_until 5 may_send alice group
app_send alice $GAPP g-alice $NSEND
for u in bob carol; do heard $u group g-alice $NSEND $NSEND; done
check "alice: ptt release" ctl alice ptt release --group $GROUP
sleep 0.3
check "carol: ptt press" ctl carol ptt press --group $GROUP
check "carol may send" wait_until 5 may_send carol group
app_send carol $GAPP g-carol $NSEND
for u in alice bob; do heard $u group g-carol $NSEND $NSEND; done
check "carol: ptt release" ctl carol ptt release --group $GROUP
check "alice: hangup (group)" ctl alice hangup --group $GROUP
note "group call done ($(elapsed) s)"

# ---- private call alice -> bob over IPv6 ---------------------------------------------
check "alice: call private bob" ctl alice call private sip:bob@example.org
check "bob in the private call" wait_until 5 in_call bob private P4
check "alice may send (private)" wait_until 5 may_send alice private
app_send alice $PAPP p-alice $NSEND
heard bob private p-alice $NSEND $NSEND
check "alice: ptt release (private)" ctl alice ptt release --call sip:bob@example.org
check "bob: ptt press (private)" ctl bob ptt press --call sip:alice@example.org
check "bob may send (private)" wait_until 5 may_send bob private
app_send bob $PAPP p-bob $NSEND
heard alice private p-bob $NSEND $NSEND
check "carol heard nothing of the private call" test "$(received "$WORK/carol-private.json" p-alice 0 $NSEND)" == "0 0 0"
check "alice: hangup" ctl alice hangup --call sip:bob@example.org
note "private call done ($(elapsed) s)"

# ---- stop, then read the capture ---------------------------------------------------------
for u in $USERS; do
  p=$(eval echo \$PID_$u)
  kill -TERM "$p"
  wait "$p"
  rc=$?
  check "$u exits 0 on SIGTERM (got $rc)" test $rc -eq 0
done
daemons=()
sleep 0.2
kill -INT $capture
wait $capture
check "no sanitizer report from the daemons" no_sanitizer_report $DAEMON_PIDS -- "$WORK"/{alice,bob,carol}.log

CAP=$WORK/cap.pcapng
# Counted on one bridge port: bob's for the group (alice's and carol's
# media reach him), alice's for the private call (what she sent and got).
count() { tshark -r "$CAP" -Y "$1" -T fields -e frame.number 2>/dev/null | wc -l; }
g6=$(count "ipv6.dst == $GADDR && udp.dstport == $GMEDIA && frame.interface_name == \"vbob\"")
p6=$(count "ipv6.src == fd77::/64 && ipv6.dst == fd77::/64 && udp.dstport == $PMEDIA && frame.interface_name == \"valice\"")
v4=$(count "ip && udp.dstport in {$GMEDIA $PMEDIA}")
d6=$(count "ipv6.dst == ff15::7072:6f73 && udp.dstport == 8810")
note "wire: group media over IPv6 $g6, private media over IPv6 $p6, media over IPv4 $v4, IPv6 announcements $d6"
check "group media on the IPv6 group ($g6 datagrams)" test "$g6" -ge $((2 * NSEND))
check "private media over IPv6 unicast ($p6 datagrams)" test "$p6" -ge $((2 * NSEND))
check "no media over IPv4 ($v4 datagrams)" test "$v4" -eq 0
check "announcements on the IPv6 discovery group ($d6)" test "$d6" -gt 0
finish
