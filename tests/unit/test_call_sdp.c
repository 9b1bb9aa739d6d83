/*
 * SDP offer/answer: golden build, round trips, the key-mgmt hook, accepted
 * variants and a table of hostile descriptions with their specific codes.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/rng.h"
#include "prose/sdp.h"

static prose_sdp base(void) {
  prose_sdp s;
  memset(&s, 0, sizeof s);
  s.sess_id = 4660;
  s.sess_version = 1;
  strcpy(s.addr, "198.18.0.7");
  s.audio_port = 30000;
  s.payload_type = 0;
  strcpy(s.codec, "PCMU");
  s.clock_rate = 8000;
  s.has_floor = true;
  s.floor_port = 30002;
  s.mc_queueing = true;
  s.has_mc_priority = true;
  s.mc_priority = 5;
  return s;
}

static void assert_same(const prose_sdp *a, const prose_sdp *b) {
  cr_assert_eq(a->sess_id, b->sess_id);
  cr_assert_eq(a->sess_version, b->sess_version);
  cr_assert_str_eq(a->addr, b->addr);
  cr_assert_eq(a->ipv6, b->ipv6);
  cr_assert_eq(a->audio_port, b->audio_port);
  cr_assert_eq(a->audio_rtcp_port, b->audio_rtcp_port);
  cr_assert_eq(a->payload_type, b->payload_type);
  cr_assert_str_eq(a->codec, b->codec);
  cr_assert_eq(a->clock_rate, b->clock_rate);
  cr_assert_eq(a->has_floor, b->has_floor);
  cr_assert_eq(a->floor_port, b->floor_port);
  cr_assert_eq(a->mc_queueing, b->mc_queueing);
  cr_assert_eq(a->has_mc_priority, b->has_mc_priority);
  cr_assert_eq(a->mc_priority, b->mc_priority);
  cr_assert_eq(a->has_key_mgmt, b->has_key_mgmt);
  cr_assert_eq(a->key_mgmt_len, b->key_mgmt_len);
  cr_assert_arr_eq(a->key_mgmt, b->key_mgmt, a->key_mgmt_len);
}

Test(call_sdp, golden_build_and_round_trip) {
  prose_sdp s = base(), p;
  memcpy(s.key_mgmt, "\x01\x1a\x05\xff", 4);
  s.key_mgmt_len = 4;
  s.has_key_mgmt = true;
  s.audio_rtcp_port = 30005;
  char out[PROSE_SDP_MAX + 1];
  size_t len;
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), 0);
  const char *want =
      "v=0\r\n"
      "o=- 4660 1 IN IP4 198.18.0.7\r\n"
      "s=-\r\n"
      "c=IN IP4 198.18.0.7\r\n"
      "t=0 0\r\n"
      "a=key-mgmt:mikey ARoF/w==\r\n"
      "m=audio 30000 RTP/AVP 0\r\n"
      "i=speech\r\n"
      "a=rtpmap:0 PCMU/8000\r\n"
      "a=rtcp:30005\r\n"
      "m=application 30002 udp MCPTT\r\n"
      "a=fmtp:MCPTT mc_queueing;mc_priority=5\r\n";
  cr_assert_str_eq(out, want);
  cr_assert_eq(len, strlen(want));
  cr_assert_eq(prose_sdp_parse(out, len, &p), 0);
  assert_same(&s, &p);

  /* Deterministic: the same struct gives the same octets. */
  char again[PROSE_SDP_MAX + 1];
  size_t len2;
  cr_assert_eq(prose_sdp_build(&p, again, sizeof again, &len2), 0);
  cr_assert_str_eq(again, out);

  /* Optional parts off: no rtpmap, no rtcp, floor line without fmtp, IPv6. */
  prose_sdp t = base();
  t.codec[0] = '\0';
  t.clock_rate = 0;
  t.mc_queueing = false;
  t.has_mc_priority = false;
  t.mc_priority = 0;
  t.ipv6 = true;
  strcpy(t.addr, "fd77::4");
  cr_assert_eq(prose_sdp_build(&t, out, sizeof out, &len), 0);
  cr_assert_str_eq(out,
                   "v=0\r\no=- 4660 1 IN IP6 fd77::4\r\ns=-\r\nc=IN IP6 fd77::4\r\nt=0 0\r\n"
                   "m=audio 30000 RTP/AVP 0\r\ni=speech\r\nm=application 30002 udp MCPTT\r\n");
  cr_assert_eq(prose_sdp_parse(out, len, &p), 0);
  assert_same(&t, &p);
  t.has_floor = false;
  t.has_mc_priority = true; /* priority alone */
  t.mc_priority = 5;
  cr_assert_eq(prose_sdp_build(&t, out, sizeof out, &len), 0);
  cr_assert_eq(prose_sdp_parse(out, len, &p), 0);
  cr_assert(!p.has_floor && !p.has_mc_priority);
  t.has_floor = true;
  cr_assert_eq(prose_sdp_build(&t, out, sizeof out, &len), 0);
  cr_assert(strstr(out, "a=fmtp:MCPTT mc_priority=5\r\n") != NULL);
}

