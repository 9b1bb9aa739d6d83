/*
 * SAKKE (RFC 6508, RFC 6509 parameter set 1): the Appendix A vectors of
 * vectors.txt §2 byte for byte, random round trips, negative cases with
 * their exact error codes, and a differential test of the 1024-bit field
 * arithmetic (portable and fast paths) against OpenSSL BN.
 */
#include <criterion/criterion.h>
#include <openssl/bn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../crypto/src/fp1024.h"
#include "../../crypto/src/sakke_curve.h"
#include "prose/err.h"
#include "prose/rng.h"
#include "prose/sakke.h"
#include "testsupport.h"

/* ---- vectors.txt §2 ---- */

#define HEX_P                                                                                      \
  "997ABB1F0A563FDA65C61198DAD0657A416C0CE19CB48261BE9AE358B3E01A2E"                               \
  "F40AAB27E2FC0F1B228730D531A59CB0E791B39FF7C88A19356D27F4A666A6D0"                               \
  "E26C6487326B4CD4512AC5CD65681CE1B6AFF4A831852A82A7CF3C521C3C09AA"                               \
  "9F94D6AF56971F1FFCE3E82389857DB080C5DF10AC7ACE87666D807AFEA85FEB"
#define HEX_Q                                                                                      \
  "265EAEC7C2958FF69971846636B4195E905B0338672D20986FA6B8D62CF8068B"                               \
  "BD02AAC9F8BF03C6C8A1CC354C69672C39E46CE7FDF222864D5B49FD2999A9B4"                               \
  "389B1921CC9AD335144AB173595A07386DABFD2A0C614AA0A9F3CF14870F026A"                               \
  "A7E535ABD5A5C7C7FF38FA08E2615F6C203177C42B1EB3A1D99B601EBFAA17FB"
#define HEX_PX                                                                                     \
  "53FC09EE332C29AD0A7990053ED9B52A2B1A2FD60AEC69C698B2F204B6FF7CBF"                               \
  "B5EDB6C0F6CE2308AB10DB9030B09E1043D5F22CDB9DFA55718BD9E7406CE890"                               \
  "9760AF765DD5BCCB337C86548B72F2E1A702C3397A60DE74A7C1514DBA66910D"                               \
  "D5CFB4CC80728D87EE9163A5B63F73EC80EC46C4967E0979880DC8ABEAE63895"
#define HEX_PY                                                                                     \
  "0A8249063F6009F1F9F1F0533634A135D3E82016029906963D778D821E141178"                               \
  "F5EA69F4654EC2B9E7F7F5E5F0DE55F66B598CCF9A140B2E416CFF0CA9E032B9"                               \
  "70DAE117AD547C6CCAD696B5B7652FE0AC6F1E80164AA989492D979FC5A4D5F2"                               \
  "13515AD7E9CB99A980BDAD5AD5BB4636ADB9B5706A67DCDE75573FD71BEF16D7"
#define HEX_G                                                                                      \
  "66FC2A432B6EA392148F15867D623068C6A87BD1FB94C41E27FABE658E015A87"                               \
  "371E94744C96FEDA449AE9563F8BC446CBFDA85D5D00EF577072DA8F541721BE"                               \
  "EE0FAED1828EAB90B99DFB0138C7843355DF0460B4A9FD74B4F1A32BCAFA1FFA"                               \
  "D682C033A7942BCCE3720F20B9B7B0403C8CAE87B7A0042ACDE0FAB36461EA46"
#define HEX_Z_S "AFF429D35F84B110D094803B3595A6E2998BC99F"
#define HEX_ZPUB                                                                                   \
  "045958EF1B1679BF099B3A030DF255AA6A23C1D8F143D4D23F753E69BD27A832"                               \
  "F38CB4AD53DDEF4260B0FE8BB45C4C1FF510EFFE300367A37B61F701D914AEF0"                               \
  "9724825FA0707D61A6DFF4FBD7273566CDDE352A0B04B7C16A78309BE640697D"                               \
  "E747613A5FC195E8B9F328852A579DB8F99B1D0034479EA9C5595F47C4B2F54F"                               \
  "F21508D37514DCF7A8E143A6058C09A6BF2C9858CA37C258065AE6BF7532BC8B"                               \
  "5B63383866E0753C5AC0E72709F8445F2E6178E065857E0EDA10F68206B63505"                               \
  "ED87E534FB2831FF957FB7DC619DAE61301EEACC2FDA3680EA4999258A833CEA"                               \
  "8FC67C6D19487FB449059F26CC8AAB655AB58B7CC796E24E9A394095754F5F8B"                               \
  "AE"
