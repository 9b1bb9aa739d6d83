/*
 * RTCP APP "MCPT" codec (floor/src/floor_msg.c): golden bytes built by hand
 * from DIGEST §8.1/8.2 in both field numberings, round trips of every
 * message type and field, every truncation, each malformation with its
 * specific error, unknown fields, padding, compound datagrams.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/floor_msg.h"
#include "testsupport.h"

static prose_floor_view sv(const char *s) {
  prose_floor_view v = {(const uint8_t *)s, strlen(s)};
  return v;
}

static bool view_eq(prose_floor_view a, prose_floor_view b) {
  return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/* Every field the codec stores, compared one by one (so a failure names it). */
static void assert_same(const prose_floor_msg *a, const prose_floor_msg *b, const char *what) {
  cr_assert_eq(a->type, b->type, "%s: type", what);
  cr_assert_eq(a->ack_required, b->ack_required, "%s: A bit", what);
  cr_assert_eq(a->ssrc, b->ssrc, "%s: ssrc", what);
  cr_assert_eq(a->present, b->present, "%s: present %x vs %x", what, a->present, b->present);
  uint32_t p = a->present;
#define HAS(f) (p & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_##f))
  if (HAS(PRIORITY)) cr_assert_eq(a->priority, b->priority, "%s: priority", what);
  if (HAS(DURATION)) cr_assert_eq(a->duration, b->duration, "%s: duration", what);
  if (HAS(REJECT_CAUSE)) {
    cr_assert_eq(a->reject_cause, b->reject_cause, "%s: cause", what);
    cr_assert(view_eq(a->reject_phrase, b->reject_phrase), "%s: phrase", what);
  }
  if (HAS(QUEUE_INFO)) {
    cr_assert_eq(a->queue_position, b->queue_position, "%s: queue position", what);
    cr_assert_eq(a->queue_priority, b->queue_priority, "%s: queue priority", what);
  }
  if (HAS(GRANTED_PARTY)) cr_assert(view_eq(a->granted_party, b->granted_party), "%s: GPI", what);
  if (HAS(PERMISSION)) cr_assert_eq(a->permission, b->permission, "%s: permission", what);
  if (HAS(USER_ID)) cr_assert(view_eq(a->user_id, b->user_id), "%s: user id", what);
  if (HAS(QUEUE_SIZE)) cr_assert_eq(a->queue_size, b->queue_size, "%s: queue size", what);
  if (HAS(SEQ)) cr_assert_eq(a->seq, b->seq, "%s: seq", what);
  if (HAS(QUEUED_USER_ID))
    cr_assert(view_eq(a->queued_user_id, b->queued_user_id), "%s: queued user id", what);
  if (HAS(SOURCE)) cr_assert_eq(a->source, b->source, "%s: source", what);
  if (HAS(MESSAGE_TYPE)) cr_assert_eq(a->acked_type, b->acked_type, "%s: message type", what);
  if (HAS(INDICATOR)) cr_assert_eq(a->indicator, b->indicator, "%s: indicator", what);
  if (HAS(SSRC)) cr_assert_eq(a->field_ssrc, b->field_ssrc, "%s: ssrc field", what);
#undef HAS
  cr_assert_eq(a->n_queue, b->n_queue, "%s: n_queue", what);
  for (size_t i = 0; i < a->n_queue; i++) {
    cr_assert_eq(a->queue[i].ssrc, b->queue[i].ssrc, "%s: queue[%zu].ssrc", what, i);
    cr_assert(view_eq(a->queue[i].user_id, b->queue[i].user_id), "%s: queue[%zu].id", what, i);
    cr_assert_eq(a->queue[i].has_info, b->queue[i].has_info, "%s: queue[%zu].info", what, i);
    if (!a->queue[i].has_info) continue;
    cr_assert_eq(a->queue[i].position, b->queue[i].position, "%s: queue[%zu].pos", what, i);
    cr_assert_eq(a->queue[i].priority, b->queue[i].priority, "%s: queue[%zu].prio", what, i);
  }
}

/* ------------------------------------------------------------------ */
/* Golden messages                                                    */

