#!/usr/bin/env bash
# Three real prosed in network namespaces on a bridge (root only): alice,
# bob and carol at 198.18.0.1-3, each namespace with a veth into a bridge
# namespace and its own route for 224.0.0.0/4, so every datagram stays
# inside the namespaces.
#
#  1. discovery: each daemon lists the two others (`prose ctl peers`);
#  2. group call: alice calls, bob and carol join, alice talks: an
#     application in alice's namespace sends 50 RTP packets to her APP port
#     and the applications of bob and carol receive every payload byte-exact;
#  3. floor handover: bob presses PTT while alice talks (queued), alice
#     releases, bob is granted and is heard byte-exact by alice and carol;
#  4. loss: nftables drops 20 % of carol's UDP egress; carol still obtains
#     the floor and most of her 100 packets arrive (at least 55 %: media
#     alone loses 20 %), none damaged or duplicated, the drop rule counted;
#  5. private call alice -> bob, media both ways, byte-exact;
#  6. the capture on the bridge ports, read back with tshark: no frame
#     carries the applications' plaintext; every media datagram is SRTP
#     with the expected trailer (group: tag 16 + MKI 8 (GMK-ID || sender's
#     GUK-ID) + ROC 4; private: tag 16 + MKI 4), every floor datagram is
#     SRTCP (E flag, MKI) that tshark cannot read as an MCPT APP message;
#  7. the daemons stop cleanly on SIGTERM; no sanitizer report in the logs.
#
# Not root, or no ip/nft/tshark/dumpcap, or namespaces not permitted: prints
# why and exits 77 (CTest: skipped).
#
# usage: netns_calls.sh PATH_TO_PROSE PATH_TO_PROSED
set -u
skip() {
  echo "SKIP: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces)"
for t in ip nft tshark dumpcap python3; do
  command -v $t >/dev/null || skip "$t is not installed"
done
PROSE=$(realpath "${1:?usage: netns_calls.sh PROSE PROSED}")
PROSED=$(realpath "${2:?usage: netns_calls.sh PROSE PROSED}")
WORK=$(mktemp -d /tmp/prose-netns-XXXXXX)
. "$(dirname "$0")/lib.sh"

# Names unique to this run, so parallel runs never collide.
TAG=prose$$
NSB=$TAG-br
declare -A NS=([alice]=$TAG-alice [bob]=$TAG-bob [carol]=$TAG-carol)
declare -A ADDR=([alice]=198.18.0.1 [bob]=198.18.0.2 [carol]=198.18.0.3)
# Alice and carol name their interface, bob gives its address: both forms
# of [network] interface are exercised.
declare -A IFACE=([alice]=eth0 [bob]=198.18.0.2 [carol]=eth0)
DISC=239.255.80.1
GADDR=239.255.81.1
GAPP=40004 # the group's application port (slot 1)
PAPP=40000 # private calls (slot 0)
GMEDIA=30000
GFLOOR=30002
PMEDIA=50000
PFLOOR=50002
NSEND=50

daemons=() # the prosed processes (until they stopped)
pids=()    # applications and the capture
cleanup() {
  for p in "${daemons[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  for u in $USERS; do
    ip netns exec "${NS[$u]}" nft delete table inet prose_loss 2>/dev/null
    ip netns del "${NS[$u]}" 2>/dev/null
  done
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
  # No IGMP snooping: without a querier the bridge would forward groups by
  # whatever reports it happened to see.
  ip -n "$NSB" link set br0 type bridge mcast_snooping 0
  ip -n "$NSB" link set br0 up
  i=0
  for u in $USERS; do
    i=$((i + 1))
    ip netns add "${NS[$u]}"
    ip -n "$NSB" link add v$u type veth peer name eth0 netns "${NS[$u]}"
    ip -n "$NSB" link set v$u master br0 up
    ip -n "${NS[$u]}" link set lo up
    ip -n "${NS[$u]}" addr add "${ADDR[$u]}/24" dev eth0
    ip -n "${NS[$u]}" link set eth0 up
    ip -n "${NS[$u]}" route add 224.0.0.0/4 dev eth0
  done
  set +e
} || {
  bad "network setup"
  exit 1
}

# ---- the daemons and their applications -------------------------------------------
note "provisioning ($(elapsed) s)"
check "provisioning" provision_domain || exit 1
# Capture on the three bridge ports from the start: everything the nodes
# send passes there.
ip netns exec "$NSB" dumpcap -q -i valice -i vbob -i vcarol -f udp -w "$WORK/cap.pcapng" \
  >"$WORK/dumpcap.log" 2>&1 &
capture=$!
pids+=($capture)
check "capture started" wait_until 10 test -s "$WORK/cap.pcapng"
for u in $USERS; do
  write_conf $u "${ADDR[$u]}" "${IFACE[$u]}" $DISC $GADDR 127.0.0.1
  # `ip netns exec` execs the command: $! is the daemon itself (not a
  # subshell), so the signals below reach it.
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
# app_send NODE PORT TAG COUNT : NODE's application sends COUNT packets.
app_send() { nsx $1 python3 "$RTPAPP" send 127.0.0.1 $(($2 + 1)) 127.0.0.1 $2 $3 0 $4 10; }
# heard NODE KIND TAG COUNT MIN : NODE's application got at least MIN of them
# byte-exact (waits up to 2 s for stragglers).
heard() {
  local f="$WORK/$1-$2.json"
  wait_until 2 got_at_least "$f" $3 0 $4 $5
  check "$1 heard $3: $5..$4 wanted, got $(received "$f" $3 0 $4) (exact bad dup)" \
    got_at_least "$f" $3 0 $4 $5
}

# ---- group call ------------------------------------------------------------------
check "alice: call group" ctl alice call group $GROUP
for u in bob carol; do check "$u joined" wait_until 5 in_call $u group S3; done
check "alice: ptt press" ctl alice ptt press --group $GROUP
check "alice may send" wait_until 5 may_send alice group
app_send alice $GAPP g-alice $NSEND
for u in bob carol; do heard $u group g-alice $NSEND $NSEND; done

# Floor handover: bob asks while alice talks and is queued; alice releases.
check "bob: ptt press" ctl bob ptt press --group $GROUP
sleep 0.3
cannot_send() { ! may_send "$@"; }
check "bob may not send while alice talks" cannot_send bob group
check "alice: ptt release" ctl alice ptt release --group $GROUP
check "bob granted" wait_until 5 may_send bob group
app_send bob $GAPP g-bob $NSEND
for u in alice carol; do heard $u group g-bob $NSEND $NSEND; done
check "bob: ptt release" ctl bob ptt release --group $GROUP
note "group call done ($(elapsed) s)"

# ---- loss on carol's egress to the bridge (not on lo: her application) ----------------------------------------------------------
LOSS=20
nsx carol nft -f - <<EOF
table inet prose_loss {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "eth0" meta l4proto udp numgen random mod 100 < $LOSS counter drop
  }
}
EOF
check "loss rule installed" nsx carol nft list table inet prose_loss
sleep 0.3
check "carol: ptt press under $LOSS % loss" ctl carol ptt press --group $GROUP
check "carol obtains the floor under loss" wait_until 5 may_send carol group
app_send carol $GAPP g-carol 100
for u in alice bob; do heard $u group g-carol 100 55; done
for u in alice bob; do
  r=$(received "$WORK/$u-group.json" g-carol 0 100)
  check "$u: nothing damaged or duplicated under loss ($r)" test "${r#* }" == "0 0"
