#!/usr/bin/env bash
# Issue 3 "done when", as an automated test: create a domain, issue keys for
# three users and a GMS, create a group, distribute its GMK, bundle and import
# each device, and check that `prose mikey decode` shows every device's GMK
# with a valid signature. Then hostile inputs through the CLI (each leaves the
# store unchanged), and a check that no secret ever reaches an output.
set -u
PROSE=$(realpath "${1:?usage: test_provisioning.sh PATH_TO_PROSE}")
pass=0
fail=0
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
out="$work/outputs.log" # everything any command printed, grepped for secrets at the end

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# run WANT_STATUS ARGS... : run prose, log its output, check the exit status
run() {
  local want=$1
  shift
  "$PROSE" "$@" >"$work/stdout" 2>"$work/stderr"
  local rc=$?
  cat "$work/stdout" "$work/stderr" >>"$out"
  if [[ $rc -eq $want ]]; then ok; else bad "prose $* -> exit $rc, want $want: $(cat "$work/stderr")"; fi
}
# expect_err CODE : the last command's stderr names the error CODE
expect_err() { grep -q "($1)" "$work/stderr" && ok || bad "want $1, stderr: $(cat "$work/stderr")"; }
json() { python3 -c "import json,sys; d=json.load(open('$work/stdout')); print(d$1)"; }
snapshot() { "$PROSE" store list --db "$1" --json --at "$AT" 2>&1; }

AT=2026-11-28T12:00:00Z
USERS="alice bob carol"

