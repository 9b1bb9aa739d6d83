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
#  5. the daemons stop cleanly on SIGTERM (exit 0, every handle closed); no
#     sanitizer report in the logs.
#
# Not root, or no ip/tshark/dumpcap, or namespaces not permitted: prints
# why and exits 77 (CTest: skipped).
#
# usage: netns_ipv6.sh PATH_TO_PROSE PATH_TO_PROSED
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"
need_root "network namespaces"
need_tools "" ip tshark dumpcap python3
init_run prose-netns6 "$@"

netns_names prose6
declare -A ADDR6=([alice]=fd77::1 [bob]=fd77::2 [carol]=fd77::3)
declare -A ADDR=([carol]=198.18.0.3)
declare -A IFACE=([alice]=eth0 [bob]=eth0 [carol]=198.18.0.3)
GADDR=ff15::7072:6f73:1
NSEND=50

# ---- the network, the daemons and their applications ----------------------------
must "network setup" net_bridge
provision
capture_start
for u in $USERS; do
  # IPv6 only but carol; the default discovery groups (IPv6, and IPv4 for carol).
  addr=${ADDR6[$u]}
  [[ -z ${ADDR[$u]:-} ]] || addr="${ADDR[$u]}, ${ADDR6[$u]}"
  write_conf "$u" "$addr" "${IFACE[$u]}" "" $GADDR 127.0.0.1 network.ipv6=true
done
start_nodes 10

# ---- group call on the IPv6 group --------------------------------------------------
call_group alice
press alice group
talk alice group g-alice $NSEND $NSEND bob carol
release alice group
sleep 0.3
press carol group
talk carol group g-carol $NSEND $NSEND alice bob
release carol group
check "alice: hangup (group)" ctl alice hangup --group "$GROUP"
note "group call done ($(elapsed) s)"

# ---- private call alice -> bob over IPv6 ---------------------------------------------
private_both_ways alice bob carol $NSEND
note "private call done ($(elapsed) s)"

# ---- stop, then read the capture ---------------------------------------------------------
stop_daemons
capture_stop

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
