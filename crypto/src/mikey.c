/*
 * MIKEY-SAKKE I_MESSAGE codec, creation and processing (see prose/mikey.h).
 *
 * References: RFC 3830 (MIKEY: §6.1 HDR, §6.5 SIGN, §6.6 T, §6.10 SP,
 * §6.11 RAND, §6.15 GenExt), RFC 6043 (§6.1 GENERIC-ID CS map and PRF, §6.6
 * IDR), RFC 6509 (MIKEY-SAKKE: §4.2 SAKKE payload, §4.3 ECCSI SIGN), 3GPP TS
 * 33.179 Rel-13 Annex E (E.2 GMK, E.3 PCK, E.5 SAKKE-to-self, E.6 key
 * parameters) and F.1.3 (GUK-ID). Byte layouts: DIGEST §3.
 *
 * Every read goes through a prose_rd: a length taken from the message that
 * exceeds the octets left is PROSE_EOVERLONG, running out inside a
 * fixed-size field is PROSE_ETRUNC. Malformed contents of a correctly framed
 * SP or GenExt payload give that payload's own code (EMIKEY_SP, EMIKEY_EXT).
 */
#include "prose/mikey.h"

#include <openssl/evp.h>
#include <string.h>

#include "keyring_internal.h"
#include "prose/buf.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/sakke.h"
#include "prose/util.h"

#define TRY(expr)          \
  do {                     \
    int rc_ = (expr);      \
    if (rc_ != 0) return rc_; \
  } while (0)

#define SIGN_HDR_LEN 2u
#define SAKKE_HDR_LEN 5u /* next, params, scheme, data len(2) */

/* ------------------------------------------------------------------------ */
/* Defaults                                                                  */
/* ------------------------------------------------------------------------ */

/* 33.179 Table E.2-1 (GMK): AES-GCM (6), key 16, RCCm3 (4), salt 12, SRTP PRF
 * AES-CM (0), kdr 0, ROC transmission rate 1 (type 13), SRTP auth tag 4 (the
 * ROC, type 18), SRTCP auth tag 0 (type 19), AEAD tag 16 (type 20). */
static const uint8_t sp_gmk_params[] = {0x00, 0x01, 0x06, 0x01, 0x01, 0x10, 0x02, 0x01,
                                        0x04, 0x04, 0x01, 0x0C, 0x05, 0x01, 0x00, 0x06,
                                        0x01, 0x00, 0x0D, 0x01, 0x01, 0x12, 0x01, 0x04,
                                        0x13, 0x01, 0x00, 0x14, 0x01, 0x10};
/* 33.179 Table E.3-1 (PCK): the same without the RCCm3 entries. */
static const uint8_t sp_pck_params[] = {0x00, 0x01, 0x06, 0x01, 0x01, 0x10, 0x04, 0x01, 0x0C,
                                        0x05, 0x01, 0x00, 0x06, 0x01, 0x00, 0x14, 0x01, 0x10};
/* GENERIC-ID policy list of the GMK map: one policy, number 0 (the SP). */
static const uint8_t gmk_policies[] = {0x00};

/* SP parameter types of RFC 3830 §6.10.1 that prose's SRTP profile fixes. */
#define SP_ENC_ALG 0u
#define SP_ENC_KEY_LEN 1u
#define SP_SALT_LEN 4u
#define SP_AEAD_TAG_LEN 20u
#define SP_ENC_AES_GCM 6u

void prose_mikey_sp_default(prose_mikey_kind kind, prose_mikey_sp *sp) {
  memset(sp, 0, sizeof *sp);
  if (kind == PROSE_MIKEY_PCK) {
    sp->params.p = sp_pck_params;
    sp->params.len = sizeof sp_pck_params;
  } else {
    sp->params.p = sp_gmk_params;
    sp->params.len = sizeof sp_gmk_params;
  }
}

void prose_mikey_msg_init(prose_mikey_msg *m, prose_mikey_kind kind) {
  memset(m, 0, sizeof *m);
  m->version = PROSE_MIKEY_VERSION;
  m->data_type = PROSE_MIKEY_DT_SAKKE_I;
  m->prf = PROSE_MIKEY_PRF_SHA256;
  m->ts_type = PROSE_MIKEY_TS_NTP_UTC;
  m->sakke.params = m->self.params = PROSE_MIKEY_SAKKE_PARAMS;
  m->sakke.id_scheme = m->self.id_scheme = PROSE_MIKEY_SAKKE_SCHEME_UID;
  m->sig_type = PROSE_MIKEY_SIGN_ECCSI;
  m->sig.len = PROSE_ECCSI_SIG_LEN;
  if (kind == PROSE_MIKEY_GMK) {
    /* Observed interop layout of the GMK map (DIGEST §3.2): #CS = 1,
     * GENERIC-ID, CS-ID 4 (group call), SRTP, S = 0, Ps = {0}. */
    m->n_cs = 1;
    m->cs_map_type = PROSE_MIKEY_CSMAP_GENERIC;
    m->cs[0].cs_id = (uint8_t)PROSE_CSID_GROUP;
    m->cs[0].policies.p = gmk_policies;
    m->cs[0].policies.len = sizeof gmk_policies;
  } else {
    /* PCK: #CS = 0 with the empty map; the default profile applies. */
    m->cs_map_type = PROSE_MIKEY_CSMAP_EMPTY;
  }
}

void prose_mikey_create_default(prose_mikey_create_params *p) {
  memset(p, 0, sizeof *p);
  p->kind = PROSE_MIKEY_GMK;
  p->include_sp = true;
  p->idr_mode = PROSE_MIKEY_IDR_URI;
}

void prose_mikey_result_clear(prose_mikey_result *r) {
  if (r) prose_wipe(r, sizeof *r);
}

/* ------------------------------------------------------------------------ */
/* Decode                                                                    */
/* ------------------------------------------------------------------------ */

enum {
  SEEN_T = 1u << 0,
  SEEN_RAND = 1u << 1,
  SEEN_SP = 1u << 2,
  SEEN_SAKKE = 1u << 3,
  SEEN_SELF = 1u << 4,
  SEEN_KP = 1u << 5
};

typedef struct dec {
  prose_rd r;
  prose_mikey_msg *m;
  unsigned seen;
} dec;

/* Borrow a field whose length came from the message: a length larger than
 * what is left is an overlong length field. */
static int rd_view(prose_rd *r, size_t n, prose_mikey_view *v) {
  if (prose_rd_left(r) < n) return PROSE_EOVERLONG;
  v->p = prose_rd_cur(r);
  v->len = n;
  return prose_rd_skip(r, n);
}

/* Inside a correctly framed container, running out of octets means the
 * container's contents are malformed: report the container's code. */
static int inner(int rc, int code) {
  return (rc == PROSE_ETRUNC || rc == PROSE_EOVERLONG) ? code : rc;
}

/* GENERIC-ID entry (RFC 6043 §6.1.2): CS ID | Prot type | S | #P | Ps |
 * Session data length (16) | Session data | SPI length (8) | SPI. */
