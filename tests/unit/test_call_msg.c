/*
 * MONP codec: round trips of every message type with every optional IE,
 * golden octets built by hand from DIGEST §7.3/§7.4, every truncation and
 * every overlong length with its specific code, value checks and the
 * 24.007 rules for unknown optional IEs.
 *
 * The layouts below are written again from the digest, independently of the
 * codec's table, so a slip in either shows up as a failure.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/call_msg.h"
#include "prose/err.h"
#include "testsupport.h"

enum {
  X = 0, /* end */
  CALL_ID,
  CALL_TYPE,
  COMMENCEMENT,
  REASON,
  REFRESH,
  START,
  LAST_CHANGE,
  GROUP,
  SDP,
  ORIG,
  LAST_USER,
  SENDING,
  CALLER,
  CALLEE,
  ORG
};
typedef int tf; /* an int, so switches may use default: */

#define O_CONFIRM 1
#define O_PROBE 2
#define O_LOC 4

static const struct {
  prose_monp_type type;
  tf f[10];
  int opts;
  uint8_t call_type; /* a valid call type for the message, 0 if none */
} L[] = {
    {PROSE_MONP_GROUP_CALL_PROBE, {GROUP}, 0, 0},
    {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT,
     {CALL_ID, CALL_TYPE, REFRESH, START, LAST_CHANGE, GROUP, SDP, ORIG, LAST_USER},
     O_CONFIRM | O_PROBE,
     3},
    {PROSE_MONP_GROUP_CALL_ACCEPT, {CALL_ID, CALL_TYPE, GROUP, SENDING}, 0, 4},
    {PROSE_MONP_GROUP_CALL_EMERGENCY_END, {CALL_ID, LAST_CHANGE, LAST_USER, GROUP, SENDING}, 0, 0},
    {PROSE_MONP_GROUP_CALL_IMMINENT_PERIL_END,
     {CALL_ID, LAST_CHANGE, LAST_USER, GROUP, SENDING},
     0,
     0},
    {PROSE_MONP_GROUP_CALL_BROADCAST, {CALL_ID, CALL_TYPE, ORIG, GROUP, SDP}, 0, 2},
    {PROSE_MONP_GROUP_CALL_BROADCAST_END, {CALL_ID, GROUP, ORIG}, 0, 0},
    {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST,
     {CALL_ID, COMMENCEMENT, CALL_TYPE, CALLER, CALLEE, SDP},
     O_LOC,
     6},
    {PROSE_MONP_PRIVATE_CALL_RINGING, {CALL_ID, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_PRIVATE_CALL_ACCEPT, {CALL_ID, CALLER, CALLEE, SDP}, 0, 0},
    {PROSE_MONP_PRIVATE_CALL_REJECT, {CALL_ID, REASON, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_PRIVATE_CALL_RELEASE, {CALL_ID, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_PRIVATE_CALL_RELEASE_ACK, {CALL_ID, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK, {CALL_ID, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL, {CALL_ID, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL_ACK, {CALL_ID, CALLER, CALLEE}, 0, 0},
    {PROSE_MONP_GROUP_EMERGENCY_ALERT, {GROUP, ORIG, ORG}, O_LOC, 0},
    {PROSE_MONP_GROUP_EMERGENCY_ALERT_ACK, {GROUP, ORIG, SENDING}, 0, 0},
    {PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL, {GROUP, ORIG, SENDING}, 0, 0},
    {PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL_ACK, {GROUP, ORIG, SENDING}, 0, 0},
};
#define NL (sizeof L / sizeof L[0])

static const char SDP_TEXT[] = "v=0\r\no=- 1 1 IN IP4 239.1.2.3\r\ns=-\r\n";

static size_t field_size(tf f, size_t strlen_) {
  switch (f) {
    case CALL_ID:
    case REFRESH:
      return 2;
    case CALL_TYPE:
    case COMMENCEMENT:
    case REASON:
      return 1;
    case START:
    case LAST_CHANGE:
      return 5;
    case X:
      return 0;
    default:
      return 2 + strlen_;
  }
}

static prose_monp_str *str_field(prose_monp_msg *m, tf f) {
  switch (f) {
    case GROUP: return &m->group_id;
    case SDP: return &m->sdp;
    case ORIG: return &m->originating_user;
    case LAST_USER: return &m->last_change_user;
    case SENDING: return &m->sending_user;
    case CALLER: return &m->caller;
    case CALLEE: return &m->callee;
    case ORG: return &m->organization;
    default: return NULL;
  }
}

static const char *str_value(tf f) {
  switch (f) {
    case GROUP: return "sip:group-7@example.org";
    case SDP: return SDP_TEXT;
    case ORIG: return "sip:orig@example.org";
    case LAST_USER: return "sip:lastchange@example.org";
    case SENDING: return "sip:sender@example.org";
    case CALLER: return "sip:caller@example.org";
    case CALLEE: return "sip:callee@example.org";
    case ORG: return "Fire & Rescue \xC3\x89quipe"; /* UTF-8 É */
    default: return NULL;
  }
}

/* A message of L[i] with every field set, optional IEs per opts. */
static prose_monp_msg full(size_t i, int opts) {
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = L[i].type;
  for (size_t k = 0; L[i].f[k] != X; k++) {
    tf f = L[i].f[k];
    prose_monp_str *s = str_field(&m, f);
    if (s) *s = prose_monp_str_of(str_value(f));
    switch (f) {
      case CALL_ID: m.call_id = 0xBEEF; break;
      case CALL_TYPE: m.call_type = L[i].call_type; break;
      case COMMENCEMENT: m.commencement = 1; break;
      case REASON: m.reason = 3; break;
      case REFRESH: m.refresh_interval = 10000; break;
      case START: m.call_start_time = 0xFEDCBA9876ull; break;
      case LAST_CHANGE: m.last_change_time = 0x0102030405ull; break;
      default: break;
    }
  }
  opts &= L[i].opts;
  m.confirm_mode = opts & O_CONFIRM;
  m.probe_response = opts & O_PROBE;
  if (opts & O_LOC) {
    m.has_user_location = true;
    m.user_location.p = "\x01\x02\x00\x03";
    m.user_location.len = 4;
  }
  return m;
}

static bool str_same(prose_monp_str a, prose_monp_str b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

static void assert_same(const prose_monp_msg *a, const prose_monp_msg *b, size_t i) {
  cr_assert_eq(a->type, b->type, "case %zu", i);
  cr_assert_eq(a->call_id, b->call_id, "case %zu", i);
  cr_assert_eq(a->call_type, b->call_type, "case %zu", i);
  cr_assert_eq(a->commencement, b->commencement, "case %zu", i);
  cr_assert_eq(a->reason, b->reason, "case %zu", i);
  cr_assert_eq(a->refresh_interval, b->refresh_interval, "case %zu", i);
  cr_assert_eq(a->call_start_time, b->call_start_time, "case %zu", i);
  cr_assert_eq(a->last_change_time, b->last_change_time, "case %zu", i);
  cr_assert(str_same(a->group_id, b->group_id), "case %zu group", i);
  cr_assert(str_same(a->sdp, b->sdp), "case %zu sdp", i);
  cr_assert(str_same(a->originating_user, b->originating_user), "case %zu orig", i);
  cr_assert(str_same(a->last_change_user, b->last_change_user), "case %zu last", i);
  cr_assert(str_same(a->sending_user, b->sending_user), "case %zu sending", i);
  cr_assert(str_same(a->caller, b->caller), "case %zu caller", i);
  cr_assert(str_same(a->callee, b->callee), "case %zu callee", i);
  cr_assert(str_same(a->organization, b->organization), "case %zu org", i);
  cr_assert_eq(a->confirm_mode, b->confirm_mode, "case %zu", i);
  cr_assert_eq(a->probe_response, b->probe_response, "case %zu", i);
  cr_assert_eq(a->has_user_location, b->has_user_location, "case %zu", i);
  cr_assert(str_same(a->user_location, b->user_location), "case %zu loc", i);
}

static size_t enc(const prose_monp_msg *m, uint8_t *buf, size_t cap) {
  size_t len = 0;
  int rc = prose_monp_encode(m, buf, cap, &len);
  cr_assert_eq(rc, 0, "encode type %d: %d", m->type, rc);
  return len;
}

/* Every type, without optional IEs and with each optional IE alone and all
 * together; the encoded length matches the digest's layout exactly. */
Test(call_msg, round_trip_every_type_and_optional_ie) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  const int variants[] = {0, O_CONFIRM, O_PROBE, O_LOC, O_CONFIRM | O_PROBE | O_LOC};
  for (size_t i = 0; i < NL; i++) {
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
      prose_monp_msg m = full(i, variants[v]), d;
      size_t len = enc(&m, buf, sizeof buf), want = 1;
      for (size_t k = 0; L[i].f[k] != X; k++) {
        const char *s = str_value(L[i].f[k]);
        want += field_size(L[i].f[k], s ? strlen(s) : 0);
      }
      int o = variants[v] & L[i].opts;
      want += (o & O_CONFIRM ? 1u : 0u) + (o & O_PROBE ? 1u : 0u) + (o & O_LOC ? 7u : 0u);
      cr_assert_eq(len, want, "type %d variant %zu: %zu != %zu", L[i].type, v, len, want);
      cr_assert_eq(buf[0], (uint8_t)L[i].type);
      cr_assert_eq(prose_monp_decode(buf, len, &d), 0, "type %d variant %zu", L[i].type, v);
      assert_same(&m, &d, i * 10 + v);
      /* Encoding with no buffer counts; every smaller buffer is EBUFSZ. */
      size_t counted = 0;
      cr_assert_eq(prose_monp_encode(&m, NULL, 0, &counted), 0);
      cr_assert_eq(counted, len);
      for (size_t cap = 1; cap < len; cap += 7)
        cr_assert_eq(prose_monp_encode(&m, buf, cap, &counted), PROSE_EBUFSZ);
    }
    cr_assert_str_neq(prose_monp_type_name(L[i].type), "UNKNOWN");
  }
  cr_assert_str_eq(prose_monp_type_name(21), "UNKNOWN");
  cr_assert_str_eq(prose_monp_type_name(PROSE_MONP_PRIVATE_CALL_REJECT), "PRIVATE CALL REJECT");
  cr_assert(prose_monp_is_group(PROSE_MONP_GROUP_EMERGENCY_ALERT));
  cr_assert(!prose_monp_is_group(PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL));
}

/* Octets written by hand from DIGEST §7.3 (IEIs hex, times 40-bit). */
Test(call_msg, golden_octets) {
  static const struct {
    const char *hex;
    prose_monp_type type;
  } G[] = {
      {"01 0002 6731", PROSE_MONP_GROUP_CALL_PROBE},
      /* ANNOUNCEMENT: id 0x1234, basic, refresh 10000, start = last change =
       * 1750000000, group g1, SDP "v=0", orig = last user sip:a, 0x80, 0x81. */
      {"02 1234 01 2710 00684EE180 00684EE180 0002 6731 0003 763D30 0005 7369703A61"
       " 0005 7369703A61 80 81",
       PROSE_MONP_GROUP_CALL_ANNOUNCEMENT},
      /* SETUP: id 0x00FF, manual, emergency private, sip:a -> sip:b, "v=0",
       * user location "LOC". */
      {"08 00FF 01 06 0005 7369703A61 0005 7369703A62 0003 763D30 78 0003 4C4F43",
       PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST},
      /* REJECT with reason 3 (end-to-end security context failure). */
      {"0B 00FF 03 0005 7369703A61 0005 7369703A62", PROSE_MONP_PRIVATE_CALL_REJECT},
      /* EMERGENCY END: id, last change time, last user, group, sending user. */
      {"04 1234 00684EE180 0005 7369703A61 0002 6731 0005 7369703A62",
       PROSE_MONP_GROUP_CALL_EMERGENCY_END},
      /* EMERGENCY ALERT: group, originator, organization "Org", location. */
      {"11 0002 6731 0005 7369703A61 0003 4F7267 78 0003 4C4F43",
       PROSE_MONP_GROUP_EMERGENCY_ALERT},
  };
  for (size_t i = 0; i < sizeof G / sizeof G[0]; i++) {
    size_t n;
    uint8_t *want = ts_hex(G[i].hex, &n);
    prose_monp_msg m;
    cr_assert_eq(prose_monp_decode(want, n, &m), 0, "golden %zu", i);
    cr_assert_eq(m.type, G[i].type);
    uint8_t out[256];
    size_t len = enc(&m, out, sizeof out);
    cr_assert_eq(len, n, "golden %zu", i);
    cr_assert_arr_eq(out, want, n, "golden %zu re-encodes differently", i);
    switch ((int)m.type) {
      case PROSE_MONP_GROUP_CALL_ANNOUNCEMENT:
        cr_assert_eq(m.call_id, 0x1234);
        cr_assert_eq(m.call_type, PROSE_MONP_CALL_BASIC_GROUP);
        cr_assert_eq(m.refresh_interval, 10000);
        cr_assert_eq(m.call_start_time, 1750000000u);
        cr_assert(prose_monp_str_eq(m.group_id, "g1") && prose_monp_str_eq(m.sdp, "v=0"));
        cr_assert(m.confirm_mode && m.probe_response);
        break;
      case PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST:
        cr_assert_eq(m.commencement, PROSE_MONP_COMMENCEMENT_MANUAL);
        cr_assert_eq(m.call_type, PROSE_MONP_CALL_EMERGENCY_PRIVATE);
        cr_assert(prose_monp_str_eq(m.caller, "sip:a") && prose_monp_str_eq(m.callee, "sip:b"));
        cr_assert(m.has_user_location && prose_monp_str_eq(m.user_location, "LOC"));
        break;
      case PROSE_MONP_PRIVATE_CALL_REJECT:
        cr_assert_eq(m.reason, PROSE_MONP_REASON_E2E_SECURITY);
        break;
      case PROSE_MONP_GROUP_CALL_EMERGENCY_END:
        cr_assert_eq(m.last_change_time, 1750000000u);
        cr_assert(prose_monp_str_eq(m.last_change_user, "sip:a"));
        cr_assert(prose_monp_str_eq(m.sending_user, "sip:b"));
        break;
      case PROSE_MONP_GROUP_EMERGENCY_ALERT:
        cr_assert(prose_monp_str_eq(m.organization, "Org"));
        break;
      default:
        break;
    }
    free(want);
  }
}

/*
 * Every prefix of every full message: the code is ETRUNC when the cut falls
 * in a fixed field, a length field or an IE header, EOVERLONG when it falls
 * inside a string or TLV-E value, 0 exactly at an IE boundary after the
 * mandatory part.
 */
Test(call_msg, every_truncation_has_its_code) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t checked = 0;
  for (size_t i = 0; i < NL; i++) {
    prose_monp_msg m = full(i, O_CONFIRM | O_PROBE | O_LOC), d;
    size_t len = enc(&m, buf, sizeof buf);
    int *want = calloc(len, sizeof *want);
    cr_assert_not_null(want);
    want[0] = PROSE_ETRUNC; /* no message type */
    size_t off = 1;
    for (size_t k = 0; L[i].f[k] != X; k++) {
      const char *s = str_value(L[i].f[k]);
      size_t n = field_size(L[i].f[k], s ? strlen(s) : 0);
      for (size_t c = off; c < off + n; c++)
        want[c] = (s && c >= off + 2) ? PROSE_EOVERLONG : PROSE_ETRUNC;
      off += n;
    }
    /* Optional part: 0x80 and 0x81 are one octet; 0x78 is IEI, len16, value. */
    while (off < len) {
      want[off] = 0;
      if (buf[off] == PROSE_MONP_IEI_USER_LOCATION) {
        want[off + 1] = want[off + 2] = PROSE_ETRUNC;
        for (size_t c = off + 3; c < off + 7; c++) want[c] = PROSE_EOVERLONG;
        off += 7;
      } else {
        off += 1;
      }
    }
    for (size_t cut = 0; cut < len; cut++, checked++)
      cr_assert_eq(prose_monp_decode(buf, cut, &d), want[cut], "type %d cut %zu: %d != %d",
                   L[i].type, cut, prose_monp_decode(buf, cut, &d), want[cut]);
    free(want);
  }
  cr_assert_eq(checked, 1358u, "checked %zu", checked); /* every prefix of all 20 */
}

/* Each LV-E length set to 0xFFFF runs past the end: EOVERLONG; set to 0: an
 * empty identity, EMONP_STRING. */
Test(call_msg, overlong_and_empty_lengths) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t checked = 0;
  for (size_t i = 0; i < NL; i++) {
    prose_monp_msg m = full(i, 0), d;
    size_t len = enc(&m, buf, sizeof buf), off = 1;
    for (size_t k = 0; L[i].f[k] != X; k++) {
      const char *s = str_value(L[i].f[k]);
      size_t n = field_size(L[i].f[k], s ? strlen(s) : 0);
      if (s) {
        uint8_t save[2] = {buf[off], buf[off + 1]};
        buf[off] = buf[off + 1] = 0xFF;
        cr_assert_eq(prose_monp_decode(buf, len, &d), PROSE_EOVERLONG, "type %d field %zu",
                     L[i].type, k);
        buf[off] = buf[off + 1] = 0;
        cr_assert_eq(prose_monp_decode(buf, len, &d), PROSE_EMONP_STRING, "type %d field %zu",
                     L[i].type, k);
        buf[off] = save[0], buf[off + 1] = save[1];
        checked++;
      }
      off += n;
    }
    cr_assert_eq(prose_monp_decode(buf, len, &d), 0);
  }
  cr_assert_eq(checked, 50u);
}

/* Build an ANNOUNCEMENT / SETUP with one field changed and decode it. */
static int decode_variant(prose_monp_type type, void (*mut)(prose_monp_msg *, int), int arg) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t i = 0;
  while (L[i].type != type) i++;
  prose_monp_msg m = full(i, 0), d;
  mut(&m, arg);
  size_t len = enc(&m, buf, sizeof buf);
  return prose_monp_decode(buf, len, &d);
}
static void set_call_type(prose_monp_msg *m, int v) { m->call_type = (uint8_t)v; }
static void set_commencement(prose_monp_msg *m, int v) { m->commencement = (uint8_t)v; }
static void set_refresh(prose_monp_msg *m, int v) { m->refresh_interval = (uint16_t)v; }
static void set_reason(prose_monp_msg *m, int v) { m->reason = (uint8_t)v; }

static const char *bad_strings[] = {
    "\xC0\x80",         /* overlong NUL */
    "\xE0\x80\xAF",     /* overlong '/' */
    "\xED\xA0\x80",     /* surrogate */
    "\xF4\x90\x80\x80", /* above U+10FFFF */
    "\xFF",             /* never valid */
    "ab\xC3",           /* cut sequence */
    "\x80",             /* lone continuation */
};
static size_t bad_index;
static void set_bad_group(prose_monp_msg *m, int v) {
  (void)v;
  m->group_id = prose_monp_str_of(bad_strings[bad_index]);
}
static void set_nul_group(prose_monp_msg *m, int v) {
  (void)v;
  m->group_id.p = "ab\0cd";
  m->group_id.len = 5;
}
static char big[PROSE_MONP_SDP_MAX + 2];
static void set_len_group(prose_monp_msg *m, int v) {
  m->group_id.p = big;
  m->group_id.len = (size_t)v;
}
static void set_len_sdp(prose_monp_msg *m, int v) {
  m->sdp.p = big;
  m->sdp.len = (size_t)v;
}

Test(call_msg, values_types_and_strings) {
  uint8_t one[1];
  prose_monp_msg d;
  /* Message type. */
  const uint8_t bad_types[] = {0, 21, 22, 128, 255};
  for (size_t i = 0; i < sizeof bad_types; i++) {
    one[0] = bad_types[i];
    cr_assert_eq(prose_monp_decode(one, 1, &d), PROSE_EMONP_TYPE, "type %u", bad_types[i]);
  }
  cr_assert_eq(prose_monp_decode(one, 0, &d), PROSE_ETRUNC);
  cr_assert_eq(prose_monp_decode(NULL, 0, &d), PROSE_ETRUNC);
  cr_assert_eq(prose_monp_decode(NULL, 1, &d), PROSE_EINVAL);
  cr_assert_eq(prose_monp_decode(one, 1, NULL), PROSE_EINVAL);
  /* Call types per message (group types in group messages, private in SETUP). */
  static const struct {
    prose_monp_type type;
    int ct;
    int rc;
  } CT[] = {
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 1, 0},  {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 3, 0},
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 4, 0},
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 0, PROSE_EMONP_VALUE},
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 2, PROSE_EMONP_VALUE},
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 5, PROSE_EMONP_VALUE},
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 7, PROSE_EMONP_VALUE},
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, 255, PROSE_EMONP_VALUE},
      {PROSE_MONP_GROUP_CALL_ACCEPT, 6, PROSE_EMONP_VALUE},
      {PROSE_MONP_GROUP_CALL_BROADCAST, 2, 0},
      {PROSE_MONP_GROUP_CALL_BROADCAST, 1, PROSE_EMONP_VALUE},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 5, 0},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 6, 0},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 1, PROSE_EMONP_VALUE},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, 8, PROSE_EMONP_VALUE},
  };
  for (size_t i = 0; i < sizeof CT / sizeof CT[0]; i++)
    cr_assert_eq(decode_variant(CT[i].type, set_call_type, CT[i].ct), CT[i].rc, "ct case %zu", i);
  cr_assert_eq(decode_variant(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, set_commencement, 0), 0);
  cr_assert_eq(decode_variant(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, set_commencement, 2),
               PROSE_EMONP_VALUE);
  cr_assert_eq(decode_variant(PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, set_refresh, 0),
               PROSE_EMONP_VALUE);
  cr_assert_eq(decode_variant(PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, set_refresh, 1), 0);
  /* Reasons of a later release pass through. */
  cr_assert_eq(decode_variant(PROSE_MONP_PRIVATE_CALL_REJECT, set_reason, 200), 0);
  /* Strings: malformed UTF-8, NUL, limits. */
  for (bad_index = 0; bad_index < sizeof bad_strings / sizeof bad_strings[0]; bad_index++)
    cr_assert_eq(decode_variant(PROSE_MONP_GROUP_CALL_PROBE, set_bad_group, 0), PROSE_EMONP_STRING,
                 "bad string %zu", bad_index);
  cr_assert_eq(decode_variant(PROSE_MONP_GROUP_CALL_PROBE, set_nul_group, 0), PROSE_EMONP_STRING);
  memset(big, 'x', sizeof big);
  cr_assert_eq(decode_variant(PROSE_MONP_GROUP_CALL_PROBE, set_len_group, PROSE_MONP_ID_MAX), 0);
  cr_assert_eq(decode_variant(PROSE_MONP_GROUP_CALL_PROBE, set_len_group, PROSE_MONP_ID_MAX + 1),
               PROSE_EMONP_STRING);
  cr_assert_eq(decode_variant(PROSE_MONP_PRIVATE_CALL_ACCEPT, set_len_sdp, PROSE_MONP_SDP_MAX), 0);
  cr_assert_eq(decode_variant(PROSE_MONP_PRIVATE_CALL_ACCEPT, set_len_sdp, PROSE_MONP_SDP_MAX + 1),
               PROSE_EMONP_STRING);
}

