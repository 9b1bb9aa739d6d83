/*
 * MIKEY-SAKKE I_MESSAGE: golden layout, codec round trips, malformed input,
 * full processing with real ECCSI/SAKKE keys, negative cases that must leave
 * the keyring unchanged, the keyring itself, and the fuzz seed corpus.
 *
 * Criterion forks per test, so the tests are few and each checks a lot.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fuzz/mikey_fixture.h"
#include "prose/buf.h"
#include "prose/err.h"
#include "prose/mikey.h"
#include "testsupport.h"

/* ---------------------------------------------------------------------- */
/* A hand-built message from the DIGEST §3.2 byte layouts                  */
/* ---------------------------------------------------------------------- */

typedef struct bld {
  uint8_t b[4096];
  size_t n;
} bld;

static void b_bytes(bld *b, const void *p, size_t n) {
  cr_assert_leq(b->n + n, sizeof b->b);
  memcpy(b->b + b->n, p, n);
  b->n += n;
}
static void b_hex(bld *b, const char *hex) {
  size_t len;
  uint8_t *p = ts_hex(hex, &len);
  b_bytes(b, p, len);
  free(p);
}
static void b_str(bld *b, const char *s) { b_bytes(b, s, strlen(s)); }

static uint8_t fake_ed[273], fake_sig[129];

static void fake_init(void) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 4242);
  prose_rng_fill(&rng, fake_ed, sizeof fake_ed);
  prose_rng_fill(&rng, fake_sig, sizeof fake_sig);
}

static const char kp_hex[] =
    /* GenExt 7 body: key type 0, status 1, activation 1750000000, expiry
     * 1760000000 (40-bit Unix seconds), text "GMK1", one group. */
    "00 00000001 00684EE180 0068E77800 0004 474D4B31 001D 01 01 0019";

/* The GMK form of 33.179 E.2 as interop implementations lay it out. */
static void golden_gmk(bld *b, int kp_first) {
  memset(b, 0, sizeof *b);
  /* HDR: v1, SAKKE I_MESSAGE, next T, V=0 PRF 1, CSB = alice's GUK-ID,
   * #CS 1, GENERIC-ID: CS-ID 4, SRTP, S=0 #P=1, Ps {0}, no session data,
   * SPI len 8 = GMK-ID || GUK-ID. */
  b_hex(b, "01 1A 05 01 06A12AEA 01 02 04 00 01 00 0000 08 0DF9BC39 06A12AEA");
  b_hex(b, "0B 00 EC0002FC 80000000");                      /* T, NTP-UTC */
  b_hex(b, "0E 10 4339F62F55AAC86348846A482C893802");       /* RAND */
  b_hex(b, "0E 01 01 0012"), b_str(b, MF_GMS);              /* IDRi */
  b_hex(b, "0E 02 01 0018"), b_str(b, MF_ALICE);            /* IDRr */
  b_hex(b, "0E 06 01 0018"), b_str(b, MF_KMS);              /* IDRkmsi */
  b_hex(b, "0A 07 01 0018"), b_str(b, MF_KMS);              /* IDRkmsr */
  /* SP: next, policy 0, SRTP, 27 octets of the interop encoding. */
  b_hex(b, kp_first ? "15" : "1A");
  b_hex(b, "00 00 001B 000106 010110 020104 04010C 050100 060100 120104 130100 140110");
  if (kp_first) {
    b_hex(b, "1A 07 0034"), b_hex(b, kp_hex), b_str(b, "sip:group1@streamwide.com");
  }
  b_hex(b, kp_first ? "04" : "15");
  b_hex(b, "01 02 0111"), b_bytes(b, fake_ed, sizeof fake_ed); /* SAKKE */
  if (!kp_first) {
    b_hex(b, "04 07 0034"), b_hex(b, kp_hex), b_str(b, "sip:group1@streamwide.com");
  }
  b_hex(b, "20 81"), b_bytes(b, fake_sig, sizeof fake_sig); /* SIGN: ECCSI, 129 */
}

/* The PCK form (E.3) with #CS = 0 and IDR roles 8/9 added. */
static void golden_pck_uid(bld *b, const uint8_t uid_i[32], const uint8_t uid_r[32]) {
  memset(b, 0, sizeof *b);
  b_hex(b, "01 1A 05 01 1234ABCD 00 01");
  b_hex(b, "0B 00 EC0002FC 00000000");
  b_hex(b, "0E 10 00112233445566778899AABBCCDDEEFF");
  b_hex(b, "0E 06 01 0018"), b_str(b, MF_KMS);
  b_hex(b, "0E 07 01 0018"), b_str(b, MF_KMS);
  b_hex(b, "0E 08 02 0020"), b_bytes(b, uid_i, 32);
  b_hex(b, "1A 09 02 0020"), b_bytes(b, uid_r, 32);
  b_hex(b, "04 01 02 0111"), b_bytes(b, fake_ed, sizeof fake_ed);
  b_hex(b, "20 81"), b_bytes(b, fake_sig, sizeof fake_sig);
}

static int view_eq_str(prose_mikey_view v, const char *s) {
  return v.len == strlen(s) && memcmp(v.p, s, v.len) == 0;
}

