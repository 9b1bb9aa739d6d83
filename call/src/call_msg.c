/*
 * MONP codec (TS 24.379 clause 15 and Annex I).
 *
 * The twenty message layouts are data: one row per message type lists its
 * mandatory IEs in table order, the optional IEs it defines and the call
 * types it may carry. Decode and encode both walk that row, so a layout is
 * written down once (STYLE §2 point 6, message-sequence form).
 */
#include "prose/call_msg.h"

#include <string.h>

#include "prose/buf.h"
#include "prose/err.h"

/* Mandatory IEs, in the names of the 24.379 tables. */
typedef enum monp_field {
  F_END = 0,
  F_CALL_ID,      /* Call identifier, V 2 */
  F_CALL_TYPE,    /* Call type, V 1 */
  F_COMMENCEMENT, /* Commencement mode, V 1 */
  F_REASON,       /* Reason, V 1 */
  F_REFRESH,      /* Refresh interval, V 2 */
  F_START,        /* Call start time, V 5 */
  F_LAST_CHANGE,  /* Last call type change time, V 5 */
  F_GROUP,        /* MCPTT group ID, LV-E */
  F_SDP,          /* SDP, LV-E */
  F_ORIG,         /* Originating MCPTT user ID, LV-E */
  F_LAST_USER,    /* Last user to change call type, LV-E */
  F_SENDING,      /* Sending MCPTT user ID, LV-E */
  F_CALLER,       /* Caller ID, LV-E */
  F_CALLEE,       /* Callee ID, LV-E */
  F_ORG           /* Organization name, LV-E */
} monp_field;

/* Optional IEs a message defines. */
#define OPT_CONFIRM 0x01u  /* 0x80 confirm mode indication, T */
#define OPT_PROBE 0x02u    /* 0x81 probe response, T */
#define OPT_LOCATION 0x04u /* 0x78 user location, TLV-E */

/* Allowed call types as a bit mask (bit n = call type n). */
#define CT_GROUP ((1u << 1) | (1u << 3) | (1u << 4))
#define CT_BROADCAST (1u << 2)
#define CT_PRIVATE ((1u << 5) | (1u << 6))

#define MONP_MAX_FIELDS 9

typedef struct monp_layout {
  const char *name;
  uint8_t fields[MONP_MAX_FIELDS + 1]; /* F_END-terminated */
  uint8_t opts;
  uint8_t call_types;
} monp_layout;

