/*
 * Known-answer tests. The values are those of ../shared/spec/vectors.txt
 * (RFC 6507 Appendix A, RFC 6508 Appendix A with RFC 6509 parameter set 1,
 * TS 33.179 F.2.1 and F.1.3 vectors, MIKEY PRF vectors). Each check computes
 * the answer with the production code and compares it octet for octet.
 */
#include "prose/selftest.h"

#include <stdio.h>
#include <string.h>

#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/sakke.h"
#include "prose/util.h"

/* RFC 6507 Appendix A. */
static const char ECCSI_KSAK[] = "0000000000000000000000000000000000000000000000000000000000012345";
static const char ECCSI_KPAK[] =
    "0450D4670BDE75244F28D2838A0D25558A7A72686D4522D4C8273FB6442AEBFA"
    "93DBDD37551AFD263B5DFD617F3960C65A8C298850FF99F20366DCE7D4367217F4";
static const char ECCSI_ID[] = "323031312D30320074656C3A2B34343737303039303031323300";
static const char ECCSI_V[] = "0000000000000000000000000000000000000000000000000000000000023456";
static const char ECCSI_SSK[] = "23F374AE1F4033F3E9DBDDAAEF20F4CF0B86BBD5A138A5AE9E7E006B34489A0D";
static const char ECCSI_J[] = "0000000000000000000000000000000000000000000000000000000000034567";
static const char ECCSI_MSG[] = "6D65737361676500";
static const char ECCSI_SIG[] =
    "269D4C8FDEB66A74E4EF8C0D5DCC597DDFE6029C2AFFC4936008CD2CC1045D81"
    "E09B528D0EF8D6DF1AA3ECBF80110CFCEC9FC68252CEBB679F4134846940CCFD"
    "04758A142779BE89E829E71984CB40EF758CC4AD775FC5B9A3E1C8ED52F6FA36"
    "D9A79D247692F4EDA3A6BDAB77D6AA6474A464AE4934663C5265BA7018BA091F79";

/* RFC 6508 Appendix A, RFC 6509 parameter set 1. */
static const char SAKKE_Z_SECRET[] = "AFF429D35F84B110D094803B3595A6E2998BC99F";
static const char SAKKE_Z[] =
    "045958EF1B1679BF099B3A030DF255AA6A23C1D8F143D4D23F753E69BD27A832"
    "F38CB4AD53DDEF4260B0FE8BB45C4C1FF510EFFE300367A37B61F701D914AEF0"
    "9724825FA0707D61A6DFF4FBD7273566CDDE352A0B04B7C16A78309BE640697D"
    "E747613A5FC195E8B9F328852A579DB8F99B1D0034479EA9C5595F47C4B2F54F"
    "F21508D37514DCF7A8E143A6058C09A6BF2C9858CA37C258065AE6BF7532BC8B"
    "5B63383866E0753C5AC0E72709F8445F2E6178E065857E0EDA10F68206B63505"
    "ED87E534FB2831FF957FB7DC619DAE61301EEACC2FDA3680EA4999258A833CEA"
    "8FC67C6D19487FB449059F26CC8AAB655AB58B7CC796E24E9A394095754F5F8BAE";
static const char SAKKE_RSK[] =
    "0493AF67E5007BA6E6A80DA793DA300FA4B52D0A74E25E6E7B2B3D6EE9D18A9B"
    "5C5023597BD82D8062D34019563BA1D25C0DC56B7B979D74AA50F29FBF11CC2C"
    "93F5DFCA615E609279F6175CEADB00B58C6BEE1E7A2A47C4F0C456F05259A6FA"
    "94A634A40DAE1DF593D4FECF688D5FC678BE7EFC6DF3D6835325B83B2C6E6903"
    "6B155F0A27241094B04BFB0BDFAC6C670A65C325D39A069F03659D44CA27D3BE"
    "8DF311172B554160181CBE94A2A783320CED590BC42644702CF371271E496BF2"
    "0F588B78A1BC01ECBB6559934BDD2FB65D2884318A33D1A42ADF5E33CC580028"
    "0B28356497F87135BAB9612A17260424409AC15FEE996B744C332151235DECB0F5";
