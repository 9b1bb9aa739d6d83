# shellcheck shell=bash
# Shared pieces of the integration scripts (sourced, not run).
#
# A script sources this file first (it only defines things), then calls
# `init_run PREFIX PROSE PROSED` (or `init_work PREFIX` when it runs no
# prosed): absolute paths in PROSE and PROSED, a fresh temporary directory
# in WORK and the cleanup trap. Results are counted in pass/fail; `finish`
# prints the summary and gives the exit status.
#
# The nodes are the users in USERS. A node runs in the network namespace
# NS[user] when it has one (`netns_names`), otherwise in the caller's; its
# IPv4 address is ADDR[user], its IPv6 address ADDR6[user], the address
# of its application APPADDR[user] (default 127.0.0.1).

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RTPAPP="$HERE/rtpapp.py"
USERS="alice bob carol"
GROUP=fire                       # the [group NAME] the control socket is given
GROUP_ID=sip:fire@example.org    # its MCPTT group ID (the GMS's group)
# The ports of every configuration written here: the group's media (and
# floor, +2), private calls' media (and floor, +2), and the APP ports the
# daemon gives a private call (slot 0 of app_port_base 40000) and the group
# call (slot 1); each application listens one above its APP port.
# shellcheck disable=SC2034 # the scripts use those this file does not
declare GMEDIA=30000 GFLOOR=30002 PMEDIA=50000 PFLOOR=50002 PAPP=40000 GAPP=40004
declare -A NS=() ADDR=() ADDR6=() APPADDR=() GUK=() DAEMON_PID=()
NSB=""        # the bridge's namespace (net_bridge)
TAG=""        # names unique to this run (netns_names)
NETNS_MADE=() # namespaces this run created: cleanup deletes them
daemons=()    # prosed processes not yet stopped
pids=()       # the other processes this run started (applications, capture)
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*" >&2
}
# check DESCRIPTION CONDITION... : count CONDITION (a command, its output
# discarded; its errors shown) as a result; the status is CONDITION's.
check() {
  local what=$1
  shift
  if "$@" >/dev/null; then
    ok
  else
    bad "$what"
    return 1
  fi
}
# must DESCRIPTION COMMAND... : like check, for a step nothing after can do
# without: on failure the run ends (status 1).
must() {
  local what=$1
  shift
  if "$@"; then ok; else
    bad "$what"
    exit 1
  fi
}
note() { echo "--- $*"; }
skip() {
  echo "SKIP: $*"
  exit 77
}
# need_root WHAT : skip unless root (WHAT: what for).
need_root() { [[ $(id -u) -eq 0 ]] || skip "needs root ($1)"; }
# need_tools HINT TOOL... : skip unless every TOOL is on the PATH (HINT:
# how to install them, or empty).
need_tools() {
  local hint=$1 t
  shift
  for t; do
    command -v "$t" >/dev/null || skip "$t is not installed${hint:+ ($hint)}"
  done
}

# Seconds since the script started, for the log (one decimal).
t0_ns=$(date +%s%N)
elapsed() {
  local ds=$((($(date +%s%N) - t0_ns) / 100000000))
  echo "$((ds / 10)).$((ds % 10))"
}

# wait_until SECONDS COMMAND... : poll COMMAND every 0.1 s; 0 when it succeeded.
wait_until() {
  local limit=$1
  shift
  local end=$(($(date +%s%N) + limit * 1000000000))
  while ! "$@" >/dev/null 2>&1; do
    (($(date +%s%N) > end)) && return 1
    sleep 0.1
  done
  return 0
}