/* Floor Request, SSRC 0x11223344, priority 5, "sip:a@x", normal+queueing:
 * header 80 CC 0007, fields 00|02|05 00, 06|07|"sip:a@x"|pad 3, 0D|02|84 00. */
#define REQ_NEW                                                                           \
  "80 CC 00 07 11 22 33 44 4D 43 50 54  00 02 05 00  06 07 73 69 70 3A 61 40 78 00 00 00" \
  "  0D 02 84 00"
/* The same with the v13.0.x field IDs: 102 (0x66), 109 (0x6D), 116 (0x74). */
#define REQ_OLD                                                                           \
  "80 CC 00 07 11 22 33 44 4D 43 50 54  66 02 05 00  6D 07 73 69 70 3A 61 40 78 00 00 00" \
  "  74 02 84 00"
/* Floor Granted from 0x0A to SSRC 0x0B "sip:b@x" (priority 7, 30 s) with one
 * queued participant 0x0C "sip:c@x" at position 1, queue priority 3. */
#define GRANTED_NEW                                               \
  "81 CC 00 11 00 00 00 0A 4D 43 50 54"                           \
  " 01 02 00 1E  0E 06 00 00 00 0B 00 00  00 02 07 00"            \
  " 06 07 73 69 70 3A 62 40 78 00 00 00  07 02 00 01"             \
  " 0E 06 00 00 00 0C 00 00  09 07 73 69 70 3A 63 40 78 00 00 00" \
  " 03 02 01 03  0D 02 80 00"
/* Floor Taken with the acknowledgement bit (subtype 0x12), old IDs 106,
 * 108, 109, 111, 116 (0x6A 0x6C 0x6D 0x6F 0x74). */
#define TAKEN_OLD_ACK                                 \
  "92 CC 00 0B 00 00 00 0B 4D 43 50 54"               \
  " 6A 07 73 69 70 3A 62 40 78 00 00 00  6C 02 00 01" \
  " 6D 07 73 69 70 3A 62 40 78 00 00 00  6F 02 00 07  74 02 80 00"
/* Floor Deny, cause 7 (queue full) with the phrase "ful" (2+5 -> pad 1). */
#define DENY_NEW                                                 \
  "83 CC 00 08 00 00 00 0A 4D 43 50 54  02 05 00 07 66 75 6C 00" \
  " 06 07 73 69 70 3A 61 40 78 00 00 00  0D 02 10 00"

Test(floor_msg, golden_request_both_numberings) {
  const char *hex[2] = {REQ_NEW, REQ_OLD};
  prose_floor_msg m[2];
  size_t len[2];
  uint8_t *b[2];
  for (int i = 0; i < 2; i++) {
    b[i] = ts_hex(hex[i], &len[i]);
    cr_assert_eq(prose_floor_msg_decode(b[i], len[i], &m[i]), 0, "numbering %d", i);
    cr_assert_eq(m[i].type, PROSE_FLOOR_MSG_REQUEST);
    cr_assert_eq(m[i].ssrc, 0x11223344u);
    cr_assert_eq(m[i].priority, 5);
    cr_assert(view_eq(m[i].user_id, sv("sip:a@x")));
    cr_assert_eq(m[i].indicator, PROSE_FLOOR_IND_NORMAL | PROSE_FLOOR_IND_QUEUEING);
    cr_assert_eq(m[i].n_unknown, 0);
  }
  cr_assert(!m[0].legacy_ids);
  cr_assert(m[1].legacy_ids);
  m[1].legacy_ids = false;
  assert_same(&m[0], &m[1], "old vs new numbering");
  /* Encode always writes the current numbering. */
  uint8_t out[PROSE_FLOOR_MSG_MAX];
  size_t n = 0;
  cr_assert_eq(prose_floor_msg_encode(&m[1], out, sizeof out, &n), 0);
  cr_assert_eq(n, len[0]);
  cr_assert_arr_eq(out, b[0], n);
  free(b[0]);
  free(b[1]);
}