done
dropped=$(nsx carol nft list table inet prose_loss | sed -n 's/.*counter packets \([0-9]*\).*/\1/p')
check "the loss rule dropped packets (${dropped:-?})" test "${dropped:-0}" -gt 0
check "carol: ptt release" ctl carol ptt release --group $GROUP
nsx carol nft delete table inet prose_loss
note "loss phase done: $dropped datagrams dropped ($(elapsed) s)"

# ---- private call alice -> bob, both ways --------------------------------------------
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

note "capture analysis ($(elapsed) s)"
CAP=$WORK/cap.pcapng
# tshark as the independent decoder: the frames that contain the plaintext
# marker anywhere (none may), and every UDP frame with its fields, the media
# ports decoded as RTP and the floor ports as RTCP.
plain=$(tshark -r "$CAP" -Y 'frame contains "PLAINTEXT"' -T fields -e frame.number 2>/dev/null | wc -l)
check "no captured frame contains the applications' plaintext ($plain do)" test "$plain" -eq 0
tshark -r "$CAP" -d udp.port==$GMEDIA,rtp -d udp.port==$PMEDIA,rtp \
  -d udp.port==$GFLOOR,rtcp -d udp.port==$PFLOOR,rtcp \
  -T fields -E separator=/t -E occurrence=f \
  -e frame.interface_name -e ip.src -e udp.dstport -e rtp.version -e rtp.p_type \
  -e rtcp.pt -e rtcp.app.name -e udp.payload >"$WORK/frames.tsv" 2>"$WORK/tshark.err"
