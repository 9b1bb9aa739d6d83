/*
 * RTCP APP "MCPT" codec for off-network floor control (TS 24.380 clause 8).
 *
 * Everything is read through a prose_rd and written through a prose_wr, so
 * a length taken from the wire can never move a pointer past the buffer.
 * The decoder is strict about what it understands (sizes of fixed fields,
 * padding, duplicates) and lenient about what it does not (unknown field
 * IDs are skipped), which is the rule 24.380 8.2.3.1 gives receivers for
 * fields they do not recognise.
 */
#include "prose/floor_msg.h"

#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"

/* Field IDs from 192 up carry a 2-octet length (24.380 8.2.3.1). */
#define LONG_LEN_ID 192u
/* The old numbering of 24.380 v13.0.x starts at 102 (DESIGN.md §3). */
#define LEGACY_FIRST 102u
#define LEGACY_LAST 116u
#define FIELD_UNKNOWN 0xFFu

void prose_floor_msg_init(prose_floor_msg *m, prose_floor_msg_type type, uint32_t ssrc) {
  memset(m, 0, sizeof *m);
  m->type = (uint8_t)type;
  m->ssrc = ssrc;
}

const char *prose_floor_msg_type_name(unsigned type) {
  switch (type) {
    case PROSE_FLOOR_MSG_REQUEST: return "Floor Request";
    case PROSE_FLOOR_MSG_GRANTED: return "Floor Granted";
    case PROSE_FLOOR_MSG_TAKEN: return "Floor Taken";
    case PROSE_FLOOR_MSG_DENY: return "Floor Deny";
    case PROSE_FLOOR_MSG_RELEASE: return "Floor Release";
    case PROSE_FLOOR_MSG_IDLE: return "Floor Idle";
    case PROSE_FLOOR_MSG_REVOKE: return "Floor Revoke";
    case PROSE_FLOOR_MSG_QUEUE_POS_REQUEST: return "Floor Queue Position Request";
    case PROSE_FLOOR_MSG_QUEUE_POS_INFO: return "Floor Queue Position Info";
    case PROSE_FLOOR_MSG_ACK: return "Floor Ack";
    default: return "unknown";
  }
}

static bool type_known(unsigned type) {
  return type <= PROSE_FLOOR_MSG_REVOKE ||
         (type >= PROSE_FLOOR_MSG_QUEUE_POS_REQUEST && type <= PROSE_FLOOR_MSG_ACK);
}

/* ------------------------------------------------------------------ */
/* RTCP framing                                                       */

int prose_floor_rtcp_next(const uint8_t *buf, size_t len, size_t *pkt_len, uint8_t *pt) {
  prose_rd r = prose_rd_init(buf, len);
  uint8_t b0, type;
  uint16_t words;
  if (prose_rd_u8(&r, &b0) || prose_rd_u8(&r, &type) || prose_rd_u16(&r, &words))
    return PROSE_ETRUNC;
  /* RFC 3550 6.4.1: the version is 2 in every RTCP packet. */
  if ((b0 >> 6) != 2u) return PROSE_EFLOOR_RTCP;
  size_t total = ((size_t)words + 1u) * 4u;
  if (total > len) return PROSE_EOVERLONG;
  *pkt_len = total;
  *pt = type;
  return 0;
}

/* ------------------------------------------------------------------ */
/* Decoding                                                           */

/* Map a wire field ID (either numbering) to the current one. Old IDs:
 * 102..106 are fields 0..4, 108..116 are fields 5..13; 107 was never
 * assigned as far as the digest knows (DIGEST §8.2), so it is unknown. */
static uint8_t field_canonical(uint8_t id, bool *legacy) {
  *legacy = false;
  if (id <= PROSE_FLOOR_FLD_SSRC) return id;
  if (id < LEGACY_FIRST || id > LEGACY_LAST || id == 107u) return FIELD_UNKNOWN;
  *legacy = true;
  return (uint8_t)(id < 107u ? id - LEGACY_FIRST : id - 103u);
}