static void check_golden_fields(const prose_mikey_msg *m, const uint8_t *buf) {
  cr_assert_eq(m->version, 1);
  cr_assert_eq(m->data_type, 26);
  cr_assert_eq(m->prf, 1);
  cr_assert(!m->v_flag);
  cr_assert_eq(m->csb_id, MF_ALICE_GUK_ID);
  cr_assert_eq(m->n_cs, 1);
  cr_assert_eq(m->cs_map_type, PROSE_MIKEY_CSMAP_GENERIC);
  cr_assert_eq(m->cs[0].cs_id, 4);
  cr_assert_eq(m->cs[0].prot_type, 0);
  cr_assert_eq(m->cs[0].policies.len, 1);
  cr_assert_eq(m->cs[0].policies.p[0], 0);
  cr_assert_eq(m->cs[0].session_data.len, 0);
  cr_assert_eq(m->cs[0].spi.len, 8);
  cr_assert_eq(prose_get_u32(m->cs[0].spi.p), MF_GMK_ID);
  cr_assert_eq(prose_get_u32(m->cs[0].spi.p + 4), MF_ALICE_GUK_ID);
  cr_assert_eq(m->t, 0xEC0002FC80000000ull);
  cr_assert_eq(m->rand.len, 16);
  cr_assert_arr_eq(m->rand.p, mf_rand, 16);
  cr_assert(view_eq_str(m->idr_i.id, MF_GMS) && m->idr_i.type == 1);
  cr_assert(view_eq_str(m->idr_r.id, MF_ALICE));
  cr_assert(view_eq_str(m->idr_kmsi.id, MF_KMS) && view_eq_str(m->idr_kmsr.id, MF_KMS));
  cr_assert(!m->uid_i.present && !m->uid_r.present);
  cr_assert(m->has_sp);
  prose_mikey_view v;
  cr_assert_eq(prose_mikey_sp_find(&m->sp, 0, &v), 0);
  cr_assert_eq(v.p[0], 6); /* AES-GCM */
  cr_assert_eq(prose_mikey_sp_find(&m->sp, 20, &v), 0);
  cr_assert_eq(v.p[0], 16); /* AEAD tag */
  cr_assert_eq(prose_mikey_sp_find(&m->sp, 13, &v), PROSE_ENOENT);
  cr_assert_eq(m->sakke.params, 1);
  cr_assert_eq(m->sakke.id_scheme, 2);
  cr_assert_eq(m->sakke.data.len, 273);
  cr_assert_arr_eq(m->sakke.data.p, fake_ed, 273);
  cr_assert(m->has_kp && !m->has_self);
  cr_assert_eq(m->kp.key_type, 0);
  cr_assert_eq(m->kp.status, 1);
  cr_assert_eq(m->kp.activation, 1750000000u);
  cr_assert_eq(m->kp.expiry, 1760000000u);
  cr_assert(view_eq_str(m->kp.text, "GMK1"));
  cr_assert_eq(m->kp.n_groups, 1);
  cr_assert_eq(m->kp.group_iei[0], 1);
  cr_assert(view_eq_str(m->kp.groups[0], "sip:group1@streamwide.com"));
  cr_assert_eq(m->sig_type, 2);
  cr_assert_eq(m->sig.len, 129);
  cr_assert_arr_eq(m->sig.p, fake_sig, 129);
  /* Layout: HDR 25, T 10, RAND 18, IDRs 23+29+29+29, SP 32, SAKKE 278,
   * GenExt 56, SIGN 131 = 660 octets. */
  cr_assert_eq(m->len, 660);
  cr_assert_eq(m->sign_off, 529);
  cr_assert_eq(m->signed_len, 531);
  cr_assert_eq(m->sig.p, buf + 531);
  cr_assert_eq(m->n_payloads, 11);
  cr_assert_eq(m->payloads[0].type, PROSE_MIKEY_PT_HDR);
  cr_assert_eq(m->payloads[0].len, 25);
  cr_assert_eq(m->payloads[10].type, PROSE_MIKEY_PT_SIGN);
  cr_assert_eq(m->payloads[10].off, 529);
}

Test(mikey, golden_layout) {
  fake_init();
  bld b, b2;
  prose_mikey_msg m;
  uint8_t out[4096];
  size_t n;

  golden_gmk(&b, 0);
  cr_assert_eq(prose_mikey_decode(b.b, b.n, &m), 0);
  check_golden_fields(&m, b.b);
  cr_assert(!m.kp_before_sakke);
  cr_assert_eq(m.payloads[4].type, PROSE_MIKEY_PT_IDR);
  cr_assert_eq(m.payloads[4].sub, PROSE_MIKEY_ROLE_R);
  cr_assert_eq(m.payloads[4].off, 76);
  cr_assert_eq(m.payloads[9].type, PROSE_MIKEY_PT_GENEXT);
  cr_assert_eq(m.payloads[9].sub, 7);
  cr_assert_str_eq(prose_mikey_payload_name(m.payloads[9].type), "GenExt");
  cr_assert_str_eq(prose_mikey_payload_name(m.payloads[0].type), "HDR");
  cr_assert_str_eq(prose_mikey_payload_name(3), "unknown");
  /* The decoded struct re-encodes to the same octets (canonical order). */
  cr_assert_eq(prose_mikey_encode(&m, out, sizeof out, &n), 0);
  cr_assert_eq(n, b.n);
  cr_assert_arr_eq(out, b.b, n);

  /* Key parameters before SAKKE, as some implementations send them. */
  golden_gmk(&b2, 1);
  cr_assert_eq(prose_mikey_decode(b2.b, b2.n, &m), 0);
  check_golden_fields(&m, b2.b);
  cr_assert(m.kp_before_sakke);
  cr_assert_eq(m.payloads[8].type, PROSE_MIKEY_PT_GENEXT);
  cr_assert_eq(prose_mikey_encode(&m, out, sizeof out, &n), 0);
  cr_assert_arr_eq(out, b2.b, b2.n);

  /* PCK with #CS = 0 (empty map) and roles 8/9: the UIDs of the vectors. */
  uint8_t uid_a[32], uid_b[32];
  ts_hex_into("b5c452309219da6a3d805615548d6c1b0f4de45a6b48fb13d9a24d857fc03dc4", uid_a, 32);
  ts_hex_into("780851cda91a9c33f941cd3a2831697e2893264754e363f8a0cef827eb201a81", uid_b, 32);
  golden_pck_uid(&b, uid_a, uid_b);
  cr_assert_eq(prose_mikey_decode(b.b, b.n, &m), 0);
  cr_assert_eq(m.csb_id, MF_PCK_ID);
  cr_assert_eq(m.n_cs, 0);
  cr_assert_eq(m.cs_map_type, PROSE_MIKEY_CSMAP_EMPTY);
  cr_assert(!m.idr_i.present && !m.idr_r.present && !m.has_sp && !m.has_kp);
  cr_assert(m.uid_i.present && m.uid_i.type == 2);
  cr_assert_arr_eq(m.uid_i.id.p, uid_a, 32);
  cr_assert_arr_eq(m.uid_r.id.p, uid_b, 32);
  cr_assert_eq(m.t, 0xEC0002FC00000000ull);
  cr_assert_eq(m.sign_off, b.n - 131);
  cr_assert_eq(prose_mikey_encode(&m, out, sizeof out, &n), 0);
  cr_assert_arr_eq(out, b.b, b.n);

  /* The UIDs of the fixture identities are the published vectors. */
  uint8_t uid[32];
  cr_assert_eq(prose_uid(MF_ALICE, MF_KMS, MF_PERIOD, 0, MF_PERIOD_NO, uid), 0);
  cr_assert_arr_eq(uid, uid_a, 32);
}

/* ---------------------------------------------------------------------- */
/* Encode -> decode round trips                                            */
/* ---------------------------------------------------------------------- */

