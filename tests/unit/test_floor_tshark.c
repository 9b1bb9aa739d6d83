/*
 * Cross-check of the encoder against an independent decoder: write
 * plaintext floor messages (what the engine sends, and every message type
 * with every field) into a classic pcap file as UDP datagrams, let tshark
 * dissect them as RTCP, and require every message name and no malformed
 * packet, unknown field or expert-info warning. Skipped when tshark is not
 * installed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "floor_testlib.h"
#include "prose/floor.h"
#include "prose/floor_msg.h"

#define PORT 41000u

/* ------------------------------------------------------------------ */
/* Classic pcap: global header, then per packet a record header and an
 * Ethernet / IPv4 / UDP frame. pcap headers are written little-endian
 * (magic a1b2c3d4 read as d4c3b2a1), network headers big-endian. */

static void le32(FILE *f, uint32_t v) {
  uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
  cr_assert_eq(fwrite(b, 1, 4, f), 4);
}
static void le16(FILE *f, uint16_t v) {
  uint8_t b[2] = {(uint8_t)v, (uint8_t)(v >> 8)};
  cr_assert_eq(fwrite(b, 1, 2, f), 2);
}

static void pcap_header(FILE *f) {
  le32(f, 0xA1B2C3D4u);
  le16(f, 2);
  le16(f, 4);
  le32(f, 0);     /* thiszone */
  le32(f, 0);     /* sigfigs */
  le32(f, 65535); /* snaplen */
  le32(f, 1);     /* LINKTYPE_ETHERNET */
}

static uint16_t ip_checksum(const uint8_t *h, size_t n) {
  uint32_t sum = 0;
  for (size_t i = 0; i < n; i += 2) sum += (uint32_t)(h[i] << 8 | h[i + 1]);
  while (sum >> 16) sum = (sum & 0xFFFFu) + (sum >> 16);
  return (uint16_t)~sum;
}

static void pcap_udp(FILE *f, uint32_t index, const uint8_t *payload, size_t n) {
  uint8_t frame[14 + 20 + 8 + 2048];
  cr_assert_leq(n, 2048);
  size_t ip_len = 20 + 8 + n;
  memset(frame, 0, 42);
  memset(frame, 0x02, 6);     /* destination MAC */
  memset(frame + 6, 0x04, 6); /* source MAC */
  frame[12] = 0x08;           /* IPv4 */
  uint8_t *ip = frame + 14;
  ip[0] = 0x45;
  ip[2] = (uint8_t)(ip_len >> 8);
  ip[3] = (uint8_t)ip_len;
  ip[8] = 64;  /* TTL */
  ip[9] = 17;  /* UDP */
  ip[12] = 10; /* 10.0.0.1 -> 10.0.0.2 */
  ip[15] = 1;
  ip[16] = 10;
  ip[19] = 2;
  uint16_t ck = ip_checksum(ip, 20);
  ip[10] = (uint8_t)(ck >> 8);
  ip[11] = (uint8_t)ck;
  uint8_t *udp = ip + 20;
  udp[0] = udp[2] = (uint8_t)(PORT >> 8);
  udp[1] = udp[3] = (uint8_t)PORT;
  udp[4] = (uint8_t)((8 + n) >> 8);
  udp[5] = (uint8_t)(8 + n); /* checksum 0: none */
  memcpy(udp + 8, payload, n);
  size_t total = 42 + n;
  le32(f, index); /* ts_sec */
  le32(f, 0);
  le32(f, (uint32_t)total);
  le32(f, (uint32_t)total);
  cr_assert_eq(fwrite(frame, 1, total, f), total);
}

/* ------------------------------------------------------------------ */