/* Decoder state shared by the per-field handlers. */
typedef struct dec {
  prose_floor_msg *m;
  bool in_queue; /* a Queue Size field has been seen */
} dec;

static int want_len(const prose_floor_view *v, size_t n) {
  return v->len == n ? 0 : PROSE_EFLOOR_FIELD;
}

static int rd_u16v(const prose_floor_view *v, uint16_t *out) {
  int rc = want_len(v, 2);
  if (rc == 0) *out = prose_get_u16(v->p);
  return rc;
}

/* Strings (MCPTT IDs) are never empty: an empty ID identifies nobody. */
static int rd_str(const prose_floor_view *v, prose_floor_view *out) {
  if (v->len == 0) return PROSE_EFLOOR_FIELD;
  *out = *v;
  return 0;
}

/* The SSRC field is SSRC(4) || spare(2) (24.380 8.2.3.15). */
static int rd_ssrc(const prose_floor_view *v, uint32_t *out) {
  int rc = want_len(v, 6);
  if (rc == 0) *out = prose_get_u32(v->p);
  return rc;
}

/* Queue-list fields after Queue Size: an SSRC opens an entry, the others
 * fill the open one, each at most once. */
static int dec_queue_field(dec *d, uint8_t fld, const prose_floor_view *v) {
  prose_floor_msg *m = d->m;
  if (fld == PROSE_FLOOR_FLD_SSRC) {
    if (m->n_queue >= PROSE_FLOOR_QUEUE_MAX) return PROSE_EFLOOR_QUEUE;
    prose_floor_qentry *e = &m->queue[m->n_queue];
    memset(e, 0, sizeof *e);
    int rc = rd_ssrc(v, &e->ssrc);
    if (rc == 0) m->n_queue++;
    return rc;
  }
  if (m->n_queue == 0) return PROSE_EFLOOR_QUEUE;
  prose_floor_qentry *e = &m->queue[m->n_queue - 1];
  if (fld == PROSE_FLOOR_FLD_QUEUED_USER_ID) {
    if (e->user_id.len) return PROSE_EFLOOR_QUEUE;
    return rd_str(v, &e->user_id);
  }
  /* Queue Info: position(1) || queue priority level(1). */
  if (e->has_info) return PROSE_EFLOOR_QUEUE;
  int rc = want_len(v, 2);
  if (rc) return rc;
  e->has_info = true;
  e->position = v->p[0];
  e->priority = v->p[1];
  return 0;
}

static int dec_reject(prose_floor_msg *m, const prose_floor_view *v) {
  /* Reject Cause: cause(2) || optional reason phrase (8.2.3.3). */
  if (v->len < 2) return PROSE_EFLOOR_FIELD;
  m->reject_cause = prose_get_u16(v->p);
  m->reject_phrase.p = v->p + 2;
  m->reject_phrase.len = v->len - 2;
  return 0;
}