#define HEX_B "323031312D30320074656C3A2B34343737303039303031323300"
#define HEX_RSK                                                                                    \
  "0493AF67E5007BA6E6A80DA793DA300FA4B52D0A74E25E6E7B2B3D6EE9D18A9B"                               \
  "5C5023597BD82D8062D34019563BA1D25C0DC56B7B979D74AA50F29FBF11CC2C"                               \
  "93F5DFCA615E609279F6175CEADB00B58C6BEE1E7A2A47C4F0C456F05259A6FA"                               \
  "94A634A40DAE1DF593D4FECF688D5FC678BE7EFC6DF3D6835325B83B2C6E6903"                               \
  "6B155F0A27241094B04BFB0BDFAC6C670A65C325D39A069F03659D44CA27D3BE"                               \
  "8DF311172B554160181CBE94A2A783320CED590BC42644702CF371271E496BF2"                               \
  "0F588B78A1BC01ECBB6559934BDD2FB65D2884318A33D1A42ADF5E33CC580028"                               \
  "0B28356497F87135BAB9612A17260424409AC15FEE996B744C332151235DECB0"                               \
  "F5"
#define HEX_SSV "123456789ABCDEF0123456789ABCDEF0"
#define HEX_R                                                                                      \
  "13EE3E1B8DAC5DB168B1CEB32F0566A4C273693F78BAFFA2A2EE6A686E6BD90F"                               \
  "8206CCAB84E7F42ED39BD4FB131012ECCA2ECD2119414560C17CAB46B956A80F"                               \
  "58A3302EB3E2C9A228FBA7ED34D8ACA2392DA1FFB0B17B2320AE09AAEDFD0235"                               \
  "F6FE0EB65337A63F9CC97728B8E5AD0460FADE144369AA5B2166213247712096"
#define HEX_RPT                                                                                    \
  "0444E8AD44AB8592A6A5A3DDCA5CF896C718043606A01D650DEF37A01F37C228"                               \
  "C332FC317354E2C274D4DAF8AD001054C76CE57971C6F4486D5723043261C506"                               \
  "EBF5BE438F53DE04F067C776E0DD3B71A6290133283725A532F21AF145126DC1"                               \
  "D777ECC27BE50835BD28098B8A73D9F801D893793A41FF5C49B87E79F2BE4D56"                               \
  "CE557E134AD85BB1D4B9CE4F8BE4B08A12BABF55B1D6F1D7A638019EA28E15AB"                               \
  "1C9F76375FDD1210D4F4351B9A009486B7F3ED46C965DED2D80DADE4F38C6721"                               \
  "D52C3AD103A10EBD2959248B4EF006836BF097448E6107C9EDEE9FB704823DF1"                               \
  "99F832C905AE45F8A247A072D8EF729EABC5E27574B07739B34BE74A532F747B"                               \
  "86"
#define HEX_GR                                                                                     \
  "7D2A8438E6291C649B6579EB3B79EAE948B1DE9E5F7D1F4070A08F8DB6B3C515"                               \
  "6F2201AFFBB5CB9D82AA3EC0D0398B89ABC78A13A760C0BF3F77E63D0DF3F1A3"                               \
  "41A41B8811DF197FD6CD0F003125606F4F109F400F7292A10D255E3C0EBCCB42"                               \
  "53FB182C68F09CF6CD9C4A53DA6C74AD007AF36B8BCA979D5895E282F483FCD6"
