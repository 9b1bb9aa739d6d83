/*
 * Announcement codec: the fixed-order wire format of docs/discovery.md.
 *
 * Fixed order rather than TLV because an announcement has one shape: every
 * field is mandatory, so a fixed order gives one canonical encoding per
 * content, no duplicate or missing-field states to reject, and a parser
 * that is a straight run of guarded reads. Forward compatibility comes from
 * the version octet (incompatible changes) and the signed, opaque extension
 * block (additions version 1 receivers may ignore).
 */
#include <string.h>

#include "prose/buf.h"
#include "prose/discovery.h"
#include "prose/err.h"

/* The magic is also the domain separator of the signature: the same ECCSI
 * key signs MIKEY I_MESSAGEs, whose signed octets start with version 0x01,
 * so an announcement can never be taken for a MIKEY message or back. */
static const uint8_t magic[4] = {'P', 'R', 'S', 'D'};

#define ADDR_KNOWN (PROSE_DISC_ADDR_IPV4 | PROSE_DISC_ADDR_IPV6)

/* URIs are UTF-8 text that ends up in C strings, logs and the UID hash, so
 * control characters (and NUL above all, which would cut the string the UID
 * is computed from) are refused. */
static bool uri_ok(const uint8_t *p, size_t n) {
  if (n == 0 || n > PROSE_DISC_URI_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (p[i] < 0x20 || p[i] == 0x7f) return false;
  return true;
}

static bool ann_encodable(const prose_disc_ann *a) {
  /* strnlen stops at the array end, so a string without its NUL measures
   * 256 octets and fails the length bound. */
  if (!uri_ok((const uint8_t *)a->mcptt_id, strnlen(a->mcptt_id, sizeof a->mcptt_id)) ||
      !uri_ok((const uint8_t *)a->kms_uri, strnlen(a->kms_uri, sizeof a->kms_uri)))
    return false;
  if (!a->has_ipv4 && !a->has_ipv6) return false;
  if (a->call_port == 0 || a->n_ports > PROSE_DISC_MAX_PORTS || a->ext_len > PROSE_DISC_EXT_MAX)
    return false;
  for (size_t i = 0; i < a->n_ports; i++)
    if (a->ports[i].port == 0) return false;
  return true;
}

static void wr_uri(prose_wr *w, const char *s) {
  size_t n = strlen(s);
  prose_wr_u8(w, (uint8_t)n);
  prose_wr_bytes(w, s, n);
}

int prose_disc_ann_encode(const prose_disc_ann *a, uint8_t *out, size_t cap, size_t *len) {
  if (!a || !len || !ann_encodable(a)) return PROSE_EINVAL;
  prose_wr w = prose_wr_init(out, cap);
  prose_wr_bytes(&w, magic, sizeof magic);
  prose_wr_u8(&w, PROSE_DISC_VERSION);
  wr_uri(&w, a->mcptt_id);
  wr_uri(&w, a->kms_uri);
  prose_wr_u32(&w, a->period_no);
  prose_wr_u64(&w, a->timestamp);
  prose_wr_u32(&w, a->seq);
  prose_wr_u32(&w, a->ttl_ms);
  prose_wr_u8(&w, (uint8_t)((a->has_ipv4 ? PROSE_DISC_ADDR_IPV4 : 0u) |
                            (a->has_ipv6 ? PROSE_DISC_ADDR_IPV6 : 0u)));
  if (a->has_ipv4) prose_wr_bytes(&w, a->ipv4, sizeof a->ipv4);
  if (a->has_ipv6) prose_wr_bytes(&w, a->ipv6, sizeof a->ipv6);
  prose_wr_u16(&w, a->call_port);
  prose_wr_u8(&w, (uint8_t)a->n_ports);
  for (size_t i = 0; i < a->n_ports; i++) {
    prose_wr_u8(&w, a->ports[i].kind);
    prose_wr_u16(&w, a->ports[i].port);
  }
  prose_wr_u32(&w, a->caps);
  prose_wr_u16(&w, (uint16_t)a->ext_len);
  prose_wr_bytes(&w, a->ext, a->ext_len);
  prose_wr_bytes(&w, a->sig, sizeof a->sig);
  *len = w.len;
  return prose_wr_finish(&w);
}

/* ------------------------------------------------------------------------ */
/* Decode: one guarded read per field, in wire order                         */
/* ------------------------------------------------------------------------ */

#define TRY(x)                  \
  do {                          \
    int rc_ = (x);              \
    if (rc_) return rc_;        \
  } while (0)

static int rd_uri(prose_rd *r, char out[PROSE_DISC_URI_MAX + 1]) {
  uint8_t n;
  const uint8_t *p;
  TRY(prose_rd_u8(r, &n));
  TRY(prose_rd_ptr(r, &p, n));
  if (!uri_ok(p, n)) return PROSE_EDISC_FIELD;
  memcpy(out, p, n);
  out[n] = '\0';
  return 0;
}

static int rd_header(prose_rd *r) {
  uint8_t m[sizeof magic], version;
  TRY(prose_rd_bytes(r, m, sizeof m));
  if (memcmp(m, magic, sizeof m) != 0) return PROSE_EDISC_MAGIC;
  TRY(prose_rd_u8(r, &version));
  return version == PROSE_DISC_VERSION ? 0 : PROSE_EDISC_VERSION;
}

static int rd_addresses(prose_rd *r, prose_disc_ann *a) {
  uint8_t flags;
  TRY(prose_rd_u8(r, &flags));
  /* Unknown bits could announce an address this version cannot read, and
   * an announcement without any address gives no way to call the peer. */
  if ((flags & ~ADDR_KNOWN) != 0 || flags == 0) return PROSE_EDISC_FIELD;
  a->has_ipv4 = (flags & PROSE_DISC_ADDR_IPV4) != 0;
  a->has_ipv6 = (flags & PROSE_DISC_ADDR_IPV6) != 0;
  if (a->has_ipv4) TRY(prose_rd_bytes(r, a->ipv4, sizeof a->ipv4));
  if (a->has_ipv6) TRY(prose_rd_bytes(r, a->ipv6, sizeof a->ipv6));
  return 0;
}

static int rd_ports(prose_rd *r, prose_disc_ann *a) {
  uint8_t n;
  TRY(prose_rd_u16(r, &a->call_port));
  if (a->call_port == 0) return PROSE_EDISC_FIELD;
  TRY(prose_rd_u8(r, &n));
  if (n > PROSE_DISC_MAX_PORTS) return PROSE_EDISC_FIELD;
  a->n_ports = n;
  for (size_t i = 0; i < n; i++) {
    TRY(prose_rd_u8(r, &a->ports[i].kind));
    TRY(prose_rd_u16(r, &a->ports[i].port));
    if (a->ports[i].port == 0) return PROSE_EDISC_FIELD;
  }
  return 0;
}

static int rd_tail(prose_rd *r, prose_disc_ann *a) {
  uint16_t ext_len;
  TRY(prose_rd_u32(r, &a->caps));
  TRY(prose_rd_u16(r, &ext_len));
  if (ext_len > PROSE_DISC_EXT_MAX) return PROSE_EDISC_FIELD;
  a->ext_len = ext_len;
  TRY(prose_rd_bytes(r, a->ext, ext_len));
  TRY(prose_rd_bytes(r, a->sig, sizeof a->sig));
  return prose_rd_left(r) == 0 ? 0 : PROSE_ETRAILING;
}

int prose_disc_ann_decode(const uint8_t *buf, size_t len, prose_disc_ann *a) {
  if (!a || (!buf && len > 0)) return PROSE_EINVAL;
  prose_rd r = prose_rd_init(buf, len);
  memset(a, 0, sizeof *a);
  TRY(rd_header(&r));
  TRY(rd_uri(&r, a->mcptt_id));
  TRY(rd_uri(&r, a->kms_uri));
  TRY(prose_rd_u32(&r, &a->period_no));
  TRY(prose_rd_u64(&r, &a->timestamp));
  TRY(prose_rd_u32(&r, &a->seq));
  TRY(prose_rd_u32(&r, &a->ttl_ms));
  TRY(rd_addresses(&r, a));
  TRY(rd_ports(&r, a));
  return rd_tail(&r, a);
}

int prose_disc_ann_sign(prose_disc_ann *a, const prose_keyring *kr, const prose_rng *rng,
                        uint8_t *out, size_t cap, size_t *len) {
  if (!a || !kr || !rng || !out || !len) return PROSE_EINVAL;
  const char *own = prose_keyring_own_uri(kr);
  if (strnlen(a->mcptt_id, sizeof a->mcptt_id) == sizeof a->mcptt_id ||
      strcmp(a->mcptt_id, own) != 0)
    return PROSE_EINVAL;
  /* The period number lies inside the signed octets, so it is looked up
   * (and the key set's presence checked) before anything is encoded. */
  uint64_t no;
  TRY(prose_keyring_sign(kr, rng, a->kms_uri, a->timestamp >> 32, NULL, 0, NULL, &no));
  if (no > UINT32_MAX) return PROSE_EPERIOD;
  a->period_no = (uint32_t)no;
  memset(a->sig, 0, sizeof a->sig);
  TRY(prose_disc_ann_encode(a, out, cap, len));
  size_t signed_len = *len - PROSE_ECCSI_SIG_LEN;
  TRY(prose_keyring_sign(kr, rng, a->kms_uri, a->timestamp >> 32, out, signed_len,
                         out + signed_len, NULL));
  memcpy(a->sig, out + signed_len, sizeof a->sig);
  return 0;
}