static int dec_two_octets(prose_floor_msg *m, uint8_t fld, const prose_floor_view *v) {
  switch ((prose_floor_field)fld) {
    case PROSE_FLOOR_FLD_PRIORITY:
      /* Floor Priority: priority(1) || spare(1) (8.2.3.2). */
      if (want_len(v, 2)) return PROSE_EFLOOR_FIELD;
      m->priority = v->p[0];
      return 0;
    case PROSE_FLOOR_FLD_QUEUE_INFO:
      if (want_len(v, 2)) return PROSE_EFLOOR_FIELD;
      m->queue_position = v->p[0];
      m->queue_priority = v->p[1];
      return 0;
    case PROSE_FLOOR_FLD_MESSAGE_TYPE:
      /* Message Type: acknowledged subtype(1) || spare(1) (8.2.3.13). */
      if (want_len(v, 2)) return PROSE_EFLOOR_FIELD;
      m->acked_type = v->p[0];
      return 0;
    case PROSE_FLOOR_FLD_DURATION: return rd_u16v(v, &m->duration);
    case PROSE_FLOOR_FLD_QUEUE_SIZE: return rd_u16v(v, &m->queue_size);
    case PROSE_FLOOR_FLD_SEQ: return rd_u16v(v, &m->seq);
    case PROSE_FLOOR_FLD_INDICATOR: return rd_u16v(v, &m->indicator);
    case PROSE_FLOOR_FLD_PERMISSION: {
      int rc = rd_u16v(v, &m->permission);
      return rc ? rc : (m->permission > 1u ? PROSE_EFLOOR_FIELD : 0);
    }
    case PROSE_FLOOR_FLD_SOURCE: {
      int rc = rd_u16v(v, &m->source);
      return rc ? rc : (m->source > 3u ? PROSE_EFLOOR_FIELD : 0);
    }
    case PROSE_FLOOR_FLD_REJECT_CAUSE:
    case PROSE_FLOOR_FLD_GRANTED_PARTY:
    case PROSE_FLOOR_FLD_USER_ID:
    case PROSE_FLOOR_FLD_QUEUED_USER_ID:
    case PROSE_FLOOR_FLD_TRACK_INFO:
    case PROSE_FLOOR_FLD_SSRC: break; /* not fixed 2-octet fields: handled by dec_single */
  }
  return PROSE_EINTERNAL;
}

/* A field that may appear once (everything outside the queue list). */
static int dec_single(dec *d, uint8_t fld, const prose_floor_view *v) {
  prose_floor_msg *m = d->m;
  if (m->present & PROSE_FLOOR_HAS(fld)) return PROSE_EFLOOR_DUPLICATE;
  int rc = PROSE_EINTERNAL;
  switch ((prose_floor_field)fld) {
    case PROSE_FLOOR_FLD_REJECT_CAUSE: rc = dec_reject(m, v); break;
    case PROSE_FLOOR_FLD_GRANTED_PARTY: rc = rd_str(v, &m->granted_party); break;
    case PROSE_FLOOR_FLD_USER_ID: rc = rd_str(v, &m->user_id); break;
    case PROSE_FLOOR_FLD_QUEUED_USER_ID: rc = rd_str(v, &m->queued_user_id); break;
    case PROSE_FLOOR_FLD_SSRC: rc = rd_ssrc(v, &m->field_ssrc); break;
    case PROSE_FLOOR_FLD_TRACK_INFO:
      /* Track Info only matters on-network (24.380 8.2.3.12); skip it. */
      m->n_unknown++;
      return 0;
    case PROSE_FLOOR_FLD_PRIORITY:
    case PROSE_FLOOR_FLD_DURATION:
    case PROSE_FLOOR_FLD_QUEUE_INFO:
    case PROSE_FLOOR_FLD_PERMISSION:
    case PROSE_FLOOR_FLD_QUEUE_SIZE:
    case PROSE_FLOOR_FLD_SEQ:
    case PROSE_FLOOR_FLD_SOURCE:
    case PROSE_FLOOR_FLD_MESSAGE_TYPE:
    case PROSE_FLOOR_FLD_INDICATOR: rc = dec_two_octets(m, fld, v); break;
  }
  if (rc == 0) {
    m->present |= PROSE_FLOOR_HAS(fld);
    if (fld == PROSE_FLOOR_FLD_QUEUE_SIZE) d->in_queue = true;
  }
  return rc;
}

static bool is_queue_field(uint8_t fld) {
  return fld == PROSE_FLOOR_FLD_SSRC || fld == PROSE_FLOOR_FLD_QUEUED_USER_ID ||
         fld == PROSE_FLOOR_FLD_QUEUE_INFO;
}

/* Read one field: header, value, then the zero padding that brings the
 * field to a 32-bit boundary (24.380 8.2.3.1). */