#define HEX_MASK "9BD4EA1E801D37E62AD2FAB0D4F5BBF7"
#define HEX_H "89E0BC661AA1E91638E6ACC84E496507"

typedef struct vec {
  uint8_t p[128], q[128], P[257], g[128], z[20], Z[257], b[26], rsk[257], ssv[16], r[128];
  uint8_t R[257], gr[128], mask[16], H[16], sed[273];
} vec;

static void load(vec *v) {
  ts_hex_into(HEX_P, v->p, 128);
  ts_hex_into(HEX_Q, v->q, 128);
  v->P[0] = 0x04;
  ts_hex_into(HEX_PX, v->P + 1, 128);
  ts_hex_into(HEX_PY, v->P + 129, 128);
  ts_hex_into(HEX_G, v->g, 128);
  ts_hex_into(HEX_Z_S, v->z, 20);
  ts_hex_into(HEX_ZPUB, v->Z, 257);
  ts_hex_into(HEX_B, v->b, 26);
  ts_hex_into(HEX_RSK, v->rsk, 257);
  ts_hex_into(HEX_SSV, v->ssv, 16);
  ts_hex_into(HEX_R, v->r, 128);
  ts_hex_into(HEX_RPT, v->R, 257);
  ts_hex_into(HEX_GR, v->gr, 128);
  ts_hex_into(HEX_MASK, v->mask, 16);
  ts_hex_into(HEX_H, v->H, 16);
  memcpy(v->sed, v->R, 257);
  memcpy(v->sed + 257, v->H, 16);
}

#define assert_bytes(a, b, n, what) cr_assert(memcmp((a), (b), (n)) == 0, "%s differs", what)

/* Every vector of §2 through the public API, under the given field implementation. */
static void check_vectors(fp1024_impl impl) {
  vec v;
  uint8_t out[273], buf[257], ssv[16];
  cr_assert_eq(fp1024_select(impl), 0);
  load(&v);
  /* <P, P> = g. */
  cr_assert_eq(prose_sakke_pairing(v.P, v.P, buf), 0);
  assert_bytes(buf, v.g, 128, "<P,P>");
  /* Z = [z]P and RSK = [(b + z)^-1]P. */
  cr_assert_eq(prose_sakke_kms_pub_from_z(v.z, sizeof v.z, buf), 0);
  assert_bytes(buf, v.Z, 257, "Z");
  cr_assert_eq(prose_sakke_issue_rsk(v.z, sizeof v.z, v.b, sizeof v.b, buf), 0);
  assert_bytes(buf, v.rsk, 257, "RSK");
  /* r = HashToIntegerRange(SSV || b, q). */
  uint8_t sb[16 + 26];
  memcpy(sb, v.ssv, 16);
  memcpy(sb + 16, v.b, 26);
  cr_assert_eq(prose_sakke_hash_to_range(sb, sizeof sb, v.q, 128, out, 128), 0);
  assert_bytes(out, v.r, 128, "r");
  /* mask = HashToIntegerRange(g^r, 2^128); H = SSV XOR mask. */
  uint8_t two128[17] = {0x01};
  cr_assert_eq(prose_sakke_hash_to_range(v.gr, 128, two128, sizeof two128, out, 16), 0);
  assert_bytes(out, v.mask, 16, "mask");
  for (int i = 0; i < 16; i++) cr_assert_eq(v.ssv[i] ^ v.mask[i], v.H[i]);
  /* <R, RSK> = g^r in both argument orders (symmetry used by decapsulation). */
  cr_assert_eq(prose_sakke_pairing(v.R, v.rsk, buf), 0);
  assert_bytes(buf, v.gr, 128, "<R,RSK>");
  cr_assert_eq(prose_sakke_pairing(v.rsk, v.R, buf), 0);
  assert_bytes(buf, v.gr, 128, "<RSK,R>");
  /* The full encapsulated data R || H. */
  prose_sakke_pub *pub = NULL;
  cr_assert_eq(prose_sakke_pub_new(&pub, v.Z), 0);
  cr_assert_eq(prose_sakke_encap(pub, v.b, sizeof v.b, v.ssv, out), 0);
  assert_bytes(out, v.sed, 273, "SED");
  prose_sakke_pub_free(pub);
  /* Decapsulation back to the SSV. */
  prose_sakke_recipient *rcp = NULL;
  cr_assert_eq(prose_sakke_recipient_new(&rcp, v.Z, v.b, sizeof v.b, v.rsk), 0);
  cr_assert_eq(prose_sakke_decap(rcp, v.sed, sizeof v.sed, ssv), 0);
  assert_bytes(ssv, v.ssv, 16, "decapsulated SSV");
  prose_sakke_recipient_free(rcp);
  for (const uint8_t *pt = v.P; pt; pt = pt == v.P ? v.Z : pt == v.Z ? v.rsk : pt == v.rsk ? v.R : NULL)
    cr_assert_eq(prose_sakke_point_check(pt), 0);
}