# --- the authority side
run 0 kms init --dir kms --uri kms.example.org --period 2592000 --offset 0
[[ $(stat -c %a kms) == 700 && $(stat -c %a kms/store.db) == 600 ]] && ok || bad "KMS dir/file modes"
grep -q 'xmlns="urn:3gpp:ns:mcsecKMSInterface:1.0"' kms/kms-cert.xml && ok || bad "certificate namespace"
grep -q "<KmsCertificate" kms/kms-cert.xml && ok || bad "certificate element"
run 0 kms issue --dir kms --user sip:gms@example.org --at "$AT" --out gms-keys.xml
for u in $USERS; do run 0 kms issue --dir kms --user sip:$u@example.org --at "$AT" --periods 2 --out $u-keys.xml; done
[[ $(stat -c %a alice-keys.xml) == 600 ]] && ok || bad "key-set file mode"
[[ $(grep -c "<KmsKeySet" alice-keys.xml) -eq 2 ]] && ok || bad "two key sets"
run 0 gms init --dir gms --uri sip:gms@example.org --kms-cert kms/kms-cert.xml --key-sets gms-keys.xml --at "$AT"
run 0 gms group create --dir gms --group fire-crew-1 --member sip:alice@example.org sip:bob@example.org --member sip:carol@example.org --activate "$AT"
gmk_id=$(sed -n 's/.*GMK-ID \([0-9a-f]*\)/\1/p' "$work/stdout")
[[ ${#gmk_id} -eq 8 ]] && ok || bad "GMK-ID printed"
run 1 gms group create --dir gms --group fire-crew-1 --member sip:alice@example.org --activate "$AT"
expect_err EEXIST

# --- the devices
for u in $USERS; do
  run 0 gms distribute --dir gms --group fire-crew-1 --member sip:$u@example.org --at "$AT" --out $u-gmk.imsg
  run 0 bundle --kms-cert kms/kms-cert.xml --key-sets $u-keys.xml --gmk $u-gmk.imsg --out $u.bundle
  [[ $(stat -c %a $u.bundle) == 600 ]] && ok || bad "bundle mode"
  run 0 store init --db $u-dev --owner sip:$u@example.org
  run 0 store import --db $u-dev --at "$AT" $u.bundle
  run 0 mikey decode --db $u-dev $u-gmk.imsg
  [[ $(json "['signature_valid']") == True ]] && ok || bad "$u signature_valid"
  [[ $(json "['key_type']") == GMK ]] && ok || bad "$u key_type"
  [[ $(json "['key_id']") == "$gmk_id" ]] && ok || bad "$u key_id"
  [[ $(json "['group']") == fire-crew-1 ]] && ok || bad "$u group"
  [[ $(json "['sender']") == sip:gms@example.org ]] && ok || bad "$u sender"
  [[ $(json "['recipient']") == sip:$u@example.org ]] && ok || bad "$u recipient"
  [[ $(json ".get('key','absent')") == absent ]] && ok || bad "$u: key shown without --reveal-key"
  # The same decode without a store, from the KMS files.
  run 0 mikey decode --kms-cert kms/kms-cert.xml --key-sets $u-keys.xml $u-gmk.imsg
  [[ $(json "['key_id']") == "$gmk_id" ]] && ok || bad "$u key_id (files)"
  run 0 mikey decode --db $u-dev --reveal-key $u-gmk.imsg
  echo "$(json "['key']")" >>"$work/gmks"
  echo "$(json "['guk_id']")" >>"$work/guks"
  echo "$(json "['rand']")" >>"$work/rands"
done
[[ $(sort -u "$work/gmks" | wc -l) -eq 1 && $(head -c 32 "$work/gmks" | wc -c) -eq 32 ]] && ok || bad "every member holds the same GMK"
[[ $(sort -u "$work/guks" | wc -l) -eq 3 ]] && ok || bad "GUK-IDs differ per member"
[[ $(sort -u "$work/rands" | wc -l) -eq 1 ]] && ok || bad "one RAND per GMK"

# --- hostile input: each fails with its code and leaves the store unchanged
before=$(snapshot bob-dev)
run 1 store import --db bob-dev --at "$AT" alice.bundle ; expect_err EWRONG_RECIPIENT
run 1 store import --db bob-dev --at "$AT" alice-gmk.imsg ; expect_err EWRONG_RECIPIENT
run 1 store import --db bob-dev --at "$AT" bob-gmk.imsg ; expect_err EREPLAY
head -c 1000 bob-keys.xml >trunc.xml
run 1 store import --db bob-dev --at "$AT" trunc.xml ; expect_err EXML
sed 's/mcsecKMSInterface:1.0/mcsecKMSInterface:9.9/' bob-keys.xml >ns.xml
run 1 store import --db bob-dev --at "$AT" ns.xml ; expect_err EXML_NS
# A point off the curve: change the last hex digit of the PVT.
python3 - bob-keys.xml offcurve.xml <<'PY'
import re, sys
s = open(sys.argv[1]).read()
m = re.search(r"<UserPubTokenPVT>([0-9A-Fa-f]+)</UserPubTokenPVT>", s)
v = m.group(1); v = v[:-1] + ("0" if v[-1] != "0" else "1")
open(sys.argv[2], "w").write(s[:m.start(1)] + v + s[m.end(1):])
PY
run 1 store import --db bob-dev --at "$AT" offcurve.xml ; expect_err EPOINT
# A forged signature: flip one bit inside the signed region of bob's GMK message.
python3 -c "import sys; b=bytearray(open('bob-gmk.imsg','rb').read()); b[40]^=1; open('forged.imsg','wb').write(b)"
run 1 mikey decode --db bob-dev forged.imsg
grep -qE "\((ESIG|EWRONG_RECIPIENT|EUID_MISMATCH|EMIKEY_[A-Z]+|EUNKNOWN_KMS)\)" "$work/stderr" && ok || bad "forged: $(cat "$work/stderr")"
python3 -c "import sys; b=bytearray(open('bob-gmk.imsg','rb').read()); b[-10]^=1; open('badsig.imsg','wb').write(b)"
run 1 mikey decode --db bob-dev badsig.imsg ; expect_err ESIG
# Importing a forged copy of an already imported message is refused as a replay.
run 1 store import --db bob-dev --at "$AT" badsig.imsg ; expect_err EREPLAY
run 1 mikey decode --db bob-dev alice-gmk.imsg ; expect_err EWRONG_RECIPIENT
# A damaged bundle.
python3 -c "b=bytearray(open('bob.bundle','rb').read()); b[len(b)//2]^=1; open('damaged.bundle','wb').write(b)"
run 1 store import --db bob-dev --at "$AT" damaged.bundle ; expect_err EAUTH
after=$(snapshot bob-dev)
[[ "$before" == "$after" ]] && ok || bad "bob's store changed by failed imports"

# A GMK from a GMS the device does not trust.
run 0 store init --db lone-dev --owner sip:carol@example.org
run 0 store import --db lone-dev --at "$AT" kms/kms-cert.xml carol-keys.xml
run 1 store import --db lone-dev --at "$AT" carol-gmk.imsg ; expect_err EUNAUTHORISED
run 0 store trust-gms --db lone-dev --gms sip:gms@example.org
python3 -c "b=bytearray(open('carol-gmk.imsg','rb').read()); b[-10]^=1; open('carol-badsig.imsg','wb').write(b)"
run 1 store import --db lone-dev --at "$AT" carol-badsig.imsg ; expect_err ESIG
run 0 store import --db lone-dev --at "$AT" carol-gmk.imsg

# A passphrase store: the wrong passphrase is refused.
printf 'correct horse battery staple\n' >pass.txt
printf 'wrong\n' >wrong.txt
run 0 store init --db pp-dev --owner sip:alice@example.org --passphrase-file pass.txt
[[ ! -e pp-dev/device.key ]] && ok || bad "passphrase store wrote a key file"
run 0 store import --db pp-dev --passphrase-file pass.txt --at "$AT" alice.bundle
run 1 store list --db pp-dev --passphrase-file wrong.txt ; expect_err EAUTH
# A corrupted database file.
cp -r alice-dev corrupt-dev
python3 -c "
f=open('corrupt-dev/store.db','r+b'); f.seek(4096*3); f.write(b'\xff'*512); f.close()"
"$PROSE" store list --db corrupt-dev >"$work/stdout" 2>"$work/stderr"
rc=$?
[[ $rc -ne 0 ]] && grep -qE "\((ESTORE_CORRUPT|EDB)\)" "$work/stderr" && ok || bad "corrupt store: rc $rc $(cat "$work/stderr")"

# Rekey: the new GMK switches at its activation time.
run 0 gms group rekey --dir gms --group fire-crew-1 --activate 2026-12-01T00:00:00Z
new_id=$(sed -n 's/.*GMK-ID \([0-9a-f]*\)/\1/p' "$work/stdout")
run 0 gms distribute --dir gms --group fire-crew-1 --member sip:alice@example.org --at "$AT" --out rekey.imsg
[[ -f rekey.imsg && -f rekey.imsg.2 ]] && ok || bad "rekey: two GMK messages"
run 0 store import --db alice-dev --at "$AT" rekey.imsg.2
run 0 store list --db alice-dev --at "$AT"
grep -q "pending  group fire-crew-1 GMK-ID $new_id" "$work/stdout" && ok || bad "rekeyed GMK pending: $(cat "$work/stdout")"
run 0 store list --db alice-dev --at 2026-12-02T00:00:00Z
grep -q "valid    group fire-crew-1 GMK-ID $new_id" "$work/stdout" && ok || bad "rekeyed GMK valid after activation"

# Usage errors: exit 2.
run 2 store import --db alice-dev
run 2 kms issue --dir kms --user sip:x@example.org --out x.xml --periods 0
run 2 gms group create --dir gms --group g2
run 2 store list --db alice-dev --at yesterday

# --- no secret in any output: the hex of every SSK, RSK and GMK created.
secrets=$(cat *-keys.xml | grep -oE "<(UserSigningKeySSK|UserDecryptKey)>[0-9A-Fa-f]+<" | sed 's/<[^>]*>//; s/<$//')
leaks=0
for s in $secrets $(cat "$work/gmks"); do
  # Outputs of --reveal-key legitimately show the GMK; drop those lines.
  if grep -v '"key":' "$out" | grep -qi "$s"; then leaks=$((leaks + 1)); fi
  if grep -qi "$s" kms/kms-cert.xml alice-dev/store.db gms/store.db kms/store.db; then leaks=$((leaks + 1)); fi
done
[[ $leaks -eq 0 && -n "$secrets" ]] && ok || bad "$leaks secret(s) found in outputs or in the clear in a database"

echo "provisioning: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