static int dec_field(dec *d, prose_rd *r) {
  uint8_t id;
  size_t vlen, hdr;
  if (prose_rd_u8(r, &id)) return PROSE_ETRUNC;
  if (id >= LONG_LEN_ID) {
    uint16_t l16;
    if (prose_rd_u16(r, &l16)) return PROSE_ETRUNC;
    vlen = l16;
    hdr = 3;
  } else {
    uint8_t l8;
    if (prose_rd_u8(r, &l8)) return PROSE_ETRUNC;
    vlen = l8;
    hdr = 2;
  }
  prose_floor_view v;
  if (prose_rd_ptr(r, &v.p, vlen)) return PROSE_EOVERLONG;
  v.len = vlen;
  size_t pad = (4u - (hdr + vlen) % 4u) % 4u;
  const uint8_t *pp;
  if (prose_rd_ptr(r, &pp, pad)) return PROSE_ETRUNC;
  for (size_t i = 0; i < pad; i++)
    if (pp[i] != 0) return PROSE_EFLOOR_PADDING;

  bool legacy;
  uint8_t fld = field_canonical(id, &legacy);
  if (fld == FIELD_UNKNOWN) {
    d->m->n_unknown++;
    return 0;
  }
  if (legacy) d->m->legacy_ids = true;
  if (d->in_queue && is_queue_field(fld)) return dec_queue_field(d, fld, &v);
  return dec_single(d, fld, &v);
}

/* The fields the off-network floor participant cannot do without
 * (24.380 8.2.4 - 8.2.10, off-network rows). */
static int check_mandatory(const prose_floor_msg *m) {
  uint32_t p = m->present;
  bool uid = p & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_USER_ID);
  bool ok;
  switch (m->type) {
    case PROSE_FLOOR_MSG_REQUEST:
    case PROSE_FLOOR_MSG_RELEASE:
    case PROSE_FLOOR_MSG_QUEUE_POS_REQUEST: ok = uid; break;
    case PROSE_FLOOR_MSG_GRANTED: ok = uid || (p & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC)); break;
    case PROSE_FLOOR_MSG_DENY:
      ok = uid && (p & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_REJECT_CAUSE));
      break;
    case PROSE_FLOOR_MSG_TAKEN:
      ok = uid || (p & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_GRANTED_PARTY));
      break;
    case PROSE_FLOOR_MSG_QUEUE_POS_INFO:
      ok = (p & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_INFO)) &&
           (p & (PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUED_USER_ID) |
                 PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC)));
      break;
    default: ok = true; break; /* on-network messages: the engine ignores them */
  }
  return ok ? 0 : PROSE_EFLOOR_MISSING;
}

/* RFC 3550 6.4.1: with P set, the last octet counts the padding octets,
 * itself included. */
static int strip_rtcp_padding(prose_rd *body) {
  size_t left = prose_rd_left(body);
  if (left == 0) return PROSE_EFLOOR_RTCP;
  uint8_t n = body->buf[body->off + left - 1];
  if (n == 0 || n > left) return PROSE_EFLOOR_RTCP;
  body->len -= n;
  return 0;
}

static int dec_header(prose_rd *r, size_t len, prose_floor_msg *m, bool *padded) {
  uint8_t b0, pt;
  uint16_t words;
  uint8_t name[4];
  if (prose_rd_u8(r, &b0) || prose_rd_u8(r, &pt) || prose_rd_u16(r, &words)) return PROSE_ETRUNC;
  if ((b0 >> 6) != 2u || pt != PROSE_FLOOR_RTCP_APP) return PROSE_EFLOOR_RTCP;
  size_t total = ((size_t)words + 1u) * 4u;
  if (total > len) return PROSE_EOVERLONG;
  if (total < len) return PROSE_ETRAILING;
  if (prose_rd_u32(r, &m->ssrc) || prose_rd_bytes(r, name, 4)) return PROSE_ETRUNC;
  if (memcmp(name, PROSE_FLOOR_NAME, 4) != 0) return PROSE_EFLOOR_RTCP;
  *padded = (b0 & 0x20u) != 0;
  unsigned subtype = b0 & 0x1Fu;
  m->ack_required = (subtype & PROSE_FLOOR_ACK_BIT) != 0;
  m->type = (uint8_t)(subtype & 0x0Fu);
  return type_known(m->type) ? 0 : PROSE_EFLOOR_TYPE;
}