check "tshark read the capture: $(head -c 300 "$WORK/tshark.err")" test -s "$WORK/frames.tsv"
python3 - "$WORK/frames.tsv" "$GMK_ID" "$GUK_alice" "$GUK_bob" "$GUK_carol" \
  $GMEDIA $GFLOOR $PMEDIA $PFLOOR $NSEND >"$WORK/wire.out" <<'PY'
import sys
(path, gmk, g_alice, g_bob, g_carol, gmedia, gfloor, pmedia, pfloor, nsend) = sys.argv[1:]
gmedia, gfloor, pmedia, pfloor, nsend = map(int, (gmedia, gfloor, pmedia, pfloor, nsend))
guk = {"198.18.0.1": g_alice, "198.18.0.2": g_bob, "198.18.0.3": g_carol}
port_of = {"198.18.0.1": "valice", "198.18.0.2": "vbob", "198.18.0.3": "vcarol"}
errors = []
seen = {"group media": 0, "group floor": 0, "private media": 0, "private floor": 0}
mcpt = 0
for line in open(path):
    f = line.rstrip("\n").split("\t")
    if len(f) < 8:
        continue
    iface, src, dport, rtpv, rtppt, rtcppt, appname, hexp = f[:8]
    if src not in port_of or iface != port_of[src]:
        continue  # count each datagram once: where it entered the bridge
    if not dport.isdigit():
        continue
    dport = int(dport)
    b = bytes.fromhex(hexp) if hexp else b""
    if b"sip:" in b and dport in (gmedia, gfloor, pmedia, pfloor):
        errors.append("a URI in the clear on port %d" % dport)
    if appname == "MCPT":
        mcpt += 1
    if dport == gmedia:
        seen["group media"] += 1
        # 12 header + 160 payload + 16 tag + 8 MKI + 4 ROC
        if len(b) != 200 or rtpv != "2" or rtppt != "0":
            errors.append("group media from %s: %d octets, RTP v%s PT %s" % (src, len(b), rtpv, rtppt))
        elif b[-12:-8].hex() != gmk or b[-8:-4].hex() != guk[src]:
            errors.append("group media from %s: MKI %s, want %s%s" % (src, b[-12:-4].hex(), gmk, guk[src]))
    elif dport == gfloor:
        seen["group floor"] += 1
        # SRTCP: header 8 || ciphertext || tag 16 || E|index 4 || MKI 8
        if rtcppt != "204" or len(b) < 8 + 16 + 4 + 8:
            errors.append("group floor from %s: RTCP PT %s, %d octets" % (src, rtcppt, len(b)))
        elif not b[-12] & 0x80 or b[-8:-4].hex() != gmk or b[-4:].hex() != guk[src]:
            errors.append("group floor from %s: trailer %s" % (src, b[-12:].hex()))
    elif dport == pmedia:
        seen["private media"] += 1
        # 12 header + 160 payload + 16 tag + 4 MKI (PCK-ID)
        if len(b) != 192 or rtpv != "2" or rtppt != "0":
            errors.append("private media from %s: %d octets, RTP v%s PT %s" % (src, len(b), rtpv, rtppt))
    elif dport == pfloor:
        seen["private floor"] += 1
        if rtcppt != "204" or len(b) < 8 + 16 + 4 + 4 or not b[-8] & 0x80:
            errors.append("private floor from %s: RTCP PT %s, %d octets" % (src, rtcppt, len(b)))
if mcpt:
    errors.append("%d floor messages readable as MCPT by tshark" % mcpt)
# Media sent: 2 x nsend + 100 (minus carol's losses) in the group, 2 x nsend private.
if seen["group media"] < 2 * nsend + 55 or seen["private media"] != 2 * nsend:
    errors.append("media datagrams seen: %r" % seen)
if seen["group floor"] < 3 or seen["private floor"] < 2:
    errors.append("floor datagrams seen: %r" % seen)
print("wire: %s" % ", ".join("%s %d" % kv for kv in seen.items()))
for e in errors[:20]:
    print("wire error:", e)
sys.exit(1 if errors else 0)
PY
rc=$?
cat "$WORK/wire.out"
check "every media and floor datagram on the wire is SRTP/SRTCP as specified" test $rc -eq 0
finish
