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
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root "network and mount namespaces"
need_tools "apt-get install avahi-daemon dbus iproute2" \
  ip unshare mount ss dbus-daemon avahi-daemon python3
init_run prose-avahi "$@"
USERS="alice bob" # provisioned, configured and started below

netns_names pav
declare -A ADDR=([alice]=198.18.0.1 [bob]=198.18.0.2)
DISC_PORT=8810 # the default [discovery] port: nothing may listen on it

# ---- the network: a veth pair between the two namespaces; avahi; the daemons ------
must "network setup" net_pair
avahi_setup
provision
for u in $USERS; do
  # DNS-SD only. One announcement a second keeps avahi's record updates
  # (rate-limited by mDNS) well apart; the TTL leaves room for a slow probe.
  write_conf "$u" "${ADDR[$u]}" eth0 239.255.80.1 239.255.81.1 127.0.0.1 discovery.mode=avahi \
    discovery.announce_interval_ms=1000 discovery.announce_ttl_ms=15000
  start_daemon "$u" "${AVAHI_NODE[@]}" "$WORK/avahi-$u.conf" -
done

# ---- 1. discovery through DNS-SD ----------------------------------------------------------
wait_discovery 30
no_disc_socket() { ! nsx "$1" ss -Huan "sport = :$DISC_PORT" | grep -q .; }
for u in $USERS; do
  check "$u: avahi published ($(counter "$u" avahi.published 2>&1))" \
    test "$(counter "$u" avahi.published 2>/dev/null)" -ge 1
  check "$u: avahi fed accepted announcements ($(counter "$u" avahi.accepted 2>&1))" \
    test "$(counter "$u" avahi.accepted 2>/dev/null)" -ge 1
  check "$u: TXT updates seen by the record browser ($(counter "$u" avahi.txt_seen 2>&1))" \
    test "$(counter "$u" avahi.txt_seen 2>/dev/null)" -ge 1
  check "$u: avahi connected" test "$(counter "$u" avahi.running 2>/dev/null)" == True
  check "$u: no socket on the discovery port $DISC_PORT" no_disc_socket "$u"
done

# ---- 2. a private call alice -> bob ----------------------------------------------------------
check "alice: call private bob" ctl alice call private sip:bob@example.org
check "bob in the private call (P4)" wait_until 10 in_call bob private P4
check "alice in the private call (P4)" wait_until 10 in_call alice private P4
note "private call done ($(elapsed) s)"
check "alice: hangup" ctl alice hangup

# ---- 3. clean stop ---------------------------------------------------------------------------
stop_daemons
finish