int prose_floor_msg_decode(const uint8_t *pkt, size_t len, prose_floor_msg *m) {
  memset(m, 0, sizeof *m);
  prose_rd r = prose_rd_init(pkt, len);
  bool padded = false;
  int rc = dec_header(&r, len, m, &padded);
  if (rc) return rc;
  prose_rd body;
  if (prose_rd_sub(&r, &body, prose_rd_left(&r))) return PROSE_EINTERNAL;
  if (padded && (rc = strip_rtcp_padding(&body)) != 0) return rc;
  dec d = {m, false};
  while (prose_rd_left(&body) > 0)
    if ((rc = dec_field(&d, &body)) != 0) return rc;
  if ((m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE)) && m->n_queue != m->queue_size)
    return PROSE_EFLOOR_QUEUE;
  return check_mandatory(m);
}

/* ------------------------------------------------------------------ */
/* Encoding                                                           */

static void enc_field(prose_wr *w, uint8_t id, const void *val, size_t n) {
  prose_wr_u8(w, id);
  prose_wr_u8(w, (uint8_t)n);
  prose_wr_bytes(w, val, n);
  prose_wr_zeros(w, (4u - (2u + n) % 4u) % 4u);
}

static void enc_u16(prose_wr *w, uint8_t id, uint16_t v) {
  uint8_t b[2];
  prose_put_u16(b, v);
  enc_field(w, id, b, 2);
}

static void enc_pair(prose_wr *w, uint8_t id, uint8_t a, uint8_t b) {
  uint8_t v[2] = {a, b};
  enc_field(w, id, v, 2);
}

static void enc_ssrc(prose_wr *w, uint32_t ssrc) {
  uint8_t v[6] = {0};
  prose_put_u32(v, ssrc);
  enc_field(w, PROSE_FLOOR_FLD_SSRC, v, 6);
}

static void enc_reject(prose_wr *w, const prose_floor_msg *m) {
  prose_wr_u8(w, PROSE_FLOOR_FLD_REJECT_CAUSE);
  prose_wr_u8(w, (uint8_t)(2u + m->reject_phrase.len));
  prose_wr_u16(w, m->reject_cause);
  prose_wr_bytes(w, m->reject_phrase.p, m->reject_phrase.len);
  prose_wr_zeros(w, (4u - (4u + m->reject_phrase.len) % 4u) % 4u);
}

/* Write one single (non-queue-list) field. */
static void enc_single(prose_wr *w, const prose_floor_msg *m, uint8_t fld) {
  switch ((prose_floor_field)fld) {
    case PROSE_FLOOR_FLD_PRIORITY: enc_pair(w, fld, m->priority, 0); break;
    case PROSE_FLOOR_FLD_DURATION: enc_u16(w, fld, m->duration); break;
    case PROSE_FLOOR_FLD_REJECT_CAUSE: enc_reject(w, m); break;
    case PROSE_FLOOR_FLD_QUEUE_INFO: enc_pair(w, fld, m->queue_position, m->queue_priority); break;
    case PROSE_FLOOR_FLD_GRANTED_PARTY:
      enc_field(w, fld, m->granted_party.p, m->granted_party.len);
      break;
    case PROSE_FLOOR_FLD_PERMISSION: enc_u16(w, fld, m->permission); break;
    case PROSE_FLOOR_FLD_USER_ID: enc_field(w, fld, m->user_id.p, m->user_id.len); break;
    case PROSE_FLOOR_FLD_QUEUE_SIZE: enc_u16(w, fld, m->queue_size); break;
    case PROSE_FLOOR_FLD_SEQ: enc_u16(w, fld, m->seq); break;
    case PROSE_FLOOR_FLD_QUEUED_USER_ID:
      enc_field(w, fld, m->queued_user_id.p, m->queued_user_id.len);
      break;
    case PROSE_FLOOR_FLD_SOURCE: enc_u16(w, fld, m->source); break;
    case PROSE_FLOOR_FLD_MESSAGE_TYPE: enc_pair(w, fld, m->acked_type, 0); break;
    case PROSE_FLOOR_FLD_INDICATOR: enc_u16(w, fld, m->indicator); break;
    case PROSE_FLOOR_FLD_SSRC: enc_ssrc(w, m->field_ssrc); break;
    case PROSE_FLOOR_FLD_TRACK_INFO: break; /* never stored, never sent */
  }
}