/* DIGEST §7.4; 24.379 tables 15.1.x.1-1. Index = message type. */
static const monp_layout layouts[PROSE_MONP_TYPE_MAX + 1] = {
    [PROSE_MONP_GROUP_CALL_PROBE] = {"GROUP CALL PROBE", {F_GROUP}, 0, 0},
    [PROSE_MONP_GROUP_CALL_ANNOUNCEMENT] = {"GROUP CALL ANNOUNCEMENT",
                                            {F_CALL_ID, F_CALL_TYPE, F_REFRESH, F_START,
                                             F_LAST_CHANGE, F_GROUP, F_SDP, F_ORIG, F_LAST_USER},
                                            OPT_CONFIRM | OPT_PROBE,
                                            CT_GROUP},
    [PROSE_MONP_GROUP_CALL_ACCEPT] = {"GROUP CALL ACCEPT",
                                      {F_CALL_ID, F_CALL_TYPE, F_GROUP, F_SENDING},
                                      0,
                                      CT_GROUP},
    [PROSE_MONP_GROUP_CALL_EMERGENCY_END] = {"GROUP CALL EMERGENCY END",
                                             {F_CALL_ID, F_LAST_CHANGE, F_LAST_USER, F_GROUP,
                                              F_SENDING},
                                             0,
                                             0},
    [PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END] = {"GROUP CALL IMMINENT PERIL END",
                                                  {F_CALL_ID, F_LAST_CHANGE, F_LAST_USER,
                                                   F_GROUP, F_SENDING},
                                                  0,
                                                  0},
    [PROSE_MONP_GROUP_CALL_BROADCAST] = {"GROUP CALL BROADCAST",
                                         {F_CALL_ID, F_CALL_TYPE, F_ORIG, F_GROUP, F_SDP},
                                         0,
                                         CT_BROADCAST},
    [PROSE_MONP_GROUP_CALL_BROADCAST_END] = {"GROUP CALL BROADCAST END",
                                             {F_CALL_ID, F_GROUP, F_ORIG},
                                             0,
                                             0},
    [PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST] = {"PRIVATE CALL SETUP REQUEST",
                                               {F_CALL_ID, F_COMMENCEMENT, F_CALL_TYPE,
                                                F_CALLER, F_CALLEE, F_SDP},
                                               OPT_LOCATION,
                                               CT_PRIVATE},
    [PROSE_MONP_PRIVATE_CALL_RINGING] = {"PRIVATE CALL RINGING",
                                         {F_CALL_ID, F_CALLER, F_CALLEE},
                                         0,
                                         0},
    [PROSE_MONP_PRIVATE_CALL_ACCEPT] = {"PRIVATE CALL ACCEPT",
                                        {F_CALL_ID, F_CALLER, F_CALLEE, F_SDP},
                                        0,
                                        0},
    [PROSE_MONP_PRIVATE_CALL_REJECT] = {"PRIVATE CALL REJECT",
                                        {F_CALL_ID, F_REASON, F_CALLER, F_CALLEE},
                                        0,
                                        0},
    [PROSE_MONP_PRIVATE_CALL_RELEASE] = {"PRIVATE CALL RELEASE",
                                         {F_CALL_ID, F_CALLER, F_CALLEE},
                                         0,
                                         0},
    [PROSE_MONP_PRIVATE_CALL_RELEASE_ACK] = {"PRIVATE CALL RELEASE ACK",
                                             {F_CALL_ID, F_CALLER, F_CALLEE},
                                             0,
                                             0},
    [PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK] = {"PRIVATE CALL ACCEPT ACK",
                                            {F_CALL_ID, F_CALLER, F_CALLEE},
                                            0,
                                            0},
    [PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL] = {"PRIVATE EMERGENCY CALL CANCEL",
                                                  {F_CALL_ID, F_CALLER, F_CALLEE},
                                                  0,
                                                  0},
    [PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK] = {"PRIVATE EMERGENCY CALL CANCEL ACK",
                                                      {F_CALL_ID, F_CALLER, F_CALLEE},
                                                      0,
                                                      0},
    [PROSE_MONP_GROUP_EMERGENCY_ALERT] = {"GROUP EMERGENCY ALERT",
                                          {F_GROUP, F_ORIG, F_ORG},
                                          OPT_LOCATION,
                                          0},
    [PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK] = {"GROUP EMERGENCY ALERT ACK",
                                              {F_GROUP, F_ORIG, F_SENDING},
                                              0,
                                              0},
    [PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL] = {"GROUP EMERGENCY ALERT CANCEL",
                                                 {F_GROUP, F_ORIG, F_SENDING},
                                                 0,
                                                 0},
    [PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK] = {"GROUP EMERGENCY ALERT CANCEL ACK",
                                                     {F_GROUP, F_ORIG, F_SENDING},
                                                     0,
                                                     0},
};

static const monp_layout *layout_of(int type) {
  if (type < PROSE_MONP_TYPE_MIN || type > PROSE_MONP_TYPE_MAX) return NULL;
  return &layouts[type];
}

const char *prose_monp_type_name(int type) {
  const monp_layout *l = layout_of(type);
  return l ? l->name : "UNKNOWN";
}

