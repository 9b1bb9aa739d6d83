# Shared pieces of the integration scripts (sourced, not run).
#
# The caller sets PROSE (the CLI), PROSED (the daemon) and WORK (a fresh
# temporary directory) before calling anything here. Results are counted in
# pass/fail; `finish` prints the summary and gives the exit status.

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RTPAPP="$HERE/rtpapp.py"
USERS="alice bob carol"
GROUP=fire
pass=0
fail=0

ok() { pass=$((pass + 1)); }
bad() {
  fail=$((fail + 1))
  echo "FAIL: $*" >&2
}
# check DESCRIPTION CONDITION... : count CONDITION (a command, its output
# discarded; its errors shown) as a result.
check() {
  local what=$1
  shift
  if "$@" >/dev/null; then ok; else bad "$what"; fi
}
note() { echo "--- $*"; }

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

# ---- provisioning: one KMS, one GMS, group "fire" of every user in USERS ----
# Leaves WORK/NAME-dev (device stores), GMK_ID and GUK_<name> (hex).
provision_domain() {
  local d=$WORK/prov
  mkdir -p "$d"
  (
    set -e
    cd "$d"
    "$PROSE" kms init --dir kms --uri kms.example.org
    "$PROSE" kms issue --dir kms --user sip:gms@example.org --out gms-keys.xml
    for u in $USERS; do
      "$PROSE" kms issue --dir kms --user sip:$u@example.org --periods 2 --out $u-keys.xml
    done
    "$PROSE" gms init --dir gms --uri sip:gms@example.org --kms-cert kms/kms-cert.xml \
      --key-sets gms-keys.xml
    members=()
    for u in $USERS; do members+=(sip:$u@example.org); done
    "$PROSE" gms group create --dir gms --group $GROUP --member "${members[@]}" >group.out
    for u in $USERS; do
      "$PROSE" gms distribute --dir gms --group $GROUP --member sip:$u@example.org --out $u-gmk.imsg
      "$PROSE" bundle --kms-cert kms/kms-cert.xml --key-sets $u-keys.xml --gmk $u-gmk.imsg \
        --out $u.bundle
      "$PROSE" store init --db "$WORK/$u-dev" --owner sip:$u@example.org
      "$PROSE" store import --db "$WORK/$u-dev" $u.bundle
      "$PROSE" mikey decode --db "$WORK/$u-dev" $u-gmk.imsg >$u-gmk.json
    done
  ) >"$WORK/provision.log" 2>&1 || return 1
  GMK_ID=$(sed -n 's/.*GMK-ID \([0-9a-f]*\).*/\1/p' "$d/group.out")
  for u in $USERS; do
    eval "GUK_$u=$(python3 -c "import json; print(json.load(open('$d/$u-gmk.json'))['guk_id'])")"
  done
  [[ ${#GMK_ID} -eq 8 ]]
}

# write_conf NAME ADDRESS INTERFACE DISC_GROUP GROUP_ADDR APP_ADDR
# The announce interval is short so that peers find each other within a
# second. T201 is 150 ms instead of 40: on a 2-core CI machine running
# sanitizer builds in parallel a daemon can stall for over 100 ms, and with
# 3 x 40 ms a requester would take the floor over a talker it did not hear
# from in time (the protocol's answer to silence, not what these tests are
# about). Everything else keeps the defaults a deployment would use.
write_conf() {
  local name=$1 addr=$2 iface=$3 disc=$4 gaddr=$5 app=$6
  cat >"$WORK/$name.conf" <<EOF
[identity]
uri = sip:$name@example.org
store = $WORK/$name-dev

[network]
interface = $iface
address = $addr

[discovery]
group = $disc
announce_interval_ms = 300
announce_ttl_ms = 3000

[media]
app_address = $app
max_calls = 2

[control]
socket = $WORK/$name.sock

[floor]
T201 = 150

[log]
level = info

[group $GROUP]
address = $gaddr
media_port = 30000
EOF
}

# ---- the control socket ------------------------------------------------------
ctl() {
  local name=$1
  shift
  "$PROSE" ctl --socket "$WORK/$name.sock" --timeout 5000 "$@"
}
# ctl_json NAME COMMAND... : the reply's result object as JSON on stdout.
ctl_json() {
  local name=$1
  shift
  ctl "$name" --json "$@" | python3 -c 'import json,sys; print(json.dumps(json.loads(sys.stdin.readline())["result"]))'
}
# jq_py JSON EXPR : evaluate EXPR on the parsed JSON `d` (python syntax).
jq_py() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($2)" "$1"; }

peer_count() { jq_py "$(ctl_json "$1" peers)" 'len(d["peers"])'; }
has_peers() { [[ $(peer_count "$1" 2>/dev/null) == "$2" ]]; }
# call_state NAME KIND : "state|floor|may_send" of the first call of that kind.
call_state() {
  jq_py "$(ctl_json "$1" calls)" \
    "next(('%s|%s|%s' % (c['state'], c.get('floor',''), c['may_send_media'])) for c in d['calls'] if c['kind']=='$2') if any(c['kind']=='$2' for c in d['calls']) else 'none'"
}
in_call() { [[ $(call_state "$1" "$2" 2>/dev/null) == "$3"* ]]; }
may_send() { [[ $(call_state "$1" "$2" 2>/dev/null) == *"|True" ]]; }
# counter NAME PATH : one counter, PATH like media_drops.drop_replay.
counter() {
  local path=$2
  jq_py "$(ctl_json "$1" counters)" "d$(echo ".$path" | sed "s/\.\([a-z_0-9]*\)/['\1']/g")"
}

# ---- the application side -------------------------------------------------------
# received SUMMARY TAG FIRST COUNT : "EXACT BAD DUP" (rtpapp.py count).
received() { python3 "$RTPAPP" count "$@"; }
# got_at_least SUMMARY TAG FIRST COUNT MIN
got_at_least() {
  local r
  r=$(received "$1" "$2" "$3" "$4")
  ((${r%% *} >= $5))
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