static int decode_cs_entry(prose_rd *r, prose_mikey_cs *cs) {
  uint8_t sp;
  uint16_t sd_len;
  uint8_t spi_len;
  TRY(prose_rd_u8(r, &cs->cs_id));
  TRY(prose_rd_u8(r, &cs->prot_type));
  TRY(prose_rd_u8(r, &sp));
  cs->s_flag = (sp & 0x80u) != 0;
  TRY(rd_view(r, sp & 0x7Fu, &cs->policies));
  TRY(prose_rd_u16(r, &sd_len));
  TRY(rd_view(r, sd_len, &cs->session_data));
  TRY(prose_rd_u8(r, &spi_len));
  return rd_view(r, spi_len, &cs->spi);
}

static int decode_csmap(prose_rd *r, prose_mikey_msg *m) {
  if (m->cs_map_type == PROSE_MIKEY_CSMAP_EMPTY) return 0;
  if (m->cs_map_type != PROSE_MIKEY_CSMAP_GENERIC) return PROSE_EMIKEY_CSMAP;
  if (m->n_cs > PROSE_MIKEY_MAX_CS) return PROSE_EMIKEY_CSMAP;
  for (size_t i = 0; i < m->n_cs; i++) TRY(decode_cs_entry(r, &m->cs[i]));
  return 0;
}

/* HDR (RFC 3830 §6.1): version | data type | next payload | V | PRF func |
 * CSB ID | #CS | CS ID map type | CS ID map info. */
static int decode_hdr(prose_rd *r, prose_mikey_msg *m, uint8_t *next) {
  uint8_t vprf;
  TRY(prose_rd_u8(r, &m->version));
  if (m->version != PROSE_MIKEY_VERSION) return PROSE_EMIKEY_VERSION;
  TRY(prose_rd_u8(r, &m->data_type));
  if (m->data_type != PROSE_MIKEY_DT_SAKKE_I) return PROSE_EMIKEY_DATATYPE;
  TRY(prose_rd_u8(r, next));
  TRY(prose_rd_u8(r, &vprf));
  m->v_flag = (vprf & 0x80u) != 0;
  m->prf = vprf & 0x7Fu;
  if (m->prf != PROSE_MIKEY_PRF_SHA256) return PROSE_EMIKEY_PRF;
  TRY(prose_rd_u32(r, &m->csb_id));
  TRY(prose_rd_u8(r, &m->n_cs));
  TRY(prose_rd_u8(r, &m->cs_map_type));
  return decode_csmap(r, m);
}

/* T (RFC 3830 §6.6): TS type | TS value. Only NTP-UTC (64 bits) is used by
 * MIKEY-SAKKE (RFC 6509 §4.1). */
static int decode_t(dec *d) {
  if (d->seen & SEEN_T) return PROSE_EMIKEY_DUPLICATE;
  TRY(prose_rd_u8(&d->r, &d->m->ts_type));
  if (d->m->ts_type != PROSE_MIKEY_TS_NTP_UTC) return PROSE_EMIKEY_TS_TYPE;
  TRY(prose_rd_u64(&d->r, &d->m->t));
  d->seen |= SEEN_T;
  return 0;
}

/* RAND (RFC 3830 §6.11): length | RAND; "at least 128 bits" SHOULD. */
static int decode_rand(dec *d) {
  uint8_t len;
  if (d->seen & SEEN_RAND) return PROSE_EMIKEY_DUPLICATE;
  TRY(prose_rd_u8(&d->r, &len));
  TRY(rd_view(&d->r, len, &d->m->rand));
  if (len < PROSE_MIKEY_RAND_MIN) return PROSE_EMIKEY_RAND;
  d->seen |= SEEN_RAND;
  return 0;
}

static prose_mikey_idr *idr_slot(prose_mikey_msg *m, uint8_t role) {
  switch (role) {
    case PROSE_MIKEY_ROLE_I: return &m->idr_i;
    case PROSE_MIKEY_ROLE_R: return &m->idr_r;
    case PROSE_MIKEY_ROLE_KMSI: return &m->idr_kmsi;
    case PROSE_MIKEY_ROLE_KMSR: return &m->idr_kmsr;
    case PROSE_MIKEY_ROLE_UIDI: return &m->uid_i;
    case PROSE_MIKEY_ROLE_UIDR: return &m->uid_r;
    default: return NULL;
  }
}

/* Roles 1/2/6/7 carry URIs (33.179 E.2/E.3: "all type 1"); roles 8/9 carry
 * the 32-octet UID of F.2.1 as a byte string. */
static int idr_type_ok(uint8_t role, uint8_t type, size_t len) {
  if (len == 0) return 0;
  if (role == PROSE_MIKEY_ROLE_UIDI || role == PROSE_MIKEY_ROLE_UIDR)
    return type == PROSE_MIKEY_IDT_BYTES && len == PROSE_UID_LEN;
  return type == PROSE_MIKEY_IDT_URI;
}

/* IDR (RFC 6043 §6.6): ID role | ID type | ID length (16) | ID data. */
static int decode_idr(dec *d, uint8_t *role) {
  uint8_t type;
  uint16_t len;
  prose_mikey_view id;
  TRY(prose_rd_u8(&d->r, role));
  TRY(prose_rd_u8(&d->r, &type));
  TRY(prose_rd_u16(&d->r, &len));
  TRY(rd_view(&d->r, len, &id));
  prose_mikey_idr *slot = idr_slot(d->m, *role);
  if (!slot) return PROSE_EMIKEY_IDR;
  if (slot->present) return PROSE_EMIKEY_DUPLICATE;
  if (!idr_type_ok(*role, type, len)) return PROSE_EMIKEY_IDR;
  slot->present = true;
  slot->type = type;
  slot->id = id;
  return 0;
}

/* The SP parameter list is {type(1) | length(1) | value}* and must fill its
 * declared length exactly. */
static int sp_params_check(prose_mikey_view params) {
  prose_rd r = prose_rd_init(params.p, params.len);
  while (prose_rd_left(&r) > 0) {
    uint8_t type, len;
    if (prose_rd_u8(&r, &type) || prose_rd_u8(&r, &len) || prose_rd_skip(&r, len))
      return PROSE_EMIKEY_SP;
  }
  return 0;
}

/* SP (RFC 3830 §6.10): policy no | prot type | param length (16) | params. */
static int decode_sp(dec *d) {
  uint16_t len;
  prose_mikey_sp *sp = &d->m->sp;
  if (d->seen & SEEN_SP) return PROSE_EMIKEY_DUPLICATE;
  TRY(prose_rd_u8(&d->r, &sp->policy_no));
  TRY(prose_rd_u8(&d->r, &sp->prot_type));
  TRY(prose_rd_u16(&d->r, &len));
  TRY(rd_view(&d->r, len, &sp->params));
  if (sp->prot_type != 0) return PROSE_EMIKEY_SP;
  TRY(sp_params_check(sp->params));
  d->m->has_sp = true;
  d->seen |= SEEN_SP;
  return 0;
}

/* SAKKE payload body after the next-payload octet (RFC 6509 §4.2):
 * SAKKE params | ID scheme | data length (16) | R (257) || H (16). */