bool prose_monp_is_group(prose_monp_type type) {
  switch (type) {
    case PROSE_MONP_GROUP_CALL_PROBE:
    case PROSE_MONP_GROUP_CALL_ANNOUNCEMENT:
    case PROSE_MONP_GROUP_CALL_ACCEPT:
    case PROSE_MONP_GROUP_CALL_EMERGENCY_END:
    case PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END:
    case PROSE_MONP_GROUP_CALL_BROADCAST:
    case PROSE_MONP_GROUP_CALL_BROADCAST_END:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL:
    case PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK:
      return true;
    case PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST:
    case PROSE_MONP_PRIVATE_CALL_RINGING:
    case PROSE_MONP_PRIVATE_CALL_ACCEPT:
    case PROSE_MONP_PRIVATE_CALL_REJECT:
    case PROSE_MONP_PRIVATE_CALL_RELEASE:
    case PROSE_MONP_PRIVATE_CALL_RELEASE_ACK:
    case PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK:
    case PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL:
    case PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK:
      return false;
  }
  return false;
}

bool prose_monp_str_eq(prose_monp_str s, const char *z) {
  size_t n = z ? strlen(z) : 0;
  return s.len == n && (n == 0 || memcmp(s.p, z, n) == 0);
}

prose_monp_str prose_monp_str_of(const char *z) {
  prose_monp_str s = {z, z ? strlen(z) : 0};
  return s;
}

/* ---------------------------------------------------------------------- */
/* Decode                                                                   */
/* ---------------------------------------------------------------------- */

/* Well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
 * above U+10FFFF) without NUL, so a decoded string can become a C string. */