Test(floor_msg, golden_granted_taken_deny) {
  size_t len;
  uint8_t *b = ts_hex(GRANTED_NEW, &len);
  prose_floor_msg m;
  cr_assert_eq(prose_floor_msg_decode(b, len, &m), 0);
  cr_assert_eq(m.type, PROSE_FLOOR_MSG_GRANTED);
  cr_assert_eq(m.ssrc, 0x0A);
  cr_assert_eq(m.duration, 30);
  cr_assert_eq(m.field_ssrc, 0x0B);
  cr_assert_eq(m.priority, 7);
  cr_assert(view_eq(m.user_id, sv("sip:b@x")));
  cr_assert_eq(m.queue_size, 1);
  cr_assert_eq(m.n_queue, 1);
  cr_assert_eq(m.queue[0].ssrc, 0x0C);
  cr_assert(view_eq(m.queue[0].user_id, sv("sip:c@x")));
  cr_assert(m.queue[0].has_info);
  cr_assert_eq(m.queue[0].position, 1);
  cr_assert_eq(m.queue[0].priority, 3);
  cr_assert_eq(m.indicator, PROSE_FLOOR_IND_NORMAL);
  /* The queue-list fields are not single fields. */
  cr_assert_eq(m.present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUED_USER_ID), 0);
  uint8_t out[PROSE_FLOOR_MSG_MAX];
  size_t n;
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), 0);
  cr_assert_eq(n, len);
  cr_assert_arr_eq(out, b, n);
  free(b);

  b = ts_hex(TAKEN_OLD_ACK, &len);
  cr_assert_eq(prose_floor_msg_decode(b, len, &m), 0);
  cr_assert_eq(m.type, PROSE_FLOOR_MSG_TAKEN);
  cr_assert(m.ack_required);
  cr_assert(m.legacy_ids);
  cr_assert(view_eq(m.granted_party, sv("sip:b@x")));
  cr_assert_eq(m.permission, 1);
  cr_assert_eq(m.seq, 7);
  cr_assert_eq(m.indicator, PROSE_FLOOR_IND_NORMAL);
  /* Re-encoded with the current IDs 4, 5, 6, 8, 13 and the same A bit. */
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), 0);
  cr_assert_eq(n, len);
  cr_assert_eq(out[0], 0x92);
  cr_assert_eq(out[12], 4);
  cr_assert_eq(out[24], 5);
  cr_assert_eq(out[28], 6);
  cr_assert_eq(out[40], 8);
  cr_assert_eq(out[44], 13);
  free(b);

  b = ts_hex(DENY_NEW, &len);
  cr_assert_eq(prose_floor_msg_decode(b, len, &m), 0);
  cr_assert_eq(m.type, PROSE_FLOOR_MSG_DENY);
  cr_assert_eq(m.reject_cause, PROSE_FLOOR_CAUSE_QUEUE_FULL);
  cr_assert(view_eq(m.reject_phrase, sv("ful")));
  cr_assert_eq(m.indicator, PROSE_FLOOR_IND_EMERGENCY);
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), 0);
  cr_assert_arr_eq(out, b, len);
  free(b);
}

/* ------------------------------------------------------------------ */
/* Round trips                                                        */

static void fill_all_single(prose_floor_msg *m) {
  m->present = 0;
  for (unsigned f = 0; f <= PROSE_FLOOR_FLD_SSRC; f++)
    if (f != PROSE_FLOOR_FLD_TRACK_INFO) m->present |= PROSE_FLOOR_HAS(f);
  m->priority = 200;
  m->duration = 0xFFFF;
  m->reject_cause = PROSE_FLOOR_CAUSE_OTHER;
  m->reject_phrase = sv("no resources left, try later");
  m->queue_position = PROSE_FLOOR_QPOS_UNKNOWN;
  m->queue_priority = 9;
  m->granted_party = sv("sip:granted.party@example.org");
  m->permission = 1;
  m->user_id = sv("sip:user@example.org");
  m->queue_size = 0;
  m->seq = 65535;
  m->queued_user_id = sv("sip:queued@example.org");
  m->source = 3;
  m->acked_type = PROSE_FLOOR_MSG_TAKEN;
  m->indicator = 0xFF80;
  m->field_ssrc = 0xDEADBEEF;
}