static void roundtrip(const prose_mikey_msg *in, int case_no) {
  uint8_t out[4096];
  size_t n = 0, need = 0;
  prose_mikey_msg m;
  cr_assert_eq(prose_mikey_encode(in, NULL, 0, &need), 0, "case %d", case_no);
  cr_assert_eq(prose_mikey_encode(in, out, need - 1, &n), PROSE_EBUFSZ, "case %d", case_no);
  cr_assert_eq(n, need, "case %d", case_no);
  cr_assert_eq(prose_mikey_encode(in, out, sizeof out, &n), 0, "case %d", case_no);
  cr_assert_eq(n, need, "case %d", case_no);
  cr_assert_eq(prose_mikey_decode(out, n, &m), 0, "case %d", case_no);
  cr_assert_eq(m.csb_id, in->csb_id, "case %d", case_no);
  cr_assert_eq(m.n_cs, in->n_cs, "case %d", case_no);
  cr_assert_eq(m.cs_map_type, in->cs_map_type, "case %d", case_no);
  if (in->n_cs) cr_assert_arr_eq(m.cs[0].spi.p, in->cs[0].spi.p, in->cs[0].spi.len);
  cr_assert_eq(m.t, in->t, "case %d", case_no);
  cr_assert_arr_eq(m.rand.p, in->rand.p, in->rand.len);
  cr_assert_eq(m.idr_i.present, in->idr_i.present, "case %d", case_no);
  cr_assert_eq(m.uid_r.present, in->uid_r.present, "case %d", case_no);
  if (in->uid_r.present) cr_assert_arr_eq(m.uid_r.id.p, in->uid_r.id.p, 32);
  cr_assert_eq(m.has_sp, in->has_sp, "case %d", case_no);
  if (in->has_sp) cr_assert_arr_eq(m.sp.params.p, in->sp.params.p, in->sp.params.len);
  cr_assert_eq(m.has_self, in->has_self, "case %d", case_no);
  if (in->has_self) cr_assert_arr_eq(m.self.data.p, in->self.data.p, 273);
  cr_assert_eq(m.has_kp, in->has_kp, "case %d", case_no);
  cr_assert_eq(m.kp_before_sakke, in->has_kp && in->kp_before_sakke, "case %d", case_no);
  if (in->has_kp) {
    cr_assert_eq(m.kp.expiry, in->kp.expiry, "case %d", case_no);
    cr_assert_eq(m.kp.n_groups, in->kp.n_groups, "case %d", case_no);
  }
  cr_assert_arr_eq(m.sakke.data.p, in->sakke.data.p, 273);
  cr_assert_eq(m.signed_len, n - 129, "case %d", case_no);
  /* Canonical: encoding the decoded struct gives the same octets. */
  uint8_t again[4096];
  size_t n2;
  cr_assert_eq(prose_mikey_encode(&m, again, sizeof again, &n2), 0);
  cr_assert_eq(n2, n);
  cr_assert_arr_eq(again, out, n);
}

static void set_uri(prose_mikey_idr *i, const char *s) {
  i->present = true;
  i->type = PROSE_MIKEY_IDT_URI;
  i->id.p = (const uint8_t *)s;
  i->id.len = strlen(s);
}

Test(mikey, encode_roundtrip) {
  fake_init();
  static const uint8_t spi[8] = {0x0D, 0xF9, 0xBC, 0x39, 0x06, 0xA1, 0x2A, 0xEA};
  static const uint8_t uid[32] = {1, 2, 3};
  prose_mikey_msg m;
  for (int c = 0; c < 8; c++) {
    prose_mikey_kind kind = c < 6 ? PROSE_MIKEY_GMK : PROSE_MIKEY_PCK;
    prose_mikey_msg_init(&m, kind);
    m.csb_id = kind == PROSE_MIKEY_GMK ? MF_ALICE_GUK_ID : MF_PCK_ID;
    if (kind == PROSE_MIKEY_GMK) m.cs[0].spi = (prose_mikey_view){spi, 8};
    m.t = MF_T(MF_NOW) | 0x1234u;
    m.rand = (prose_mikey_view){mf_rand, 16};
    set_uri(&m.idr_i, MF_GMS);
    set_uri(&m.idr_r, MF_ALICE);
    set_uri(&m.idr_kmsi, MF_KMS);
    set_uri(&m.idr_kmsr, MF_KMS);
    m.sakke.data = (prose_mikey_view){fake_ed, 273};
    m.sig = (prose_mikey_view){fake_sig, 129};
    m.has_sp = c != 1;                           /* case 1: no SP */
    if (m.has_sp) prose_mikey_sp_default(kind, &m.sp);
    m.has_kp = c == 2 || c == 3 || c == 5;       /* key parameters */
    m.kp_before_sakke = c == 3;
    m.kp.key_type = 0;
    m.kp.expiry = 0xFFFFFFFFFFull;               /* the 40-bit maximum */
    m.kp.text = (prose_mikey_view){(const uint8_t *)"name", 4};
    m.kp.n_groups = c == 5 ? 8 : 2;
    for (size_t g = 0; g < m.kp.n_groups; g++) {
      m.kp.group_iei[g] = PROSE_MIKEY_KP_GROUP_IEI;
      m.kp.groups[g] = (prose_mikey_view){(const uint8_t *)"sip:g@x", 7};
    }
    m.has_self = c == 4 || c == 5;               /* SAKKE-to-self */
    m.self.data = (prose_mikey_view){fake_ed, 273};
    if (c >= 6) { /* PCK; case 7 with roles 8/9 instead of 1/2 */
      m.idr_i.present = m.idr_r.present = c == 6;
      m.uid_i = m.uid_r = (prose_mikey_idr){c == 7, PROSE_MIKEY_IDT_BYTES, {uid, 32}};
    }
    roundtrip(&m, c);
  }
  /* Default SP tables: GMK Table E.2-1 has the ROC rate, PCK E.3-1 does not. */
  prose_mikey_sp sp;
  prose_mikey_view v;
  prose_mikey_sp_default(PROSE_MIKEY_GMK, &sp);
  cr_assert_eq(sp.params.len, 30);
  cr_assert_eq(prose_mikey_sp_find(&sp, 13, &v), 0);
  cr_assert_eq(v.p[0], 1);
  prose_mikey_sp_default(PROSE_MIKEY_PCK, &sp);
  cr_assert_eq(prose_mikey_sp_find(&sp, 2, &v), PROSE_ENOENT);
  cr_assert_eq(prose_mikey_sp_find(&sp, 4, &v), 0);
  cr_assert_eq(v.p[0], 12);
  /* Encode refuses what its length fields cannot express. */
  size_t n;
  m.rand.len = 0;
  cr_assert_eq(prose_mikey_encode(&m, NULL, 0, &n), PROSE_EINVAL);
  m.rand.len = 16;
  m.sig.len = 4096;
  cr_assert_eq(prose_mikey_encode(&m, NULL, 0, &n), PROSE_EINVAL);
  m.sig.len = 129;
  m.has_kp = true;
  m.kp.n_groups = 9;
  cr_assert_eq(prose_mikey_encode(&m, NULL, 0, &n), PROSE_EINVAL);
  cr_assert_eq(prose_mikey_encode(NULL, NULL, 0, &n), PROSE_EINVAL);
  cr_assert_eq(prose_mikey_decode(NULL, 0, &m), PROSE_ETRUNC);
}

/* ---------------------------------------------------------------------- */
/* Malformed input (decode only)                                           */
/* ---------------------------------------------------------------------- */

typedef struct edit {
  size_t off;
  size_t del;
  const char *ins; /* hex */
} edit;

typedef struct bad_case {
  edit e[2]; /* applied highest offset first; offsets refer to the original */
  int want;
} bad_case;