Test(sakke, rfc6508_vectors) {
  check_vectors(FP1024_IMPL_PORTABLE);
  if (fp1024_impl_available(FP1024_IMPL_IFMA)) check_vectors(FP1024_IMPL_IFMA);
}

/* ---- Round trips and negative cases ---- */

typedef struct party {
  uint8_t uid[32], rsk[257];
  prose_sakke_recipient *rcp;
} party;

Test(sakke, roundtrips_and_rejections) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 6508);
  uint8_t z[128], Z[257], ssv[16], ed[273], out[16];
  party pt[3];
  prose_sakke_pub *pub = NULL;
  cr_assert_eq(prose_sakke_kms_keygen(&rng, z, Z), 0);
  cr_assert_eq(prose_sakke_pub_new(&pub, Z), 0);
  for (int i = 0; i < 3; i++) {
    cr_assert_eq(prose_rng_fill(&rng, pt[i].uid, 32), 0);
    cr_assert_eq(prose_sakke_issue_rsk(z, sizeof z, pt[i].uid, 32, pt[i].rsk), 0);
    cr_assert_eq(prose_sakke_recipient_new(&pt[i].rcp, Z, pt[i].uid, 32, pt[i].rsk), 0, "party %d", i);
  }
  for (int round = 0; round < 6; round++) {
    int to = round % 3, other = (round + 1) % 3;
    cr_assert_eq(prose_rng_fill(&rng, ssv, 16), 0);
    cr_assert_eq(prose_sakke_encap(pub, pt[to].uid, 32, ssv, ed), 0);
    cr_assert_eq(prose_sakke_decap(pt[to].rcp, ed, sizeof ed, out), 0, "round %d", round);
    cr_assert(memcmp(out, ssv, 16) == 0, "round %d: SSV differs", round);
    /* Another recipient cannot decapsulate it: its TEST fails and ssv is zeroed. */
    memset(out, 0xAA, sizeof out);
    cr_assert_eq(prose_sakke_decap(pt[other].rcp, ed, sizeof ed, out), PROSE_ESAKKE_TEST);
    for (int i = 0; i < 16; i++) cr_assert_eq(out[i], 0);
    /* A flipped bit in H changes the SSV, and TEST catches it. */
    ed[257 + round] ^= (uint8_t)(1u << round);
    cr_assert_eq(prose_sakke_decap(pt[to].rcp, ed, sizeof ed, out), PROSE_ESAKKE_TEST);
  }
  /* Encapsulation is deterministic in the SSV. */
  uint8_t ed2[273];
  cr_assert_eq(prose_sakke_encap(pub, pt[0].uid, 32, ssv, ed), 0);
  cr_assert_eq(prose_sakke_encap(pub, pt[0].uid, 32, ssv, ed2), 0);
  cr_assert(memcmp(ed, ed2, sizeof ed) == 0);
  /* R off the curve, with a bad prefix or a coordinate >= p. */
  memcpy(ed2, ed, sizeof ed);
  ed2[200] ^= 1;
  cr_assert_eq(prose_sakke_decap(pt[0].rcp, ed2, sizeof ed2, out), PROSE_EPOINT);
  memcpy(ed2, ed, sizeof ed);
  ed2[0] = 0x02;
  cr_assert_eq(prose_sakke_decap(pt[0].rcp, ed2, sizeof ed2, out), PROSE_EPOINT);
  memset(ed2 + 1, 0xFF, 128);
  ed2[0] = 0x04;
  cr_assert_eq(prose_sakke_decap(pt[0].rcp, ed2, sizeof ed2, out), PROSE_EPOINT);
  /* Wrong lengths. */
  cr_assert_eq(prose_sakke_decap(pt[0].rcp, ed, 272, out), PROSE_ELEN);
  cr_assert_eq(prose_sakke_decap(pt[0].rcp, ed, 274, out), PROSE_ELEN);
  cr_assert_eq(prose_sakke_encap(pub, pt[0].uid, 0, ssv, ed2), PROSE_ELEN);
  cr_assert_eq(prose_sakke_kms_pub_from_z(z, 129, Z), PROSE_ELEN);
  cr_assert_eq(prose_sakke_issue_rsk(z, 0, pt[0].uid, 32, ed2), PROSE_ELEN);
  prose_sakke_recipient *bad = NULL;
  cr_assert_eq(prose_sakke_recipient_new(&bad, Z, pt[0].uid, 0, pt[0].rsk), PROSE_ELEN);
  /* Another identity's RSK fails the pairing check. */
  cr_assert_eq(prose_sakke_recipient_new(&bad, Z, pt[0].uid, 32, pt[1].rsk), PROSE_EKEY_INVALID);
  cr_assert_null(bad);
  /* Points of order 2: (0, 0) is on the curve but not in the order-q subgroup. */
  uint8_t o2[257] = {0x04};
  cr_assert_eq(prose_sakke_point_check(o2), 0);
  prose_sakke_pub *badpub = NULL;
  cr_assert_eq(prose_sakke_pub_new(&badpub, o2), PROSE_EPOINT);
  cr_assert_eq(prose_sakke_recipient_new(&bad, o2, pt[0].uid, 32, pt[0].rsk), PROSE_EPOINT);
  cr_assert_eq(prose_sakke_recipient_new(&bad, Z, pt[0].uid, 32, o2), PROSE_EKEY_INVALID);
  memcpy(ed2, o2, 257); /* R = (0, 0): decodes, but TEST cannot match it */
  cr_assert_eq(prose_sakke_decap(pt[0].rcp, ed2, sizeof ed2, out), PROSE_ESAKKE_TEST);
  uint8_t w[128];
  cr_assert_eq(prose_sakke_pairing(o2, Z, w), PROSE_EPOINT);
  o2[5] = 1;
  cr_assert_eq(prose_sakke_pub_new(&badpub, o2), PROSE_EPOINT);
  cr_assert_eq(prose_sakke_recipient_new(&bad, Z, pt[0].uid, 32, o2), PROSE_EPOINT);
  /* z = 0 and z = q are refused. */
  uint8_t qb[128];
  ts_hex_into(HEX_Q, qb, 128);
  cr_assert_eq(prose_sakke_kms_pub_from_z(qb, 128, Z), PROSE_ERANGE);
  uint8_t zero[4] = {0};
  cr_assert_eq(prose_sakke_kms_pub_from_z(zero, sizeof zero, Z), PROSE_ERANGE);
  cr_assert_eq(prose_sakke_issue_rsk(zero, sizeof zero, qb, sizeof qb, ed2), PROSE_ERANGE);
  for (int i = 0; i < 3; i++) prose_sakke_recipient_free(pt[i].rcp);
  prose_sakke_pub_free(pub);
}