Test(floor_msg, round_trip_every_type_and_field) {
  static const unsigned types[] = {0, 1, 2, 3, 4, 5, 6, 8, 9, 10};
  char id255[256];
  memset(id255, 'x', 255);
  id255[255] = '\0';
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    for (int variant = 0; variant < 4; variant++) {
      prose_floor_msg m;
      prose_floor_msg_init(&m, (prose_floor_msg_type)types[t], 0x01020304u + (uint32_t)t);
      m.ack_required = variant & 1;
      fill_all_single(&m);
      if (variant >= 2) {
        /* The largest message: 255-octet IDs and a full queue list. */
        m.user_id = sv(id255);
        m.granted_party = sv(id255);
        m.queue_size = PROSE_FLOOR_QUEUE_MAX;
        m.n_queue = PROSE_FLOOR_QUEUE_MAX;
        for (size_t i = 0; i < m.n_queue; i++) {
          m.queue[i].ssrc = 0x100u + (uint32_t)i;
          m.queue[i].user_id = (i % 3) ? sv(id255) : sv("");
          m.queue[i].has_info = i % 2 == 0;
          m.queue[i].position = (uint8_t)(i + 1);
          m.queue[i].priority = (uint8_t)i;
        }
      }
      uint8_t out[PROSE_FLOOR_MSG_MAX];
      size_t n = 0, counted = 0;
      cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), 0, "type %u", types[t]);
      cr_assert_eq(prose_floor_msg_encode(&m, NULL, 0, &counted), 0);
      cr_assert_eq(counted, n, "size query");
      cr_assert_eq(n % 4, 0);
      cr_assert_eq(((size_t)out[2] << 8 | out[3]) + 1, n / 4, "RTCP length");
      prose_floor_msg d;
      int rc = prose_floor_msg_decode(out, n, &d);
      cr_assert_eq(rc, 0, "type %u variant %d: %s", types[t], variant, prose_err_name(rc));
      char what[48];
      snprintf(what, sizeof what, "type %u variant %d", types[t], variant);
      assert_same(&m, &d, what);
      /* Every cap below the size fails with EBUFSZ and never overruns. */
      for (size_t cap = 0; cap < n; cap += (cap < 64 ? 1 : 97)) {
        uint8_t *small = malloc(cap ? cap : 1);
        size_t junk;
        int erc = prose_floor_msg_encode(&m, cap ? small : out, cap, &junk);
        if (cap) cr_assert_eq(erc, PROSE_EBUFSZ, "cap %zu", cap);
        free(small);
      }
    }
  }
}

Test(floor_msg, encode_rejects_bad_input) {
  prose_floor_msg m;
  uint8_t out[PROSE_FLOOR_MSG_MAX];
  size_t n;
  char id256[257];
  memset(id256, 'y', 256);
  id256[256] = '\0';
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_REQUEST, 1);
  m.type = 16;
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), PROSE_EINVAL);
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_REQUEST, 1);
  m.user_id = sv(id256);
  m.present = PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_USER_ID);
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), PROSE_EINVAL);
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_DENY, 1);
  m.reject_phrase.p = (const uint8_t *)id256;
  m.reject_phrase.len = 254; /* 2 + 254 does not fit a 1-octet length */
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), PROSE_EINVAL);
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_GRANTED, 1);
  m.n_queue = 1; /* a queue list without Queue Size */
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), PROSE_EINVAL);
  m.present = PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE);
  m.n_queue = PROSE_FLOOR_QUEUE_MAX + 1;
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), PROSE_EINVAL);
  cr_assert_str_eq(prose_floor_msg_type_name(PROSE_FLOOR_MSG_QUEUE_POS_INFO),
                   "Floor Queue Position Info");
  cr_assert_str_eq(prose_floor_msg_type_name(7), "unknown");
}

/* ------------------------------------------------------------------ */
/* Malformed input: each case and its code                            */

typedef struct bad_case {
  const char *name;
  const char *hex;
  int rc;
} bad_case;

#define HDR(b0, words) b0 " CC 00 " words " 00 00 00 01 4D 43 50 54 "
#define UID " 06 07 73 69 70 3A 61 40 78 00 00 00 "