/* Append hex to a PROBE (or ANNOUNCEMENT / SETUP) and decode. */
static int with_tail(prose_monp_type type, const char *tail_hex, prose_monp_msg *d) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t i = 0;
  while (L[i].type != type) i++;
  prose_monp_msg m = full(i, 0);
  size_t len = enc(&m, buf, sizeof buf), n;
  uint8_t *tail = ts_hex(tail_hex, &n);
  memcpy(buf + len, tail, n);
  free(tail);
  return prose_monp_decode(buf, len + n, d);
}

/* 24.007 11.2.4/11.2.5 and 24.008 8.6: how unknown, misplaced and repeated
 * optional IEs are treated. */
Test(call_msg, unknown_and_repeated_optional_ies) {
  prose_monp_msg d;
  static const struct {
    prose_monp_type type;
    const char *tail;
    int rc;
  } T[] = {
      {PROSE_MONP_GROUP_CALL_PROBE, "0F", PROSE_EMONP_IE},    /* comprehension required */
      {PROSE_MONP_GROUP_CALL_PROBE, "00", PROSE_EMONP_IE},
      {PROSE_MONP_GROUP_CALL_PROBE, "9A", 0},                 /* type 1: skipped */
      {PROSE_MONP_GROUP_CALL_PROBE, "A1 C3", 0},              /* two type 2 IEs */
      {PROSE_MONP_GROUP_CALL_PROBE, "20 02 AABB", 0},         /* TLV skipped */
      {PROSE_MONP_GROUP_CALL_PROBE, "20 00", 0},
      {PROSE_MONP_GROUP_CALL_PROBE, "20", PROSE_ETRUNC},      /* no length */
      {PROSE_MONP_GROUP_CALL_PROBE, "20 05 AABB", PROSE_EOVERLONG},
      {PROSE_MONP_GROUP_CALL_PROBE, "7A 0002 AABB", 0},       /* TLV-E skipped */
      {PROSE_MONP_GROUP_CALL_PROBE, "7A 00", PROSE_ETRUNC},
      {PROSE_MONP_GROUP_CALL_PROBE, "7A 0100 AABB", PROSE_EOVERLONG},
      {PROSE_MONP_GROUP_CALL_PROBE, "80", 0},                 /* not defined here: skipped */
      {PROSE_MONP_GROUP_CALL_PROBE, "78 0001 AA", 0},         /* likewise, as TLV-E */
      {PROSE_MONP_GROUP_CALL_PROBE, "50", PROSE_ETRUNC},      /* 0x50 is TLV outside ANNOUNCEMENT */
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, "50 51", 0},       /* decimal IEIs accepted */
      {PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, "80 80 81", 0},    /* repeated: first counts */
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, "78 0401", PROSE_EOVERLONG},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, "78", PROSE_ETRUNC},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, "78 0002 4142 78 0001 43", 0},
      {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, "80 81", 0},
  };
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++)
    cr_assert_eq(with_tail(T[i].type, T[i].tail, &d), T[i].rc, "tail case %zu (%s)", i, T[i].tail);

  cr_assert_eq(with_tail(PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, "50 51", &d), 0);
  cr_assert(d.confirm_mode && d.probe_response);
  cr_assert_eq(with_tail(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, "78 0002 4142 78 0001 43", &d), 0);
  cr_assert(d.has_user_location && prose_monp_str_eq(d.user_location, "AB"));
  cr_assert_eq(with_tail(PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST, "80 81", &d), 0);
  cr_assert(!d.confirm_mode && !d.probe_response);

  /* A location longer than PROSE_MONP_LOCATION_MAX is refused. */
  static uint8_t buf[PROSE_MONP_MSG_MAX + 2048];
  size_t i = 0;
  while (L[i].type != PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST) i++;
  prose_monp_msg m = full(i, 0);
  size_t len = enc(&m, buf, sizeof buf);
  buf[len] = 0x78;
  buf[len + 1] = (PROSE_MONP_LOCATION_MAX + 1) >> 8;
  buf[len + 2] = (PROSE_MONP_LOCATION_MAX + 1) & 0xFF;
  memset(buf + len + 3, 'L', PROSE_MONP_LOCATION_MAX + 1);
  cr_assert_eq(prose_monp_decode(buf, len + 3 + PROSE_MONP_LOCATION_MAX + 1, &d), PROSE_EMONP_IE);
}