#define E1(o, d, h) {{(o), (d), (h)}, {0, 0, NULL}}
/* Offsets in the golden GMK: HDR 0 (CS entry 10..24), T 25, RAND 35, IDRi 53,
 * IDRr 76, IDRkmsi 105, IDRkmsr 134, SP 163 (params 168), SAKKE 195,
 * GenExt 473 (data 477), SIGN 529. */
static const bad_case bad_cases[] = {
    /* 0 */ {E1(0, 1, "02"), PROSE_EMIKEY_VERSION},
    /* 1 */ {E1(1, 1, "1B"), PROSE_EMIKEY_DATATYPE}, /* 27: a response, not an I_MESSAGE */
    /* 2 */ {E1(3, 1, "02"), PROSE_EMIKEY_PRF},
    /* 3 */ {E1(9, 1, "03"), PROSE_EMIKEY_CSMAP},
    /* 4 */ {E1(8, 1, "05"), PROSE_EMIKEY_CSMAP},
    /* 5 */ {E1(2, 1, "63"), PROSE_EMIKEY_PAYLOAD},
    /* 6 */ {E1(25, 1, "01"), PROSE_EMIKEY_PAYLOAD}, /* KEMAC: not in MIKEY-SAKKE */
    /* 7 */ {E1(26, 1, "01"), PROSE_EMIKEY_TS_TYPE},
    /* 8 */ {E1(36, 1, "08"), PROSE_EMIKEY_RAND},
    /* 9 */ {E1(54, 1, "03"), PROSE_EMIKEY_IDR},
    /* 10 */ {E1(55, 1, "02"), PROSE_EMIKEY_IDR},
    /* 11 */ {E1(77, 1, "01"), PROSE_EMIKEY_DUPLICATE},
    /* 12 */ {E1(165, 1, "01"), PROSE_EMIKEY_SP},
    /* 13 */ {E1(169, 1, "30"), PROSE_EMIKEY_SP},
    /* 14 */ {E1(196, 1, "02"), PROSE_EMIKEY_SAKKE},
    /* 15 */ {E1(197, 1, "01"), PROSE_EMIKEY_SAKKE},
    /* 16 */ {E1(198, 2, "FFFF"), PROSE_EOVERLONG},
    /* 17 */ {E1(56, 2, "FFFF"), PROSE_EOVERLONG},
    /* 18 */ {E1(475, 2, "FFFF"), PROSE_EOVERLONG},
    /* 19 */ {E1(14, 2, "FFFF"), PROSE_EOVERLONG}, /* GENERIC-ID session data length */
    /* 20 */ {E1(492, 2, "00FF"), PROSE_EMIKEY_EXT}, /* key-parameter text length */
    /* 21 */ {E1(500, 1, "09"), PROSE_EMIKEY_EXT},   /* 9 group IDs */
    /* 22 */ {E1(529, 1, "30"), PROSE_EMIKEY_SIGN_TYPE},
    /* 23 */ {E1(529, 2, "2080"), PROSE_EMIKEY_SIGN_TYPE},
    /* 24 */ {E1(473, 1, "00"), PROSE_EMIKEY_MISSING}, /* chain ends without SIGN */
    /* 25 */ {E1(660, 0, "00"), PROSE_ETRAILING},
    /* 26 */ {{{25, 10, ""}, {2, 1, "0B"}}, PROSE_EMIKEY_MISSING}, /* no T */
    /* 27 */ {{{195, 278, ""}, {163, 1, "15"}}, PROSE_EMIKEY_MISSING}, /* no SAKKE */
    /* 28 */ {E1(531, 129, ""), PROSE_EOVERLONG}, /* signature cut off */
    /* 29 */ {E1(16, 1, "03"), PROSE_EMIKEY_TS_TYPE}, /* SPI len 3: T read 5 octets early */
};

static size_t apply(const bld *in, const bad_case *c, uint8_t *out) {
  uint8_t tmp[4096];
  size_t n = in->n;
  memcpy(out, in->b, n);
  for (int k = 0; k < 2; k++) {
    const edit *e = &c->e[k];
    if (!e->ins) continue;
    size_t ilen = 0;
    uint8_t *ins = ts_hex(e->ins, &ilen);
    memcpy(tmp, out, n);
    memcpy(out + e->off, ins, ilen);
    memcpy(out + e->off + ilen, tmp + e->off + e->del, n - e->off - e->del);
    n = n - e->del + ilen;
    free(ins);
  }
  return n;
}

Test(mikey, malformed_input) {
  fake_init();
  bld g;
  golden_gmk(&g, 0);
  prose_mikey_msg m;
  uint8_t buf[4096];
  for (size_t i = 0; i < PROSE_ARRAY_LEN(bad_cases); i++) {
    size_t n = apply(&g, &bad_cases[i], buf);
    int rc = prose_mikey_decode(buf, n, &m);
    cr_assert_eq(rc, bad_cases[i].want, "case %zu: got %s want %s", i, prose_err_name(rc),
                 prose_err_name(bad_cases[i].want));
  }
  /* Every proper prefix is a framing error, never a crash or a success;
   * decode leaves *out untouched on failure. */
  golden_gmk(&g, 0);
  memset(&m, 0x5A, sizeof m);
  for (size_t n = 0; n < g.n; n++) {
    int rc = prose_mikey_decode(g.b, n, &m);
    cr_assert(rc == PROSE_ETRUNC || rc == PROSE_EOVERLONG, "prefix %zu: %s", n,
              prose_err_name(rc));
  }
  cr_assert_eq(m.version, 0x5A);
  /* An unknown GenExt type is skipped (it is inside the signed region). */
  memcpy(buf, g.b, g.n);
  buf[474] = 0x09;
  cr_assert_eq(prose_mikey_decode(buf, g.n, &m), 0);
  cr_assert(!m.has_kp);
  cr_assert_eq(m.n_unknown_ext, 1);
}

/* ---------------------------------------------------------------------- */
/* Processing with real keys                                               */
/* ---------------------------------------------------------------------- */

typedef struct world {
  mf_kms kms;
  mf_user gms, alice, bob, carol;
  prose_rng_det st;
  prose_rng rng;
} world;

static void world_init(world *w, int with_carol) {
  memset(w, 0, sizeof *w);
  w->rng = prose_rng_det_init(&w->st, 7);
  cr_assert_eq(mf_kms_init(&w->kms, MF_SEED_KMS), 0);
  cr_assert_eq(mf_user_init(&w->gms, &w->kms, MF_GMS, MF_SEED_GMS, NULL, 1), 0);
  cr_assert_eq(mf_user_init(&w->alice, &w->kms, MF_ALICE, MF_SEED_ALICE, NULL, 1), 0);
  cr_assert_eq(mf_user_init(&w->bob, &w->kms, MF_BOB, MF_SEED_BOB, NULL, 1), 0);
  cr_assert_eq(mf_user_init(&w->carol, &w->kms, MF_CAROL, MF_SEED_CAROL, NULL, with_carol), 0);
}