/* The key-mgmt hook carries any I_MESSAGE up to the limit, octet exact. */
Test(call_sdp, key_mgmt_round_trip_all_sizes) {
  prose_rng_det st;
  prose_rng rng = prose_rng_det_init(&st, 77);
  static prose_sdp s, p;
  static char out[PROSE_SDP_MAX + 1];
  const size_t sizes[] = {1, 2, 3, 4, 5, 100, 511, 600, 1023, 2047, PROSE_SDP_KEYMGMT_MAX};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    s = base();
    s.has_key_mgmt = true;
    s.key_mgmt_len = sizes[i];
    prose_rng_fill(&rng, s.key_mgmt, sizes[i]);
    size_t len;
    cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), 0, "size %zu", sizes[i]);
    cr_assert_leq(len, PROSE_SDP_MAX);
    cr_assert_eq(prose_sdp_parse(out, len, &p), 0, "size %zu", sizes[i]);
    assert_same(&s, &p);
  }
}

/* Descriptions other implementations send, all accepted. */
Test(call_sdp, accepted_variants) {
  prose_sdp p;
  const char *lf =
      "v=0\no=alice 2890844526 2890842807 IN IP4 host.example.org\ns=MCPTT call\n"
      "c=IN IP4 224.2.1.1/127/3\nt=2873397496 2873404696\nb=AS:64\na=recvonly\n"
      "m=audio 49170 RTP/SAVP 96 0 8\ni=speech\nc=IN IP4 239.1.2.3/255\n"
      "a=rtpmap:0 PCMU/8000\na=rtpmap:96 AMR-WB/16000/1\na=rtcp:53020 IN IP4 239.1.2.3\n"
      "a=key-mgmt:mikey AAEC\n"
      "m=video 51372/2 RTP/AVP 31\na=rtpmap:31 H261/90000\na=fmtp:MCPTT mc_priority=9\n"
      "m=application 5000 udp MCPTT\na=fmtp:MCPTT mc_queueing; mc_priority=255;mc_granted";
  cr_assert_eq(prose_sdp_parse(lf, strlen(lf), &p), 0);
  cr_assert_str_eq(p.addr, "239.1.2.3"); /* the media-level c= wins */
  cr_assert_eq(p.audio_port, 49170);
  cr_assert_eq(p.payload_type, 96);
  cr_assert_str_eq(p.codec, "AMR-WB");
  cr_assert_eq(p.clock_rate, 16000u);
  cr_assert_eq(p.audio_rtcp_port, 53020);
  cr_assert(p.has_key_mgmt && p.key_mgmt_len == 3 && memcmp(p.key_mgmt, "\0\1\2", 3) == 0);
  cr_assert(p.has_floor && p.floor_port == 5000 && p.mc_queueing);
  cr_assert(p.has_mc_priority && p.mc_priority == 255);
  cr_assert_eq(p.sess_id, 2890844526u);

  const char *v6 = "v=0\r\no=- 1 1 IN IP6 fd77::1\r\ns= \r\nc=IN IP6 ff15::abcd\r\nt=0 0\r\n"
                   "a=key-mgmt:other-protocol zzzz\r\nm=audio 0 RTP/AVP 127\r\n";
  cr_assert_eq(prose_sdp_parse(v6, strlen(v6), &p), 0);
  cr_assert(p.ipv6);
  cr_assert_str_eq(p.addr, "ff15::abcd");
  cr_assert(!p.has_key_mgmt && !p.has_floor && p.codec[0] == '\0');
  cr_assert_eq(p.payload_type, 127);
}