/* p - y for a point encoding (the negated point), computed with BN. */
static void negate_point(uint8_t out[257], const uint8_t in[257]) {
  uint8_t pb[128];
  ts_hex_into(HEX_P, pb, 128);
  BIGNUM *p = BN_bin2bn(pb, 128, NULL), *y = BN_bin2bn(in + 129, 128, NULL);
  cr_assert(p && y && BN_sub(y, p, y));
  memcpy(out, in, 129);
  cr_assert_eq(BN_bn2binpad(y, out + 129, 128), 128);
  BN_free(p);
  BN_free(y);
}

Test(sakke, edge_scalars_and_identities) {
  vec v;
  uint8_t buf[257], negP[257], ed[273], ssv[16], out[16];
  load(&v);
  negate_point(negP, v.P);
  /* z = 1, z = q + 1 (reduced mod q) and z = q - 1 give P, P and -P. */
  uint8_t one[1] = {1}, qp1[128], qm1[128];
  memcpy(qp1, v.q, 128);
  memcpy(qm1, v.q, 128);
  qp1[127]++; /* q ends in 0xFB: no carry */
  qm1[127]--;
  cr_assert_eq(prose_sakke_kms_pub_from_z(one, 1, buf), 0);
  cr_assert(memcmp(buf, v.P, 257) == 0);
  cr_assert_eq(prose_sakke_kms_pub_from_z(qp1, 128, buf), 0);
  cr_assert(memcmp(buf, v.P, 257) == 0);
  cr_assert_eq(prose_sakke_kms_pub_from_z(qm1, 128, buf), 0);
  cr_assert(memcmp(buf, negP, 257) == 0);
  /* An identifier that is 0 mod q: [b]P = O, so computing [b]P + Z in
   * recipient_new hits the comb's exceptional case (the last addition adds
   * a point to its inverse) and takes the complete fallback; encapsulation
   * then has a zero scalar for P. */
  prose_sakke_pub *pub = NULL;
  prose_sakke_recipient *rcp = NULL;
  cr_assert_eq(prose_sakke_issue_rsk(v.z, sizeof v.z, v.q, 128, buf), 0);
  cr_assert_eq(prose_sakke_pub_new(&pub, v.Z), 0);
  cr_assert_eq(prose_sakke_recipient_new(&rcp, v.Z, v.q, 128, buf), 0);
  cr_assert_eq(prose_sakke_encap(pub, v.q, 128, v.ssv, ed), 0);
  cr_assert_eq(prose_sakke_decap(rcp, ed, sizeof ed, out), 0);
  cr_assert(memcmp(out, v.ssv, 16) == 0);
  prose_sakke_recipient_free(rcp);
  /* -R is a valid point of order q, but TEST = R != -R. */
  cr_assert_eq(prose_sakke_recipient_new(&rcp, v.Z, v.b, sizeof v.b, v.rsk), 0);
  negate_point(ed, v.R);
  memcpy(ed + 257, v.H, 16);
  cr_assert_eq(prose_sakke_decap(rcp, ed, sizeof ed, ssv), PROSE_ESAKKE_TEST);
  prose_sakke_recipient_free(rcp);
  prose_sakke_pub_free(pub);
  /* Keygen: Z = [z]P for the z it returns. */
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 42);
  uint8_t z[128], Z[257];
  cr_assert_eq(prose_sakke_kms_keygen(&rng, z, Z), 0);
  cr_assert_eq(prose_sakke_kms_pub_from_z(z, sizeof z, buf), 0);
  cr_assert(memcmp(buf, Z, 257) == 0);
  /* HashToIntegerRange argument checks. */
  uint8_t zero1[1] = {0}, small[2] = {0x01, 0x00};
  cr_assert_eq(prose_sakke_hash_to_range(v.ssv, 16, zero1, 1, out, 16), PROSE_EINVAL);
  cr_assert_eq(prose_sakke_hash_to_range(v.ssv, 16, v.q, 128, out, 16), PROSE_EBUFSZ);
  cr_assert_eq(prose_sakke_hash_to_range(v.ssv, 16, small, 2, out, 1), 0); /* n = 256 */
  cr_assert_eq(prose_sakke_point_check(negP), 0);
}