static void world_free(world *w) {
  mf_user_free(&w->gms);
  mf_user_free(&w->alice);
  mf_user_free(&w->bob);
  mf_user_free(&w->carol);
}

static size_t make(world *w, const mf_user *from, const prose_mikey_create_params *p,
                   uint8_t *out) {
  size_t n = 0;
  int rc = prose_mikey_create(from->kr, p, &w->rng, out, 2048, &n);
  cr_assert_eq(rc, 0, "create: %s", prose_err_name(rc));
  return n;
}

/* Decode, let the caller change the struct, re-encode into out and re-sign
 * with the signer (RFC form). */
typedef void (*mutator)(prose_mikey_msg *m);
static size_t remake(const uint8_t *in, size_t n, mutator f, const prose_eccsi_signer *s,
                     uint8_t *out) {
  prose_mikey_msg m;
  cr_assert_eq(prose_mikey_decode(in, n, &m), 0);
  f(&m);
  size_t len;
  cr_assert_eq(prose_mikey_encode(&m, out, 2048, &len), 0);
  cr_assert_eq(mf_resign(out, len, s, 0), 0);
  return len;
}

static void kp_first(prose_mikey_msg *m) { m->kp_before_sakke = true; }

Test(mikey, process_gmk) {
  world w;
  world_init(&w, 0);
  prose_mikey_create_params p;
  prose_mikey_result r;
  uint8_t msg[2048], msg2[2048];
  const uint8_t *gid = (const uint8_t *)"sip:group1@streamwide.com";
  prose_mikey_key_params kp = {.key_type = 0, .status = 1, .activation = 1750000000u,
                               .expiry = 1760000000u, .n_groups = 1};
  kp.groups[0] = (prose_mikey_view){gid, 25};
  kp.group_iei[0] = PROSE_MIKEY_KP_GROUP_IEI;

  /* GMS -> alice, with SP, key parameters and SAKKE-to-self. */
  mf_gmk_params(&p, MF_ALICE);
  p.key_params = &kp;
  p.sakke_to_self = true;
  size_t n = make(&w, &w.gms, &p, msg);
  cr_assert_eq(prose_mikey_process(w.alice.kr, MF_NOW, msg, n, &r), 0);
  cr_assert_eq(r.kind, PROSE_MIKEY_GMK);
  cr_assert_arr_eq(r.key, mf_gmk, 16);
  cr_assert_eq(r.key_id, MF_GMK_ID);
  cr_assert_eq(r.csb_id, MF_ALICE_GUK_ID); /* vectors.txt §4 */
  cr_assert_arr_eq(r.rand, mf_rand, 16);
  cr_assert_eq(r.rand_len, 16);
  cr_assert_str_eq(r.initiator_uri, MF_GMS);
  cr_assert_str_eq(r.initiator_kms, MF_KMS);
  cr_assert_arr_eq(r.initiator_uid, w.gms.uid, 32);
  cr_assert(!r.sig_variant);
  cr_assert(r.msg.has_kp && r.msg.has_self && r.msg.has_sp);
  cr_assert(view_eq_str(r.msg.kp.groups[0], "sip:group1@streamwide.com"));
  cr_assert_eq(r.msg.kp.activation, 1750000000u);
  cr_assert_eq(prose_get_u32(r.msg.cs[0].spi.p), MF_GMK_ID);
  /* The SAKKE-to-self copy decrypts with the GMS's own RSK. */
  prose_sakke_recipient *self = NULL;
  uint8_t ssv[16];
  cr_assert_eq(prose_sakke_recipient_new(&self, w.kms.cert.z, w.gms.uid, 32, w.gms.ks.rsk), 0);
  cr_assert_eq(prose_sakke_decap(self, r.msg.self.data.p, 273, ssv), 0);
  cr_assert_arr_eq(ssv, mf_gmk, 16);
  prose_sakke_recipient_free(self);
  prose_mikey_result_clear(&r);
  cr_assert_eq(r.key[0], 0);
  cr_assert_eq(prose_keyring_replay_count(w.alice.kr), 1);
  /* The same message again is a replay; bob is not the recipient. */
  cr_assert_eq(prose_mikey_process(w.alice.kr, MF_NOW, msg, n, &r), PROSE_EREPLAY);
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW, msg, n, &r), PROSE_EWRONG_RECIPIENT);

  /* Bob's own message has the same RAND (one RAND per GMK) and a GUK-ID of
   * his own; no SP, no key parameters. */
  mf_gmk_params(&p, MF_BOB);
  p.include_sp = false;
  n = make(&w, &w.gms, &p, msg);
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW, msg, n, &r), 0);
  cr_assert_eq(r.key_id, MF_GMK_ID);
  cr_assert_neq(r.csb_id, MF_ALICE_GUK_ID);
  cr_assert_arr_eq(r.rand, mf_rand, 16);
  cr_assert(!r.msg.has_sp);

  /* A signature over the variant form (without the SIGN header) is accepted. */
  mf_gmk_params(&p, MF_ALICE);
  p.t = MF_T(MF_NOW + 1);
  n = make(&w, &w.gms, &p, msg);
  cr_assert_eq(mf_resign(msg, n, w.gms.signer, 1), 0);
  cr_assert_eq(prose_mikey_process(w.alice.kr, MF_NOW, msg, n, &r), 0);
  cr_assert(r.sig_variant);
  cr_assert_arr_eq(r.key, mf_gmk, 16);

  /* Key parameters before SAKKE. */
  p.t = MF_T(MF_NOW + 2);
  p.key_params = &kp;
  n = make(&w, &w.gms, &p, msg);
  n = remake(msg, n, kp_first, w.gms.signer, msg2);
  cr_assert_eq(prose_mikey_process(w.alice.kr, MF_NOW, msg2, n, &r), 0);
  cr_assert(r.msg.kp_before_sakke);

  /* Roles 8/9 only: the receiver checks UIDr against its own UID. */
  p.t = MF_T(MF_NOW + 3);
  p.idr_mode = PROSE_MIKEY_IDR_UID;
  n = make(&w, &w.gms, &p, msg);
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW, msg, n, &r), PROSE_EWRONG_RECIPIENT);
  cr_assert_eq(prose_mikey_process(w.alice.kr, MF_NOW, msg, n, &r), 0);
  cr_assert_str_eq(r.initiator_uri, "");
  cr_assert_arr_eq(r.initiator_uid, w.gms.uid, 32);
  cr_assert_eq(r.key_id, MF_GMK_ID);
  cr_assert(!r.msg.idr_i.present && r.msg.uid_i.present);
  /* Roles 1/2 and 8/9 together. */
  p.t = MF_T(MF_NOW + 4);
  p.idr_mode = PROSE_MIKEY_IDR_BOTH;
  n = make(&w, &w.gms, &p, msg);
  cr_assert_eq(prose_mikey_process(w.alice.kr, MF_NOW, msg, n, &r), 0);
  cr_assert_str_eq(r.initiator_uri, MF_GMS);
  cr_assert_eq(prose_keyring_replay_count(w.alice.kr), 5);
  prose_mikey_result_clear(&r);
  world_free(&w);
}

