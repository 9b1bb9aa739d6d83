#!/usr/bin/env bash
# prose sim --netns: the simulator's scenarios with real prosed processes in
# network namespaces (docs/sim.md "Multi-process runs").
#
#   1. the built-in demo and emergency scenarios: every expectation holds,
#      and the KPIs that do not depend on timing are the simulator's;
#   2. a scenario with per-link loss, a partition and a heal, a crash and a
#      restart: nftables drops are counted by reason and the lossy link is
#      the only one that loses frames;
#   3. hostile runs: a daemon that refuses its configuration, a missing
#      prosed, options that do not go with --netns, an interrupt; each fails
#      with its own message and exit status and leaves no namespace and no
#      daemon behind.
#
# usage: netns.sh PROSE PROSED     (root; exit 77 when namespaces cannot be made)
set -euo pipefail

PROSE=$1
PROSED=$2
WORK=$(mktemp -d /tmp/prose-sim-netns-test.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
checks=0

ok() { checks=$((checks + 1)); echo "ok   $*"; }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL $*"; }
check() { # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else bad "$what"; fi
}

if ! ip netns add prose-sim-probe-$$ 2>/dev/null; then
  echo "skip: cannot create network namespaces here"
  exit 77
fi
ip netns del prose-sim-probe-$$

# No namespace or daemon of a run may outlive it. Other runs may be going on
# (another build's suite): only this script's count. A run names its
# namespaces psim<its pid>-*; its daemons inherit SIM_NETNS_SCRIPT=<our pid>.
export SIM_NETNS_SCRIPT=$$
SIM_PIDS=()
ns_list() {
  local p
  for p in "${SIM_PIDS[@]}"; do
    (ip netns list | awk -v t="psim$p-" 'index($1, t) == 1 {print $1}') || true
  done
}
daemon_list() {
  local p
  for p in $(pgrep -x prosed || true); do
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -qx "SIM_NETNS_SCRIPT=$$" && echo "$p"
  done
  return 0
}
leftovers() {
  local ns daemons
  ns=$(ns_list | tr '\n' ' ')
  daemons=$(daemon_list | tr '\n' ' ')
  [[ -z ${ns// /} ]] || { echo "  leftover namespaces: $ns"; return 1; }
  [[ -z ${daemons// /} ]] || { echo "  leftover daemons: $daemons"; return 1; }
}

# run OUT ERR COMMAND...: run it with its output in OUT and ERR, its exit
# status in $rc.
run() {
  local out=$1 err=$2
  shift 2
  set +e
  "$@" > "$out" 2> "$err" &
  SIM_PIDS+=("$!")
  wait "$!"
  rc=$?
  set -e
}

# json FILE EXPR: evaluate a Python expression over the report object r.
json() {
  python3 - "$1" "$2" <<'EOF'
import json, sys
r = json.loads(open(sys.argv[1]).read().splitlines()[-1])
v = eval(sys.argv[2], {"r": r})
if v is not True: print("  value:", v, "delivery", r.get("delivery"), "frames", r.get("frames"), "drops", r.get("drops"))
sys.exit(0 if v is True else 1)
EOF
}

# ---- 1. the demo scenario in both worlds ---------------------------------

"$PROSE" sim demo --json --quiet > "$WORK/inproc.json"
# With dumpcap and tshark, the demo's wire is captured (--pcap) and read back.
pcap=()
if command -v dumpcap >/dev/null && command -v tshark >/dev/null; then
  pcap=(--pcap "$WORK/wire.pcapng")
fi
run "$WORK/netns.json" "$WORK/netns.err" \
  "$PROSE" sim --netns demo --json --prosed "$PROSED" "${pcap[@]}"
check "demo: --netns exits 0 (every expectation held)" [ "$rc" -eq 0 ]
[[ $rc -eq 0 ]] || cat "$WORK/netns.err"
check "demo: the report says the netns world" json "$WORK/netns.json" 'r["world"] == "netns"'
check "demo: the report names what netns cannot apply" \
  json "$WORK/netns.json" '"delay and jitter" in r["not_applied"]'
check "demo: 9 expectations, all pass" \
  json "$WORK/netns.json" 'len(r["expectations"]) == 9 and all(e["ok"] for e in r["expectations"])'
for k in requests private_calls private_connected bursts collisions; do
  a=$(python3 -c "import json,sys; print(json.load(open('$WORK/inproc.json'))['$k'])")
  check "demo: $k is the simulator's ($a)" json "$WORK/netns.json" "r['$k'] == $a"
done
check "demo: one queued request, the others immediate, none failed" \
  json "$WORK/netns.json" 'r["outcomes"] == {"immediate": 5, "queued": 1, "denied": 0, "failed": 0, "abandoned": 0}'
check "demo: every frame sent was heard by every listener" \
  json "$WORK/netns.json" 'r["frames"]["expected"] > 400 and r["frames"]["delivered"] == r["frames"]["expected"] and r["delivery"] == 1'
check "demo: no SRTP drop of any kind in any daemon" \
  json "$WORK/netns.json" 'all(r["node_drops"][k] == 0 for k in ("srtp_malformed","srtp_unknown_mki","srtp_no_key","srtp_auth","srtp_replay"))'
check "demo: the daemons' datagrams were counted" \
  json "$WORK/netns.json" 'r["datagrams"] > 100 and r["deliveries"] > r["datagrams"]'
if [[ ${#pcap[@]} -gt 0 ]]; then
  frames=$(tshark -r "$WORK/wire.pcapng" -Y udp 2>/dev/null | wc -l)
  sent=$(python3 -c "import json; print(json.loads(open('$WORK/netns.json').read().splitlines()[-1])['datagrams'])")
  check "demo pcap: every datagram the daemons sent, once ($frames captured, $sent sent)" \
    [ "$frames" -eq "$sent" ]
  media=$(tshark -r "$WORK/wire.pcapng" -Y 'udp.dstport == 30000' 2>/dev/null | wc -l)
  check "demo pcap: the group's media is on the wire ($media datagrams)" [ "$media" -gt 150 ]
  plain=$(tshark -r "$WORK/wire.pcapng" -Y 'udp contains 50:53:49:4d' 2>/dev/null | wc -l)
  check "demo pcap: no application frame in the clear (PSIM marker) on the wire" [ "$plain" -eq 0 ]
fi
check "demo: nothing left behind" leftovers

# Pre-emption by an emergency call between real daemons: the arbitrator's
# revocation and the new talker's grant are seen in the order they happened
# (no phantom collision), and every expectation holds.
run "$WORK/emergency.json" "$WORK/emergency.err" \
  "$PROSE" sim --netns emergency --json --prosed "$PROSED"
check "emergency: --netns exits 0 (every expectation held)" [ "$rc" -eq 0 ]
[[ $rc -eq 0 ]] || cat "$WORK/emergency.err"
check "emergency: one revocation, no collision, alice granted in under 50 ms" \
  json "$WORK/emergency.json" 'r["revoked"] == 1 and r["collisions"] == 0 and r["overlap_ms"] == 0'

# ---- 2. loss, partition, crash, restart -------------------------------------

cat > "$WORK/faults.scn" <<'EOF'
# netns test: loss on one link, a partition and a heal, a crash and a restart
name netns-faults
duration 14s
group fire
node a groups fire
node b groups fire
node c groups fire
node d groups fire
at 1s   call a fire
# Then (b has joined) what a sends to the group reaches b with 40 % loss.
at 1.3s link a -> b to fire loss 40%
at 1.5s talk a 3s
at 5s   partition a,b | c,d
at 5.5s talk c 1.5s
at 7.5s heal
at 8s   crash d
at 9s   restart d
at 10s  call d fire
at 11s  talk a 2s
expect drops.loss > 0
expect drops.partition > 0
expect c.heard > 0
# a sends 250 frames (5 s); b loses about 40 % of them (binomial: 150 +- 8)
expect b.heard > 100
expect b.heard < 220
expect d.heard > 0
expect private_calls == 0
EOF
run "$WORK/faults.json" "$WORK/faults.err" \
  "$PROSE" sim --netns "$WORK/faults.scn" --json --prosed "$PROSED" --trace "$WORK/faults.trace"
check "faults: exits 0" [ "$rc" -eq 0 ]
[[ $rc -eq 0 ]] || cat "$WORK/faults.err"
check "faults: loss and partition drops counted by nftables" \
  json "$WORK/faults.json" 'r["drops"]["loss"] > 20 and r["drops"]["partition"] > 0'
check "faults: nothing else dropped by the medium" \
  json "$WORK/faults.json" 'all(v == 0 for k, v in r["drops"].items() if k not in ("loss", "partition"))'
check "faults: frames lost (the lossy link), but not all" \
  json "$WORK/faults.json" '0.5 < r["delivery"] < 1'
check "faults: the trace has the crash, the restart and the partition" \
  grep -q '"action":"crash"' "$WORK/faults.trace"
check "faults: ... restart" grep -q '"action":"restart"' "$WORK/faults.trace"
check "faults: ... partition" grep -q '"action":"partition"' "$WORK/faults.trace"
check "faults: nothing left behind" leftovers

# ---- 3. hostile runs ----------------------------------------------------------

# A setting prosed refuses (TFG1 below its 10 ms floor): the run fails,
# naming the node, and the daemon's own message is shown.
cat > "$WORK/refused.scn" <<'EOF'
# netns test: a daemon that refuses its configuration
duration 2s
group fire
node a groups fire
node b groups fire
set call.tfg1 5ms nodes b
EOF
run "$WORK/refused.out" "$WORK/refused.err" \
  "$PROSE" sim --netns "$WORK/refused.scn" --prosed "$PROSED"
check "refused config: exit status 1" [ "$rc" -eq 1 ]
check "refused config: the node is named" grep -q "b's prosed did not start (exit status" "$WORK/refused.err"
check "refused config: prosed's own reason is shown" grep -q "TFG1" "$WORK/refused.err"
check "refused config: nothing left behind" leftovers

run /dev/null "$WORK/noprosed.err" "$PROSE" sim --netns demo --prosed /nonexistent/prosed
check "missing prosed: exit status 1" [ "$rc" -eq 1 ]
check "missing prosed: says so" grep -q "prosed not found at /nonexistent/prosed" "$WORK/noprosed.err"

run /dev/null "$WORK/pcap.err" "$PROSE" sim --netns demo --pcap-plain "$WORK/x.pcap"
check "--pcap-plain with --netns: usage error (2)" [ "$rc" -eq 2 ]
check "--pcap-plain with --netns: says why" grep -q "decrypts with the nodes' stores" "$WORK/pcap.err"
check "--pcap-plain with --netns: no file written" [ ! -e "$WORK/x.pcap" ]

run /dev/null "$WORK/prosed.err" "$PROSE" sim demo --prosed "$PROSED"
check "--prosed without --netns: usage error (2)" [ "$rc" -eq 2 ]

# An interrupt in the middle: the run ends, says so, and cleans up.
"$PROSE" sim --netns demo --prosed "$PROSED" > /dev/null 2> "$WORK/int.err" &
pid=$!
SIM_PIDS+=("$pid")
for _ in $(seq 1 100); do
  grep -q "namespaces on a bridge" "$WORK/int.err" 2>/dev/null && break
  sleep 0.1
done
sleep 2
kill -INT "$pid"
set +e
wait "$pid"
rc=$?
set -e
check "interrupt: exit status 1" [ "$rc" -eq 1 ]
check "interrupt: says so" grep -q "netns: interrupted" "$WORK/int.err"
check "interrupt: nothing left behind" leftovers

echo "$checks checks, $fails failed"
[[ $fails -eq 0 ]]