static const char SAKKE_SSV[] = "123456789ABCDEF0123456789ABCDEF0";
static const char SAKKE_ED[] =
    "0444E8AD44AB8592A6A5A3DDCA5CF896C718043606A01D650DEF37A01F37C228"
    "C332FC317354E2C274D4DAF8AD001054C76CE57971C6F4486D5723043261C506"
    "EBF5BE438F53DE04F067C776E0DD3B71A6290133283725A532F21AF145126DC1"
    "D777ECC27BE50835BD28098B8A73D9F801D893793A41FF5C49B87E79F2BE4D56"
    "CE557E134AD85BB1D4B9CE4F8BE4B08A12BABF55B1D6F1D7A638019EA28E15AB"
    "1C9F76375FDD1210D4F4351B9A009486B7F3ED46C965DED2D80DADE4F38C6721"
    "D52C3AD103A10EBD2959248B4EF006836BF097448E6107C9EDEE9FB704823DF1"
    "99F832C905AE45F8A247A072D8EF729EABC5E27574B07739B34BE74A532F747B86"
    "89E0BC661AA1E91638E6ACC84E496507";

/* TS 33.179 F.2.1 / F.1.3 and the MIKEY PRF (vectors.txt §3–§5). */
static const char UID_WANT[] = "b5c452309219da6a3d805615548d6c1b0f4de45a6b48fb13d9a24d857fc03dc4";
static const char GUK_GMK[] = "07d1a1677ac36d8e81620484689b3c2d";
static const char KDF_TGK[] = "A27B7D578EEB9B1EE7705E385996D300";
static const char KDF_RAND[] = "4339F62F55AAC86348846A482C893802";
static const char KDF_TEK[] = "59AAA49EBB54813602B7CC165961B4E8";
static const char KDF_SALT[] = "745EB4DF7D155C473114A799";

/* Scratch space: large enough for every decoded value above. */
typedef struct kat {
  uint8_t a[300], b[300], c[300], d[300], e[300];
} kat;

static int hex(const char *h, uint8_t *out, size_t n) {
  return prose_hex_decode_exact(h, out, n) == 0 ? 0 : PROSE_EINTERNAL;
}

static int same(const uint8_t *got, const char *want_hex, size_t n) {
  uint8_t want[300];
  if (n > sizeof want || hex(want_hex, want, n) != 0) return PROSE_EINTERNAL;
  return memcmp(got, want, n) == 0 ? 0 : PROSE_EINTERNAL;
}

static int kat_eccsi(kat *k) {
  uint8_t *ksak = k->a, *kpak = k->b, *ssk = k->c, *pvt = k->d, *sig = k->e;
  uint8_t id[26], v[32], j[32], msg[8];
  prose_eccsi_signer *s = NULL;
  prose_eccsi_verifier *ver = NULL;
  int rc = hex(ECCSI_KSAK, ksak, 32);
  if (!rc) rc = hex(ECCSI_ID, id, sizeof id);
  if (!rc) rc = hex(ECCSI_V, v, sizeof v);
  if (!rc) rc = hex(ECCSI_J, j, sizeof j);
  if (!rc) rc = hex(ECCSI_MSG, msg, sizeof msg);
  if (!rc) rc = prose_eccsi_kpak_from_ksak(ksak, kpak);
  if (!rc) rc = same(kpak, ECCSI_KPAK, 65);
  if (!rc) rc = prose_eccsi_issue_with_v(ksak, v, id, sizeof id, ssk, pvt);
  if (!rc) rc = same(ssk, ECCSI_SSK, 32);
  if (!rc) rc = prose_eccsi_signer_new(&s, kpak, id, sizeof id, ssk, pvt);
  if (!rc) rc = prose_eccsi_sign_with_j(s, j, msg, sizeof msg, sig);
  if (!rc) rc = same(sig, ECCSI_SIG, 129);
  if (!rc) rc = prose_eccsi_verifier_new(&ver, kpak);
  if (!rc) rc = prose_eccsi_verify(ver, id, sizeof id, msg, sizeof msg, sig, 129);
  /* A one-bit change to the message must be rejected. */
  if (!rc) {
    msg[0] ^= 1;
    rc = prose_eccsi_verify(ver, id, sizeof id, msg, sizeof msg, sig, 129) == PROSE_ESIG
             ? 0
             : PROSE_EINTERNAL;
  }
  prose_eccsi_signer_free(s);
  prose_eccsi_verifier_free(ver);
  prose_wipe(ssk, 32);
  return rc;
}