Test(mikey, process_pck) {
  world w;
  world_init(&w, 1);
  prose_mikey_create_params p;
  prose_mikey_result r;
  uint8_t msg[2048];

  /* Alice calls bob: a fresh PCK, RAND from the injected RNG. */
  mf_pck_params(&p, MF_BOB);
  size_t n = make(&w, &w.alice, &p, msg);
  prose_mikey_msg m;
  cr_assert_eq(prose_mikey_decode(msg, n, &m), 0);
  cr_assert_eq(m.csb_id, MF_PCK_ID);
  cr_assert_eq(m.n_cs, 0);
  cr_assert_eq(m.cs_map_type, PROSE_MIKEY_CSMAP_EMPTY);
  cr_assert_eq(m.rand.len, 16);
  cr_assert(m.has_sp);
  cr_assert_eq(m.sp.params.len, 18);
  cr_assert_eq(prose_mikey_process(w.carol.kr, MF_NOW, msg, n, &r), PROSE_EWRONG_RECIPIENT);
  /* T is real time for a PCK: 301 s of skew either way is refused. */
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW + 301, msg, n, &r), PROSE_ETIME);
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW - 301, msg, n, &r), PROSE_ETIME);
  cr_assert_eq(prose_keyring_replay_count(w.bob.kr), 0);
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW + 300, msg, n, &r), 0);
  cr_assert_eq(r.kind, PROSE_MIKEY_PCK);
  cr_assert_arr_eq(r.key, mf_pck, 16);
  cr_assert_eq(r.key_id, MF_PCK_ID);
  cr_assert_eq(r.csb_id, MF_PCK_ID);
  cr_assert_arr_eq(r.rand, m.rand.p, 16);
  cr_assert_str_eq(r.initiator_uri, MF_ALICE);
  cr_assert_arr_eq(r.initiator_uid, w.alice.uid, 32);
  /* Both ends derive the same SRTP master key from it (DIGEST §4.1). */
  uint8_t k1[16], s1[12], k2[16], s2[12];
  cr_assert_eq(prose_srtp_master(mf_pck, 16, PROSE_CSID_PRIVATE_INITIATOR, MF_PCK_ID, m.rand.p,
                                 16, k1, s1), 0);
  cr_assert_eq(prose_srtp_master(r.key, 16, PROSE_CSID_PRIVATE_INITIATOR, r.csb_id, r.rand,
                                 r.rand_len, k2, s2), 0);
  cr_assert_arr_eq(k1, k2, 16);
  cr_assert_arr_eq(s1, s2, 12);
  prose_mikey_result_clear(&r);
  cr_assert_eq(prose_mikey_process(w.bob.kr, MF_NOW, msg, n, &r), PROSE_EREPLAY);

  /* A GMK is often delivered long before use: a T a week old is fine, one
   * more than 300 s in the future is not. */
  prose_mikey_create_params g;
  mf_gmk_params(&g, MF_CAROL);
  n = make(&w, &w.gms, &g, msg);
  cr_assert_eq(prose_mikey_process(w.carol.kr, MF_NOW - 301, msg, n, &r), PROSE_ETIME);
  cr_assert_eq(prose_mikey_process(w.carol.kr, MF_NOW + 7 * 86400, msg, n, &r), 0);
  cr_assert_eq(r.kind, PROSE_MIKEY_GMK);

  /* Create refuses what it cannot build. */
  size_t len;
  mf_pck_params(&p, MF_BOB);
  p.key_id = MF_GMK_ID; /* tag 0 for a PCK */
  cr_assert_eq(prose_mikey_create(w.alice.kr, &p, &w.rng, msg, sizeof msg, &len), PROSE_EINVAL);
  mf_pck_params(&p, MF_BOB);
  p.responder_kms = "kms.unknown.org";
  cr_assert_eq(prose_mikey_create(w.alice.kr, &p, &w.rng, msg, sizeof msg, &len),
               PROSE_EUNKNOWN_KMS);
  mf_pck_params(&p, MF_BOB);
  p.t = MF_T(MF_NOW + MF_PERIOD); /* no key set of alice's for the next period */
  cr_assert_eq(prose_mikey_create(w.alice.kr, &p, &w.rng, msg, sizeof msg, &len), PROSE_EPERIOD);
  mf_pck_params(&p, MF_BOB);
  cr_assert_eq(prose_mikey_create(w.alice.kr, &p, &w.rng, msg, 100, &len), PROSE_EBUFSZ);
  prose_mikey_result_clear(&r);
  world_free(&w);
}

/* ---------------------------------------------------------------------- */
/* Negative processing: a specific code, and nothing changed               */
/* ---------------------------------------------------------------------- */

static void set_unknown_kms(prose_mikey_msg *m) {
  set_uri(&m->idr_kmsi, "kms.unknown.org");
}
static uint8_t bad_spi[8];
static void set_bad_spi(prose_mikey_msg *m) {
  memcpy(bad_spi, m->cs[0].spi.p, 8);
  bad_spi[3] ^= 1; /* GMK-ID off by one bit; GUK-ID still the CSB ID */
  m->cs[0].spi.p = bad_spi;
}
static uint8_t bad_ed[273];
static void flip_h(prose_mikey_msg *m) {
  memcpy(bad_ed, m->sakke.data.p, 273);
  bad_ed[272] ^= 0x01; /* last octet of H */
  m->sakke.data.p = bad_ed;
}
static void flip_r(prose_mikey_msg *m) {
  memcpy(bad_ed, m->sakke.data.p, 273);
  bad_ed[100] ^= 0x01; /* R no longer on the curve */
  m->sakke.data.p = bad_ed;
}
static const uint8_t sp_cbc[] = {0x00, 0x01, 0x01}; /* AES-CM instead of GCM */
static void set_sp_cipher(prose_mikey_msg *m) {
  m->sp.params = (prose_mikey_view){sp_cbc, sizeof sp_cbc};
}
static void set_kp_type(prose_mikey_msg *m) {
  m->has_kp = true;
  m->kp.key_type = 1;
}
static void set_tag(prose_mikey_msg *m) { m->csb_id = (m->csb_id & 0x0FFFFFFFu) | 0x20000000u; }
static uint8_t other_uid[32];
static void set_uid_r(prose_mikey_msg *m) {
  memcpy(other_uid, m->uid_r.id.p, 32);
  other_uid[0] ^= 0x80;
  m->uid_r.id.p = other_uid;
}
static void set_uid_i(prose_mikey_msg *m) {
  memcpy(other_uid, m->uid_i.id.p, 32);
  other_uid[31] ^= 0x01;
  m->uid_i.id.p = other_uid;
}
static void set_long_uri(prose_mikey_msg *m) {
  static char uri[300];
  memset(uri, 'a', 299);
  set_uri(&m->idr_i, uri);
}