static const bad_case bad_cases[] = {
    {"empty", "", PROSE_ETRUNC},
    {"3 octets", "80 CC 00", PROSE_ETRUNC},
    {"RTCP header only", "80 CC 00 00", PROSE_ETRUNC},
    {"APP without name", "80 CC 00 01 00 00 00 01", PROSE_ETRUNC},
    {"version 1", "40 CC 00 02 00 00 00 01 4D 43 50 54", PROSE_EFLOOR_RTCP},
    {"not APP (RR)", "80 C9 00 02 00 00 00 01 4D 43 50 54", PROSE_EFLOOR_RTCP},
    {"other APP name", "80 CC 00 02 00 00 00 01 4D 43 4D 43", PROSE_EFLOOR_RTCP},
    {"RTCP length past the data", HDR("80", "06") UID, PROSE_EOVERLONG},
    {"data after the packet", HDR("80", "02") UID, PROSE_ETRAILING},
    {"type 7", HDR("87", "05") UID, PROSE_EFLOOR_TYPE},
    {"type 15 with A", HDR("9F", "05") UID, PROSE_EFLOOR_TYPE},
    {"field length past the data", HDR("80", "03") "06 05 61 62", PROSE_EOVERLONG},
    {"long-length field past the data", HDR("80", "03") "C8 00 05 61", PROSE_EOVERLONG},
    {"field header cut (RTCP padding)", HDR("A0", "03") "06 00 00 03", PROSE_ETRUNC},
    {"field padding cut (RTCP padding)", HDR("A0", "04") "06 01 61 00 00 00 00 01", PROSE_ETRUNC},
    {"RTCP padding count 0", HDR("A0", "06") UID "00 00 00 00", PROSE_EFLOOR_RTCP},
    {"RTCP padding count too big", HDR("A0", "03") "06 01 61 09", PROSE_EFLOOR_RTCP},
    {"RTCP padding with no data", "A0 CC 00 02 00 00 00 01 4D 43 50 54", PROSE_EFLOOR_RTCP},
    {"non-zero padding", HDR("80", "05") "06 07 73 69 70 3A 61 40 78 00 01 00",
     PROSE_EFLOOR_PADDING},
    {"non-zero padding, long field", HDR("80", "06") UID "C8 00 00 01", PROSE_EFLOOR_PADDING},
    {"Floor Priority of 1 octet", HDR("80", "06") "00 01 05 00" UID, PROSE_EFLOOR_FIELD},
    {"Duration of 3 octets", HDR("81", "07") "01 03 00 1E 00 00 00 00" UID, PROSE_EFLOOR_FIELD},
    {"SSRC field of 4 octets", HDR("81", "04") "0E 04 00 00 00 0B 00 00", PROSE_EFLOOR_FIELD},
    {"Permission 2", HDR("82", "06") "05 02 00 02" UID, PROSE_EFLOOR_FIELD},
    {"Source 4", HDR("80", "06") "0A 02 00 04" UID, PROSE_EFLOOR_FIELD},
    {"Reject Cause of 1 octet", HDR("83", "06") "02 01 07 00" UID, PROSE_EFLOOR_FIELD},
    {"Floor Indicator of 0 octets", HDR("80", "06") UID "0D 00 00 00", PROSE_EFLOOR_FIELD},
    {"Message Type of 1 octet", HDR("80", "06") UID "0C 01 02 00", PROSE_EFLOOR_FIELD},
    {"empty User ID", HDR("80", "03") "06 00 00 00", PROSE_EFLOOR_FIELD},
    {"empty Queued User ID", HDR("89", "06") UID "09 00 00 00", PROSE_EFLOOR_FIELD},
    {"Queue Info of 3 octets", HDR("89", "07") UID "03 03 01 02 03 00 00 00", PROSE_EFLOOR_FIELD},
    {"User ID twice", HDR("80", "08") UID UID, PROSE_EFLOOR_DUPLICATE},
    {"User ID in both numberings", HDR("80", "08") UID " 6D 07 73 69 70 3A 61 40 78 00 00 00",
     PROSE_EFLOOR_DUPLICATE},
    {"Floor Indicator twice", HDR("80", "07") UID "0D 02 80 00 74 02 80 00",
     PROSE_EFLOOR_DUPLICATE},
    {"Request without User ID", HDR("80", "03") "00 02 05 00", PROSE_EFLOOR_MISSING},
    {"Release without User ID", HDR("84", "02"), PROSE_EFLOOR_MISSING},
    {"QPR without User ID", HDR("88", "03") "0D 02 80 00", PROSE_EFLOOR_MISSING},
    {"Deny without Reject Cause", HDR("83", "05") UID, PROSE_EFLOOR_MISSING},
    {"Granted without User ID or SSRC", HDR("81", "03") "01 02 00 1E", PROSE_EFLOOR_MISSING},
    {"Taken without any identity", HDR("82", "03") "08 02 00 01", PROSE_EFLOOR_MISSING},
    {"QPI without Queue Info", HDR("89", "07") UID "0E 06 00 00 00 01 00 00", PROSE_EFLOOR_MISSING},
    {"QPI without queued identity", HDR("89", "06") UID "03 02 01 00", PROSE_EFLOOR_MISSING},
    {"Queue Size 2, one entry", HDR("81", "08") UID "07 02 00 02 0E 06 00 00 00 0C 00 00",
     PROSE_EFLOOR_QUEUE},
    {"Queue Size 0, one entry", HDR("81", "08") UID "07 02 00 00 0E 06 00 00 00 0C 00 00",
     PROSE_EFLOOR_QUEUE},
    {"queued ID before any entry", HDR("81", "07") UID "07 02 00 01 09 01 63 00",
     PROSE_EFLOOR_QUEUE},
    {"Queue Info twice in an entry",
     HDR("81", "0A") UID "07 02 00 01 0E 06 00 00 00 0C 00 00 03 02 01 00 03 02 01 00",
     PROSE_EFLOOR_QUEUE},
    {"queued ID twice in an entry",
     HDR("81", "0A") UID "07 02 00 01 0E 06 00 00 00 0C 00 00 09 01 63 00 09 01 63 00",
     PROSE_EFLOOR_QUEUE},
};