static int decode_sakke_body(prose_rd *r, prose_mikey_sakke *s) {
  uint16_t len;
  TRY(prose_rd_u8(r, &s->params));
  TRY(prose_rd_u8(r, &s->id_scheme));
  TRY(prose_rd_u16(r, &len));
  TRY(rd_view(r, len, &s->data));
  if (s->params != PROSE_MIKEY_SAKKE_PARAMS || s->id_scheme != PROSE_MIKEY_SAKKE_SCHEME_UID ||
      len != PROSE_SAKKE_ED_LEN)
    return PROSE_EMIKEY_SAKKE;
  return 0;
}

static int decode_sakke(dec *d) {
  if (d->seen & SEEN_SAKKE) return PROSE_EMIKEY_DUPLICATE;
  TRY(decode_sakke_body(&d->r, &d->m->sakke));
  d->seen |= SEEN_SAKKE;
  return 0;
}

/* 33.179 E.5: the GenExt data is a whole SAKKE payload whose next-payload
 * octet is ignored. */
static int decode_self(dec *d, prose_mikey_view data) {
  prose_rd r = prose_rd_init(data.p, data.len);
  if (d->seen & SEEN_SELF) return PROSE_EMIKEY_DUPLICATE;
  int rc = prose_rd_skip(&r, 1);
  if (rc == 0) rc = decode_sakke_body(&r, &d->m->self);
  if (rc == 0 && prose_rd_left(&r) != 0) rc = PROSE_EMIKEY_EXT;
  if (rc) return inner(rc, PROSE_EMIKEY_EXT);
  d->m->has_self = true;
  d->seen |= SEEN_SELF;
  return 0;
}

/* Group IDs (LV-E): count(1) then count x (IEI(1) | length(16) | group ID). */
static int decode_groups(prose_rd *r, prose_mikey_key_params *kp) {
  uint8_t count;
  TRY(prose_rd_u8(r, &count));
  if (count > PROSE_MIKEY_MAX_GROUPS) return PROSE_EMIKEY_EXT;
  for (size_t i = 0; i < count; i++) {
    uint16_t len;
    TRY(prose_rd_u8(r, &kp->group_iei[i]));
    TRY(prose_rd_u16(r, &len));
    TRY(rd_view(r, len, &kp->groups[i]));
  }
  kp->n_groups = count;
  return prose_rd_left(r) == 0 ? 0 : PROSE_EMIKEY_EXT;
}

/* Key parameters content (33.179 Table E.6.1-1): Key Type (1) | Status (4) |
 * Activation Time (5) | Expiry Time (5) | Text (LV-E) | Group IDs (LV-E). */
static int decode_kp_body(prose_rd *r, prose_mikey_key_params *kp) {
  uint16_t text_len, groups_len;
  prose_rd groups;
  TRY(prose_rd_u8(r, &kp->key_type));
  TRY(prose_rd_u32(r, &kp->status));
  TRY(prose_rd_u40(r, &kp->activation));
  TRY(prose_rd_u40(r, &kp->expiry));
  TRY(prose_rd_u16(r, &text_len));
  TRY(rd_view(r, text_len, &kp->text));
  TRY(prose_rd_u16(r, &groups_len));
  if (prose_rd_left(r) < groups_len) return PROSE_EOVERLONG;
  TRY(prose_rd_sub(r, &groups, groups_len));
  TRY(decode_groups(&groups, kp));
  return prose_rd_left(r) == 0 ? 0 : PROSE_EMIKEY_EXT;
}

static int decode_kp(dec *d, prose_mikey_view data) {
  prose_rd r = prose_rd_init(data.p, data.len);
  if (d->seen & SEEN_KP) return PROSE_EMIKEY_DUPLICATE;
  int rc = decode_kp_body(&r, &d->m->kp);
  if (rc) return inner(rc, PROSE_EMIKEY_EXT);
  d->m->has_kp = true;
  /* Interop implementations put this extension before or after SAKKE. */
  d->m->kp_before_sakke = (d->seen & SEEN_SAKKE) == 0;
  d->seen |= SEEN_KP;
  return 0;
}

/* General extension (RFC 3830 §6.15): type | length (16) | data. Types other
 * than 6 and 7 are skipped: they are inside the signed region, and RFC 3830
 * lets a receiver ignore extensions it does not know. */
static int decode_genext(dec *d, uint8_t *type) {
  uint16_t len;
  prose_mikey_view data;
  TRY(prose_rd_u8(&d->r, type));
  TRY(prose_rd_u16(&d->r, &len));
  TRY(rd_view(&d->r, len, &data));
  if (*type == PROSE_MIKEY_EXT_SAKKE_SELF) return decode_self(d, data);
  if (*type == PROSE_MIKEY_EXT_KEY_PARAMS) return decode_kp(d, data);
  if (d->m->n_unknown_ext >= PROSE_MIKEY_MAX_UNKNOWN_EXT) return PROSE_EMIKEY_EXT;
  d->m->n_unknown_ext++;
  return 0;
}

static int note_payload(prose_mikey_msg *m, uint8_t type, uint8_t sub, size_t off, size_t len) {
  if (m->n_payloads >= PROSE_MIKEY_MAX_PAYLOADS) return PROSE_EMIKEY_PAYLOAD;
  prose_mikey_payload *p = &m->payloads[m->n_payloads++];
  p->type = type;
  p->sub = sub;
  p->off = off;
  p->len = len;
  return 0;
}

static bool payload_known(uint8_t type) {
  return type == PROSE_MIKEY_PT_T || type == PROSE_MIKEY_PT_RAND || type == PROSE_MIKEY_PT_IDR ||
         type == PROSE_MIKEY_PT_SP || type == PROSE_MIKEY_PT_SAKKE || type == PROSE_MIKEY_PT_GENEXT;
}

/* One payload after its next-payload octet; *sub gets the IDR role or
 * GenExt type. */
static int decode_body(dec *d, uint8_t type, uint8_t *sub) {
  switch (type) {
    case PROSE_MIKEY_PT_T: return decode_t(d);
    case PROSE_MIKEY_PT_RAND: return decode_rand(d);
    case PROSE_MIKEY_PT_IDR: return decode_idr(d, sub);
    case PROSE_MIKEY_PT_SP: return decode_sp(d);
    case PROSE_MIKEY_PT_SAKKE: return decode_sakke(d);
    case PROSE_MIKEY_PT_GENEXT: return decode_genext(d, sub);
    default: return PROSE_EMIKEY_PAYLOAD;
  }
}

/* Walk the payload chain from HDR's next-payload value up to SIGN. */
static int decode_chain(dec *d, uint8_t next) {
  while (next != PROSE_MIKEY_PT_SIGN) {
    if (next == PROSE_MIKEY_PT_LAST) return PROSE_EMIKEY_MISSING; /* no SIGN */
    if (!payload_known(next)) return PROSE_EMIKEY_PAYLOAD;
    size_t off = d->r.off;
    uint8_t following, sub = 0;
    TRY(prose_rd_u8(&d->r, &following));
    TRY(decode_body(d, next, &sub));
    TRY(note_payload(d->m, next, sub, off, d->r.off - off));
    next = following;
  }
  return 0;
}

/* SIGN (RFC 3830 §6.5): S type (4 bits) | signature length (12 bits) |
 * signature; RFC 6509 §4.3: type 2 = ECCSI, r || s || PVT = 129 octets.
 * SIGN is always last: nothing may follow the signature. */