Test(call_msg, encode_errors) {
  uint8_t buf[64];
  size_t len;
  prose_monp_msg m;
  memset(&m, 0, sizeof m);
  m.type = (prose_monp_type)0;
  cr_assert_eq(prose_monp_encode(&m, buf, sizeof buf, &len), PROSE_EINVAL);
  m.type = (prose_monp_type)21;
  cr_assert_eq(prose_monp_encode(&m, buf, sizeof buf, &len), PROSE_EINVAL);
  cr_assert_eq(prose_monp_encode(NULL, buf, sizeof buf, &len), PROSE_EINVAL);
  m.type = PROSE_MONP_GROUP_CALL_ANNOUNCEMENT;
  m.call_start_time = 1ull << 40;
  cr_assert_eq(prose_monp_encode(&m, buf, sizeof buf, &len), PROSE_ERANGE);
  m.call_start_time = 0;
  m.group_id.p = NULL;
  m.group_id.len = 3;
  cr_assert_eq(prose_monp_encode(&m, buf, sizeof buf, &len), PROSE_EINVAL);
  static char huge[70000];
  m.group_id.p = huge;
  m.group_id.len = sizeof huge;
  cr_assert_eq(prose_monp_encode(&m, buf, sizeof buf, &len), PROSE_ERANGE);
  /* An encoder that writes what it is told: an empty group encodes, and the
   * decoder refuses it. */
  memset(&m, 0, sizeof m);
  m.type = PROSE_MONP_GROUP_CALL_PROBE;
  cr_assert_eq(prose_monp_encode(&m, buf, sizeof buf, &len), 0);
  cr_assert_eq(len, 3u);
  prose_monp_msg d;
  cr_assert_eq(prose_monp_decode(buf, len, &d), PROSE_EMONP_STRING);
}

