#!/usr/bin/env bash
# Bad input to running daemons: three prosed on loopback addresses (no root
# needed) with a group call and a private call up. Every port a daemon
# uses gets garbage, truncated, oversized, forged and replayed datagrams
# (real ones, recorded by a sniffer joined to the groups; as root also the
# private call's unicast SRTP), and the control socket gets malformed and
# hostile requests. Then: the drop counters moved for each kind, every
# daemon still answers, both calls still carry media byte-exact, no
# attacker datagram reached an application, the daemons stop cleanly on
# SIGTERM and their logs hold no sanitizer report.
#
# usage: daemon_robustness.sh PATH_TO_PROSE PATH_TO_PROSED
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
init_run prose-robust "$@"
ATTACK="$HERE/attack.py"

# Addresses of this run: three loopback addresses and two multicast groups
# derived from the PID, so parallel runs (the normal and the ASan build)
# and other tests on the machine never see each other's traffic.
R1=$((($$ >> 8) % 250 + 1))
R2=$(($$ % 250 + 1))
NET=127.$R1.$R2
DISC=239.254.$R1.$R2
GADDR=239.253.$R1.$R2
IFACE=127.0.0.1 # lo: multicast stays on the machine
declare -A ADDR=([alice]=$NET.1 [bob]=$NET.2 [carol]=$NET.3)
declare -A APPADDR=([alice]=$NET.1 [bob]=$NET.2 [carol]=$NET.3)
EVIL=$NET.9

provision
for u in $USERS; do
  write_conf "$u" "${ADDR[$u]}" $IFACE "$DISC" "$GADDR" "${ADDR[$u]}"
done
start_nodes 10

# Record real traffic while the calls start: group media, floor, call
# control and discovery; as root also the private call's unicast SRTP/SRTCP.
CAP=$WORK/capture.json
targets=("$GADDR:$GMEDIA" "$GADDR:$GFLOOR" "$GADDR:8809" "$DISC:8810")
[[ $(id -u) -eq 0 ]] && targets+=("raw:${ADDR[bob]}:$PMEDIA" "raw:${ADDR[bob]}:$PFLOOR")
python3 "$ATTACK" sniff $IFACE 4 "$CAP" "${targets[@]}" >"$WORK/sniff.out" 2>&1 &
sniffer=$!
pids+=("$sniffer")
sleep 0.3

# The group call: alice calls, bob and carol join; alice talks.
call_group alice
press alice group
app_send alice group pre 20
# Floor control traffic to record: a press that gets queued, a release.
ctl bob ptt press --group "$GROUP" >/dev/null
sleep 0.3
ctl alice ptt release --group "$GROUP" >/dev/null
sleep 0.3
ctl bob ptt release --group "$GROUP" >/dev/null
# The private call: alice calls bob and talks.
call_private alice bob
app_send alice private ppre 20
wait $sniffer
cat "$WORK/sniff.out"
# Heard before the attack.
for u in bob carol; do heard "$u" group pre 20 20; done
heard bob private ppre 20 20

# Counters before.
for u in $USERS; do ctl_json "$u" counters >"$WORK/$u-before.json"; done

