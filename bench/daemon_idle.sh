#!/usr/bin/env bash
# The idle daemon: one prosed with a provisioned store and one group,
# default timers (an announcement every 5 s), nobody else around; its
# resident memory (VmRSS) and CPU time (utime + stime) sampled every second
# for SECONDS (default 10) after a 1 s settling time. A benchmark: it prints
# numbers and never fails on them.
#
# usage: bench/daemon_idle.sh PATH_TO_PROSE PATH_TO_PROSED [SECONDS]
# The daemon runs on a loopback address with interface 127.0.0.1, so its
# multicast never leaves the machine (no root needed).
set -eu
PROSE=$(realpath "${1:?usage: daemon_idle.sh PROSE PROSED [SECONDS]}")
PROSED=$(realpath "${2:?usage: daemon_idle.sh PROSE PROSED [SECONDS]}")
SECONDS_IDLE=${3:-10}
WORK=$(mktemp -d /tmp/prose-idle-XXXXXX)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$WORK"
}
trap cleanup EXIT

cd "$WORK"
{
  "$PROSE" kms init --dir kms --uri kms.example.org
  "$PROSE" kms issue --dir kms --user sip:gms@example.org --out gms-keys.xml
  "$PROSE" kms issue --dir kms --user sip:idle@example.org --periods 2 --out keys.xml
  "$PROSE" gms init --dir gms --uri sip:gms@example.org --kms-cert kms/kms-cert.xml \
    --key-sets gms-keys.xml
  "$PROSE" gms group create --dir gms --group fire --member sip:idle@example.org
  "$PROSE" gms distribute --dir gms --group fire --member sip:idle@example.org --out gmk.imsg
  "$PROSE" bundle --kms-cert kms/kms-cert.xml --key-sets keys.xml --gmk gmk.imsg --out dev.bundle
  "$PROSE" store init --db dev --owner sip:idle@example.org
  "$PROSE" store import --db dev dev.bundle
} >provision.log 2>&1

# A loopback address and multicast groups of this run only.
R=$(($$ % 250 + 1))
cat >idle.conf <<EOF
[identity]
uri = sip:idle@example.org
store = $WORK/dev

[network]
interface = 127.0.0.1
address = 127.0.$R.77

[discovery]
group = 239.252.0.$R

[control]
socket = $WORK/idle.sock

[log]
level = warn

[group fire]
address = 239.252.1.$R
EOF
"$PROSED" --config idle.conf >prosed.log 2>&1 &
pid=$!
sleep 1
kill -0 "$pid" || {
  cat prosed.log
  exit 1
}

tck=$(getconf CLK_TCK)
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status; }
hwm() { sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/\1/p' /proc/$pid/status; }
# Fields 14 and 15 of /proc/PID/stat, counted after the command name's
# closing parenthesis (the name may hold blanks).
cpu_ticks() { sed 's/.*) //' /proc/$pid/stat | awk '{print $12 + $13}'; }

# Nanoseconds on a CPU (the scheduler's own account): the ticks above are
# 10 ms each, coarser than an idle daemon's whole use.
run_ns() { [[ -r /proc/$pid/schedstat ]] && awk '{print $1}' /proc/$pid/schedstat || echo 0; }

t0=$(cpu_ticks)
s0=$(run_ns)
start_ns=$(date +%s%N)
samples=""
for _ in $(seq "$SECONDS_IDLE"); do
  sleep 1
  samples="$samples $(rss)"
done
t1=$(cpu_ticks)
s1=$(run_ns)
end_ns=$(date +%s%N)
wall_ms=$(((end_ns - start_ns) / 1000000))
cpu_ms=$(((t1 - t0) * 1000 / tck))
read -r rmin rmax < <(echo $samples | tr ' ' '\n' | sort -n | awk 'NR==1{a=$1} {b=$1} END{print a, b}')
rlast=$(echo $samples | awk '{print $NF}')
echo "== idle prosed: one daemon, one group, default timers, ${SECONDS_IDLE} s"
echo "  RSS (kB): first $(echo $samples | awk '{print $1}'), last $rlast, min $rmin, max $rmax; peak (VmHWM) $(hwm)"
awk -v c=$cpu_ms -v w=$wall_ms -v r=$((s1 - s0)) -v t=$tck 'BEGIN {
  printf "  CPU: utime+stime %d ms (%d ms ticks); on-CPU %.3f ms (schedstat) in %d ms of wall time = %.4f %% of one core\n",
         c, 1000 / t, r / 1e6, w, 100.0 * r / 1e6 / w }'