# ---- the run: arguments, work directory, cleanup -------------------------------
# init_work PREFIX : WORK=/tmp/PREFIX-XXXXXX, and the trap that cleans up.
init_work() {
  WORK=$(mktemp -d "/tmp/$1-XXXXXX")
  trap cleanup EXIT
  trap 'exit 130' INT TERM
}
# init_run PREFIX PROSE PROSED : the binaries (the script's arguments), then
# init_work PREFIX.
init_run() {
  local usage
  usage="usage: $(basename "$0") PATH_TO_PROSE PATH_TO_PROSED"
  PROSE=$(realpath "${2:?$usage}")
  PROSED=$(realpath "${3:?$usage}")
  init_work "$1"
}
# Runs on exit: only what this script started goes. The daemons and helper
# processes, then whatever else runs inside its namespaces (dbus-daemon,
# avahi-daemon: TERM, then KILL), then the namespaces themselves (and with
# them any nftables rule and mount namespace in them). On failure, or with
# KEEP_WORK set, the tail of every log; WORK is kept with KEEP_WORK.
cleanup() {
  set +e
  local p ns f left=0
  for p in "${daemons[@]}" "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for ns in "${NETNS_MADE[@]}"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do
      kill "$p" 2>/dev/null
      left=1
    done
  done
  if ((left)); then
    sleep 0.3
    for ns in "${NETNS_MADE[@]}"; do
      for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
    done
  fi
  wait 2>/dev/null
  for ns in "${NETNS_MADE[@]}"; do ip netns del "$ns" 2>/dev/null; done
  if [[ $fail -ne 0 || -n "${KEEP_WORK:-}" ]]; then
    for f in "$WORK"/*.log; do
      [[ -f $f ]] || continue
      echo "==== $f (last 30 lines)"
      tail -n 30 "$f"
    done
  fi
  [[ -n "${KEEP_WORK:-}" ]] || rm -rf "$WORK"
}

# ---- the network: namespaces, a bridge or a veth pair ------------------------------
# netns_names PREFIX : TAG=PREFIX<pid>, NS[user]=TAG-user and NSB=TAG-br:
# names unique to this run, so parallel runs never collide.
netns_names() {
  local u
  TAG=$1$$
  NSB=$TAG-br
  for u in $USERS; do NS[$u]=$TAG-$u; done
}
# netns_add NAME : a namespace (deleted by cleanup) with lo up. When the
# first one cannot be created, namespaces are not permitted here: skip.
netns_add() {
  if ! ip netns add "$1" 2>/dev/null; then
    [[ ${#NETNS_MADE[@]} -gt 0 ]] || skip "cannot create network namespaces here"
    echo "ip netns add $1 failed" >&2
    return 1
  fi
  NETNS_MADE+=("$1")
  ip -n "$1" link set lo up
}
# net_addr USER : USER's eth0 up with ADDR[user]/24 and ADDR6[user]/64
# (each if set; IPv6 without DAD: a daemon binds it at once) and, with an
# IPv4 address, a route for 224.0.0.0/4, so multicast leaves by eth0.
net_addr() {
  local ns=${NS[$1]} a4=${ADDR[$1]:-} a6=${ADDR6[$1]:-}
  if [[ -n $a6 ]]; then ip -n "$ns" -6 addr add "$a6/64" dev eth0 nodad || return 1; fi
  if [[ -n $a4 ]]; then ip -n "$ns" addr add "$a4/24" dev eth0 || return 1; fi
  ip -n "$ns" link set eth0 up || return 1
  [[ -z $a4 ]] || ip -n "$ns" route add 224.0.0.0/4 dev eth0
}
# net_bridge : the bridge br0 in NSB and every user's namespace, its eth0 a
# veth to port v<user> of br0, addressed by net_addr.
net_bridge() {
  local u
  netns_add "$NSB" || return 1
  ip -n "$NSB" link add br0 type bridge || return 1
  # No IGMP/MLD snooping: without a querier the bridge would forward groups
  # by whatever reports it happened to see.
  ip -n "$NSB" link set br0 type bridge mcast_snooping 0 || return 1
  ip -n "$NSB" link set br0 up || return 1
  for u in $USERS; do
    netns_add "${NS[$u]}" || return 1
    ip -n "$NSB" link add "v$u" type veth peer name eth0 netns "${NS[$u]}" || return 1
    ip -n "$NSB" link set "v$u" master br0 up || return 1
    net_addr "$u" || return 1
  done
}
# net_pair : the namespaces of the two users, joined by a veth pair (eth0 at
# both ends), addressed by net_addr.
net_pair() {
  local a b
  read -r a b <<<"$USERS"
  netns_add "${NS[$a]}" && netns_add "${NS[$b]}" &&
    ip -n "${NS[$a]}" link add eth0 type veth peer name eth0 netns "${NS[$b]}" &&
    net_addr "$a" && net_addr "$b"
}
# at USER : in array AT, the words that run a command in USER's namespace
# (none without one). `"${AT[@]}" CMD &` stays a simple command, so $! is
# CMD itself (ip netns exec execs it) and signals reach it.
at() {
  AT=()
  [[ -z ${NS[$1]:-} ]] || AT=(ip netns exec "${NS[$1]}")
}
# nsx USER COMMAND... : COMMAND in USER's namespace.
nsx() {
  at "$1"
  "${AT[@]}" "${@:2}"
}

# ---- loss: nftables in a node's namespace -----------------------------------------
# loss_on USER PERCENT : drop PERCENT % of the UDP datagrams leaving USER's
# eth0 (not lo: its application's), counted.
loss_on() {
  nsx "$1" nft -f - <<EOF
table inet prose_loss {
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "eth0" meta l4proto udp numgen random mod 100 < $2 counter drop
  }
}
EOF
  check "loss rule installed" nsx "$1" nft list table inet prose_loss
}
# loss_dropped USER : how many datagrams the rule dropped.
loss_dropped() {
  nsx "$1" nft list table inet prose_loss | sed -n 's/.*counter packets \([0-9]*\).*/\1/p'
}
loss_off() { nsx "$1" nft delete table inet prose_loss; }