note "attack ($(elapsed) s)"
ATT=$WORK/attack.out
{
  for u in $USERS; do
    a=${ADDR[$u]}
    python3 "$ATTACK" udp $IFACE "$EVIL" "$a" 8809 "$CAP" "$GADDR:8809"
    python3 "$ATTACK" udp $IFACE "$EVIL" "$a" $PMEDIA "$CAP" "raw:${ADDR[bob]}:$PMEDIA"
    python3 "$ATTACK" udp $IFACE "$EVIL" "$a" $PFLOOR "$CAP" "raw:${ADDR[bob]}:$PFLOOR"
    # Alice holds the private call's floor: her application port gets no
    # valid RTP (she would send it, as she must for her own application).
    rtp=(rtp)
    [[ $u != alice ]] || rtp=()
    python3 "$ATTACK" app $IFACE "$EVIL" "$a" $PAPP "${rtp[@]}"
    python3 "$ATTACK" app $IFACE "$EVIL" "$a" $GAPP rtp
  done
  # Multicast: once reaches all three daemons.
  python3 "$ATTACK" udp $IFACE "$EVIL" "$GADDR" 8809 "$CAP" "$GADDR:8809"
  python3 "$ATTACK" udp $IFACE "$EVIL" "$DISC" 8810 "$CAP" "$DISC:8810"
  python3 "$ATTACK" udp $IFACE "$EVIL" "$GADDR" $GMEDIA "$CAP" "$GADDR:$GMEDIA"
  python3 "$ATTACK" udp $IFACE "$EVIL" "$GADDR" $GFLOOR "$CAP" "$GADDR:$GFLOOR"
} >"$ATT" 2>&1
check "attack tool ran" test "$(grep -c 'empty=1' "$ATT")" -eq 19
sed 's/^/    /' "$ATT"
for u in $USERS; do
  python3 "$ATTACK" ctl "$WORK/$u.sock" "$GROUP" >"$WORK/ctl-$u.out" 2>&1
  rc=$?
  check "$u: control socket errors as specified: $(tail -n 3 "$WORK/ctl-$u.out")" test $rc -eq 0
done
head -n 1 "$WORK/ctl-alice.out" | sed 's/^/    /'
note "attack done ($(elapsed) s)"

# Every daemon still runs and answers.
for u in $USERS; do
  check "$u still running" kill -0 "${DAEMON_PID[$u]}"
  check "$u answers status" ctl "$u" status
done

# The counters moved, per kind. Sums over the three daemons: which one
# counts a given datagram depends on which call it reached.
for u in $USERS; do ctl_json "$u" counters >"$WORK/$u-after.json"; done
delta() {
  # shellcheck disable=SC2086 # one argument a user
  python3 - "$1" "$WORK" $USERS <<'PY'
import json, sys
path, work, users = sys.argv[1].split("."), sys.argv[2], sys.argv[3:]
def get(d):
    for p in path:
        d = d[p]
    return d
print(sum(get(json.load(open("%s/%s-after.json" % (work, u)))) -
          get(json.load(open("%s/%s-before.json" % (work, u)))) for u in users))
PY
}
report=""
for c in call_rx_errors app_dropped_bad app_dropped_no_floor \
  media_drops.drop_malformed media_drops.drop_unknown_mki media_drops.drop_auth \
  media_drops.drop_replay discovery.rej_malformed discovery.rej_replay discovery.rej_sig \
  control.errors control.refused control.overlong control.dropped_slow; do
  v=$(delta $c)
  report="$report $c=$v"
  check "counter $c moved ($v)" test "$v" -gt 0
done
echo "counters (sum of increases):$report"
# Several daemons on the loopback: multicast loop stays on (auto), and each
# daemon drops the copies of its own multicast that come back.
v=$(delta rx_own)
check "multicast loop on for the loopback: own datagrams came back and were dropped ($v)" \
  test "$v" -gt 0

# apps_clean TAG COUNT WHAT : no application (group or private) got any
# of TAG's packets 0..COUNT-1, nor a damaged or duplicated packet.
apps_clean() {
  local u k r
  for u in $USERS; do
    for k in group private; do
      r=$(received "$WORK/$u-$k.json" "$1" 0 "$2")
      check "$u/$k app: $3 ($r)" test "$r" == "0 0 0"
    done
  done
}
# No attacker datagram reached an application, and nothing arrived damaged.
apps_clean attack 3 "nothing of the attacker, nothing damaged"

# The calls still work: group (alice talks again), then the floor goes to
# bob, and the private call both ways.
note "after the attack ($(elapsed) s)"
press alice group
talk alice group post 30 30 bob carol
release alice group
press bob group
talk bob group bobpost 20 20 alice carol
talk alice private ppost 20 20 bob
release alice private bob
press bob private alice
talk bob private bobpriv 20 20 alice
apps_clean none 0 "no damaged packet"

# A clean stop: SIGTERM, exit status 0, no sanitizer report in any log.
note "stopping ($(elapsed) s)"
stop_daemons
finish
