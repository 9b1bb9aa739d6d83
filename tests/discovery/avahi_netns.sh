#!/usr/bin/env bash
# The avahi DNS-SD backend between two nodes, each in its own network and
# mount namespace with its own dbus-daemon and avahi-daemon, joined by a veth
# pair (PLATFORM.md "Multicast, namespaces, avahi"). Never touches the root
# namespace's avahi: the daemons run only inside the namespaces.
#
#   avahi_netns.sh PATH/TO/avahi_peer
#
# alice (198.18.0.1) and bob (198.18.0.2) publish signed announcements as TXT
# records and must each verify the other through DNS-SD alone; a forger in
# bob's namespace publishes carol's announcement with a broken signature,
# which alice must reject. Exit 0 on success, 1 on failure, 77 to skip.
set -euo pipefail

skip() { echo "SKIP: $*"; exit 77; }
peer_bin=${1:?usage: avahi_netns.sh PATH/TO/avahi_peer}
[[ $(id -u) -eq 0 ]] || skip "needs root (network namespaces, mounts)"
for t in ip unshare mount dbus-daemon avahi-daemon avahi-publish; do
  command -v "$t" >/dev/null || skip "missing $t (apt-get install avahi-daemon avahi-utils dbus iproute2)"
done
[[ -x $peer_bin ]] || skip "no test program at $peer_bin"

tag=$$
ns_a=prose-disc-a-$tag
ns_b=prose-disc-b-$tag
work=$(mktemp -d)

cleanup() {
  # Only what this script started: the processes inside its own namespaces.
  for ns in "$ns_a" "$ns_b"; do
    if ip netns list | grep -q "^$ns\b"; then
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
      sleep 0.2
      for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$ns" 2>/dev/null || true
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$ns_a"
ip netns add "$ns_b"
ip link add "pda$tag" type veth peer name "pdb$tag"
ip link set "pda$tag" netns "$ns_a"
ip link set "pdb$tag" netns "$ns_b"
setup_ns() { # ns ifname addr
  ip -n "$1" link set "$2" name eth0
  ip -n "$1" addr add "$3/24" dev eth0
  ip -n "$1" link set lo up
  ip -n "$1" link set eth0 up
  ip -n "$1" route add 224.0.0.0/4 dev eth0
}
setup_ns "$ns_a" "pda$tag" 198.18.0.1
setup_ns "$ns_b" "pdb$tag" 198.18.0.2

for n in a b; do
  cat >"$work/avahi-$n.conf" <<CONF
[server]
host-name=prose-$n-$tag
use-ipv4=yes
use-ipv6=no
allow-interfaces=eth0
enable-dbus=yes
[wide-area]
enable-wide-area=no
[publish]
publish-workstation=no
publish-hinfo=no
publish-addresses=yes
CONF
done
"$peer_bin" --forged-txt >"$work/forged.txt"

# Run one node inside its namespace: private mounts for the daemons' run
# directories, a system bus, avahi, optionally the forger, then the test
# program. The daemons are stopped by PID when it ends.
cat >"$work/node.sh" <<'NODE'
set -u
conf=$1; shift
forge=$1; shift
mount -t tmpfs tmpfs /run/dbus
mkdir -p /run/avahi-daemon
mount -t tmpfs tmpfs /run/avahi-daemon
dbus_pid=$(dbus-daemon --system --fork --print-pid)
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$conf" -D
for _ in $(seq 50); do avahi-daemon -c 2>/dev/null && break; sleep 0.1; done
forger=""
if [[ -s $forge ]]; then
  # shellcheck disable=SC2046
  avahi-publish -s "mallory" _prose-ptt._udp 8809 $(cat "$forge") >/dev/null 2>&1 &
  forger=$!
fi
"$@"
rc=$?
[[ -n $forger ]] && kill "$forger" 2>/dev/null
avahi_pid=$(cat /run/avahi-daemon/pid 2>/dev/null || true)
[[ -n $avahi_pid ]] && kill "$avahi_pid" 2>/dev/null
kill "$dbus_pid" 2>/dev/null
exit $rc
NODE

: >"$work/none"
# One announcement a second (avahi coalesces TXT updates that come this
# fast), a TTL of 15 s (the daemon's default), and a 40 s hold during which
# each node polls its table every second: the peer must never expire while
# it is published. A 6 s TTL also passes on a quiet machine but not under
# sanitizers on a loaded one (AVAHI_NETNS_TIMING overrides the timing).
read -r -a timing <<<"${AVAHI_NETNS_TIMING:---interval 1000 --ttl 15000 --hold 40}"
ip netns exec "$ns_a" unshare -m --propagation private bash "$work/node.sh" "$work/avahi-a.conf" \
  "$work/none" "$peer_bin" alice bob 198.18.0.2 198.18.0.1 40 --expect-forged "${timing[@]}" \
  >"$work/alice.log" 2>&1 &
pid_a=$!
ip netns exec "$ns_b" unshare -m --propagation private bash "$work/node.sh" "$work/avahi-b.conf" \
  "$work/forged.txt" "$peer_bin" bob alice 198.18.0.1 198.18.0.2 40 "${timing[@]}" \
  >"$work/bob.log" 2>&1 &
pid_b=$!
rc_a=0 rc_b=0
wait "$pid_a" || rc_a=$?
wait "$pid_b" || rc_b=$?

echo "--- alice (198.18.0.1), rc=$rc_a"; cat "$work/alice.log"
echo "--- bob (198.18.0.2), rc=$rc_b"; cat "$work/bob.log"
if [[ $rc_a -ne 0 || $rc_b -ne 0 ]]; then
  echo "discovery_avahi_netns: FAILED"
  exit 1
fi
echo "discovery_avahi_netns: both nodes verified each other over DNS-SD; the forgery was rejected"
