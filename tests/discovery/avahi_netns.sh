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
# shellcheck source-path=SCRIPTDIR source=../integration/lib.sh
. "$(dirname "$0")/../integration/lib.sh"

peer_bin=${1:?usage: avahi_netns.sh PATH/TO/avahi_peer}
need_root "network namespaces, mounts"
need_tools "apt-get install avahi-daemon avahi-utils dbus iproute2" \
  ip unshare mount dbus-daemon avahi-daemon avahi-publish
[[ -x $peer_bin ]] || skip "no test program at $peer_bin"
init_work prose-disc

USERS="alice bob"
netns_names prose-disc-
declare -A ADDR=([alice]=198.18.0.1 [bob]=198.18.0.2)
net_pair || {
  echo "discovery_avahi_netns: network setup failed"
  exit 1
}
avahi_setup
"$peer_bin" --forged-txt >"$WORK/forged.txt"

# One announcement a second (avahi coalesces TXT updates that come this
# fast), a TTL of 15 s (the daemon's default), and a 40 s hold during which
# each node polls its table every second: the peer must never expire while
# it is published. A 6 s TTL also passes on a quiet machine but not under
# sanitizers on a loaded one (AVAHI_NETNS_TIMING overrides the timing).
read -r -a timing <<<"${AVAHI_NETNS_TIMING:---interval 1000 --ttl 15000 --hold 40}"
# Each node runs its test program inside its namespace as avahi_setup's
# node.sh describes; bob's namespace also holds the forger.
ip netns exec "${NS[alice]}" "${AVAHI_NODE[@]}" "$WORK/avahi-alice.conf" - \
  "$peer_bin" alice bob 198.18.0.2 198.18.0.1 40 --expect-forged "${timing[@]}" \
  >"$WORK/alice.log" 2>&1 &
pid_a=$!
ip netns exec "${NS[bob]}" "${AVAHI_NODE[@]}" "$WORK/avahi-bob.conf" "$WORK/forged.txt" \
  "$peer_bin" bob alice 198.18.0.1 198.18.0.2 40 "${timing[@]}" \
  >"$WORK/bob.log" 2>&1 &
pid_b=$!
rc_a=0 rc_b=0
wait "$pid_a" || rc_a=$?
wait "$pid_b" || rc_b=$?

echo "--- alice (198.18.0.1), rc=$rc_a"; cat "$WORK/alice.log"
echo "--- bob (198.18.0.2), rc=$rc_b"; cat "$WORK/bob.log"
if [[ $rc_a -ne 0 || $rc_b -ne 0 ]]; then
  echo "discovery_avahi_netns: FAILED"
  exit 1
fi
echo "discovery_avahi_netns: both nodes verified each other over DNS-SD; the forgery was rejected"