static size_t count(const char *hay, const char *needle) {
  size_t n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* Every message type with every field it can carry. */
static size_t full_messages(uint8_t out[][PROSE_FLOOR_MSG_MAX], size_t max) {
  static const unsigned types[] = {0, 1, 2, 3, 4, 8, 9};
  size_t k = 0;
  for (size_t t = 0; t < sizeof types / sizeof types[0] && k < max; t++) {
    prose_floor_msg m;
    prose_floor_msg_init(&m, (prose_floor_msg_type)types[t], 0x1000u + (uint32_t)t);
    m.ack_required = t == 2;
    m.present =
        PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_PRIORITY) | PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_DURATION) |
        PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_REJECT_CAUSE) |
        PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_GRANTED_PARTY) |
        PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_PERMISSION) | PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_USER_ID) |
        PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SEQ) | PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SOURCE) |
        PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_MESSAGE_TYPE) | PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_INDICATOR);
    m.priority = 7;
    m.duration = 30;
    m.reject_cause = PROSE_FLOOR_CAUSE_QUEUE_FULL;
    m.reject_phrase.p = (const uint8_t *)"queue is full";
    m.reject_phrase.len = 13;
    m.granted_party.p = (const uint8_t *)"sip:granted@example.org";
    m.granted_party.len = 23;
    m.permission = 1;
    m.user_id.p = (const uint8_t *)"sip:user@example.org";
    m.user_id.len = 20;
    m.seq = 42;
    m.source = 0;
    m.acked_type = PROSE_FLOOR_MSG_TAKEN;
    m.indicator = PROSE_FLOOR_IND_NORMAL;
    if (types[t] == PROSE_FLOOR_MSG_GRANTED) {
      m.present |=
          PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC) | PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_SIZE);
      m.field_ssrc = 0x2222;
      m.queue_size = 2;
      m.n_queue = 2;
      for (size_t i = 0; i < 2; i++) {
        m.queue[i].ssrc = 0x3000u + (uint32_t)i;
        m.queue[i].user_id.p = (const uint8_t *)(i ? "sip:q2@example.org" : "sip:q1@x");
        m.queue[i].user_id.len = i ? 18 : 8;
        m.queue[i].has_info = true;
        m.queue[i].position = (uint8_t)(i + 1);
        m.queue[i].priority = 3;
      }
    } else {
      m.present |= PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_SSRC) |
                   PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUED_USER_ID) |
                   PROSE_FLOOR_HAS(PROSE_FLOOR_FLD_QUEUE_INFO);
      m.field_ssrc = 0x4444;
      m.queued_user_id.p = (const uint8_t *)"sip:queued@example.org";
      m.queued_user_id.len = 22;
      m.queue_position = 1;
      m.queue_priority = 2;
    }
    size_t n;
    cr_assert_eq(prose_floor_msg_encode(&m, out[k], PROSE_FLOOR_MSG_MAX, &n), 0);
    k++;
    (void)n;
  }
  return k;
}

/* What the engine itself sends in a short call: Floor Taken (originator),
 * Queue Position Info, Floor Granted with a queue, Floor Request, Floor
 * Deny, Floor Release, Queue Position Request. */
static void engine_messages(ft_rec *rec) {
  prose_floor_settings s;
  ft_settings(&s, 0xA, "sip:a@example.org", 5);
  s.queue_capacity = 1;
  prose_floor *f;
  uint8_t b[PROSE_FLOOR_MSG_MAX];
  cr_assert_eq(prose_floor_new(&f, &s, &ft_callbacks, rec), 0);
  cr_assert_eq(prose_floor_start(f, 0, PROSE_FLOOR_ROLE_ORIGINATOR), 0);
  cr_assert_eq(prose_floor_recv(f, 1, b, ft_request(b, 0xB, "sip:b@example.org", 1, 0)), 0);
  cr_assert_eq(prose_floor_recv(f, 2, b, ft_request(b, 0xD, "sip:d@example.org", 1, 0)), 0);
  cr_assert_eq(prose_floor_recv(f, 3, b, ft_request(b, 0xC, "sip:c@example.org", 9, 0)), 0);
  cr_assert_eq(prose_floor_rtp(f, 4, 0xC), 0);
  cr_assert_eq(prose_floor_ptt_press(f, 5, -1), 0);
  cr_assert_eq(
      prose_floor_recv(f, 6, b, ft_qpi(b, 0xC, "sip:c@example.org", 0xA, "sip:a@example.org", 1)),
      0);
  cr_assert_eq(prose_floor_queue_position(f, 7), 0);
  cr_assert_eq(prose_floor_cancel(f, 8), 0);
  prose_floor_del(f);
}