/* ---- Field arithmetic against OpenSSL BN ---- */

static BIGNUM *bn_of(const fp1024 *a) {
  uint8_t be[128];
  fp1024_to_be(be, a);
  return BN_bin2bn(be, 128, NULL);
}

static void rand_below(prose_rng *rng, fp1024 *x, const fp1024 *n, int kind) {
  uint8_t be[128];
  do {
    cr_assert_eq(prose_rng_fill(rng, be, sizeof be), 0);
    fp1024_from_be(x, be, sizeof be);
    /* Bias some inputs to the edges: tiny values, values just below n. */
    if (kind == 1) memset(x->v + 1, 0, sizeof x->v - sizeof x->v[0]);
    if (kind == 2) {
      fp1024 d;
      memset(&d, 0, sizeof d);
      d.v[0] = be[0];
      fp1024_sub_raw(x, n, &d);
      if (be[0] == 0) x->v[0]--;
    }
  } while (!fp1024_lt_mask(x, n));
}

/* Check r == a * b * R^-1 mod n with R = 2^1024. */
static void check_mont(const fp1024 *r, const fp1024 *a, const fp1024 *b, const fp1024 *n,
                       BN_CTX *ctx, const char *what, int i) {
  BIGNUM *ba = bn_of(a), *bb = bn_of(b), *bn = bn_of(n), *br = bn_of(r), *rinv = BN_new(),
         *t = BN_new();
  cr_assert(ba && bb && bn && br && rinv && t);
  BN_set_bit(t, 1024);
  cr_assert(BN_mod_inverse(rinv, t, bn, ctx));
  cr_assert(BN_mod_mul(t, ba, bb, bn, ctx));
  cr_assert(BN_mod_mul(t, t, rinv, bn, ctx));
  cr_assert_eq(BN_cmp(t, br), 0, "%s mismatch at case %d", what, i);
  BN_free(ba), BN_free(bb), BN_free(bn), BN_free(br), BN_free(rinv), BN_free(t);
}

