#!/usr/bin/env bash
# Tests of `prose crypto`: known answers from ../shared/spec/vectors.txt,
# round trips through the command line, and exit codes for bad input.
set -u
PROSE=${1:?usage: test_cli_crypto.sh PATH_TO_PROSE}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }

# expect STATUS WANT_STDOUT -- ARGS...   (WANT_STDOUT "*" = any)
expect() {
  local want_rc=$1 want_out=$2
  shift 3
  local out rc
  out=$("$PROSE" crypto "$@" 2>"$tmp/err")
  rc=$?
  if [[ $rc -ne $want_rc ]]; then
    bad "prose crypto $1: exit $rc, want $want_rc ($(head -c 200 "$tmp/err"))"
    return
  fi
  if [[ "$want_out" != "*" && "${out,,}" != "${want_out,,}" ]]; then
    bad "prose crypto $1: output '$out', want '$want_out'"
    return
  fi
  # Every failure is explained in exactly one line on stderr.
  if [[ $want_rc -eq 2 && $(wc -l <"$tmp/err") -ne 1 ]]; then
    bad "prose crypto $1: want one error line, got: $(cat "$tmp/err")"
    return
  fi
  ok
}

KSAK=0000000000000000000000000000000000000000000000000000000000012345
KPAK=0450D4670BDE75244F28D2838A0D25558A7A72686D4522D4C8273FB6442AEBFA93DBDD37551AFD263B5DFD617F3960C65A8C298850FF99F20366DCE7D4367217F4
ID=323031312D30320074656C3A2B34343737303039303031323300
MSG=6D65737361676500
SIG=269D4C8FDEB66A74E4EF8C0D5DCC597DDFE6029C2AFFC4936008CD2CC1045D81E09B528D0EF8D6DF1AA3ECBF80110CFCEC9FC68252CEBB679F4134846940CCFD04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36D9A79D247692F4EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79
ZS=AFF429D35F84B110D094803B3595A6E2998BC99F
Z=045958EF1B1679BF099B3A030DF255AA6A23C1D8F143D4D23F753E69BD27A832F38CB4AD53DDEF4260B0FE8BB45C4C1FF510EFFE300367A37B61F701D914AEF09724825FA0707D61A6DFF4FBD7273566CDDE352A0B04B7C16A78309BE640697DE747613A5FC195E8B9F328852A579DB8F99B1D0034479EA9C5595F47C4B2F54FF21508D37514DCF7A8E143A6058C09A6BF2C9858CA37C258065AE6BF7532BC8B5B63383866E0753C5AC0E72709F8445F2E6178E065857E0EDA10F68206B63505ED87E534FB2831FF957FB7DC619DAE61301EEACC2FDA3680EA4999258A833CEA8FC67C6D19487FB449059F26CC8AAB655AB58B7CC796E24E9A394095754F5F8BAE
RSK=0493AF67E5007BA6E6A80DA793DA300FA4B52D0A74E25E6E7B2B3D6EE9D18A9B5C5023597BD82D8062D34019563BA1D25C0DC56B7B979D74AA50F29FBF11CC2C93F5DFCA615E609279F6175CEADB00B58C6BEE1E7A2A47C4F0C456F05259A6FA94A634A40DAE1DF593D4FECF688D5FC678BE7EFC6DF3D6835325B83B2C6E69036B155F0A27241094B04BFB0BDFAC6C670A65C325D39A069F03659D44CA27D3BE8DF311172B554160181CBE94A2A783320CED590BC42644702CF371271E496BF20F588B78A1BC01ECBB6559934BDD2FB65D2884318A33D1A42ADF5E33CC5800280B28356497F87135BAB9612A17260424409AC15FEE996B744C332151235DECB0F5
SSV=123456789ABCDEF0123456789ABCDEF0
ED=0444E8AD44AB8592A6A5A3DDCA5CF896C718043606A01D650DEF37A01F37C228C332FC317354E2C274D4DAF8AD001054C76CE57971C6F4486D5723043261C506EBF5BE438F53DE04F067C776E0DD3B71A6290133283725A532F21AF145126DC1D777ECC27BE50835BD28098B8A73D9F801D893793A41FF5C49B87E79F2BE4D56CE557E134AD85BB1D4B9CE4F8BE4B08A12BABF55B1D6F1D7A638019EA28E15AB1C9F76375FDD1210D4F4351B9A009486B7F3ED46C965DED2D80DADE4F38C6721D52C3AD103A10EBD2959248B4EF006836BF097448E6107C9EDEE9FB704823DF199F832C905AE45F8A247A072D8EF729EABC5E27574B07739B34BE74A532F747B8689E0BC661AA1E91638E6ACC84E496507
ED_BAD=${ED%?}6   # last nibble of H changed