static void enc_queue(prose_wr *w, const prose_floor_msg *m) {
  enc_single(w, m, PROSE_FLOOR_FLD_QUEUE_SIZE);
  for (size_t i = 0; i < m->n_queue; i++) {
    const prose_floor_qentry *e = &m->queue[i];
    enc_ssrc(w, e->ssrc);
    if (e->user_id.len) enc_field(w, PROSE_FLOOR_FLD_QUEUED_USER_ID, e->user_id.p, e->user_id.len);
    if (e->has_info) enc_pair(w, PROSE_FLOOR_FLD_QUEUE_INFO, e->position, e->priority);
  }
}

/* Field order of each message in the 24.380 8.2.4 - 8.2.10 tables (the
 * off-network rows); Floor Priority in Floor Taken is prose's addition for
 * the tie-break (floor.c). The queue list and Floor Indicator always come
 * last, in that order, so that a single SSRC, Queued User ID or Queue Info
 * is never mistaken for a queue entry by a receiver. */
static const uint8_t order_request[] = {PROSE_FLOOR_FLD_PRIORITY, PROSE_FLOOR_FLD_USER_ID};
static const uint8_t order_granted[] = {PROSE_FLOOR_FLD_DURATION, PROSE_FLOOR_FLD_SSRC,
                                        PROSE_FLOOR_FLD_PRIORITY, PROSE_FLOOR_FLD_USER_ID};
static const uint8_t order_taken[] = {PROSE_FLOOR_FLD_GRANTED_PARTY, PROSE_FLOOR_FLD_PERMISSION,
                                      PROSE_FLOOR_FLD_PRIORITY, PROSE_FLOOR_FLD_USER_ID,
                                      PROSE_FLOOR_FLD_SEQ};
static const uint8_t order_deny[] = {PROSE_FLOOR_FLD_REJECT_CAUSE, PROSE_FLOOR_FLD_USER_ID};
static const uint8_t order_qpi[] = {PROSE_FLOOR_FLD_USER_ID, PROSE_FLOOR_FLD_SSRC,
                                    PROSE_FLOOR_FLD_QUEUED_USER_ID, PROSE_FLOOR_FLD_QUEUE_INFO};
/* Every other single field, after the message's own order. */
static const uint8_t order_rest[] = {PROSE_FLOOR_FLD_PRIORITY,       PROSE_FLOOR_FLD_DURATION,
                                     PROSE_FLOOR_FLD_REJECT_CAUSE,   PROSE_FLOOR_FLD_GRANTED_PARTY,
                                     PROSE_FLOOR_FLD_PERMISSION,     PROSE_FLOOR_FLD_SSRC,
                                     PROSE_FLOOR_FLD_USER_ID,        PROSE_FLOOR_FLD_SEQ,
                                     PROSE_FLOOR_FLD_SOURCE,         PROSE_FLOOR_FLD_MESSAGE_TYPE,
                                     PROSE_FLOOR_FLD_QUEUED_USER_ID, PROSE_FLOOR_FLD_QUEUE_INFO};