Test(sakke, field_against_bn) {
  fp1024_init();
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 1024);
  BN_CTX *ctx = BN_CTX_new();
  const fp1024_mod *p = fp1024_p(), *q = fp1024_q();
  int fast = fp1024_impl_available(FP1024_IMPL_IFMA);
  for (int i = 0; i < 600; i++) {
    fp1024 a, b, r, r2;
    rand_below(&rng, &a, &p->n, i % 3);
    rand_below(&rng, &b, &p->n, (i / 3) % 3);
    fp1024_mul_portable(&r, &a, &b);
    check_mont(&r, &a, &b, &p->n, ctx, "portable mul", i);
    fp1024_sqr_portable(&r2, &a);
    check_mont(&r2, &a, &a, &p->n, ctx, "portable sqr", i);
    if (fast) {
      cr_assert_eq(fp1024_select(FP1024_IMPL_IFMA), 0);
      fp1024_mul(&r2, &a, &b);
      cr_assert(fp1024_eq_mask(&r, &r2), "fast mul != portable at case %d", i);
      fp1024_sqr(&r2, &a);
      fp1024_sqr_portable(&r, &a);
      cr_assert(fp1024_eq_mask(&r, &r2), "fast sqr != portable at case %d", i);
    }
    /* Generic modulus (q). */
    rand_below(&rng, &a, &q->n, i % 3);
    rand_below(&rng, &b, &q->n, 0);
    fp1024_mod_mul(q, &r, &a, &b);
    check_mont(&r, &a, &b, &q->n, ctx, "mod q mul", i);
  }
  /* Long chains of fast products fed back into themselves, against the
   * portable path, also through mul2 with the output aliasing an input. */
  if (fast) {
    fp1024 x, y, xp, yp, t;
    rand_below(&rng, &x, &p->n, 2);
    rand_below(&rng, &y, &p->n, 0);
    xp = x;
    yp = y;
    cr_assert_eq(fp1024_select(FP1024_IMPL_IFMA), 0);
    for (int i = 0; i < 20000; i++) {
      if (i % 3 == 0) {
        fp1024_mul2(&t, &x, &y, &x, &x, &x);
        y = t;
      } else {
        fp1024_mul(&x, &x, &y);
        fp1024_sqr(&y, &y);
      }
    }
    cr_assert_eq(fp1024_select(FP1024_IMPL_PORTABLE), 0);
    for (int i = 0; i < 20000; i++) {
      if (i % 3 == 0) {
        fp1024_mul2(&t, &xp, &yp, &xp, &xp, &xp);
        yp = t;
      } else {
        fp1024_mul(&xp, &xp, &yp);
        fp1024_sqr(&yp, &yp);
      }
    }
    cr_assert(fp1024_eq_mask(&x, &xp) & fp1024_eq_mask(&y, &yp), "fast chain != portable chain");
  }
  /* Divstep inversion against Fermat's a^(p-2) on random and edge inputs:
   * 1, 2, p - 1, p - 2, small powers of two and values with long runs. */
  for (int i = 0; i < 200; i++) {
    fp1024 a, r1, r2;
    if (i < 8) {
      memset(&a, 0, sizeof a);
      if (i == 0) a.v[0] = 1;
      if (i == 1) a.v[0] = 2;
      if (i == 2 || i == 3) {
        fp1024 d;
        memset(&d, 0, sizeof d);
        d.v[0] = (uint64_t)i - 1;
        fp1024_sub_raw(&a, &p->n, &d);
      }
      if (i == 4) a.v[15] = (uint64_t)1 << 62;
      if (i == 5) memset(a.v, 0xFF, 8 * 15);
      if (i == 6) a.v[8] = 1;
      if (i == 7) a.v[0] = 0xFFFFFFFFFFFFFFFFu;
    } else {
      rand_below(&rng, &a, &p->n, i % 3);
    }
    fp1024_inv(&r1, &a);
    fp1024_inv_fermat(&r2, &a);
    cr_assert(fp1024_eq_mask(&r1, &r2), "divstep inverse != Fermat at case %d", i);
  }
  /* Inversion, conversions and add/sub through the byte interface. */
  for (int impl = 0; impl < 1 + fast; impl++) {
    cr_assert_eq(fp1024_select((fp1024_impl)impl), 0);
    for (int i = 0; i < 20; i++) {
      fp1024 a, am, b, bm, r;
      uint8_t be[128];
      rand_below(&rng, &a, &p->n, i % 3);
      rand_below(&rng, &b, &p->n, 0);
      fp1024_to_be(be, &a);
      cr_assert_eq(fp1024_from_bytes(&am, be), 0);
      fp1024_to_be(be, &b);
      cr_assert_eq(fp1024_from_bytes(&bm, be), 0);
      fp1024_inv(&r, &am);
      fp1024_to_bytes(be, &r);
      BIGNUM *x = bn_of(&a), *y = BN_new(), *n = bn_of(&p->n), *s = BN_bin2bn(be, 128, NULL);
      cr_assert(BN_mod_inverse(y, x, n, ctx));
      cr_assert_eq(BN_cmp(y, s), 0, "inverse mismatch at case %d", i);
      fp1024_sub(&r, &am, &bm);
      fp1024_to_bytes(be, &r);
      BIGNUM *bb = bn_of(&b);
      cr_assert(BN_mod_sub(y, x, bb, n, ctx));
      BN_bin2bn(be, 128, s);
      cr_assert_eq(BN_cmp(y, s), 0, "sub mismatch at case %d", i);
      fp1024_add(&r, &am, &bm);
      fp1024_to_bytes(be, &r);
      cr_assert(BN_mod_add(y, x, bb, n, ctx));
      BN_bin2bn(be, 128, s);
      cr_assert_eq(BN_cmp(y, s), 0, "add mismatch at case %d", i);
      BN_free(x), BN_free(y), BN_free(n), BN_free(s), BN_free(bb);
    }
    /* 0 inverts to 0; p and 2^1024 - 1 are not field elements. */
    fp1024 zero, r;
    uint8_t be[128];
    memset(&zero, 0, sizeof zero);
    fp1024_inv(&r, &zero);
    cr_assert(fp1024_is_zero_mask(&r));
    fp1024_to_be(be, &p->n);
    cr_assert_eq(fp1024_from_bytes(&r, be), -1);
    memset(be, 0xFF, sizeof be);
    cr_assert_eq(fp1024_from_bytes(&r, be), -1);
  }
  BN_CTX_free(ctx);
}