static void drop_kmsi(prose_mikey_msg *m) { m->idr_kmsi.present = false; }
static void drop_initiator(prose_mikey_msg *m) { m->idr_i.present = m->uid_i.present = false; }

typedef struct neg_case {
  mutator f;
  int want;
} neg_case;

Test(mikey, process_rejects_and_changes_nothing) {
  world w;
  world_init(&w, 0);
  prose_mikey_create_params p;
  prose_mikey_result r;
  uint8_t msg[2048], bad[2048];
  memset(&r, 0xA5, sizeof r);
  mf_gmk_params(&p, MF_ALICE);
  p.idr_mode = PROSE_MIKEY_IDR_BOTH;
  size_t n = make(&w, &w.gms, &p, msg);
  prose_keyring *kr = w.alice.kr;

  /* Bit flips without re-signing: in the signed region (RAND), in r and in
   * s of the signature, and in the PVT inside it. */
  const size_t flips[] = {40, n - 129, n - 80, n - 30};
  for (size_t i = 0; i < PROSE_ARRAY_LEN(flips); i++) {
    memcpy(bad, msg, n);
    bad[flips[i]] ^= 0x04;
    int rc = prose_mikey_process(kr, MF_NOW, bad, n, &r);
    cr_assert_eq(rc, PROSE_ESIG, "flip %zu: %s", i, prose_err_name(rc));
  }
  /* Re-signed mutations: each fails its own check. */
  const neg_case cases[] = {
      {flip_h, PROSE_ESAKKE_TEST},      {flip_r, PROSE_ESAKKE_TEST},
      {set_unknown_kms, PROSE_EUNKNOWN_KMS}, {set_bad_spi, PROSE_EKEY_INVALID},
      {set_sp_cipher, PROSE_EMIKEY_SP}, {set_kp_type, PROSE_EMIKEY_KEYTYPE},
      {set_tag, PROSE_EMIKEY_KEYTYPE},  {set_uid_r, PROSE_EUID_MISMATCH},
      {set_uid_i, PROSE_EUID_MISMATCH}, {set_long_uri, PROSE_EMIKEY_IDR},
      {drop_kmsi, PROSE_EMIKEY_MISSING}, {drop_initiator, PROSE_EMIKEY_MISSING},
  };
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cases); i++) {
    size_t bn = remake(msg, n, cases[i].f, w.gms.signer, bad);
    int rc = prose_mikey_process(kr, MF_NOW, bad, bn, &r);
    cr_assert_eq(rc, cases[i].want, "case %zu: got %s want %s", i, prose_err_name(rc),
                 prose_err_name(cases[i].want));
  }
  /* Framing: wrong data type, unknown payload, trailing octet, overlong
   * length, and every truncation. */
  memcpy(bad, msg, n);
  bad[1] = 27;
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, bad, n, &r), PROSE_EMIKEY_DATATYPE);
  memcpy(bad, msg, n);
  bad[2] = 3; /* HDR next payload: DH, not part of MIKEY-SAKKE */
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, bad, n, &r), PROSE_EMIKEY_PAYLOAD);
  memcpy(bad, msg, n);
  bad[n] = 0;
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, bad, n + 1, &r), PROSE_ETRAILING);
  prose_mikey_msg m;
  cr_assert_eq(prose_mikey_decode(msg, n, &m), 0);
  memcpy(bad, msg, n);
  bad[m.payloads[3].off + 3] = 0xFF; /* IDRi length high octet */
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, bad, n, &r), PROSE_EOVERLONG);
  for (size_t k = 0; k < n; k++) {
    int rc = prose_mikey_process(kr, MF_NOW, msg, k, &r);
    cr_assert(rc == PROSE_ETRUNC || rc == PROSE_EOVERLONG, "prefix %zu: %s", k,
              prose_err_name(rc));
  }
  /* Time far outside the window, and a keyring without a key set for the
   * period of T. */
  cr_assert_eq(prose_mikey_process(kr, MF_NOW - 86400, msg, n, &r), PROSE_ETIME);
  prose_keyring *bare;
  cr_assert_eq(prose_keyring_new(&bare, MF_ALICE, NULL), 0);
  cr_assert_eq(prose_mikey_process(bare, MF_NOW, msg, n, &r), PROSE_EUNKNOWN_KMS);
  cr_assert_eq(prose_keyring_add_kms(bare, &w.kms.cert), 0);
  cr_assert_eq(prose_mikey_process(bare, MF_NOW, msg, n, &r), PROSE_EPERIOD);
  cr_assert_eq(prose_keyring_replay_count(bare), 0);
  prose_keyring_free(bare);

  /* Nothing changed: the result was never written, the replay cache is
   * empty, and the genuine message is accepted exactly once. */
  cr_assert_eq(r.key_id, 0xA5A5A5A5u);
  cr_assert_eq(prose_keyring_replay_count(kr), 0);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg, n, &r), 0);
  cr_assert_arr_eq(r.key, mf_gmk, 16);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg, n, &r), PROSE_EREPLAY);
  prose_mikey_result_clear(&r);
  world_free(&w);
}

/* ---------------------------------------------------------------------- */
/* Keyring                                                                 */
/* ---------------------------------------------------------------------- */

