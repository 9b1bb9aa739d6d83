#!/usr/bin/env bash
# Crash safety of the store: kill an importing `prose store import` with
# SIGKILL at random moments, many times, then check that the database passes
# PRAGMA integrity_check, that the earlier import is intact, and that the
# interrupted import is either wholly present or wholly absent.
set -u
PROSE=$(realpath "${1:?usage: test_crash_safety.sh PATH_TO_PROSE}")
ROUNDS=${PROSE_CRASH_ROUNDS:-40}
pass=0
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
q() { "$@" >/dev/null 2>&1 || { echo "setup failed: $*" >&2; exit 1; }; }

AT=2026-11-28T12:00:00Z
q "$PROSE" kms init --dir kms --uri kms.example.org
# Many key sets make the import long enough (each is validated) to be hit mid-way.
q "$PROSE" kms issue --dir kms --user sip:alice@example.org --at "$AT" --periods 12 --out keys.xml
q "$PROSE" store init --db base --owner sip:alice@example.org
q "$PROSE" store import --db base --at "$AT" kms/kms-cert.xml   # the earlier import

count() { # DB -> "certs keysets"
  "$PROSE" store list --db "$1" --json --at "$AT" | python3 -c "
import json, sys
d = json.load(sys.stdin)
k = [i['kind'] for i in d['items']]
print(k.count('kms'), k.count('keyset'))"
}
integrity() {
  python3 -c "
import sqlite3, sys
c = sqlite3.connect('$1/store.db')
print(c.execute('PRAGMA integrity_check').fetchone()[0])"
}

# How long one whole import takes, to spread the kills over it.
cp -r base timing
start=$(date +%s%N)
q "$PROSE" store import --db timing --at "$AT" keys.xml
dur_us=$(( ($(date +%s%N) - start) / 1000 ))
[[ "$(count timing)" == "1 12" ]] && ok || bad "a full import stores 12 key sets: $(count timing)"

absent=0 present=0
for i in $(seq 1 "$ROUNDS"); do
  rm -rf db && cp -r base db
  "$PROSE" store import --db db --at "$AT" keys.xml >/dev/null 2>&1 &
  pid=$!
  delay_us=$(( RANDOM * RANDOM % (dur_us + dur_us / 5 + 1) ))
  sleep "$(printf '0.%06d' "$delay_us")" 2>/dev/null || sleep 0
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  [[ "$(integrity db)" == ok ]] && ok || bad "round $i: integrity_check failed"
  c=$(count db)
  case "$c" in
    "1 0") absent=$((absent + 1)); ok ;;
    "1 12") present=$((present + 1)); ok ;;
    *) bad "round $i (kill after ${delay_us} us): partial state: $c" ;;
  esac
done
echo "crash safety: $ROUNDS kills over a ${dur_us} us import: $absent absent, $present present"
echo "crash_safety: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
