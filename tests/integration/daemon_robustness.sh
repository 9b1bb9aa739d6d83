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
PROSE=$(realpath "${1:?usage: daemon_robustness.sh PROSE PROSED}")
PROSED=$(realpath "${2:?usage: daemon_robustness.sh PROSE PROSED}")
WORK=$(mktemp -d /tmp/prose-robust-XXXXXX)
. "$(dirname "$0")/lib.sh"
ATTACK="$HERE/attack.py"

pids=()  # daemons
apps=()  # application receivers and the sniffer
cleanup() {
  for p in "${pids[@]}" "${apps[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null
  if [[ $fail -ne 0 || -n "${KEEP_WORK:-}" ]]; then
    for f in "$WORK"/*.log; do
      echo "==== $f (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT

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
EVIL=$NET.9
GAPP=40004 # the group's application port (slot 1 of app_port_base 40000)
PAPP=40000 # private calls (slot 0)

note "provisioning ($(elapsed) s)"
check "provisioning" provision_domain || exit 1
for u in $USERS; do
  write_conf $u "${ADDR[$u]}" $IFACE $DISC $GADDR "${ADDR[$u]}"
  "$PROSED" --config "$WORK/$u.conf" >"$WORK/$u.log" 2>&1 &
  eval "PID_$u=$!"
  DAEMON_PIDS="${DAEMON_PIDS:-} $!"
  pids+=($!)
done
# Each application: a receiver on the group's and the private call's port.
for u in $USERS; do
  python3 "$RTPAPP" recv "${ADDR[$u]}" $((GAPP + 1)) "$WORK/$u-group.json" 120 &
  apps+=($!)
  python3 "$RTPAPP" recv "${ADDR[$u]}" $((PAPP + 1)) "$WORK/$u-private.json" 120 &
  apps+=($!)
done
for u in $USERS; do
  check "$u discovers 2 peers" wait_until 10 has_peers $u 2
done
note "discovery done ($(elapsed) s)"

# Record real traffic while the calls start: group media, floor, call
# control and discovery; as root also the private call's unicast SRTP/SRTCP.
CAP=$WORK/capture.json
targets="$GADDR:30000 $GADDR:30002 $GADDR:8809 $DISC:8810"
[[ $(id -u) -eq 0 ]] && targets="$targets raw:${ADDR[bob]}:50000 raw:${ADDR[bob]}:50002"
python3 "$ATTACK" sniff $IFACE 4 "$CAP" $targets >"$WORK/sniff.out" 2>&1 &
sniffer=$!
apps+=($sniffer)
sleep 0.3

# The group call: alice calls, bob and carol join; alice talks.
check "alice: call group" ctl alice call group $GROUP
for u in bob carol; do check "$u joined the group call" wait_until 5 in_call $u group S3; done
check "alice: ptt press" ctl alice ptt press --group $GROUP
check "alice may send" wait_until 5 may_send alice group
python3 "$RTPAPP" send "${ADDR[alice]}" $((GAPP + 1)) "${ADDR[alice]}" $GAPP pre 0 20 10
# Floor control traffic to record: a press that gets queued, a release.
ctl bob ptt press --group $GROUP >/dev/null
sleep 0.3
ctl alice ptt release --group $GROUP >/dev/null
sleep 0.3
ctl bob ptt release --group $GROUP >/dev/null
# The private call: alice calls bob and talks.
check "alice: call private bob" ctl alice call private sip:bob@example.org
check "bob in the private call" wait_until 5 in_call bob private P4
check "alice may send (private)" wait_until 5 may_send alice private
python3 "$RTPAPP" send "${ADDR[alice]}" $((PAPP + 1)) "${ADDR[alice]}" $PAPP ppre 0 20 10
wait $sniffer
cat "$WORK/sniff.out"
for u in bob carol; do
  check "$u heard alice before the attack: $(received "$WORK/$u-group.json" pre 0 20)" \
    got_at_least "$WORK/$u-group.json" pre 0 20 20
done
check "bob heard alice's private call before the attack" got_at_least "$WORK/bob-private.json" ppre 0 20 20

# Counters before.
for u in $USERS; do ctl_json $u counters >"$WORK/$u-before.json"; done

note "attack ($(elapsed) s)"
ATT=$WORK/attack.out
{
  for u in $USERS; do
    a=${ADDR[$u]}
    python3 "$ATTACK" udp $IFACE $EVIL "$a" 8809 "$CAP" "$GADDR:8809"
    python3 "$ATTACK" udp $IFACE $EVIL "$a" 50000 "$CAP" "raw:${ADDR[bob]}:50000"
    python3 "$ATTACK" udp $IFACE $EVIL "$a" 50002 "$CAP" "raw:${ADDR[bob]}:50002"
    # Alice holds the private call's floor: her application port gets no
    # valid RTP (she would send it, as she must for her own application).
    python3 "$ATTACK" app $IFACE $EVIL "$a" $PAPP $([[ $u != alice ]] && echo rtp)
    python3 "$ATTACK" app $IFACE $EVIL "$a" $GAPP rtp
  done
  # Multicast: once reaches all three daemons.
  python3 "$ATTACK" udp $IFACE $EVIL $GADDR 8809 "$CAP" "$GADDR:8809"
  python3 "$ATTACK" udp $IFACE $EVIL $DISC 8810 "$CAP" "$DISC:8810"
  python3 "$ATTACK" udp $IFACE $EVIL $GADDR 30000 "$CAP" "$GADDR:30000"
  python3 "$ATTACK" udp $IFACE $EVIL $GADDR 30002 "$CAP" "$GADDR:30002"
} >"$ATT" 2>&1
check "attack tool ran" test "$(grep -c 'empty=1' "$ATT")" -eq 19
sed 's/^/    /' "$ATT"
for u in $USERS; do
  python3 "$ATTACK" ctl "$WORK/$u.sock" >"$WORK/ctl-$u.out" 2>&1
  rc=$?
  check "$u: control socket errors as specified: $(tail -n 3 "$WORK/ctl-$u.out")" test $rc -eq 0
done
head -n 1 "$WORK/ctl-alice.out" | sed 's/^/    /'
note "attack done ($(elapsed) s)"

# Every daemon still runs and answers.
for u in $USERS; do
  check "$u still running" kill -0 "$(eval echo \$PID_$u)"
  check "$u answers status" ctl $u status
done

# The counters moved, per kind. Sums over the three daemons: which one
# counts a given datagram depends on which call it reached.
for u in $USERS; do ctl_json $u counters >"$WORK/$u-after.json"; done
delta() {
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

# No attacker datagram reached an application, and nothing arrived damaged.
for u in $USERS; do
  for k in group private; do
    r=$(received "$WORK/$u-$k.json" attack 0 3)
    check "$u/$k app: nothing of the attacker, nothing damaged ($r)" test "$r" == "0 0 0"
  done
done

# The calls still work: group (alice talks again), then the floor goes to
# bob, and the private call both ways.
note "after the attack ($(elapsed) s)"
check "alice: ptt press" ctl alice ptt press --group $GROUP
check "alice may send again" wait_until 5 may_send alice group
python3 "$RTPAPP" send "${ADDR[alice]}" $((GAPP + 1)) "${ADDR[alice]}" $GAPP post 0 30 10
sleep 0.3
for u in bob carol; do
  check "$u heard all of alice after the attack: $(received "$WORK/$u-group.json" post 0 30)" \
    got_at_least "$WORK/$u-group.json" post 0 30 30
done
check "alice: ptt release" ctl alice ptt release --group $GROUP
check "bob: ptt press" ctl bob ptt press --group $GROUP
check "bob may send" wait_until 5 may_send bob group
python3 "$RTPAPP" send "${ADDR[bob]}" $((GAPP + 1)) "${ADDR[bob]}" $GAPP bobpost 0 20 10
sleep 0.3
for u in alice carol; do
  check "$u heard bob: $(received "$WORK/$u-group.json" bobpost 0 20)" \
    got_at_least "$WORK/$u-group.json" bobpost 0 20 20
done
python3 "$RTPAPP" send "${ADDR[alice]}" $((PAPP + 1)) "${ADDR[alice]}" $PAPP ppost 0 20 10
sleep 0.3
check "bob heard alice's private call after the attack" \
  got_at_least "$WORK/bob-private.json" ppost 0 20 20
check "alice: ptt release (private)" ctl alice ptt release --call sip:bob@example.org
check "bob: ptt press (private)" ctl bob ptt press --call sip:alice@example.org
check "bob may send (private)" wait_until 5 may_send bob private
python3 "$RTPAPP" send "${ADDR[bob]}" $((PAPP + 1)) "${ADDR[bob]}" $PAPP bobpriv 0 20 10
sleep 0.3
check "alice heard bob's private call: $(received "$WORK/alice-private.json" bobpriv 0 20)" \
  got_at_least "$WORK/alice-private.json" bobpriv 0 20 20
for u in $USERS; do
  for k in group private; do
    r=$(received "$WORK/$u-$k.json" none 0 0)
    check "$u/$k app: no damaged packet ($r)" test "${r#* }" == "0 0"
  done
done

# A clean stop: SIGTERM, exit status 0, no sanitizer report in any log.
note "stopping ($(elapsed) s)"
for u in $USERS; do
  p=$(eval echo \$PID_$u)
  kill -TERM "$p"
  wait "$p"
  rc=$?
  check "$u exits 0 on SIGTERM (got $rc)" test $rc -eq 0
done
pids=()
check "no sanitizer report from the daemons" no_sanitizer_report $DAEMON_PIDS -- "$WORK"/*.log
finish