/* Seeds that drive fuzz_monp's engine: "len(1) message" sequences for its
 * group sip:g@f and its own ID sip:me@f. */
static const char FSDP[] =
    "v=0\r\no=- 1 1 IN IP4 239.0.0.1\r\ns=-\r\nc=IN IP4 239.0.0.1\r\nt=0 0\r\n"
    "a=key-mgmt:mikey AktFWQ==\r\nm=audio 4000 RTP/AVP 0\r\nm=application 4002 udp MCPTT\r\n";

static size_t seq_add(uint8_t *out, size_t off, prose_monp_msg *m) {
  size_t len = enc(m, out + off + 1, 255);
  out[off] = (uint8_t)len;
  return off + 1 + len;
}

static size_t group_sequence(uint8_t *out) {
  prose_monp_msg m;
  size_t off = 0;
  memset(&m, 0, sizeof m);
  m.group_id = prose_monp_str_of("sip:g@f");
  m.originating_user = m.last_change_user = m.sending_user = prose_monp_str_of("sip:o@f");
  m.sdp = prose_monp_str_of(FSDP);
  m.organization = prose_monp_str_of("Org");
  m.call_id = 0x10;
  m.call_type = PROSE_MONP_CALL_EMERGENCY_GROUP;
  m.refresh_interval = 10000;
  m.call_start_time = m.last_change_time = 1;
  m.confirm_mode = true;
  const prose_monp_type seq[] = {
      PROSE_MONP_GROUP_CALL_ANNOUNCEMENT, PROSE_MONP_GROUP_CALL_PROBE,
      PROSE_MONP_GROUP_CALL_ACCEPT,       PROSE_MONP_GROUP_CALL_EMERGENCY_END,
      PROSE_MONP_GROUP_EMERGENCY_ALERT,   PROSE_MONP_GROUP_EMERGENCY_ALERT_CANCEL,
  };
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
    m.type = seq[i];
    if (m.type == PROSE_MONP_GROUP_CALL_ACCEPT) m.call_type = PROSE_MONP_CALL_BASIC_GROUP;
    off = seq_add(out, off, &m);
  }
  m.type = PROSE_MONP_GROUP_CALL_BROADCAST;
  m.call_type = PROSE_MONP_CALL_BROADCAST_GROUP;
  off = seq_add(out, off, &m);
  m.type = PROSE_MONP_GROUP_CALL_BROADCAST_END;
  return seq_add(out, off, &m);
}