static bool utf8_ok(const uint8_t *p, size_t n) {
  size_t i = 0;
  while (i < n) {
    uint8_t c = p[i];
    if (c == 0) return false;
    if (c < 0x80) {
      i++;
      continue;
    }
    size_t extra;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
      extra = 1, cp = c & 0x1Fu, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      extra = 2, cp = c & 0x0Fu, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      extra = 3, cp = c & 0x07u, min = 0x10000;
    } else {
      return false;
    }
    if (n - i <= extra) return false;
    for (size_t k = 1; k <= extra; k++) {
      if ((p[i + k] & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (p[i + k] & 0x3Fu);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += extra + 1;
  }
  return true;
}

/* LV-E: 2-octet length, then 1..max octets of text (the tables give the IE
 * length as "3-x", so the value has at least one octet). */
static int rd_str(prose_rd *r, prose_monp_str *s, size_t max) {
  uint16_t n;
  const uint8_t *p;
  if (prose_rd_u16(r, &n) != 0) return PROSE_ETRUNC;
  if (prose_rd_ptr(r, &p, n) != 0) return PROSE_EOVERLONG;
  if (n == 0 || n > max || !utf8_ok(p, n)) return PROSE_EMONP_STRING;
  s->p = (const char *)p;
  s->len = n;
  return 0;
}

static int rd_field(prose_rd *r, monp_field f, const monp_layout *l, prose_monp_msg *m) {
  int rc = 0;
  switch (f) {
    case F_END:
      return 0;
    case F_CALL_ID:
      return prose_rd_u16(r, &m->call_id);
    case F_CALL_TYPE:
      if ((rc = prose_rd_u8(r, &m->call_type)) != 0) return rc;
      return (m->call_type < 8 && (l->call_types >> m->call_type) & 1u) ? 0 : PROSE_EMONP_VALUE;
    case F_COMMENCEMENT:
      if ((rc = prose_rd_u8(r, &m->commencement)) != 0) return rc;
      return m->commencement <= PROSE_MONP_COMMENCEMENT_MANUAL ? 0 : PROSE_EMONP_VALUE;
    case F_REASON:
      return prose_rd_u8(r, &m->reason);
    case F_REFRESH:
      if ((rc = prose_rd_u16(r, &m->refresh_interval)) != 0) return rc;
      /* A zero interval would make the periodic announcement spin. */
      return m->refresh_interval > 0 ? 0 : PROSE_EMONP_VALUE;
    case F_START:
      return prose_rd_u40(r, &m->call_start_time);
    case F_LAST_CHANGE:
      return prose_rd_u40(r, &m->last_change_time);
    case F_GROUP:
      return rd_str(r, &m->group_id, PROSE_MONP_ID_MAX);
    case F_SDP:
      return rd_str(r, &m->sdp, PROSE_MONP_SDP_MAX);
    case F_ORIG:
      return rd_str(r, &m->originating_user, PROSE_MONP_ID_MAX);
    case F_LAST_USER:
      return rd_str(r, &m->last_change_user, PROSE_MONP_ID_MAX);
    case F_SENDING:
      return rd_str(r, &m->sending_user, PROSE_MONP_ID_MAX);
    case F_CALLER:
      return rd_str(r, &m->caller, PROSE_MONP_ID_MAX);
    case F_CALLEE:
      return rd_str(r, &m->callee, PROSE_MONP_ID_MAX);
    case F_ORG:
      return rd_str(r, &m->organization, PROSE_MONP_TEXT_MAX);
  }
  return PROSE_EINTERNAL;
}

/* Skip an IE this message does not define, by the 24.007 11.2.4 IEI rules. */
static int skip_unknown_ie(prose_rd *r, uint8_t iei) {
  if ((iei & 0xF0u) == 0) return PROSE_EMONP_IE; /* comprehension required */
  if (iei & 0x80u) return 0;                     /* type 1 or 2: one octet */
  size_t n;
  if ((iei & 0xF0u) == 0x70u) {
    uint16_t l16;
    if (prose_rd_u16(r, &l16) != 0) return PROSE_ETRUNC;
    n = l16;
  } else {
    uint8_t l8;
    if (prose_rd_u8(r, &l8) != 0) return PROSE_ETRUNC;
    n = l8;
  }
  return prose_rd_skip(r, n) == 0 ? 0 : PROSE_EOVERLONG;
}

static int rd_location(prose_rd *r, prose_monp_msg *m) {
  uint16_t n;
  const uint8_t *p;
  if (prose_rd_u16(r, &n) != 0) return PROSE_ETRUNC;
  if (prose_rd_ptr(r, &p, n) != 0) return PROSE_EOVERLONG;
  if (n > PROSE_MONP_LOCATION_MAX) return PROSE_EMONP_IE;
  if (!m->has_user_location) { /* 24.008 8.6.3: the first one counts */
    m->has_user_location = true;
    m->user_location.p = (const char *)p;
    m->user_location.len = n;
  }
  return 0;
}

static int rd_optional(prose_rd *r, const monp_layout *l, prose_monp_msg *m) {
  while (prose_rd_left(r) > 0) {
    uint8_t iei;
    int rc = prose_rd_u8(r, &iei);
    if (rc != 0) return rc;
    bool confirm = iei == PROSE_MONP_IEI_CONFIRM_MODE || iei == PROSE_MONP_IEI_CONFIRM_MODE_DEC;
    bool probe = iei == PROSE_MONP_IEI_PROBE_RESPONSE || iei == PROSE_MONP_IEI_PROBE_RESPONSE_DEC;
    if ((l->opts & OPT_CONFIRM) && confirm) {
      m->confirm_mode = true;
    } else if ((l->opts & OPT_PROBE) && probe) {
      m->probe_response = true;
    } else if ((l->opts & OPT_LOCATION) && iei == PROSE_MONP_IEI_USER_LOCATION) {
      rc = rd_location(r, m);
    } else {
      rc = skip_unknown_ie(r, iei);
    }
    if (rc != 0) return rc;
  }
  return 0;
}

int prose_monp_decode(const uint8_t *buf, size_t len, prose_monp_msg *m) {
  if (m == NULL || (buf == NULL && len > 0)) return PROSE_EINVAL;
  memset(m, 0, sizeof *m);
  prose_rd r = prose_rd_init(buf, len);
  uint8_t type;
  if (prose_rd_u8(&r, &type) != 0) return PROSE_ETRUNC;
  const monp_layout *l = layout_of(type);
  if (l == NULL) return PROSE_EMONP_TYPE;
  m->type = (prose_monp_type)type;
  for (size_t i = 0; l->fields[i] != F_END; i++) {
    int rc = rd_field(&r, (monp_field)l->fields[i], l, m);
    if (rc != 0) return rc;
  }
  return rd_optional(&r, l, m);
}

/* ---------------------------------------------------------------------- */
/* Encode                                                                   */
/* ---------------------------------------------------------------------- */

static int wr_str(prose_wr *w, prose_monp_str s) {
  if (s.len > UINT16_MAX) return PROSE_ERANGE;
  if (s.p == NULL && s.len > 0) return PROSE_EINVAL;
  prose_wr_u16(w, (uint16_t)s.len);
  prose_wr_bytes(w, s.p, s.len);
  return 0;
}

static int wr_time(prose_wr *w, uint64_t t) {
  if (t >> 40) return PROSE_ERANGE;
  prose_wr_u40(w, t);
  return 0;
}

static int wr_field(prose_wr *w, monp_field f, const prose_monp_msg *m) {
  switch (f) {
    case F_END:
      return 0;
    case F_CALL_ID:
      prose_wr_u16(w, m->call_id);
      return 0;
    case F_CALL_TYPE:
      prose_wr_u8(w, m->call_type);
      return 0;
    case F_COMMENCEMENT:
      prose_wr_u8(w, m->commencement);
      return 0;
    case F_REASON:
      prose_wr_u8(w, m->reason);
      return 0;
    case F_REFRESH:
      prose_wr_u16(w, m->refresh_interval);
      return 0;
    case F_START:
      return wr_time(w, m->call_start_time);
    case F_LAST_CHANGE:
      return wr_time(w, m->last_change_time);
    case F_GROUP:
      return wr_str(w, m->group_id);
    case F_SDP:
      return wr_str(w, m->sdp);
    case F_ORIG:
      return wr_str(w, m->originating_user);
    case F_LAST_USER:
      return wr_str(w, m->last_change_user);
    case F_SENDING:
      return wr_str(w, m->sending_user);
    case F_CALLER:
      return wr_str(w, m->caller);
    case F_CALLEE:
      return wr_str(w, m->callee);
    case F_ORG:
      return wr_str(w, m->organization);
  }
  return PROSE_EINTERNAL;
}

/* Optional IEs in the order of the tables: 0x80, 0x81 (announcement), 0x78. */
static int wr_optional(prose_wr *w, const monp_layout *l, const prose_monp_msg *m) {
  if ((l->opts & OPT_CONFIRM) && m->confirm_mode) prose_wr_u8(w, PROSE_MONP_IEI_CONFIRM_MODE);
  if ((l->opts & OPT_PROBE) && m->probe_response) prose_wr_u8(w, PROSE_MONP_IEI_PROBE_RESPONSE);
  if ((l->opts & OPT_LOCATION) && m->has_user_location) {
    prose_wr_u8(w, PROSE_MONP_IEI_USER_LOCATION);
    return wr_str(w, m->user_location);
  }
  return 0;
}

int prose_monp_encode(const prose_monp_msg *m, uint8_t *out, size_t cap, size_t *len) {
  if (m == NULL || len == NULL || (out == NULL && cap > 0)) return PROSE_EINVAL;
  const monp_layout *l = layout_of((int)m->type);
  if (l == NULL) return PROSE_EINVAL;
  prose_wr w = prose_wr_init(out, cap);
  prose_wr_u8(&w, (uint8_t)m->type);
  for (size_t i = 0; l->fields[i] != F_END; i++) {
    int rc = wr_field(&w, (monp_field)l->fields[i], m);
    if (rc != 0) return rc;
  }
  int rc = wr_optional(&w, l, m);
  if (rc != 0) return rc;
  if ((rc = prose_wr_finish(&w)) != 0) return rc;
  *len = w.len;
  return 0;
}
