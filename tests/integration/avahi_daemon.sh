#!/usr/bin/env bash
# prosed with [discovery] mode = avahi (root only): alice and bob run in two
# network namespaces joined by a veth pair, each namespace with its own
# mount namespace, system D-Bus and avahi-daemon (as
# tests/discovery/avahi_netns.sh does; the root namespace's avahi is never
# touched). With mode = avahi a daemon opens no discovery socket, so the
# peers can only learn of each other through DNS-SD.
#
#  1. each daemon lists the other (`prose ctl peers`, run in its namespace),
#     its avahi counters show published and accepted announcements, and no
#     socket is bound to the discovery port;
#  2. a private call alice -> bob connects: both show it in P4;
#  3. both daemons stop cleanly on SIGTERM (exit 0, every handle closed) and
#     no sanitizer report is in their logs.
#
# Not root, or a tool missing, or namespaces not permitted: prints why and
# exits 77 (CTest: skipped). A trap always removes the namespaces and every
# process started in them.
#
# usage: avahi_daemon.sh PATH_TO_PROSE PATH_TO_PROSED
set -u
skip() {
  echo "SKIP: $*"
  exit 77
}
[[ $(id -u) -eq 0 ]] || skip "needs root (network and mount namespaces)"
for t in ip unshare mount ss dbus-daemon avahi-daemon python3; do
  command -v $t >/dev/null || skip "$t is not installed (apt-get install avahi-daemon dbus iproute2)"
done
PROSE=$(realpath "${1:?usage: avahi_daemon.sh PROSE PROSED}")
PROSED=$(realpath "${2:?usage: avahi_daemon.sh PROSE PROSED}")
WORK=$(mktemp -d /tmp/prose-avahi-XXXXXX)
. "$(dirname "$0")/lib.sh"
USERS="alice bob" # lib.sh provisions and configures these

TAG=pav$$
declare -A NS=([alice]=$TAG-alice [bob]=$TAG-bob)
declare -A ADDR=([alice]=198.18.0.1 [bob]=198.18.0.2)
DISC_PORT=8810 # the default [discovery] port: nothing may listen on it

daemons=()
cleanup() {
  for p in "${daemons[@]}"; do kill "$p" 2>/dev/null; done
  # Only what this script started: the processes inside its namespaces
  # (prosed, dbus-daemon, avahi-daemon); their mount namespaces go with them.
  local ns pid
  for ns in "${NS[@]}"; do
    ip netns list | grep -q "^$ns\b" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
  done
  sleep 0.3
  for ns in "${NS[@]}"; do
    ip netns list | grep -q "^$ns\b" || continue
    for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
    ip netns del "$ns" 2>/dev/null
  done
  wait 2>/dev/null
  if [[ $fail -ne 0 || -n "${KEEP_WORK:-}" ]]; then
    for f in "$WORK"/{alice,bob}.log; do
      [[ -f $f ]] || continue
      echo "==== $f (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the network: a veth pair between the two namespaces ---------------------
ip netns add "${NS[alice]}" 2>/dev/null || skip "cannot create network namespaces here"
{
  set -e
  ip netns add "${NS[bob]}"
  ip -n "${NS[alice]}" link add eth0 type veth peer name eth0 netns "${NS[bob]}"
  for u in $USERS; do
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

# ---- avahi and the daemons ------------------------------------------------------
for u in $USERS; do
  cat >"$WORK/avahi-$u.conf" <<CONF
[server]
host-name=$TAG-$u
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
# Runs as the namespace's first process: private mounts for the run
# directories of D-Bus and avahi, both daemons, then exec the command (so
# the caller's $! is prosed itself and SIGTERM reaches it).
cat >"$WORK/node.sh" <<'NODE'
set -u
conf=$1
shift
mount -t tmpfs tmpfs /run/dbus || exit 1
mkdir -p /run/avahi-daemon
mount -t tmpfs tmpfs /run/avahi-daemon || exit 1
dbus-daemon --system --fork || exit 1
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$conf" -D || exit 1
for _ in $(seq 50); do avahi-daemon -c 2>/dev/null && break; sleep 0.1; done
exec "$@"
NODE

note "provisioning ($(elapsed) s)"
check "provisioning" provision_domain || exit 1
for u in $USERS; do
  write_conf $u "${ADDR[$u]}" eth0 239.255.80.1 239.255.81.1 127.0.0.1
  # DNS-SD only. One announcement a second keeps avahi's record updates
  # (rate-limited by mDNS) well apart; the TTL leaves room for a slow probe.
  sed -i 's/^\[discovery\]$/[discovery]\nmode = avahi/; s/^announce_interval_ms = .*/announce_interval_ms = 1000/; s/^announce_ttl_ms = .*/announce_ttl_ms = 15000/' \
    "$WORK/$u.conf"
  ip netns exec "${NS[$u]}" unshare -m --propagation private bash "$WORK/node.sh" \
    "$WORK/avahi-$u.conf" "$PROSED" --config "$WORK/$u.conf" >"$WORK/$u.log" 2>&1 &
  eval "PID_$u=$!"
  DAEMON_PIDS="${DAEMON_PIDS:-} $!"
  daemons+=($!)
done

# The control socket from inside the daemon's namespace.
ctl() {
  local name=$1
  shift
  ip netns exec "${NS[$name]}" "$PROSE" ctl --socket "$WORK/$name.sock" --timeout 5000 "$@"
}
peer_uris() { jq_py "$(ctl_json "$1" peers)" '" ".join(sorted(p["uri"] for p in d["peers"]))'; }
sees() { [[ $(peer_uris "$1" 2>/dev/null) == "sip:$2@example.org" ]]; }

# ---- 1. discovery through DNS-SD ----------------------------------------------------------
check "alice sees bob" wait_until 30 sees alice bob
check "bob sees alice" wait_until 30 sees bob alice
note "discovery done ($(elapsed) s)"
for u in $USERS; do
  check "$u: avahi published ($(counter $u avahi.published 2>&1))" \
    test "$(counter $u avahi.published 2>/dev/null)" -ge 1
  check "$u: avahi fed accepted announcements ($(counter $u avahi.accepted 2>&1))" \
    test "$(counter $u avahi.accepted 2>/dev/null)" -ge 1
  check "$u: avahi connected" test "$(counter $u avahi.running 2>/dev/null)" == True
  no_disc_socket() { ! ip netns exec "${NS[$1]}" ss -Huan "sport = :$DISC_PORT" | grep -q .; }
  check "$u: no socket on the discovery port $DISC_PORT" no_disc_socket $u
done

# ---- 2. a private call alice -> bob ----------------------------------------------------------
check "alice: call private bob" ctl alice call private sip:bob@example.org
check "bob in the private call (P4)" wait_until 10 in_call bob private P4
check "alice in the private call (P4)" wait_until 10 in_call alice private P4
note "private call done ($(elapsed) s)"
check "alice: hangup" ctl alice hangup

# ---- 3. clean stop ---------------------------------------------------------------------------
for u in $USERS; do
  p=$(eval echo \$PID_$u)
  kill -TERM "$p"
  wait "$p"
  rc=$?
  check "$u exits 0 on SIGTERM (got $rc)" test $rc -eq 0
done
daemons=()
for u in $USERS; do
  check "$u closed every handle" eval "! grep -q 'handles left open' '$WORK/$u.log'"
done
check "no sanitizer report from the daemons" no_sanitizer_report $DAEMON_PIDS -- "$WORK"/{alice,bob}.log
finish