Test(floor_tshark, wireshark_decodes_every_message) {
  if (system("command -v tshark >/dev/null 2>&1") != 0) {
    printf("floor_tshark: tshark not installed, test skipped\n");
    cr_skip_test("tshark not installed");
  }
  char path[] = "/tmp/prose-floor-XXXXXX";
  int fd = mkstemp(path);
  cr_assert_geq(fd, 0);
  FILE *f = fdopen(fd, "wb");
  cr_assert_not_null(f);
  pcap_header(f);
  uint32_t frames = 0;

  static uint8_t msgs[8][PROSE_FLOOR_MSG_MAX];
  size_t nm = full_messages(msgs, 8);
  for (size_t i = 0; i < nm; i++) {
    size_t len = (((size_t)msgs[i][2] << 8) | msgs[i][3]) * 4 + 4;
    pcap_udp(f, frames++, msgs[i], len);
  }
  static ft_rec rec;
  ft_rec_init(&rec, "tshark");
  engine_messages(&rec);
  cr_assert_geq(rec.n_sent, 7);
  for (size_t i = 0; i < rec.n_sent; i++) pcap_udp(f, frames++, rec.sent[i].bytes, rec.sent[i].len);
  /* One datagram with two packets (several APP packets may share one). */
  uint8_t two[2048];
  memcpy(two, rec.sent[0].bytes, rec.sent[0].len);
  memcpy(two + rec.sent[0].len, rec.sent[1].bytes, rec.sent[1].len);
  pcap_udp(f, frames++, two, rec.sent[0].len + rec.sent[1].len);
  cr_assert_eq(fclose(f), 0);

  char cmd[256];
  snprintf(cmd, sizeof cmd, "tshark -r %s -d udp.port==%u,rtcp -V 2>/dev/null", path, PORT);
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t cap = 1 << 20, len = 0;
  char *out = malloc(cap + 1);
  cr_assert_not_null(out);
  size_t got;
  while ((got = fread(out + len, 1, cap - len, p)) > 0) len += got;
  out[len] = '\0';
  int status = pclose(p);
  remove(path);
  cr_assert_eq(status, 0, "tshark failed");

  cr_assert_eq(count(out, "Malformed"), 0, "tshark reports a malformed packet");
  cr_assert_eq(count(out, "Unknown field"), 0, "tshark sees an unknown field");
  cr_assert_eq(count(out, "[Expert Info"), 0, "tshark has expert-info warnings");
  cr_assert_eq(count(out, "[RTCP frame length check: OK"), frames, "every datagram parses fully");
  static const char *const names[] = {"Floor Request",
                                      "Floor Granted",
                                      "Floor Taken",
                                      "Floor Deny",
                                      "Floor Release",
                                      "Floor Queue Position Request",
                                      "Floor Queue Position Info"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    cr_assert_gt(count(out, names[i]), 0, "no %s in the dissection", names[i]);
  cr_assert_gt(count(out, "Floor Taken(ack req)"), 0);
  cr_assert_gt(count(out, "User ID: sip:a@example.org"), 0);
  cr_assert_gt(count(out, "Granted Party's Identity: sip:a@example.org"), 0);
  cr_assert_gt(count(out, "Queued User ID: sip:q2@example.org"), 0);
  cr_assert_gt(count(out, "Reject Phrase: queue is full"), 0);
  cr_assert_gt(count(out, "Queue Size: 2"), 0);
  cr_assert_gt(count(out, "Duration: 30 seconds"), 0);
  cr_assert_gt(count(out, "Message Sequence Number: 42"), 0);
  cr_assert_gt(count(out, "Floor Priority: 9"), 0, "the engine's grant to C");
  cr_assert_gt(count(out, "SSRC: 12"), 0, "SSRC field of the granted participant (0xC)");
  cr_assert_gt(count(out, "Queue Position Info: 1"), 0);
  free(out);
}