# ---- capture on the bridge ports ---------------------------------------------------
# capture_start : dumpcap on every port of br0 (UDP only) into
# WORK/cap.pcapng, from now on: everything the nodes send passes there.
capture_start() {
  local u ifs=()
  for u in $USERS; do ifs+=(-i "v$u"); done
  ip netns exec "$NSB" dumpcap -q "${ifs[@]}" -f udp -w "$WORK/cap.pcapng" \
    >"$WORK/dumpcap.log" 2>&1 &
  CAPTURE=$!
  pids+=("$CAPTURE")
  check "capture started" wait_until 10 test -s "$WORK/cap.pcapng"
}
# capture_stop : the last frames written, the capture file closed.
capture_stop() {
  sleep 0.2
  kill -INT "$CAPTURE"
  wait "$CAPTURE"
}

# ---- avahi: a D-Bus and an avahi-daemon per namespace ------------------------------
# avahi_setup : WORK/avahi-USER.conf for every user (host name TAG-USER,
# IPv4 only, on eth0 only, no wide area) and WORK/node.sh; sets AVAHI_NODE.
#   ip netns exec NS "${AVAHI_NODE[@]}" CONF FORGE COMMAND...
# runs COMMAND as the first process of a private mount namespace (tmpfs on
# the run directories of D-Bus and avahi) with its own system bus and
# avahi-daemon, once avahi answers; with FORGE a non-empty file, beside it
# `avahi-publish` of a service "mallory" with FORGE's words as TXT records.
# node.sh execs COMMAND, so $! is COMMAND and SIGTERM reaches it; the
# daemons stay until cleanup stops what runs in the namespace.
avahi_setup() {
  local u
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
  cat >"$WORK/node.sh" <<'NODE'
set -u
conf=$1
forge=$2
shift 2
mount -t tmpfs tmpfs /run/dbus || exit 1
mkdir -p /run/avahi-daemon
mount -t tmpfs tmpfs /run/avahi-daemon || exit 1
dbus-daemon --system --fork || exit 1
avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$conf" -D || exit 1
for _ in $(seq 50); do avahi-daemon -c 2>/dev/null && break; sleep 0.1; done
if [[ -s $forge ]]; then
  # shellcheck disable=SC2046
  avahi-publish -s "mallory" _prose-ptt._udp 8809 $(cat "$forge") >/dev/null 2>&1 &
fi
exec "$@"
NODE
  # shellcheck disable=SC2034 # for the scripts
  AVAHI_NODE=(unshare -m --propagation private bash "$WORK/node.sh")
}