static int decode_sign(dec *d) {
  prose_mikey_msg *m = d->m;
  uint16_t hdr;
  m->sign_off = d->r.off;
  TRY(prose_rd_u16(&d->r, &hdr));
  m->sig_type = (uint8_t)(hdr >> 12);
  size_t len = hdr & 0x0FFFu;
  if (m->sig_type != PROSE_MIKEY_SIGN_ECCSI || len != PROSE_ECCSI_SIG_LEN)
    return PROSE_EMIKEY_SIGN_TYPE;
  TRY(rd_view(&d->r, len, &m->sig));
  if (prose_rd_left(&d->r) != 0) return PROSE_ETRAILING;
  m->signed_len = m->sign_off + SIGN_HDR_LEN;
  return note_payload(m, PROSE_MIKEY_PT_SIGN, 0, m->sign_off, SIGN_HDR_LEN + len);
}

int prose_mikey_decode(const uint8_t *msg, size_t len, prose_mikey_msg *out) {
  if ((!msg && len) || !out) return PROSE_EINVAL;
  prose_mikey_msg m;
  memset(&m, 0, sizeof m);
  dec d = {prose_rd_init(msg, len), &m, 0};
  uint8_t next;
  TRY(decode_hdr(&d.r, &m, &next));
  TRY(note_payload(&m, PROSE_MIKEY_PT_HDR, 0, 0, d.r.off));
  TRY(decode_chain(&d, next));
  TRY(decode_sign(&d));
  const unsigned need = SEEN_T | SEEN_RAND | SEEN_SAKKE;
  if ((d.seen & need) != need) return PROSE_EMIKEY_MISSING;
  m.len = len;
  *out = m;
  return 0;
}

const char *prose_mikey_payload_name(uint8_t type) {
  switch (type) {
    case PROSE_MIKEY_PT_HDR: return "HDR";
    case PROSE_MIKEY_PT_T: return "T";
    case PROSE_MIKEY_PT_RAND: return "RAND";
    case PROSE_MIKEY_PT_IDR: return "IDR";
    case PROSE_MIKEY_PT_SP: return "SP";
    case PROSE_MIKEY_PT_SAKKE: return "SAKKE";
    case PROSE_MIKEY_PT_GENEXT: return "GenExt";
    case PROSE_MIKEY_PT_SIGN: return "SIGN";
    default: return "unknown";
  }
}

int prose_mikey_sp_find(const prose_mikey_sp *sp, uint8_t type, prose_mikey_view *value) {
  if (!sp || !value) return PROSE_EINVAL;
  prose_rd r = prose_rd_init(sp->params.p, sp->params.len);
  while (prose_rd_left(&r) > 0) {
    uint8_t t, len;
    const uint8_t *p;
    if (prose_rd_u8(&r, &t) || prose_rd_u8(&r, &len) || prose_rd_ptr(&r, &p, len))
      return PROSE_EMIKEY_SP;
    if (t == type) {
      value->p = p;
      value->len = len;
      return 0;
    }
  }
  return PROSE_ENOENT;
}

/* ------------------------------------------------------------------------ */
/* Encode                                                                    */
/* ------------------------------------------------------------------------ */

/* The payloads after HDR, in the order encode writes them (DIGEST §3.1). */
typedef enum step {
  STEP_T,
  STEP_RAND,
  STEP_IDR_I,
  STEP_IDR_R,
  STEP_IDR_KMSI,
  STEP_IDR_KMSR,
  STEP_UID_I,
  STEP_UID_R,
  STEP_SP,
  STEP_KP_EARLY,
  STEP_SAKKE,
  STEP_SELF,
  STEP_KP,
  STEP_COUNT
} step;

static bool step_present(const prose_mikey_msg *m, step s) {
  switch (s) {
    case STEP_T: return true;
    case STEP_RAND: return true;
    case STEP_IDR_I: return m->idr_i.present;
    case STEP_IDR_R: return m->idr_r.present;
    case STEP_IDR_KMSI: return m->idr_kmsi.present;
    case STEP_IDR_KMSR: return m->idr_kmsr.present;
    case STEP_UID_I: return m->uid_i.present;
    case STEP_UID_R: return m->uid_r.present;
    case STEP_SP: return m->has_sp;
    case STEP_KP_EARLY: return m->has_kp && m->kp_before_sakke;
    case STEP_SAKKE: return true;
    case STEP_SELF: return m->has_self;
    case STEP_KP: return m->has_kp && !m->kp_before_sakke;
    case STEP_COUNT: return false;
  }
  return false;
}

static uint8_t step_type(step s) {
  switch (s) {
    case STEP_T: return PROSE_MIKEY_PT_T;
    case STEP_RAND: return PROSE_MIKEY_PT_RAND;
    case STEP_IDR_I:
    case STEP_IDR_R:
    case STEP_IDR_KMSI:
    case STEP_IDR_KMSR:
    case STEP_UID_I:
    case STEP_UID_R: return PROSE_MIKEY_PT_IDR;
    case STEP_SP: return PROSE_MIKEY_PT_SP;
    case STEP_SAKKE: return PROSE_MIKEY_PT_SAKKE;
    case STEP_KP_EARLY:
    case STEP_SELF:
    case STEP_KP: return PROSE_MIKEY_PT_GENEXT;
    case STEP_COUNT: return PROSE_MIKEY_PT_SIGN;
  }
  return PROSE_MIKEY_PT_SIGN;
}

/* The type of the first present payload after step s (SIGN at the end). */
static uint8_t next_type(const prose_mikey_msg *m, int s) {
  for (int i = s + 1; i < STEP_COUNT; i++)
    if (step_present(m, (step)i)) return step_type((step)i);
  return PROSE_MIKEY_PT_SIGN;
}

static bool view_ok(prose_mikey_view v, size_t max) { return v.len <= max && (v.p || !v.len); }

static size_t kp_groups_len(const prose_mikey_key_params *kp) {
  size_t n = 1;
  for (size_t i = 0; i < kp->n_groups; i++) n += 3 + kp->groups[i].len;
  return n;
}

static size_t kp_len(const prose_mikey_key_params *kp) {
  return 1 + 4 + 5 + 5 + 2 + kp->text.len + 2 + kp_groups_len(kp);
}

static bool cs_ok(const prose_mikey_msg *m) {
  if (m->cs_map_type != PROSE_MIKEY_CSMAP_GENERIC) return true;
  if (m->n_cs > PROSE_MIKEY_MAX_CS) return false;
  for (size_t i = 0; i < m->n_cs; i++) {
    const prose_mikey_cs *c = &m->cs[i];
    if (!view_ok(c->policies, 127) || !view_ok(c->session_data, 65535) || !view_ok(c->spi, 255))
      return false;
  }
  return true;
}

static bool idr_ok(const prose_mikey_idr *i) {
  return !i->present || (i->id.len > 0 && view_ok(i->id, 65535));
}

static bool kp_ok(const prose_mikey_key_params *kp) {
  if (kp->n_groups > PROSE_MIKEY_MAX_GROUPS || !view_ok(kp->text, 65535)) return false;
  for (size_t i = 0; i < kp->n_groups; i++)
    if (!view_ok(kp->groups[i], 65535)) return false;
  return kp_groups_len(kp) <= 65535 && kp_len(kp) <= 65535;
}