static size_t private_sequence(uint8_t *out, prose_monp_commencement mode) {
  prose_monp_msg m;
  size_t off = 0;
  memset(&m, 0, sizeof m);
  m.caller = prose_monp_str_of("sip:o@f");
  m.callee = prose_monp_str_of("sip:me@f");
  m.sdp = prose_monp_str_of(FSDP);
  m.call_id = 0x20;
  m.commencement = (uint8_t)mode;
  m.call_type = PROSE_MONP_CALL_EMERGENCY_PRIVATE;
  const prose_monp_type seq[] = {PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST,
                                 PROSE_MONP_PRIVATE_CALL_SETUP_REQUEST,
                                 PROSE_MONP_PRIVATE_CALL_ACCEPT_ACK,
                                 PROSE_MONP_PRIVATE_EMERGENCY_CALL_CANCEL,
                                 PROSE_MONP_PRIVATE_CALL_RELEASE,
                                 PROSE_MONP_PRIVATE_CALL_RELEASE};
  for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
    m.type = seq[i];
    off = seq_add(out, off, &m);
  }
  return off;
}

static void write_file(const char *dir, const char *name, const uint8_t *p, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  cr_assert_eq(fwrite(p, 1, n, f), n);
  fclose(f);
}

/* Write the fuzz seed corpus when PROSE_MONP_CORPUS_DIR is set. */
Test(call_msg, write_corpus) {
  static uint8_t buf[PROSE_MONP_MSG_MAX];
  size_t n = group_sequence(buf);
  cr_assert_gt(n, 200u);
  prose_monp_msg d;
  cr_assert_eq(prose_monp_decode(buf + 1, buf[0], &d), 0); /* the first chunk is valid */
  const char *dir = getenv("PROSE_MONP_CORPUS_DIR");
  if (dir == NULL) return;
  for (size_t i = 0; i < NL; i++) {
    prose_monp_msg m = full(i, O_CONFIRM | O_PROBE | O_LOC);
    size_t len = enc(&m, buf, sizeof buf);
    char name[64];
    snprintf(name, sizeof name, "type%02d.bin", (int)L[i].type);
    write_file(dir, name, buf, len);
  }
  write_file(dir, "seq_group.bin", buf, group_sequence(buf));
  write_file(dir, "seq_private_auto.bin", buf,
             private_sequence(buf, PROSE_MONP_COMMENCEMENT_AUTOMATIC));
  write_file(dir, "seq_private_manual.bin", buf,
             private_sequence(buf, PROSE_MONP_COMMENCEMENT_MANUAL));
  uint8_t bad[] = {0x02, 0x12, 0x34, 0x01, 0x27};
  write_file(dir, "bad_truncated.bin", bad, sizeof bad);
  uint8_t unknown[] = {0x01, 0x00, 0x02, 'g', '1', 0x0F};
  write_file(dir, "bad_comprehension_required.bin", unknown, sizeof unknown);
}