#define HEAD "v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n"
#define CONN "c=IN IP4 10.0.0.1\r\n"
#define TIME "t=0 0\r\n"
#define AUDIO "m=audio 4000 RTP/AVP 0\r\n"
#define OK_BODY HEAD CONN TIME AUDIO

Test(call_sdp, hostile_descriptions) {
  static const struct {
    const char *text;
    int rc;
  } T[] = {
      {OK_BODY, 0},
      {"", PROSE_ESDP_MISSING},
      {"o=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_MISSING},
      {"v=0\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_MISSING},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1\r\n" CONN TIME AUDIO, PROSE_ESDP_MISSING},
      {HEAD CONN AUDIO, PROSE_ESDP_MISSING},             /* no t= */
      {HEAD CONN TIME, PROSE_ESDP_MISSING},              /* no m=audio */
      {HEAD TIME AUDIO, PROSE_ESDP_MISSING},             /* no c= */
      {HEAD CONN TIME "m=video 4000 RTP/AVP 0\r\n", PROSE_ESDP_MISSING},
      {"v=1\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_VALUE},
      {"v=0\r\no=- 1 1 ATM IP4 10.0.0.1\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_VALUE},
      {"v=0\r\no=- x 1 IN IP4 10.0.0.1\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_VALUE},
      {"v=0\r\no=- 1 1 IN IP4\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_SYNTAX},
      {"v=0\r\no=- 1 1 IN IP4 10.0.0.1 extra\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_SYNTAX},
      {HEAD CONN TIME "m=audio 65536 RTP/AVP 0\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio 99999999999999999999999 RTP/AVP 0\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio -1 RTP/AVP 0\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio 40a0 RTP/AVP 0\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio 4000/2 RTP/AVP 0\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio 4000 RTP/AVP 128\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio 4000 TCP 0\r\n", PROSE_ESDP_VALUE},
      {HEAD CONN TIME "m=audio 4000 RTP/AVP\r\n", PROSE_ESDP_SYNTAX},
      {HEAD CONN TIME "m=audio 4000  RTP/AVP 0\r\n", PROSE_ESDP_SYNTAX},
      {HEAD CONN TIME "m=audio 4000 RTP/AVP 0 \r\n", PROSE_ESDP_SYNTAX},
      {HEAD CONN TIME "m=audio 4000 RTP/AVP 0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19"
                      " 20 21 22 23 24 25 26 27 28 29 30 31 32\r\n",
       PROSE_ESDP_LIMIT},
      {HEAD "c=IN IP4 300.1.1.1\r\n" TIME AUDIO, PROSE_ESDP_VALUE},
      {HEAD "c=IN IP6 10.0.0.1\r\n" TIME AUDIO, PROSE_ESDP_VALUE},
      {HEAD "c=IN IP4 fd77::1\r\n" TIME AUDIO, PROSE_ESDP_VALUE},
      {HEAD "c=IN IPX 10.0.0.1\r\n" TIME AUDIO, PROSE_ESDP_VALUE},
      {HEAD "c=IN IP4 224.1.1.1/256\r\n" TIME AUDIO, PROSE_ESDP_VALUE},
      {HEAD "c=IN IP4 224.1.1.1/\r\n" TIME AUDIO, PROSE_ESDP_VALUE},
      {HEAD "c=IN IP4 " "1111111111111111111111111111111111111111111111111\r\n" TIME AUDIO,
       PROSE_ESDP_VALUE},
      {HEAD CONN CONN TIME AUDIO, PROSE_ESDP_SYNTAX},  /* two session c= */
      {HEAD CONN TIME TIME AUDIO, PROSE_ESDP_SYNTAX},  /* two t= */
      {HEAD CONN TIME AUDIO TIME, PROSE_ESDP_SYNTAX},  /* t= in a media section */
      {OK_BODY "v=0\r\n", PROSE_ESDP_SYNTAX},          /* repeated v= */
      {OK_BODY "s=again\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "x=unknown\r\n", PROSE_ESDP_SYNTAX},     /* unknown type letter */
      {OK_BODY "A=upper\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "a\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "a=\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "a=:value\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "\r\n", PROSE_ESDP_SYNTAX},             /* empty line */
      {OK_BODY "i=tab\there\r\n", PROSE_ESDP_SYNTAX},  /* control character */
      {OK_BODY "i=cr\rhere\r\n", PROSE_ESDP_SYNTAX},
      {"v=0\r\r\no=- 1 1 IN IP4 10.0.0.1\r\ns=-\r\n" CONN TIME AUDIO, PROSE_ESDP_SYNTAX},
      {HEAD CONN TIME "a=key-mgmt:mikey\r\n" AUDIO, PROSE_ESDP_KEYMGMT},
      {HEAD CONN TIME "a=key-mgmt:mikey \r\n" AUDIO, PROSE_ESDP_KEYMGMT},
      {HEAD CONN TIME "a=key-mgmt:mikey AAE\r\n" AUDIO, PROSE_ESDP_KEYMGMT},
      {HEAD CONN TIME "a=key-mgmt:mikey AA=C\r\n" AUDIO, PROSE_ESDP_KEYMGMT},
      {HEAD CONN TIME "a=key-mgmt:mikey AB==\r\n" AUDIO, PROSE_ESDP_KEYMGMT}, /* non-canonical */
      {HEAD CONN TIME "a=key-mgmt:mikey AA*=\r\n" AUDIO, PROSE_ESDP_KEYMGMT},
      {HEAD CONN TIME "a=key-mgmt:mikey AAEC\r\n" AUDIO "a=key-mgmt:mikey AAEC\r\n",
       PROSE_ESDP_KEYMGMT},
      {OK_BODY "a=rtpmap:0 PCMU\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "a=rtpmap:0 PCMU/0\r\n", PROSE_ESDP_VALUE},
      {OK_BODY "a=rtpmap:0 PCMU/99999999999\r\n", PROSE_ESDP_VALUE},
      {OK_BODY "a=rtpmap:0 P$MU/8000\r\n", PROSE_ESDP_SYNTAX},
      {OK_BODY "a=rtpmap:0 ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFGH/8000\r\n", PROSE_ESDP_LIMIT},
      {OK_BODY "a=rtpmap:200 PCMU/8000\r\n", PROSE_ESDP_VALUE},
      {OK_BODY "a=rtcp:0\r\n", PROSE_ESDP_VALUE},
      {OK_BODY "a=rtcp:70000\r\n", PROSE_ESDP_VALUE},
      {OK_BODY "m=application 5000 udp MCPTT\r\na=fmtp:MCPTT mc_priority=256\r\n",
       PROSE_ESDP_VALUE},
      {OK_BODY "m=application 5000 udp MCPTT\r\na=fmtp:MCPTT mc_queueing;;x\r\n",
       PROSE_ESDP_SYNTAX},
      {OK_BODY "m=application 65536 udp MCPTT\r\n", PROSE_ESDP_VALUE},
      {OK_BODY "m=video 70000 RTP/AVP 31\r\n", PROSE_ESDP_VALUE},
  };
  for (size_t i = 0; i < sizeof T / sizeof T[0]; i++) {
    prose_sdp p;
    int rc = prose_sdp_parse(T[i].text, strlen(T[i].text), &p);
    cr_assert_eq(rc, T[i].rc, "case %zu: %d (%s) != %d", i, rc, prose_err_name(rc), T[i].rc);
  }
}

/* Size limits: body, line, key; NUL inside; a text that is not terminated. */
Test(call_sdp, limits_and_raw_bytes) {
  static char buf[2 * PROSE_SDP_MAX];
  prose_sdp p;
  /* A body one octet over the limit. */
  size_t n = (size_t)snprintf(buf, sizeof buf, "%s", OK_BODY);
  while (n < PROSE_SDP_MAX + 1) n += (size_t)snprintf(buf + n, sizeof buf - n, "a=x\r\n");
  cr_assert_eq(prose_sdp_parse(buf, PROSE_SDP_MAX + 1, &p), PROSE_ESDP_LIMIT);
  /* A line one octet over PROSE_SDP_LINE_MAX. */
  n = (size_t)snprintf(buf, sizeof buf, "%si=", OK_BODY);
  memset(buf + n, 'y', PROSE_SDP_LINE_MAX - 1);
  n += PROSE_SDP_LINE_MAX - 1;
  cr_assert_eq(prose_sdp_parse(buf, n, &p), PROSE_ESDP_LIMIT);
  cr_assert_eq(prose_sdp_parse(buf, n - 1, &p), 0); /* exactly at the limit */
  /* A key whose decoded size exceeds PROSE_SDP_KEYMGMT_MAX. */
  n = (size_t)snprintf(buf, sizeof buf, "%s%sa=key-mgmt:mikey ", HEAD CONN, TIME);
  size_t b64 = (PROSE_SDP_KEYMGMT_MAX / 3 + 1) * 4;
  memset(buf + n, 'A', b64);
  n += b64;
  n += (size_t)snprintf(buf + n, sizeof buf - n, "\r\n%s", AUDIO);
  cr_assert_eq(prose_sdp_parse(buf, n, &p), PROSE_ESDP_LIMIT);
  /* NUL inside a line; a length that stops before a NUL-free end. */
  const char nul[] = OK_BODY "i=a\0b\r\n";
  cr_assert_eq(prose_sdp_parse(nul, sizeof nul - 1, &p), PROSE_ESDP_SYNTAX);
  const char *ok = OK_BODY "i=trailing-garbage-not-read";
  cr_assert_eq(prose_sdp_parse(ok, strlen(OK_BODY), &p), 0);
  cr_assert_eq(prose_sdp_parse(NULL, 1, &p), PROSE_EINVAL);
  cr_assert_eq(prose_sdp_parse(ok, 1, NULL), PROSE_EINVAL);
}

Test(call_sdp, build_errors) {
  char out[PROSE_SDP_MAX + 1];
  size_t len;
  prose_sdp s = base();
  strcpy(s.addr, "not-an-address");
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s = base();
  s.ipv6 = true; /* IPv4 text with the IPv6 flag */
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s = base();
  strcpy(s.codec, "PC MU");
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s = base();
  s.payload_type = 128;
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s = base();
  s.has_key_mgmt = true;
  s.key_mgmt_len = 0;
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s.key_mgmt_len = PROSE_SDP_KEYMGMT_MAX + 1;
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s = base();
  memset(s.addr, '1', sizeof s.addr); /* not NUL-terminated */
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), PROSE_EINVAL);
  s = base();
  cr_assert_eq(prose_sdp_build(&s, out, 0, &len), PROSE_EINVAL);
  for (size_t cap = 1; cap < 150; cap += 13)
    cr_assert_eq(prose_sdp_build(&s, out, cap, &len), PROSE_EBUFSZ, "cap %zu", cap);
  cr_assert_eq(prose_sdp_build(NULL, out, sizeof out, &len), PROSE_EINVAL);
}

/* Write the fuzz seed corpus when PROSE_SDP_CORPUS_DIR is set. */
Test(call_sdp, write_corpus) {
  const char *dir = getenv("PROSE_SDP_CORPUS_DIR");
  if (dir == NULL) return;
  static prose_sdp s;
  s = base();
  s.has_key_mgmt = true;
  s.key_mgmt_len = 40;
  memset(s.key_mgmt, 0x5A, 40);
  char out[PROSE_SDP_MAX + 1];
  size_t len;
  cr_assert_eq(prose_sdp_build(&s, out, sizeof out, &len), 0);
  char path[512];
  snprintf(path, sizeof path, "%s/offer_key.sdp", dir);
  FILE *f = fopen(path, "wb");
  cr_assert_not_null(f);
  fwrite(out, 1, len, f);
  fclose(f);
}