static bool sakke_ok(const prose_mikey_sakke *s, size_t max) {
  return s->data.len > 0 && view_ok(s->data, max);
}

/* Everything that must fit its length field before a single octet is written. */
static int encode_check(const prose_mikey_msg *m) {
  bool ok = cs_ok(m) && m->rand.len > 0 && view_ok(m->rand, 255) && idr_ok(&m->idr_i) &&
            idr_ok(&m->idr_r) && idr_ok(&m->idr_kmsi) && idr_ok(&m->idr_kmsr) &&
            idr_ok(&m->uid_i) && idr_ok(&m->uid_r) && sakke_ok(&m->sakke, 65535) &&
            (!m->has_sp || view_ok(m->sp.params, 65535)) &&
            (!m->has_self || sakke_ok(&m->self, 65535 - SAKKE_HDR_LEN)) &&
            (!m->has_kp || kp_ok(&m->kp)) && m->sig.len <= 0x0FFFu && m->sig_type <= 0x0Fu &&
            m->prf <= 0x7Fu;
  return ok ? 0 : PROSE_EINVAL;
}

static void wr_view(prose_wr *w, prose_mikey_view v) { prose_wr_bytes(w, v.p, v.len); }

static void write_hdr(prose_wr *w, const prose_mikey_msg *m, uint8_t next) {
  prose_wr_u8(w, m->version);
  prose_wr_u8(w, m->data_type);
  prose_wr_u8(w, next);
  prose_wr_u8(w, (uint8_t)((m->v_flag ? 0x80u : 0u) | m->prf));
  prose_wr_u32(w, m->csb_id);
  prose_wr_u8(w, m->n_cs);
  prose_wr_u8(w, m->cs_map_type);
  if (m->cs_map_type != PROSE_MIKEY_CSMAP_GENERIC) return;
  for (size_t i = 0; i < m->n_cs; i++) {
    const prose_mikey_cs *c = &m->cs[i];
    prose_wr_u8(w, c->cs_id);
    prose_wr_u8(w, c->prot_type);
    prose_wr_u8(w, (uint8_t)((c->s_flag ? 0x80u : 0u) | c->policies.len));
    wr_view(w, c->policies);
    prose_wr_u16(w, (uint16_t)c->session_data.len);
    wr_view(w, c->session_data);
    prose_wr_u8(w, (uint8_t)c->spi.len);
    wr_view(w, c->spi);
  }
}

static void write_idr(prose_wr *w, uint8_t next, uint8_t role, const prose_mikey_idr *i) {
  prose_wr_u8(w, next);
  prose_wr_u8(w, role);
  prose_wr_u8(w, i->type);
  prose_wr_u16(w, (uint16_t)i->id.len);
  wr_view(w, i->id);
}

static void write_sakke(prose_wr *w, uint8_t next, const prose_mikey_sakke *s) {
  prose_wr_u8(w, next);
  prose_wr_u8(w, s->params);
  prose_wr_u8(w, s->id_scheme);
  prose_wr_u16(w, (uint16_t)s->data.len);
  wr_view(w, s->data);
}

static void write_self(prose_wr *w, uint8_t next, const prose_mikey_sakke *s) {
  prose_wr_u8(w, next);
  prose_wr_u8(w, PROSE_MIKEY_EXT_SAKKE_SELF);
  prose_wr_u16(w, (uint16_t)(SAKKE_HDR_LEN + s->data.len));
  /* E.5: the embedded payload's own next-payload octet is unused; 0. */
  write_sakke(w, 0, s);
}

static void write_kp(prose_wr *w, uint8_t next, const prose_mikey_key_params *kp) {
  prose_wr_u8(w, next);
  prose_wr_u8(w, PROSE_MIKEY_EXT_KEY_PARAMS);
  prose_wr_u16(w, (uint16_t)kp_len(kp));
  prose_wr_u8(w, kp->key_type);
  prose_wr_u32(w, kp->status);
  prose_wr_u40(w, kp->activation);
  prose_wr_u40(w, kp->expiry);
  prose_wr_u16(w, (uint16_t)kp->text.len);
  wr_view(w, kp->text);
  prose_wr_u16(w, (uint16_t)kp_groups_len(kp));
  prose_wr_u8(w, (uint8_t)kp->n_groups);
  for (size_t i = 0; i < kp->n_groups; i++) {
    prose_wr_u8(w, kp->group_iei[i]);
    prose_wr_u16(w, (uint16_t)kp->groups[i].len);
    wr_view(w, kp->groups[i]);
  }
}

static void write_simple(prose_wr *w, const prose_mikey_msg *m, step s, uint8_t next) {
  prose_wr_u8(w, next);
  if (s == STEP_T) {
    prose_wr_u8(w, m->ts_type);
    prose_wr_u64(w, m->t);
  } else if (s == STEP_RAND) {
    prose_wr_u8(w, (uint8_t)m->rand.len);
    wr_view(w, m->rand);
  } else { /* STEP_SP */
    prose_wr_u8(w, m->sp.policy_no);
    prose_wr_u8(w, m->sp.prot_type);
    prose_wr_u16(w, (uint16_t)m->sp.params.len);
    wr_view(w, m->sp.params);
  }
}

static void write_step(prose_wr *w, const prose_mikey_msg *m, step s, uint8_t next) {
  switch (s) {
    case STEP_T:
    case STEP_RAND:
    case STEP_SP: write_simple(w, m, s, next); break;
    case STEP_IDR_I: write_idr(w, next, PROSE_MIKEY_ROLE_I, &m->idr_i); break;
    case STEP_IDR_R: write_idr(w, next, PROSE_MIKEY_ROLE_R, &m->idr_r); break;
    case STEP_IDR_KMSI: write_idr(w, next, PROSE_MIKEY_ROLE_KMSI, &m->idr_kmsi); break;
    case STEP_IDR_KMSR: write_idr(w, next, PROSE_MIKEY_ROLE_KMSR, &m->idr_kmsr); break;
    case STEP_UID_I: write_idr(w, next, PROSE_MIKEY_ROLE_UIDI, &m->uid_i); break;
    case STEP_UID_R: write_idr(w, next, PROSE_MIKEY_ROLE_UIDR, &m->uid_r); break;
    case STEP_KP_EARLY:
    case STEP_KP: write_kp(w, next, &m->kp); break;
    case STEP_SAKKE: write_sakke(w, next, &m->sakke); break;
    case STEP_SELF: write_self(w, next, &m->self); break;
    case STEP_COUNT: break;
  }
}

static void write_msg(prose_wr *w, const prose_mikey_msg *m) {
  write_hdr(w, m, next_type(m, -1));
  for (int s = 0; s < STEP_COUNT; s++)
    if (step_present(m, (step)s)) write_step(w, m, (step)s, next_type(m, s));
  prose_wr_u16(w, (uint16_t)((unsigned)m->sig_type << 12 | m->sig.len));
  if (m->sig.p)
    wr_view(w, m->sig);
  else
    prose_wr_zeros(w, m->sig.len);
}