static const uint8_t *type_order(uint8_t type, size_t *n) {
  switch (type) {
    case PROSE_FLOOR_MSG_REQUEST: *n = sizeof order_request; return order_request;
    case PROSE_FLOOR_MSG_GRANTED: *n = sizeof order_granted; return order_granted;
    case PROSE_FLOOR_MSG_TAKEN: *n = sizeof order_taken; return order_taken;
    case PROSE_FLOOR_MSG_DENY: *n = sizeof order_deny; return order_deny;
    case PROSE_FLOOR_MSG_QUEUE_POS_INFO: *n = sizeof order_qpi; return order_qpi;
    default: *n = 0; return order_rest; /* Release, QPR and on-network: generic order */
  }
}

static void enc_fields(prose_wr *w, const prose_floor_msg *m) {
  uint32_t todo = m->present & ~(PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE) |
                                 PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_INDICATOR) |
                                 PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_TRACK_INFO));
  const uint8_t *lists[2];
  size_t ns[2];
  lists[0] = type_order(m->type, &ns[0]);
  lists[1] = order_rest;
  ns[1] = sizeof order_rest;
  for (size_t l = 0; l < 2; l++) {
    for (size_t i = 0; i < ns[l]; i++) {
      uint8_t fld = lists[l][i];
      if (!(todo & PROSE_FLOOR_HAS(fld))) continue;
      enc_single(w, m, fld);
      todo &= ~PROSE_FLOOR_HAS(fld);
    }
  }
  if (m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE)) enc_queue(w, m);
  if (m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_INDICATOR))
    enc_single(w, m, PROSE_FLOOR_FLD_INDICATOR);
}

static bool view_ok(const prose_floor_view *v, size_t max) {
  return v->len <= max && (v->len == 0 || v->p != NULL);
}

static int enc_check(const prose_floor_msg *m) {
  if (m->type > 0x0Fu || m->n_queue > PROSE_FLOOR_QUEUE_MAX) return PROSE_EINVAL;
  if (m->n_queue && !(m->present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE)))
    return PROSE_EINVAL;
  if (!view_ok(&m->user_id, 255) || !view_ok(&m->granted_party, 255) ||
      !view_ok(&m->queued_user_id, 255) || !view_ok(&m->reject_phrase, 253))
    return PROSE_EINVAL;
  for (size_t i = 0; i < m->n_queue; i++)
    if (!view_ok(&m->queue[i].user_id, 255)) return PROSE_EINVAL;
  return 0;
}

int prose_floor_msg_encode(const prose_floor_msg *m, uint8_t *out, size_t cap, size_t *out_len) {
  int rc = enc_check(m);
  if (rc) return rc;
  prose_wr w = prose_wr_init(out, cap);
  uint8_t subtype = (uint8_t)(m->type | (m->ack_required ? PROSE_FLOOR_ACK_BIT : 0u));
  prose_wr_u8(&w, (uint8_t)(0x80u | subtype)); /* V=2, P=0 */
  prose_wr_u8(&w, PROSE_FLOOR_RTCP_APP);
  uint8_t *len_at = prose_wr_reserve(&w, 2);
  prose_wr_u32(&w, m->ssrc);
  prose_wr_bytes(&w, PROSE_FLOOR_NAME, 4);
  enc_fields(&w, m);
  if ((rc = prose_wr_finish(&w)) != 0) return rc;
  if (len_at == NULL) { /* counting writer (out == NULL, cap == 0): size only */
    *out_len = w.len;
    return 0;
  }
  /* Every field is padded to 32 bits, so w.len is a multiple of 4. */
  if (w.len % 4u != 0 || w.len / 4u - 1u > 0xFFFFu) return PROSE_EINTERNAL;
  prose_put_u16(len_at, (uint16_t)(w.len / 4u - 1u));
  *out_len = w.len;
  return 0;
}
