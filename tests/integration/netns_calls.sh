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
#  7. the daemons stop cleanly on SIGTERM (exit 0, every handle closed); no
#     sanitizer report in the logs.
#
# Not root, or no ip/nft/tshark/dumpcap, or namespaces not permitted: prints
# why and exits 77 (CTest: skipped).
#
# usage: netns_calls.sh PATH_TO_PROSE PATH_TO_PROSED
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools "" ip nft tshark dumpcap python3
init_run prose-netns "$@"

netns_names prose
declare -A ADDR=([alice]=198.18.0.1 [bob]=198.18.0.2 [carol]=198.18.0.3)
# Alice and carol name their interface, bob gives its address: both forms
# of [network] interface are exercised.
declare -A IFACE=([alice]=eth0 [bob]=198.18.0.2 [carol]=eth0)
DISC=239.255.80.1
GADDR=239.255.81.1
NSEND=50

# ---- the network, the daemons and their applications ----------------------------
must "network setup" net_bridge
provision
capture_start
for u in $USERS; do
  write_conf "$u" "${ADDR[$u]}" "${IFACE[$u]}" $DISC $GADDR 127.0.0.1
done
start_nodes 10

# ---- group call ------------------------------------------------------------------
call_group alice
press alice group
talk alice group g-alice $NSEND $NSEND bob carol

# Floor handover: bob asks while alice talks and is queued; alice releases.
check "bob: ptt press" ctl bob ptt press --group "$GROUP"
sleep 0.3
check "bob may not send while alice talks" cannot_send bob group
release alice group
check "bob granted" wait_until 5 may_send bob group
talk bob group g-bob $NSEND $NSEND alice carol
release bob group
note "group call done ($(elapsed) s)"

# ---- loss on carol's egress to the bridge (not on lo: her application) ----------------------------------------------------------
LOSS=20
loss_on carol $LOSS
sleep 0.3
press carol group
talk carol group g-carol 100 55 alice bob
for u in alice bob; do
  r=$(received "$WORK/$u-group.json" g-carol 0 100)
  check "$u: nothing damaged or duplicated under loss ($r)" test "${r#* }" == "0 0"
done
dropped=$(loss_dropped carol)
check "the loss rule dropped packets (${dropped:-?})" test "${dropped:-0}" -gt 0
release carol group
loss_off carol
note "loss phase done: $dropped datagrams dropped ($(elapsed) s)"

# ---- private call alice -> bob, both ways --------------------------------------------
private_both_ways alice bob carol $NSEND
note "private call done ($(elapsed) s)"

# ---- stop, then read the capture ---------------------------------------------------------
# Alone in its namespace on eth0, a daemon turns multicast loop off
# ([network] multicast_loop = auto): none of its own datagrams came back.
for u in $USERS; do
  own=$(jq_py "$(ctl_json "$u" counters)" 'd["rx_own"]')
  check "$u: multicast loop off on eth0, no own datagram back (rx_own=$own)" test "$own" -eq 0
  check "$u: says so in its log" grep -q "multicast loop off (auto: not a loopback interface)" \
    "$WORK/$u.log"
done
# A subscriber hears the daemon stop: `stopped` is the last line, after the
# goodbye, with the final counters (at least what counters said before,
# plus the TTL-0 announcement).
before=$(counter alice tx_dgrams)
nsx alice "$PROSE" ctl --socket "$WORK/alice.sock" --json events --filter stopped,peer \
  >"$WORK/alice-events" 2>"$WORK/alice-events.err" &
events_pid=$!
subscribed() { [[ $(counter alice control.subscribers 2>/dev/null) == 1 ]]; }
check "alice: subscribed before the stop" wait_until 5 subscribed
stop_daemons
ev_rc=0
wait "$events_pid" || ev_rc=$?
note "alice's subscriber: exit $ev_rc when the daemon closed"
stopped_ok() {
  [[ $(jq_py "$(tail -n 1 "$WORK/alice-events")" "d['event'] == 'stopped' and \
d['counters']['tx_dgrams'] >= $before + 1 and 'media_drops' in d['counters']") == True ]]
}
check "alice: the last event is stopped, with the final counters (> $before sent)" stopped_ok
capture_stop

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
python3 - "$WORK/frames.tsv" "$GMK_ID" "${GUK[alice]}" "${GUK[bob]}" "${GUK[carol]}" \
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