int prose_mikey_encode(const prose_mikey_msg *m, uint8_t *out, size_t cap, size_t *out_len) {
  if (!m || !out_len || (!out && cap)) return PROSE_EINVAL;
  TRY(encode_check(m));
  prose_wr count = prose_wr_init(NULL, 0);
  write_msg(&count, m);
  *out_len = count.len;
  if (!out) return 0;
  if (cap < count.len) return PROSE_EBUFSZ;
  prose_wr w = prose_wr_init(out, cap);
  write_msg(&w, m);
  return prose_wr_finish(&w);
}

/* ------------------------------------------------------------------------ */
/* Shared helpers for create and process                                     */
/* ------------------------------------------------------------------------ */

static uint64_t t_seconds(uint64_t t_ntp64) { return t_ntp64 >> 32; }

/* Copy a URI from the message into a NUL-terminated buffer: the UID
 * derivation and the keyring take C strings, so an embedded NUL would make
 * two different identities compare equal. */
static int copy_uri(prose_mikey_view v, char out[PROSE_MIKEY_URI_MAX + 1]) {
  if (v.len > PROSE_MIKEY_URI_MAX || memchr(v.p, 0, v.len)) return PROSE_EMIKEY_IDR;
  memcpy(out, v.p, v.len);
  out[v.len] = '\0';
  return 0;
}

static prose_mikey_view str_view(const char *s) {
  prose_mikey_view v = {(const uint8_t *)s, strlen(s)};
  return v;
}

static int period_of(const prose__kms *k, uint64_t t_sec, uint64_t *no) {
  return prose_period_no(t_sec, k->period, k->offset, no) ? PROSE_EPERIOD : 0;
}

/* ------------------------------------------------------------------------ */
/* Create                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct creator {
  const prose_keyring *kr;
  const prose_mikey_create_params *p;
  const prose__kms *ikms, *rkms;
  const prose__keyset *own;
  uint8_t r_uid[PROSE_UID_LEN];
  uint32_t csb_id;
  uint8_t spi[8];
  uint8_t rand[PROSE_MIKEY_RAND_LEN];
  uint8_t ed[PROSE_SAKKE_ED_LEN];
  uint8_t self_ed[PROSE_SAKKE_ED_LEN];
} creator;

static bool uri_ok(const char *s) { return s && s[0] && strlen(s) <= PROSE_MIKEY_URI_MAX; }

static int create_check(const prose_mikey_create_params *p) {
  if (p->kind != PROSE_MIKEY_GMK && p->kind != PROSE_MIKEY_PCK) return PROSE_EINVAL;
  if (prose_keyid_tag(p->key_id) != (uint32_t)p->kind || !p->key) return PROSE_EINVAL;
  if (!uri_ok(p->responder_uri) || !uri_ok(p->responder_kms)) return PROSE_EINVAL;
  if (p->initiator_kms && !uri_ok(p->initiator_kms)) return PROSE_EINVAL;
  if (p->rand && (p->rand_len < PROSE_MIKEY_RAND_MIN || p->rand_len > 255)) return PROSE_EINVAL;
  if (p->key_params && p->kind != PROSE_MIKEY_GMK) return PROSE_EINVAL;
  if (p->idr_mode != PROSE_MIKEY_IDR_URI && p->idr_mode != PROSE_MIKEY_IDR_UID &&
      p->idr_mode != PROSE_MIKEY_IDR_BOTH)
    return PROSE_EINVAL;
  return 0;
}

/* The initiator signs with its key set for the period of T under its KMS;
 * the receiver's UID uses the receiver KMS's period of T (33.179 F.2.1). */
static int create_lookup(creator *c) {
  const prose_mikey_create_params *p = c->p;
  uint64_t t_sec = t_seconds(p->t), ino, rno;
  c->rkms = prose__keyring_find_kms(c->kr, p->responder_kms);
  c->ikms = prose__keyring_find_kms(c->kr, p->initiator_kms ? p->initiator_kms : p->responder_kms);
  if (!c->rkms || !c->ikms) return PROSE_EUNKNOWN_KMS;
  TRY(period_of(c->ikms, t_sec, &ino));
  TRY(period_of(c->rkms, t_sec, &rno));
  c->own = prose__keyring_find_keyset(c->kr, c->ikms, ino);
  if (!c->own) return PROSE_EPERIOD;
  return prose_uid(p->responder_uri, c->rkms->uri, c->rkms->period, c->rkms->offset, rno,
                   c->r_uid);
}

/* GMK: CSB ID = the receiver's GUK-ID (F.1.3), SPI = GMK-ID || GUK-ID;
 * PCK: CSB ID = PCK-ID. */
static int create_ids(creator *c) {
  const prose_mikey_create_params *p = c->p;
  if (p->kind == PROSE_MIKEY_PCK) {
    c->csb_id = p->key_id;
    return 0;
  }
  TRY(prose_guk_id(p->key, PROSE_MIKEY_KEY_LEN, p->key_id, p->responder_uri, &c->csb_id));
  prose_put_u32(c->spi, p->key_id);
  prose_put_u32(c->spi + 4, c->csb_id);
  return 0;
}

static int create_crypto(creator *c, const prose_rng *rng) {
  const prose_mikey_create_params *p = c->p;
  if (!p->rand) TRY(prose_rng_fill(rng, c->rand, sizeof c->rand));
  TRY(prose_sakke_encap(c->rkms->pub, c->r_uid, PROSE_UID_LEN, p->key, c->ed));
  if (p->sakke_to_self)
    TRY(prose_sakke_encap(c->ikms->pub, c->own->uid, PROSE_UID_LEN, p->key, c->self_ed));
  return 0;
}

static void set_idr(prose_mikey_idr *i, uint8_t type, prose_mikey_view v) {
  i->present = true;
  i->type = type;
  i->id = v;
}

static void create_idrs(const creator *c, prose_mikey_msg *m) {
  const prose_mikey_create_params *p = c->p;
  if (p->idr_mode != PROSE_MIKEY_IDR_UID) {
    set_idr(&m->idr_i, PROSE_MIKEY_IDT_URI, str_view(c->kr->own_uri));
    set_idr(&m->idr_r, PROSE_MIKEY_IDT_URI, str_view(p->responder_uri));
  }
  set_idr(&m->idr_kmsi, PROSE_MIKEY_IDT_URI, str_view(c->ikms->uri));
  set_idr(&m->idr_kmsr, PROSE_MIKEY_IDT_URI, str_view(c->rkms->uri));
  if (p->idr_mode != PROSE_MIKEY_IDR_URI) {
    prose_mikey_view ui = {c->own->uid, PROSE_UID_LEN}, ur = {c->r_uid, PROSE_UID_LEN};
    set_idr(&m->uid_i, PROSE_MIKEY_IDT_BYTES, ui);
    set_idr(&m->uid_r, PROSE_MIKEY_IDT_BYTES, ur);
  }
}