Test(mikey, keyring) {
  prose_keyring_settings s;
  prose_keyring_settings_default(&s);
  cr_assert_eq(s.pck_window.max_past, 300);
  cr_assert_eq(s.pck_window.max_future, 300);
  cr_assert_eq(s.gmk_window.max_past, PROSE_WINDOW_UNLIMITED);
  cr_assert_eq(s.gmk_window.max_future, 300);
  cr_assert_eq(s.replay_capacity, 1024);

  mf_kms k;
  mf_user alice, bob;
  cr_assert_eq(mf_kms_init(&k, MF_SEED_KMS), 0);
  cr_assert_eq(mf_user_init(&alice, &k, MF_ALICE, MF_SEED_ALICE, NULL, 1), 0);
  s.replay_capacity = 2;
  cr_assert_eq(mf_user_init(&bob, &k, MF_BOB, MF_SEED_BOB, &s, 0), 0);
  prose_keyring *kr;
  cr_assert_eq(prose_keyring_new(&kr, "", &s), PROSE_EINVAL);
  cr_assert_eq(prose_keyring_new(&kr, MF_BOB, &s), 0);
  cr_assert_str_eq(prose_keyring_own_uri(kr), MF_BOB);

  /* KMS certificates. */
  prose_kms_cert c = k.cert;
  cr_assert_eq(prose_keyring_add_keyset(kr, &bob.ks), PROSE_EUNKNOWN_KMS);
  c.period = 0;
  cr_assert_eq(prose_keyring_add_kms(kr, &c), PROSE_EINVAL);
  c = k.cert;
  c.kpak[64] ^= 1;
  cr_assert_eq(prose_keyring_add_kms(kr, &c), PROSE_EPOINT);
  cr_assert_eq(prose_keyring_add_kms(kr, &k.cert), 0);
  cr_assert_eq(prose_keyring_add_kms(kr, &k.cert), PROSE_EEXIST);

  /* Key sets are validated against the UID recomputed for bob. */
  prose_keyset ks = bob.ks;
  ks.ssk[31] ^= 1;
  cr_assert_eq(prose_keyring_add_keyset(kr, &ks), PROSE_EKEY_INVALID);
  ks = alice.ks; /* alice's keys are not bob's */
  cr_assert_eq(prose_keyring_add_keyset(kr, &ks), PROSE_EKEY_INVALID);
  ks = bob.ks;
  ks.uid = alice.uid;
  cr_assert_eq(prose_keyring_add_keyset(kr, &ks), PROSE_EUID_MISMATCH);
  cr_assert(!prose_keyring_has_keyset(kr, MF_KMS, MF_PERIOD_NO));
  ks.uid = bob.uid;
  cr_assert_eq(prose_keyring_add_keyset(kr, &ks), 0);
  cr_assert_eq(prose_keyring_add_keyset(kr, &ks), PROSE_EEXIST);
  cr_assert(prose_keyring_has_keyset(kr, MF_KMS, MF_PERIOD_NO));
  uint8_t uid[32];
  cr_assert_eq(prose_keyring_uid(kr, MF_BOB, MF_KMS, MF_NOW, uid), 0);
  cr_assert_arr_eq(uid, bob.uid, 32);
  cr_assert_eq(prose_keyring_uid(kr, MF_BOB, "x", MF_NOW, uid), PROSE_EUNKNOWN_KMS);

  /* Replay cache with capacity 2: PCKs at T, T+1, T+2. The third evicts
   * the oldest and raises the floor, so T is refused even if never seen
   * again; entries older than the 300 s window are forgotten. */
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 3);
  prose_mikey_create_params p;
  prose_mikey_result r;
  uint8_t msg[3][2048];
  size_t n[3];
  for (int i = 0; i < 3; i++) {
    mf_pck_params(&p, MF_BOB);
    p.t = MF_T(MF_NOW + (uint64_t)i);
    cr_assert_eq(prose_mikey_create(alice.kr, &p, &rng, msg[i], 2048, &n[i]), 0);
  }
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[0], n[0], &r), 0);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[1], n[1], &r), 0);
  cr_assert_eq(prose_keyring_replay_count(kr), 2);
  prose_keyring_replay_reset(kr);
  cr_assert_eq(prose_keyring_replay_count(kr), 0);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[0], n[0], &r), 0);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[1], n[1], &r), 0);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[2], n[2], &r), 0);
  cr_assert_eq(prose_keyring_replay_count(kr), 2);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[0], n[0], &r), PROSE_EREPLAY);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[2], n[2], &r), PROSE_EREPLAY);
  mf_pck_params(&p, MF_BOB);
  p.t = MF_T(MF_NOW + 250);
  size_t n4;
  cr_assert_eq(prose_mikey_create(alice.kr, &p, &rng, msg[0], 2048, &n4), 0);
  /* At now + 303 the entries for T+1 and T+2 are outside the window. */
  cr_assert_eq(prose_mikey_process(kr, MF_NOW + 303, msg[0], n4, &r), 0);
  cr_assert_eq(prose_keyring_replay_count(kr), 1);

  /* Removing the key set: processing then has no key for the period. */
  cr_assert_eq(prose_keyring_remove_keyset(kr, MF_KMS, MF_PERIOD_NO), 0);
  cr_assert_eq(prose_keyring_remove_keyset(kr, MF_KMS, MF_PERIOD_NO), PROSE_ENOENT);
  cr_assert_eq(prose_mikey_process(kr, MF_NOW, msg[1], n[1], &r), PROSE_EPERIOD);
  prose_mikey_result_clear(&r);
  prose_keyring_free(kr);
  mf_user_free(&alice);
  mf_user_free(&bob);
}

/* ---------------------------------------------------------------------- */
/* Seed corpus for tests/fuzz (written only when asked)                    */
/* ---------------------------------------------------------------------- */

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n) {
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* PROSE_MIKEY_CORPUS_DIR=tests/fuzz/corpus/mikey build/tests/test_mikey
 *   --filter 'mikey/write_corpus' regenerates the seed corpus. Every message
 * is addressed to alice at MF_NOW, which the fuzzer's keyring processes. */
Test(mikey, write_corpus) {
  const char *dir = getenv("PROSE_MIKEY_CORPUS_DIR");
  if (!dir) return;
  world w;
  world_init(&w, 0);
  prose_mikey_create_params p;
  prose_mikey_key_params kp = {.key_type = 0, .status = 1, .activation = 1750000000u,
                               .expiry = 1760000000u, .n_groups = 1};
  kp.groups[0] = (prose_mikey_view){(const uint8_t *)"sip:group1@streamwide.com", 25};
  kp.group_iei[0] = PROSE_MIKEY_KP_GROUP_IEI;
  kp.text = (prose_mikey_view){(const uint8_t *)"GMK1", 4};
  uint8_t msg[2048], alt[2048];
  size_t n;

  mf_gmk_params(&p, MF_ALICE);
  p.key_params = &kp;
  p.sakke_to_self = true;
  n = make(&w, &w.gms, &p, msg);
  write_file(dir, "gmk_full.bin", msg, n);
  size_t n2 = remake(msg, n, kp_first, w.gms.signer, alt);
  write_file(dir, "gmk_kp_first.bin", alt, n2);
  memcpy(alt, msg, n);
  alt[1] = 27;
  write_file(dir, "bad_datatype.bin", alt, n);
  write_file(dir, "bad_truncated.bin", msg, n / 2);

  mf_gmk_params(&p, MF_ALICE);
  p.include_sp = false;
  p.t = MF_T(MF_NOW + 1);
  n = make(&w, &w.gms, &p, msg);
  write_file(dir, "gmk_minimal.bin", msg, n);
  p.t = MF_T(MF_NOW + 2);
  p.idr_mode = PROSE_MIKEY_IDR_BOTH;
  n = make(&w, &w.gms, &p, msg);
  write_file(dir, "gmk_uid_roles.bin", msg, n);

  mf_pck_params(&p, MF_ALICE);
  n = make(&w, &w.bob, &p, msg);
  write_file(dir, "pck.bin", msg, n);
  cr_assert_eq(mf_resign(msg, n, w.bob.signer, 1), 0);
  write_file(dir, "pck_variant_sig.bin", msg, n);
  p.t = MF_T(MF_NOW + 3);
  p.idr_mode = PROSE_MIKEY_IDR_UID;
  n = make(&w, &w.bob, &p, msg);
  write_file(dir, "pck_uid_only.bin", msg, n);
  world_free(&w);
}