Test(floor_msg, malformed_cases_and_codes) {
  for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
    const bad_case *c = &bad_cases[i];
    size_t len;
    uint8_t *b = ts_hex(c->hex, &len);
    prose_floor_msg m;
    int rc = prose_floor_msg_decode(b, len, &m);
    cr_assert_eq(rc, c->rc, "case %zu (%s): got %s, want %s", i, c->name, prose_err_name(rc),
                 prose_err_name(c->rc));
    free(b);
  }
}

Test(floor_msg, too_many_queue_entries) {
  /* Queue Size 17 and 17 entries: more than PROSE_FLOOR_QUEUE_MAX. */
  prose_floor_msg m;
  prose_floor_msg_init(&m, PROSE_FLOOR_MSG_GRANTED, 1);
  m.user_id = sv("sip:a@x");
  m.present =
      PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_USER_ID) | PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE);
  m.queue_size = PROSE_FLOOR_QUEUE_MAX;
  m.n_queue = PROSE_FLOOR_QUEUE_MAX;
  for (size_t i = 0; i < m.n_queue; i++) m.queue[i].ssrc = (uint32_t)i + 1;
  uint8_t out[PROSE_FLOOR_MSG_MAX + 16];
  size_t n;
  cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), 0);
  /* Append one more SSRC field by hand and fix Queue Size and the length. */
  static const uint8_t extra[8] = {0x0E, 6, 0, 0, 0, 0x42, 0, 0};
  memcpy(out + n, extra, sizeof extra);
  n += sizeof extra;
  out[2] = (uint8_t)((n / 4 - 1) >> 8);
  out[3] = (uint8_t)(n / 4 - 1);
  /* Queue Size sits after the User ID field (12 + 12 octets). */
  cr_assert_eq(out[24], PROSE_FLOOR_FLD_QUEUE_SIZE);
  out[27] = PROSE_FLOOR_QUEUE_MAX + 1;
  prose_floor_msg d;
  cr_assert_eq(prose_floor_msg_decode(out, n, &d), PROSE_EFLOOR_QUEUE);
}

