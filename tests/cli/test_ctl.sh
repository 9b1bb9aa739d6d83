#!/usr/bin/env bash
# Tests of `prose ctl` against ctl_testserver (the real control socket server
# with a fake daemon behind it): human and --json output, argument
# translation, events, exit codes (0 ok, 1 daemon error or no daemon,
# 2 usage) and one-line error messages.
set -u
PROSE=${1:?usage: test_ctl.sh PATH_TO_PROSE PATH_TO_CTL_TESTSERVER}
SERVER=${2:?usage: test_ctl.sh PATH_TO_PROSE PATH_TO_CTL_TESTSERVER}
pass=0
fail=0
tmp=$(mktemp -d)
server_pid=
cleanup() {
  if [[ -n $server_pid ]]; then kill "$server_pid" 2>/dev/null; wait "$server_pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

sock=$tmp/ctl.sock
"$SERVER" "$sock" >"$tmp/server.out" 2>"$tmp/server.err" &
server_pid=$!
for _ in $(seq 100); do
  grep -q ready "$tmp/server.out" 2>/dev/null && break
  sleep 0.05
done
grep -q ready "$tmp/server.out" || { echo "ctl_testserver did not start: $(cat "$tmp/server.err")" >&2; exit 1; }

# expect STATUS PATTERN -- ARGS...: run `prose ctl --socket SOCK ARGS`, check
# the exit status and that stdout matches the extended regex PATTERN ("" =
# anything). Failures must explain themselves in exactly one stderr line.
expect() {
  local want_rc=$1 pattern=$2
  shift 3
  local rc
  "$PROSE" ctl --socket "$sock" "$@" >"$tmp/out" 2>"$tmp/err"
  rc=$?
  if [[ $rc -ne $want_rc ]]; then
    bad "prose ctl $*: exit $rc, want $want_rc ($(head -c 300 "$tmp/err"))"
    return
  fi
  if [[ -n $pattern ]] && ! grep -Eq -- "$pattern" "$tmp/out"; then
    bad "prose ctl $*: output does not match '$pattern': $(head -c 300 "$tmp/out")"
    return
  fi
  if [[ $want_rc -ne 0 && $(wc -l <"$tmp/err") -ne 1 ]]; then
    bad "prose ctl $*: want one error line, got: $(cat "$tmp/err")"
    return
  fi
  ok
}

# Human output.
expect 0 '^uri: sip:alice@example.org$' -- status
expect 0 '^ipv6: no$' -- status
expect 0 '^  - uri=sip:bob@example.org address=198.18.0.2$' -- peers
expect 0 '^calls: \(none\)$' -- calls
expect 0 '^  type: emergency$' -- call group fire --type emergency
expect 0 '^  group: fire$' -- call group fire
expect 0 '^priority: 9$' -- ptt press --priority 9 --group fire
expect 0 '^cmd: hangup$' -- hangup --call p1

# --json prints the reply line itself; the CLI translates options to args.
expect 0 '^\{"id":1,"ok":true,"result":\{"cmd":"call_private","args":\{"uri":"sip:bob@example.org","commencement":"manual","emergency":true\}\}\}$' \
  -- --json call private sip:bob@example.org --manual --emergency
expect 0 '"args":\{"group":"g","call":"c7"\}' -- accept --group g --call c7 --json
expect 0 '"cmd":"ptt_release"' -- ptt release --json
expect 0 '"priority":-1' -- ptt press --json

# Errors reported by the daemon: exit 1, "CODE: message" on stderr, and the
# reply on stdout with --json.
expect 1 '' -- call private sip:nobody@example.org
grep -q '^prose ctl: ENOENT: no peer sip:nobody@example.org$' "$tmp/err" && ok || bad "ENOENT message: $(cat "$tmp/err")"
expect 1 '"ok":false' -- --json call private sip:nobody@example.org

# Usage errors: exit 2, one line.
expect 2 '' -- fly
expect 2 '' --
expect 2 '' -- call group
expect 2 '' -- call group a b
expect 2 '' -- call teleport x
expect 2 '' -- call group fire --type loud
expect 2 '' -- ptt press --priority 256
expect 2 '' -- ptt press --type basic
grep -q "not an option of 'ptt press'" "$tmp/err" && ok || bad "option check message: $(cat "$tmp/err")"
expect 2 '' -- status --bogus
expect 2 '' -- status --config /dev/null
expect 2 '' -- events --count x
expect 2 '' -- status --timeout 0

# No daemon: exit 1 with the path in the message.
"$PROSE" ctl --socket "$tmp/none.sock" status >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc -eq 1 ]] && grep -q "cannot connect to $tmp/none.sock" "$tmp/err" && ok || bad "no daemon: exit $rc: $(cat "$tmp/err")"

# The socket from a configuration file, and from $PROSE_SOCKET.
cat >"$tmp/node.conf" <<EOF
[identity]
uri = sip:alice@example.org
store = store
[control]
socket = ctl.sock
EOF
"$PROSE" ctl --config "$tmp/node.conf" status >"$tmp/out" 2>"$tmp/err" && grep -q '^state: idle$' "$tmp/out" && ok || bad "--config: $(cat "$tmp/err")"
PROSE_SOCKET=$sock "$PROSE" ctl status >"$tmp/out" 2>"$tmp/err" && ok || bad "PROSE_SOCKET: $(cat "$tmp/err")"
echo "[identity]" >"$tmp/bad.conf"
"$PROSE" ctl --config "$tmp/bad.conf" status >/dev/null 2>"$tmp/err"
rc=$?
[[ $rc -eq 1 ]] && grep -q "bad.conf: missing \[identity\] uri" "$tmp/err" && ok || bad "bad --config: exit $rc: $(cat "$tmp/err")"

# Events: --count ends the stream; human lines are "NAME k=v ...".
expect 0 '^tick n=[0-9]+ note="two words"$' -- events --count 2
[[ $(wc -l <"$tmp/out") -eq 2 ]] && ok || bad "events --count 2 printed $(wc -l <"$tmp/out") lines"
expect 0 '^\{"event":"tick","n":[0-9]+,"note":"two words"\}$' -- events --count 3 --json
[[ $(wc -l <"$tmp/out") -eq 3 ]] && ok || bad "events --json printed $(wc -l <"$tmp/out") lines"
# A filter: only floor events, brought by a PTT press from another client.
"$PROSE" ctl --socket "$sock" events --filter floor --count 1 >"$tmp/ev" 2>"$tmp/everr" &
ev_pid=$!
for _ in $(seq 100); do
  kill -0 "$ev_pid" 2>/dev/null || break
  "$PROSE" ctl --socket "$sock" ptt press --group rescue >/dev/null 2>&1
  sleep 0.05
done
wait "$ev_pid"
rc=$?
[[ $rc -eq 0 ]] && grep -Eq '^floor state=pending_request group=rescue$' "$tmp/ev" && ok || bad "events --filter: exit $rc: $(cat "$tmp/ev" "$tmp/everr")"

# The server shuts down cleanly (every handle closed) and removes its socket.
kill "$server_pid"
wait "$server_pid"
rc=$?
server_pid=
[[ $rc -eq 0 && ! -e $sock ]] && ok || bad "server exit $rc, socket left: $([[ -e $sock ]] && echo yes || echo no)"

echo "test_ctl.sh: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