# ---- provisioning: one KMS, one GMS, group "fire" of every user in USERS ----
# Leaves WORK/NAME-dev (device stores), GMK_ID and GUK[name] (hex).
provision_domain() {
  local d=$WORK/prov u
  mkdir -p "$d"
  (
    set -e
    cd "$d"
    "$PROSE" kms init --dir kms --uri kms.example.org
    "$PROSE" kms issue --dir kms --user sip:gms@example.org --out gms-keys.xml
    for u in $USERS; do
      "$PROSE" kms issue --dir kms --user "sip:$u@example.org" --periods 2 --out "$u-keys.xml"
    done
    "$PROSE" gms init --dir gms --uri sip:gms@example.org --kms-cert kms/kms-cert.xml \
      --key-sets gms-keys.xml
    members=()
    for u in $USERS; do members+=("sip:$u@example.org"); done
    "$PROSE" gms group create --dir gms --group "$GROUP_ID" --member "${members[@]}" >group.out
    for u in $USERS; do
      "$PROSE" gms distribute --dir gms --group "$GROUP_ID" --member "sip:$u@example.org" \
        --out "$u-gmk.imsg"
      "$PROSE" bundle --kms-cert kms/kms-cert.xml --key-sets "$u-keys.xml" --gmk "$u-gmk.imsg" \
        --out "$u.bundle"
      "$PROSE" store init --db "$WORK/$u-dev" --owner "sip:$u@example.org"
      "$PROSE" store import --db "$WORK/$u-dev" "$u.bundle"
      "$PROSE" mikey decode --db "$WORK/$u-dev" "$u-gmk.imsg" >"$u-gmk.json"
    done
  ) >"$WORK/provision.log" 2>&1 || return 1
  GMK_ID=$(sed -n 's/.*GMK-ID \([0-9a-f]*\).*/\1/p' "$d/group.out")
  for u in $USERS; do
    # shellcheck disable=SC2034 # for the scripts
    GUK[$u]=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['guk_id'])" \
      "$d/$u-gmk.json") || return 1
  done
  [[ ${#GMK_ID} -eq 8 ]]
}
# provision : provision_domain as a step the run cannot do without.
provision() {
  note "provisioning ($(elapsed) s)"
  must "provisioning" provision_domain
}

# write_conf NAME ADDRESS INTERFACE DISC_GROUP GROUP_ADDR APP_ADDR [SECTION.KEY=VALUE...]
# WORK/NAME.conf. A SECTION.KEY=VALUE sets that key (in place of the value
# below, or added to its section); an empty value leaves the key out.
# The announce interval is short so that peers find each other within a
# second. T201 is 150 ms instead of 40: on a 2-core CI machine running
# sanitizer builds in parallel a daemon can stall for over 100 ms, and with
# 3 x 40 ms a requester would take the floor over a talker it did not hear
# from in time (the protocol's answer to silence, not what these tests are
# about). Everything else keeps the defaults a deployment would use.
write_conf() {
  local name=$1 addr=$2 iface=$3 disc=$4 gaddr=$5 app=$6
  shift 6
  local kv k s keys=() secs=()
  local -A val=() seen=()
  for kv in "identity.uri=sip:$name@example.org" "identity.store=$WORK/$name-dev" \
    "network.interface=$iface" "network.address=$addr" "discovery.group=$disc" \
    discovery.announce_interval_ms=300 discovery.announce_ttl_ms=3000 \
    "media.app_address=$app" media.max_calls=2 "control.socket=$WORK/$name.sock" \
    floor.T201=150 log.level=info \
    "group $GROUP.id=$GROUP_ID" "group $GROUP.address=$gaddr" "group $GROUP.media_port=$GMEDIA" \
    "$@"; do
    k=${kv%%=*}
    [[ -n ${val[$k]+set} ]] || keys+=("$k")
    s=${k%.*}
    [[ -n ${seen[$s]+set} ]] || secs+=("$s")
    seen[$s]=1
    val[$k]=${kv#*=}
  done
  for s in "${secs[@]}"; do
    [[ $s == "${secs[0]}" ]] || echo
    echo "[$s]"
    for k in "${keys[@]}"; do
      if [[ ${k%.*} == "$s" && -n ${val[$k]} ]]; then echo "${k##*.} = ${val[$k]}"; fi
    done
  done >"$WORK/$name.conf"
}

# ---- the daemons ---------------------------------------------------------------------
# start_daemon USER [PREFIX...] : USER's prosed with WORK/USER.conf, in its
# namespace after PREFIX..., output to WORK/USER.log; DAEMON_PID[USER].
start_daemon() {
  local u=$1
  shift
  at "$u"
  "${AT[@]}" "$@" "$PROSED" --config "$WORK/$u.conf" >"$WORK/$u.log" 2>&1 &
  DAEMON_PID[$u]=$!
  daemons+=("$!")
}
# start_nodes SECONDS : every user's daemon and application, then
# wait_discovery SECONDS.
start_nodes() {
  local u
  for u in $USERS; do
    start_daemon "$u"
    start_apps "$u"
  done
  wait_discovery "$1"
}
# stop_daemons : SIGTERM to every daemon: each must exit 0 with every
# handle closed; no sanitizer report in any log of the run (the daemons',
# and the CLI's in provision.log).
stop_daemons() {
  local u p rc
  for u in $USERS; do
    p=${DAEMON_PID[$u]}
    kill -TERM "$p"
    wait "$p"
    rc=$?
    check "$u exits 0 on SIGTERM (got $rc)" test $rc -eq 0
  done
  daemons=()
  for u in $USERS; do
    check "$u closed every handle" eval "! grep -q 'handles left open' '$WORK/$u.log'"
  done
  check "no sanitizer report from the daemons" \
    no_sanitizer_report "${DAEMON_PID[@]}" -- "$WORK"/*.log
}

# ---- the control socket ------------------------------------------------------
# ctl NAME ARGS... : `prose ctl` to NAME's daemon, from its namespace.
ctl() {
  local name=$1
  shift
  nsx "$name" "$PROSE" ctl --socket "$WORK/$name.sock" --timeout 5000 "$@"
}
# ctl_json NAME COMMAND... : the reply's result object as JSON on stdout.
ctl_json() {
  local name=$1
  shift
  ctl "$name" --json "$@" | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.readline())["result"]))'
}
# jq_py JSON EXPR : evaluate EXPR on the parsed JSON `d` (python syntax).
jq_py() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

# peer_uris NAME : the URIs of NAME's peers, sorted, one line.
peer_uris() { jq_py "$(ctl_json "$1" peers)" '" ".join(sorted(p["uri"] for p in d["peers"]))'; }
sees() { [[ $(peer_uris "$1" 2>/dev/null) == "$2" ]]; }
# wait_discovery SECONDS : within SECONDS every daemon lists exactly the
# other users as its peers.
wait_discovery() {
  local u o want
  for u in $USERS; do
    want=$(for o in $USERS; do [[ $o == "$u" ]] || echo "sip:$o@example.org"; done |
      LC_ALL=C sort | paste -sd' ')
    check "$u discovers its peers: $want" wait_until "$1" sees "$u" "$want"
  done
  note "discovery done ($(elapsed) s)"
}
# call_state NAME KIND : "state|floor|may_send" of the first call of that kind.
call_state() {
  jq_py "$(ctl_json "$1" calls)" \
    "next(('%s|%s|%s' % (c['state'], c.get('floor',''), c['may_send_media'])) for c in d['calls'] if c['kind']=='$2') if any(c['kind']=='$2' for c in d['calls']) else 'none'"
}
in_call() { [[ $(call_state "$1" "$2" 2>/dev/null) == "$3"* ]]; }
may_send() { [[ $(call_state "$1" "$2" 2>/dev/null) == *"|True" ]]; }
cannot_send() { ! may_send "$@"; }
# counter NAME PATH : one counter, PATH like media_drops.drop_replay.
counter() {
  local path=$2
  jq_py "$(ctl_json "$1" counters)" "d$(echo ".$path" | sed "s/\.\([a-z_0-9]*\)/['\1']/g")"
}

# ---- calls ----------------------------------------------------------------------------
# call_group CALLER : CALLER calls the group, every other user joins (S3).
call_group() {
  local u
  check "$1: call group" ctl "$1" call group "$GROUP"
  for u in $USERS; do
    [[ $u == "$1" ]] || check "$u joined the group call" wait_until 5 in_call "$u" group S3
  done
}
# ptt USER ACTION KIND [PEER] : USER's PTT ACTION (press or release) in its
# call of KIND (group, or private with PEER).
ptt() {
  local sel=(--group "$GROUP")
  [[ $3 == group ]] || sel=(--call "sip:$4@example.org")
  check "$1: ptt $2 ($3)" ctl "$1" ptt "$2" "${sel[@]}"
}
# press USER KIND [PEER] : USER presses PTT and is granted the floor within 5 s.
press() {
  ptt "$1" press "$2" "${3:-}"
  check "$1 may send ($2)" wait_until 5 may_send "$1" "$2"
}
release() { ptt "$1" release "$2" "${3:-}"; }
# call_private CALLER CALLEE : CALLER calls CALLEE (P4 there within 5 s) and
# holds the floor.
call_private() {
  check "$1: call private $2" ctl "$1" call private "sip:$2@example.org"
  check "$2 in the private call" wait_until 5 in_call "$2" private P4
  check "$1 may send (private)" wait_until 5 may_send "$1" private
}
# private_both_ways A B OTHER COUNT : A calls B; COUNT packets each way
# reach the other's application byte-exact, none reaches OTHER's; A hangs up.
private_both_ways() {
  local a=$1 b=$2 other=$3 n=$4
  call_private "$a" "$b"
  talk "$a" private "p-$a" "$n" "$n" "$b"
  release "$a" private "$b"
  press "$b" private "$a"
  talk "$b" private "p-$b" "$n" "$n" "$a"
  check "$other heard nothing of the private call" \
    test "$(received "$WORK/$other-private.json" "p-$a" 0 "$n")" == "0 0 0"
  check "$a: hangup" ctl "$a" hangup --call "sip:$b@example.org"
}

# ---- the application side -------------------------------------------------------
# app_port KIND : the APP port of a call of KIND (group or private).
app_port() { if [[ $1 == group ]]; then echo $GAPP; else echo $PAPP; fi; }
# start_apps USER : USER's application: receivers one above the APP ports of
# the group call and of a private call, in USER's namespace, summaries in
# WORK/USER-group.json and WORK/USER-private.json.
start_apps() {
  local u=$1 k a=${APPADDR[$1]:-127.0.0.1}
  at "$u"
  for k in group private; do
    "${AT[@]}" python3 "$RTPAPP" recv "$a" $(($(app_port $k) + 1)) "$WORK/$u-$k.json" 120 &
    pids+=("$!")
  done
}
# app_send USER KIND TAG COUNT : USER's application sends COUNT packets of
# TAG (10 ms apart) to the APP port of its call of KIND.
app_send() {
  local a=${APPADDR[$1]:-127.0.0.1} port
  port=$(app_port "$2")
  nsx "$1" python3 "$RTPAPP" send "$a" $((port + 1)) "$a" "$port" "$3" 0 "$4" 10
}
# received SUMMARY TAG FIRST COUNT : "EXACT BAD DUP" (rtpapp.py count).
received() { python3 "$RTPAPP" count "$@"; }
# got_at_least SUMMARY TAG FIRST COUNT MIN
got_at_least() {
  local r
  r=$(received "$1" "$2" "$3" "$4")
  ((${r%% *} >= $5))
}
# heard USER KIND TAG COUNT MIN : USER's application got at least MIN of the
# COUNT packets of TAG byte-exact (waits up to 2 s for stragglers).
heard() {
  local f="$WORK/$1-$2.json"
  wait_until 2 got_at_least "$f" "$3" 0 "$4" "$5"
  check "$1 heard $3: $5..$4 wanted, got $(received "$f" "$3" 0 "$4") (exact bad dup)" \
    got_at_least "$f" "$3" 0 "$4" "$5"
}
# talk USER KIND TAG COUNT MIN LISTENER... : USER's application sends; each
# LISTENER's application must hear at least MIN of the COUNT packets.
talk() {
  local u=$1 kind=$2 tag=$3 n=$4 min=$5 l
  shift 5
  app_send "$u" "$kind" "$tag" "$n"
  for l; do heard "$l" "$kind" "$tag" "$n" "$min"; done
}

# ---- sanitizers -------------------------------------------------------------------
# no_sanitizer_report PIDS -- FILES... : none of the logs holds an ASan, LSan
# or UBSan report, and when ASAN_OPTIONS or UBSAN_OPTIONS send reports to
# files (log_path=P, as `make asan` does: P.PID), there is no such file for
# any of the daemons' PIDS either.
no_sanitizer_report() {
  local pids=() p opt path found=0
  while [[ $# -gt 0 && $1 != -- ]]; do
    pids+=("$1")
    shift
  done
  shift
  if grep -lE "ERROR: AddressSanitizer|ERROR: LeakSanitizer|runtime error:|SUMMARY: UndefinedBehaviorSanitizer" "$@" >&2 2>/dev/null; then
    found=1
  fi
  for opt in "${ASAN_OPTIONS:-}" "${UBSAN_OPTIONS:-}"; do
    path=$(echo "$opt" | tr ':' '\n' | sed -n 's/^log_path=//p')
    [[ -n $path ]] || continue
    for p in "${pids[@]}"; do
      if [[ -e $path.$p ]]; then
        echo "sanitizer report: $path.$p" >&2
        found=1
      fi
    done
  done
  return $found
}

finish() {
  echo "$(basename "$0"): $pass passed, $fail failed ($(elapsed) s)"
  [[ $fail -eq 0 ]]
}