Test(floor_msg, every_truncation_rejected) {
  const char *hex[] = {REQ_NEW, REQ_OLD, GRANTED_NEW, TAKEN_OLD_ACK, DENY_NEW};
  for (size_t k = 0; k < sizeof hex / sizeof hex[0]; k++) {
    size_t len;
    uint8_t *b = ts_hex(hex[k], &len);
    for (size_t cut = 0; cut < len; cut++) {
      /* A copy of exactly `cut` octets, so a read past it is an ASan error. */
      uint8_t *p = malloc(cut ? cut : 1);
      memcpy(p, b, cut);
      prose_floor_msg m;
      int want = cut < 4 ? PROSE_ETRUNC : PROSE_EOVERLONG;
      cr_assert_eq(prose_floor_msg_decode(p, cut, &m), want, "message %zu cut at %zu", k, cut);
      size_t pl;
      uint8_t pt;
      cr_assert_eq(prose_floor_rtcp_next(p, cut, &pl, &pt), want, "framing %zu at %zu", k, cut);
      free(p);
    }
    /* Cut at each 32-bit boundary with the RTCP length fixed up: the
     * message ends early, never with a read past its end. */
    for (size_t cut = 12; cut < len; cut += 4) {
      uint8_t *p = malloc(cut);
      memcpy(p, b, cut);
      p[2] = (uint8_t)((cut / 4 - 1) >> 8);
      p[3] = (uint8_t)(cut / 4 - 1);
      prose_floor_msg m;
      int rc = prose_floor_msg_decode(p, cut, &m);
      cr_assert(rc == 0 || rc == PROSE_EOVERLONG || rc == PROSE_EFLOOR_MISSING ||
                    rc == PROSE_EFLOOR_QUEUE,
                "message %zu cut at %zu: %s", k, cut, prose_err_name(rc));
      free(p);
    }
    free(b);
  }
}

Test(floor_msg, unknown_fields_skipped_and_rtcp_padding) {
  /* Floor Request with: field 20 (unknown, 1-octet length), field 200
   * (2-octet length, 5 octets, no padding), 107 (unassigned old ID), Track
   * Info (11, on-network), then the User ID. */
  const char *hex = HDR("80", "0C") "14 03 01 02 03 00 00 00  C8 00 05 61 62 63 64 65"
                                    " 6B 01 00 00  0B 02 00 00" UID "0D 02 80 00";
  size_t len;
  uint8_t *b = ts_hex(hex, &len);
  /* 12 header + 8 + 8 + 4 + 4 + 12 + 4 = 52 octets = 13 words: length 12. */
  b[3] = 12;
  prose_floor_msg m;
  cr_assert_eq(prose_floor_msg_decode(b, len, &m), 0);
  cr_assert_eq(m.n_unknown, 4);
  cr_assert(view_eq(m.user_id, sv("sip:a@x")));
  cr_assert_eq(m.indicator, PROSE_FLOOR_IND_NORMAL);
  cr_assert_eq(m.present & PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_TRACK_INFO), 0);
  free(b);

  /* RTCP-level padding (P bit, RFC 3550 6.4.1): 4 octets, count 4. */
  b = ts_hex(HDR("A0", "07") UID "0D 02 80 00 00 00 00 04", &len);
  cr_assert_eq(prose_floor_msg_decode(b, len, &m), 0);
  cr_assert(view_eq(m.user_id, sv("sip:a@x")));
  cr_assert_eq(m.indicator, PROSE_FLOOR_IND_NORMAL);
  free(b);
}

Test(floor_msg, compound_datagram_framing) {
  /* Release then Queue Position Request, then an RTCP RR, in one datagram. */
  const char *hex = HDR("84", "05") UID HDR("88", "05") UID "81 C9 00 01 00 00 00 02";
  size_t len;
  uint8_t *b = ts_hex(hex, &len);
  size_t off = 0, n;
  uint8_t pt;
  static const uint8_t want_types[] = {PROSE_FLOOR_MSG_RELEASE, PROSE_FLOOR_MSG_QUEUE_POS_REQUEST};
  for (int i = 0; i < 2; i++) {
    cr_assert_eq(prose_floor_rtcp_next(b + off, len - off, &n, &pt), 0);
    cr_assert_eq(pt, PROSE_FLOOR_RTCP_APP);
    cr_assert_eq(n, 24);
    prose_floor_msg m;
    cr_assert_eq(prose_floor_msg_decode(b + off, n, &m), 0);
    cr_assert_eq(m.type, want_types[i]);
    off += n;
  }
  cr_assert_eq(prose_floor_rtcp_next(b + off, len - off, &n, &pt), 0);
  cr_assert_eq(pt, 201);
  cr_assert_eq(n, 8);
  cr_assert_eq(off + n, len);
  free(b);
}