static int kat_sakke(kat *k) {
  uint8_t *z = k->a, *Z = k->b, *rsk = k->c, *ed = k->d, *ssv = k->e;
  uint8_t id[26], ssv_in[16];
  prose_sakke_pub *pub = NULL;
  prose_sakke_recipient *rcp = NULL;
  int rc = hex(SAKKE_Z_SECRET, z, 20);
  if (!rc) rc = hex(ECCSI_ID, id, sizeof id);
  if (!rc) rc = hex(SAKKE_SSV, ssv_in, sizeof ssv_in);
  if (!rc) rc = prose_sakke_kms_pub_from_z(z, 20, Z);
  if (!rc) rc = same(Z, SAKKE_Z, 257);
  if (!rc) rc = prose_sakke_issue_rsk(z, 20, id, sizeof id, rsk);
  if (!rc) rc = same(rsk, SAKKE_RSK, 257);
  if (!rc) rc = prose_sakke_pub_new(&pub, Z);
  if (!rc) rc = prose_sakke_encap(pub, id, sizeof id, ssv_in, ed);
  if (!rc) rc = same(ed, SAKKE_ED, 273);
  if (!rc) rc = prose_sakke_recipient_new(&rcp, Z, id, sizeof id, rsk);
  if (!rc) rc = prose_sakke_decap(rcp, ed, 273, ssv);
  if (!rc) rc = same(ssv, SAKKE_SSV, 16);
  /* A one-bit change to H must fail the TEST check. */
  if (!rc) {
    ed[272] ^= 1;
    rc = prose_sakke_decap(rcp, ed, 273, ssv) == PROSE_ESAKKE_TEST ? 0 : PROSE_EINTERNAL;
  }
  prose_sakke_pub_free(pub);
  prose_sakke_recipient_free(rcp);
  prose_wipe(z, 20);
  prose_wipe(rsk, 257);
  prose_wipe(ssv, 16);
  return rc;
}

static int kat_uid(kat *k) {
  int rc = prose_uid("sip:alice@streamwide.com", "kms.mydev.streamwide.com", 16777215, 0, 236, k->a);
  return rc ? rc : same(k->a, UID_WANT, 32);
}

static int kat_guk(kat *k) {
  uint32_t guk = 0, back = 0;
  int rc = hex(GUK_GMK, k->a, 16);
  if (!rc) rc = prose_guk_id(k->a, 16, 0x0df9bc39u, "sip:alice@streamwide.com", &guk);
  if (!rc) rc = guk == 0x06a12aeau ? 0 : PROSE_EINTERNAL;
  if (!rc) rc = prose_guk_id(k->a, 16, guk, "sip:alice@streamwide.com", &back);
  if (!rc) rc = back == 0x0df9bc39u ? 0 : PROSE_EINTERNAL;
  return rc;
}

static int kat_kdf(kat *k) {
  uint8_t *tgk = k->a, *rnd = k->b, *key = k->c, *salt = k->d;
  int rc = hex(KDF_TGK, tgk, 16);
  if (!rc) rc = hex(KDF_RAND, rnd, 16);
  if (!rc) rc = prose_srtp_master(tgk, 16, 4, 0x0633F457u, rnd, 16, key, salt);
  if (!rc) rc = same(key, KDF_TEK, 16);
  if (!rc) rc = same(salt, KDF_SALT, 12);
  prose_wipe(key, 16);
  prose_wipe(salt, 12);
  return rc;
}

int prose_crypto_selftest(prose_selftest_cb cb, void *ud) {
  static const struct {
    const char *name;
    const char *detail;
    int (*fn)(kat *k);
  } tests[] = {
      {"eccsi", "RFC 6507 App. A: KPAK, SSK, signature with j, verify", kat_eccsi},
      {"sakke", "RFC 6508 App. A: Z, RSK, encapsulate, decapsulate, TEST", kat_sakke},
      {"uid", "TS 33.179 F.2.1 MIKEY-SAKKE UID", kat_uid},
      {"guk-id", "TS 33.179 F.1.3 GUK-ID and its inverse", kat_guk},
      {"mikey-kdf", "RFC 3830 PRF-HMAC-SHA-256 SRTP master key and salt", kat_kdf},
  };
  int first = 0;
  kat k;
  for (size_t i = 0; i < PROSE_ARRAY_LEN(tests); i++) {
    memset(&k, 0, sizeof k);
    int rc = tests[i].fn(&k);
    prose_wipe(&k, sizeof k);
    if (cb) cb(ud, tests[i].name, rc, tests[i].detail);
    if (rc && !first) first = rc;
  }
  return first;
}