# --- known answers
expect 0 74e2af803ab5d72841bbced0ce319ffe64f6fe23c88a2d258aabcf6ac5658ef4 -- uid --uri sip:user@example.org --kms kms.example.org --period 2592000 --offset 0 --period-no 1
expect 0 8dc05540167345538475101514f4eabd384abd6ba665782abb312ecaf05934e1 -- uid --uri sip:user@example.org --kms kms.example.org --period 25920000 --offset 45920000 --period-no 20393844
expect 0 15a4d5b12856538d02d91fedbb766e6dd377b014c92e216666c8fb678608d20e -- uid --uri gms@streamwide.com --kms kms.mydev.streamwide.com --period 16777215 --offset 0 --period-no 236
expect 0 valid -- eccsi-verify --kpak $KPAK --id $ID --msg $MSG --sig $SIG
expect 0 "RSK=$RSK" -- sakke-issue --z $ZS --id $ID
expect 0 "$ED" -- sakke-encap --Z $Z --id $ID --ssv $SSV
expect 0 "$SSV" -- sakke-decap --Z $Z --rsk $RSK --id $ID --data $ED
expect 0 "*" -- selftest

# --- verification failures: exit 1
expect 1 invalid -- eccsi-verify --kpak $KPAK --id $ID --msg 6D65737361676501 --sig $SIG
expect 1 invalid -- eccsi-verify --kpak $KPAK --id ${ID}00 --msg $MSG --sig $SIG
expect 1 "" -- sakke-decap --Z $Z --rsk $RSK --id $ID --data $ED_BAD

# --- round trips with fresh keys
out=$("$PROSE" crypto eccsi-keygen) && ok || bad "eccsi-keygen"
ksak=$(sed -n 's/^KSAK=//p' <<<"$out"); kpak=$(sed -n 's/^KPAK=//p' <<<"$out")
[[ ${#ksak} -eq 64 && ${#kpak} -eq 130 ]] && ok || bad "eccsi-keygen output: $out"
out=$("$PROSE" crypto eccsi-issue --ksak "$ksak" --id 616c696365) && ok || bad "eccsi-issue"
ssk=$(sed -n 's/^SSK=//p' <<<"$out"); pvt=$(sed -n 's/^PVT=//p' <<<"$out")
sig=$("$PROSE" crypto eccsi-sign --kpak "$kpak" --ssk "$ssk" --pvt "$pvt" --id 616c696365 --msg 0102) && ok || bad "eccsi-sign"
[[ ${#sig} -eq 258 ]] && ok || bad "signature length ${#sig}"
expect 0 valid -- eccsi-verify --kpak "$kpak" --id 616c696365 --msg 0102 --sig "$sig"
expect 1 invalid -- eccsi-verify --kpak "$kpak" --id 626f62 --msg 0102 --sig "$sig"
expect 1 invalid -- eccsi-verify --kpak $KPAK --id 616c696365 --msg 0102 --sig "$sig"
# A key set that does not belong together is refused before signing.
expect 2 "" -- eccsi-sign --kpak "$kpak" --ssk "$ssk" --pvt "$pvt" --id 626f62 --msg 0102
out=$("$PROSE" crypto sakke-keygen) && ok || bad "sakke-keygen"
z=$(sed -n 's/^z=//p' <<<"$out"); Zn=$(sed -n 's/^Z=//p' <<<"$out")
[[ ${#z} -eq 256 && ${#Zn} -eq 514 ]] && ok || bad "sakke-keygen output"
rsk=$("$PROSE" crypto sakke-issue --z "$z" --id 616c696365 | sed -n 's/^RSK=//p')
ed=$("$PROSE" crypto sakke-encap --Z "$Zn" --id 616c696365 --ssv 00112233445566778899aabbccddeeff)
expect 0 00112233445566778899aabbccddeeff -- sakke-decap --Z "$Zn" --rsk "$rsk" --id 616c696365 --data "$ed"
# RSK of another KMS: rejected as a key set.
expect 2 "" -- sakke-decap --Z $Z --rsk "$rsk" --id 616c696365 --data "$ed"

# --- bad input: exit 2, one line
expect 2 "" -- eccsi-verify --kpak ${KPAK}00 --id $ID --msg $MSG --sig $SIG
expect 2 "" -- eccsi-verify --kpak ${KPAK%??}F5 --id $ID --msg $MSG --sig $SIG
expect 2 "" -- eccsi-verify --kpak $KPAK --id XYZ --msg $MSG --sig $SIG
expect 2 "" -- eccsi-verify --kpak $KPAK --id $ID --msg 123 --sig $SIG
expect 2 "" -- eccsi-verify --kpak $KPAK --id $ID --msg $MSG
expect 2 "" -- eccsi-verify --kpak $KPAK --id $ID --msg $MSG --sig $SIG --bogus 1
expect 2 "" -- eccsi-verify --kpak $KPAK --kpak $KPAK --id $ID --msg $MSG --sig $SIG
expect 2 "" -- eccsi-issue --ksak 00 --id $ID
expect 2 "" -- eccsi-issue --ksak 0000000000000000000000000000000000000000000000000000000000000000 --id $ID
expect 2 "" -- sakke-encap --Z ${Z%??}AF --id $ID --ssv $SSV
expect 2 "" -- sakke-encap --Z $Z --id $ID --ssv 1234
expect 2 "" -- sakke-decap --Z $Z --rsk $RSK --id $ID --data ${ED}00
expect 2 "" -- uid --uri sip:a --kms k --period ten --offset 0 --period-no 1
expect 2 "" -- uid --uri sip:a --kms k --period -1 --offset 0 --period-no 1
expect 2 "" -- no-such-command

echo "cli_crypto: $pass passed, $fail failed"
[[ $fail -eq 0 ]]