Test(floor_msg, error_names) {
  cr_assert_str_eq(prose_err_name(PROSE_EFLOOR_PADDING), "EFLOOR_PADDING");
  cr_assert_str_eq(prose_err_name(PROSE_EFLOOR_QUEUE), "EFLOOR_QUEUE");
  cr_assert(prose_err_is_malformed(PROSE_EFLOOR_RTCP));
  cr_assert(prose_err_is_malformed(PROSE_EFLOOR_MISSING));
  cr_assert(!prose_err_is_fatal(PROSE_EFLOOR_TYPE));
}

/* ------------------------------------------------------------------ */
/* Seed corpus for tests/fuzz/fuzz_floor.c                            */

static void write_file(const char *dir, const char *name, const uint8_t *b, size_t n) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", dir, name);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f, "cannot write %s", path);
  cr_assert_eq(fwrite(b, 1, n, f), n);
  cr_assert_eq(fclose(f), 0);
}

static void write_hex(const char *dir, const char *name, const char *hex) {
  size_t n;
  uint8_t *b = ts_hex(hex, &n);
  write_file(dir, name, b, n);
  free(b);
}

/* Writes the corpus only when PROSE_FLOOR_CORPUS_DIR is set:
 *   PROSE_FLOOR_CORPUS_DIR=tests/fuzz/corpus/floor \
 *     build/tests/test_floor_msg --filter 'floor_msg/write_corpus' */
Test(floor_msg, write_corpus) {
  const char *dir = getenv("PROSE_FLOOR_CORPUS_DIR");
  if (!dir) return;
  write_hex(dir, "request.bin", REQ_NEW);
  write_hex(dir, "request_old_ids.bin", REQ_OLD);
  write_hex(dir, "granted_queue.bin", GRANTED_NEW);
  write_hex(dir, "taken_old_ids_ack.bin", TAKEN_OLD_ACK);
  write_hex(dir, "deny_phrase.bin", DENY_NEW);
  write_hex(dir, "unknown_fields.bin",
            HDR("80", "0C") "14 03 01 02 03 00 00 00  C8 00 05 61 62 63 64 65"
                            " 6B 01 00 00  0B 02 00 00" UID "0D 02 80 00");
  write_hex(dir, "rtcp_padding.bin", HDR("A0", "07") UID "0D 02 80 00 00 00 00 04");
  write_hex(dir, "compound_release_qpr_rr.bin",
            HDR("84", "05") UID HDR("88", "05") UID "81 C9 00 01 00 00 00 02");
  write_hex(dir, "qpi.bin", HDR("89", "0B") UID "0E 06 00 00 00 01 00 00" UID "03 02 01 00");
  write_hex(dir, "bad_padding.bin", HDR("80", "05") "06 07 73 69 70 3A 61 40 78 00 01 00");
  write_hex(dir, "bad_queue.bin", HDR("81", "08") UID "07 02 00 02 0E 06 00 00 00 0C 00 00");
  static const unsigned types[] = {0, 1, 2, 3, 4, 8, 9};
  for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
    prose_floor_msg m;
    prose_floor_msg_init(&m, (prose_floor_msg_type)types[t], 0x0A0B0C0Du);
    fill_all_single(&m);
    if (types[t] == PROSE_FLOOR_MSG_GRANTED) {
      m.present &= ~(PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUED_USER_ID) |
                     PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_INFO));
      m.queue_size = 2;
      m.n_queue = 2;
      m.queue[0] = (prose_floor_qentry){0x11, sv("sip:q1@x"), true, 1, 4};
      m.queue[1] = (prose_floor_qentry){0x12, sv("sip:q2@x"), true, 2, 3};
    }
    uint8_t out[PROSE_FLOOR_MSG_MAX];
    size_t n;
    cr_assert_eq(prose_floor_msg_encode(&m, out, sizeof out, &n), 0);
    char name[32];
    snprintf(name, sizeof name, "all_fields_type%u.bin", types[t]);
    write_file(dir, name, out, n);
  }
}