static void create_msg(const creator *c, prose_mikey_msg *m) {
  const prose_mikey_create_params *p = c->p;
  prose_mikey_msg_init(m, p->kind);
  m->csb_id = c->csb_id;
  if (p->kind == PROSE_MIKEY_GMK) {
    m->cs[0].spi.p = c->spi;
    m->cs[0].spi.len = sizeof c->spi;
  }
  m->t = p->t;
  m->rand.p = p->rand ? p->rand : c->rand;
  m->rand.len = p->rand ? p->rand_len : sizeof c->rand;
  create_idrs(c, m);
  m->has_sp = p->include_sp;
  if (m->has_sp) prose_mikey_sp_default(p->kind, &m->sp);
  m->sakke.data.p = c->ed;
  m->sakke.data.len = sizeof c->ed;
  m->has_self = p->sakke_to_self;
  m->self.data.p = c->self_ed;
  m->self.data.len = sizeof c->self_ed;
  m->has_kp = p->key_params != NULL;
  if (m->has_kp) m->kp = *p->key_params;
}

int prose_mikey_create(const prose_keyring *kr, const prose_mikey_create_params *p,
                       const prose_rng *rng, uint8_t *out, size_t cap, size_t *out_len) {
  if (!kr || !p || !rng || !out || !out_len) return PROSE_EINVAL;
  TRY(create_check(p));
  creator c;
  memset(&c, 0, sizeof c);
  c.kr = kr;
  c.p = p;
  TRY(create_lookup(&c));
  TRY(create_ids(&c));
  TRY(create_crypto(&c, rng));
  prose_mikey_msg m;
  create_msg(&c, &m);
  size_t len;
  TRY(prose_mikey_encode(&m, out, cap, &len));
  /* RFC 3830 §5.2 / §6.5: the signature covers the whole message up to and
   * including the SIGN payload's type/length octets (DESIGN §3: send the
   * RFC form only). */
  size_t signed_len = len - PROSE_ECCSI_SIG_LEN;
  TRY(prose_eccsi_sign(c.own->signer, rng, out, signed_len, out + signed_len));
  *out_len = len;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* Process                                                                   */
/* ------------------------------------------------------------------------ */

typedef struct proc {
  prose_keyring *kr;
  const uint8_t *buf;
  size_t len;
  uint64_t now;
  prose_mikey_msg m;
  prose_mikey_kind kind;
  uint64_t t_sec;
  char i_uri[PROSE_MIKEY_URI_MAX + 1];
  char r_uri[PROSE_MIKEY_URI_MAX + 1];
  char kmsi[PROSE_MIKEY_URI_MAX + 1];
  char kmsr[PROSE_MIKEY_URI_MAX + 1];
  const prose__kms *skms, *okms;
  const prose__keyset *own;
  uint8_t s_uid[PROSE_UID_LEN];
  uint8_t digest[PROSE__REPLAY_DIGEST_LEN];
  bool variant;
  uint32_t key_id;
  uint8_t key[PROSE_MIKEY_KEY_LEN]; /* secret: wiped at the end of process */
} proc;

/* GMK CS map (E.2 / DIGEST §3.2): empty, or one GENERIC-ID entry whose SPI is
 * absent or GMK-ID || GUK-ID with the GUK-ID equal to the CSB ID. */
static int check_gmk_map(const prose_mikey_msg *m) {
  if (m->cs_map_type == PROSE_MIKEY_CSMAP_EMPTY) return 0;
  if (m->n_cs != 1) return PROSE_EMIKEY_CSMAP;
  prose_mikey_view spi = m->cs[0].spi;
  if (spi.len == 0) return 0;
  if (spi.len != 8 || prose_get_u32(spi.p + 4) != m->csb_id) return PROSE_EMIKEY_CSMAP;
  return 0;
}

static int sp_expect(const prose_mikey_sp *sp, uint8_t type, uint8_t want) {
  prose_mikey_view v;
  int rc = prose_mikey_sp_find(sp, type, &v);
  if (rc == PROSE_ENOENT) return 0;
  if (rc) return rc;
  return (v.len == 1 && v.p[0] == want) ? 0 : PROSE_EMIKEY_SP;
}

/* The SRTP profile prose implements is fixed (33.179 7.5, Tables E.2-1 and
 * E.3-1): refuse a policy that asks for another cipher or other lengths,
 * since the media could not be protected as the sender expects. */
static int check_sp(const prose_mikey_msg *m) {
  if (!m->has_sp) return 0;
  TRY(sp_expect(&m->sp, SP_ENC_ALG, SP_ENC_AES_GCM));
  TRY(sp_expect(&m->sp, SP_ENC_KEY_LEN, 16));
  TRY(sp_expect(&m->sp, SP_SALT_LEN, 12));
  return sp_expect(&m->sp, SP_AEAD_TAG_LEN, 16);
}

/* The kind comes from the purpose tag of the CSB ID (DIGEST §2): GUK-ID keeps
 * the GMK-ID's tag nibble because the salt has its top nibble cleared. */
static int check_kind(proc *p) {
  uint32_t tag = prose_keyid_tag(p->m.csb_id);
  if (tag != PROSE_KEYID_TAG_GMK && tag != PROSE_KEYID_TAG_PCK) return PROSE_EMIKEY_KEYTYPE;
  p->kind = tag == PROSE_KEYID_TAG_GMK ? PROSE_MIKEY_GMK : PROSE_MIKEY_PCK;
  if (p->m.has_kp && p->m.kp.key_type != tag) return PROSE_EMIKEY_KEYTYPE;
  if (p->kind == PROSE_MIKEY_GMK) TRY(check_gmk_map(&p->m));
  return check_sp(&p->m);
}

static int copy_idr(const prose_mikey_idr *i, char out[PROSE_MIKEY_URI_MAX + 1]) {
  out[0] = '\0';
  return i->present ? copy_uri(i->id, out) : 0;
}

static int check_ids(proc *p) {
  const prose_mikey_msg *m = &p->m;
  if ((!m->idr_i.present && !m->uid_i.present) || (!m->idr_r.present && !m->uid_r.present) ||
      !m->idr_kmsi.present)
    return PROSE_EMIKEY_MISSING;
  TRY(copy_idr(&m->idr_i, p->i_uri));
  TRY(copy_idr(&m->idr_r, p->r_uri));
  TRY(copy_idr(&m->idr_kmsi, p->kmsi));
  return copy_idr(&m->idr_kmsr, p->kmsr);
}

static int check_window(const prose_time_window *w, uint64_t t, uint64_t now) {
  if (t <= now) {
    if (w->max_past != PROSE_WINDOW_UNLIMITED && now - t > w->max_past) return PROSE_ETIME;
  } else if (w->max_future != PROSE_WINDOW_UNLIMITED && t - now > w->max_future) {
    return PROSE_ETIME;
  }
  return 0;
}

/* Replay identity (RFC 3830 §5.4 uses CSB ID, T and RAND): a digest of
 * kind || CSB ID || T || RAND keeps the cache entries fixed-size. */
static int replay_digest(proc *p) {
  uint8_t buf[1 + 4 + 8 + 255];
  prose_wr w = prose_wr_init(buf, sizeof buf);
  prose_wr_u8(&w, (uint8_t)p->kind);
  prose_wr_u32(&w, p->m.csb_id);
  prose_wr_u64(&w, p->m.t);
  wr_view(&w, p->m.rand);
  TRY(prose_wr_finish(&w));
  unsigned int dlen = 0;
  if (EVP_Digest(buf, w.len, p->digest, &dlen, EVP_sha256(), NULL) != 1) return PROSE_ECRYPTO;
  return 0;
}

static int check_fresh(proc *p) {
  p->t_sec = t_seconds(p->m.t);
  TRY(check_window(prose__keyring_window(p->kr, (int)p->kind), p->t_sec, p->now));
  TRY(replay_digest(p));
  return prose__replay_check(p->kr, (int)p->kind, p->digest, p->t_sec);
}

/* The sender's KMS is named by IDRkmsi; the receiver's own key set belongs
 * to IDRkmsr, or to the same KMS when IDRkmsr is absent. */
static int find_kms(proc *p) {
  p->skms = prose__keyring_find_kms(p->kr, p->kmsi);
  p->okms = p->kmsr[0] ? prose__keyring_find_kms(p->kr, p->kmsr) : p->skms;
  return (p->skms && p->okms) ? 0 : PROSE_EUNKNOWN_KMS;
}

/* The message must be for us: IDRr equal to our URI, and a UIDr equal to the
 * UID of our key set for the period of T (from T, not from our clock). */
static int check_recipient(proc *p) {
  const prose_mikey_msg *m = &p->m;
  uint64_t no;
  if (m->idr_r.present && strcmp(p->r_uri, p->kr->own_uri) != 0)
    return PROSE_EWRONG_RECIPIENT;
  TRY(period_of(p->okms, p->t_sec, &no));
  p->own = prose__keyring_find_keyset(p->kr, p->okms, no);
  if (!p->own) return PROSE_EPERIOD;
  if (m->uid_r.present && memcmp(m->uid_r.id.p, p->own->uid, PROSE_UID_LEN) != 0)
    return m->idr_r.present ? PROSE_EUID_MISMATCH : PROSE_EWRONG_RECIPIENT;
  return 0;
}

/* The signer's UID (33.179 F.2.1) for the period of T under its KMS. A
 * role-8 UID must match the one computed from the role-1 URI; with only the
 * UID, it is used as it is (the signature still binds it to the KMS). */
static int sender_uid(proc *p) {
  const prose_mikey_msg *m = &p->m;
  uint64_t no;
  if (!m->idr_i.present) {
    memcpy(p->s_uid, m->uid_i.id.p, PROSE_UID_LEN);
    return 0;
  }
  TRY(period_of(p->skms, p->t_sec, &no));
  TRY(prose_uid(p->i_uri, p->skms->uri, p->skms->period, p->skms->offset, no, p->s_uid));
  if (m->uid_i.present && memcmp(m->uid_i.id.p, p->s_uid, PROSE_UID_LEN) != 0)
    return PROSE_EUID_MISMATCH;
  return 0;
}

static bool sig_failed(int rc) { return rc == PROSE_ESIG || rc == PROSE_EPOINT; }

/* DESIGN §3 / DIGEST §3.3: the RFC 3830 form signs everything up to and
 * including the SIGN header; some implementations stop before the SIGN
 * payload. Try the RFC form first. */
static int verify_sig(proc *p) {
  const prose_mikey_msg *m = &p->m;
  prose_eccsi_verifier *v = p->skms->verifier;
  int rc = prose_eccsi_verify(v, p->s_uid, PROSE_UID_LEN, p->buf, m->signed_len, m->sig.p,
                              m->sig.len);
  if (!sig_failed(rc)) return rc;
  rc = prose_eccsi_verify(v, p->s_uid, PROSE_UID_LEN, p->buf, m->sign_off, m->sig.p, m->sig.len);
  if (rc == 0) p->variant = true;
  return sig_failed(rc) ? PROSE_ESIG : rc;
}

/* RFC 6508 §6.2.2 with the receiver's own RSK; an R that is not a point is
 * a failed decapsulation like a failed TEST. */
static int decapsulate(proc *p) {
  const prose_mikey_view ed = p->m.sakke.data;
  int rc = prose_sakke_decap(p->own->recipient, ed.p, ed.len, p->key);
  if (rc == PROSE_EPOINT || rc == PROSE_ELEN) rc = PROSE_ESAKKE_TEST;
  return rc;
}

/* PCK: the key ID is the CSB ID. GMK: GMK-ID = GUK-ID XOR salt, with the salt
 * from the GMK and our own MCPTT ID (33.179 F.1.3); it must carry the GMK
 * tag and match the SPI when the GMS sent one. */
static int derive_key_id(proc *p) {
  if (p->kind == PROSE_MIKEY_PCK) {
    p->key_id = p->m.csb_id;
    return 0;
  }
  TRY(prose_guk_id(p->key, sizeof p->key, p->m.csb_id, p->kr->own_uri, &p->key_id));
  /* Unreachable while the CSB ID tag was checked (the salt's top nibble is
   * clear), kept so the invariant does not rest on another function. */
  if (prose_keyid_tag(p->key_id) != PROSE_KEYID_TAG_GMK) return PROSE_EMIKEY_KEYTYPE;
  prose_mikey_view spi = p->m.n_cs == 1 ? p->m.cs[0].spi : (prose_mikey_view){NULL, 0};
  if (p->m.cs_map_type == PROSE_MIKEY_CSMAP_GENERIC && spi.len == 8 &&
      prose_get_u32(spi.p) != p->key_id)
    return PROSE_EKEY_INVALID;
  return 0;
}

static int process_checks(proc *p) {
  TRY(prose_mikey_decode(p->buf, p->len, &p->m));
  TRY(check_kind(p));
  TRY(check_ids(p));
  TRY(check_fresh(p));
  TRY(find_kms(p));
  TRY(check_recipient(p));
  TRY(sender_uid(p));
  TRY(verify_sig(p));
  TRY(decapsulate(p));
  return derive_key_id(p);
}

static void fill_result(const proc *p, prose_mikey_result *res) {
  memset(res, 0, sizeof *res);
  res->kind = p->kind;
  memcpy(res->key, p->key, sizeof res->key);
  res->key_id = p->key_id;
  res->csb_id = p->m.csb_id;
  memcpy(res->rand, p->m.rand.p, p->m.rand.len);
  res->rand_len = p->m.rand.len;
  res->t = p->m.t;
  memcpy(res->initiator_uri, p->i_uri, sizeof res->initiator_uri);
  memcpy(res->initiator_kms, p->kmsi, sizeof res->initiator_kms);
  memcpy(res->initiator_uid, p->s_uid, sizeof res->initiator_uid);
  res->sig_variant = p->variant;
  res->msg = p->m;
}

int prose_mikey_process(prose_keyring *kr, uint64_t now_ntp, const uint8_t *msg, size_t len,
                        prose_mikey_result *res) {
  if (!kr || (!msg && len) || !res) return PROSE_EINVAL;
  proc p;
  memset(&p, 0, sizeof p);
  p.kr = kr;
  p.buf = msg;
  p.len = len;
  p.now = now_ntp;
  int rc = process_checks(&p);
  if (rc == 0) {
    /* Commit: every check passed; only now does the keyring change. */
    prose__replay_commit(kr, (int)p.kind, p.digest, p.t_sec, now_ntp);
    fill_result(&p, res);
  }
  prose_wipe(p.key, sizeof p.key);
  return rc;
}
