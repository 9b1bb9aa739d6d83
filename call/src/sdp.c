/*
 * SDP offer/answer text for off-network calls (RFC 4566, RFC 4567; TS 24.379
 * 10.2.1 and 11.2.1). See sdp.h for the exact subset and the limits.
 *
 * The parser walks the body line by line with explicit bounds and never
 * writes past the struct: every value is checked and copied into a fixed
 * field, and a line that does not fit a rule ends the parse with a specific
 * code. Nothing is kept from the text, so the caller may free it afterwards.
 */
#include "prose/sdp.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "prose/err.h"
#include "prose/util.h"

/* ---------------------------------------------------------------------- */
/* Small text helpers                                                       */
/* ---------------------------------------------------------------------- */

/* A token of a field list: RFC 4566 separates fields by exactly one space. */
typedef struct span {
  const char *p;
  size_t n;
} span;

static bool span_is(span s, const char *z) {
  size_t n = strlen(z);
  return s.n == n && memcmp(s.p, z, n) == 0;
}

/* Take the next space-separated token from *rest. An empty token (two
 * spaces, a leading or trailing space) is a syntax error. */
static int next_token(span *rest, span *tok) {
  if (rest->n == 0) return PROSE_ESDP_SYNTAX;
  const char *sp = memchr(rest->p, ' ', rest->n);
  size_t n = sp ? (size_t)(sp - rest->p) : rest->n;
  if (n == 0) return PROSE_ESDP_SYNTAX;
  tok->p = rest->p;
  tok->n = n;
  if (sp) {
    rest->p = sp + 1;
    rest->n -= n + 1;
    if (rest->n == 0) return PROSE_ESDP_SYNTAX; /* trailing space */
  } else {
    rest->p += n;
    rest->n = 0;
  }
  return 0;
}

/* Decimal number of 1..20 digits, at most max. */
static int parse_num(span t, uint64_t max, uint64_t *out) {
  if (t.n == 0 || t.n > 20) return PROSE_ESDP_VALUE;
  uint64_t v = 0;
  for (size_t i = 0; i < t.n; i++) {
    if (t.p[i] < '0' || t.p[i] > '9') return PROSE_ESDP_VALUE;
    uint64_t d = (uint64_t)(t.p[i] - '0');
    if (v > (UINT64_MAX - d) / 10) return PROSE_ESDP_VALUE;
    v = v * 10 + d;
  }
  if (v > max) return PROSE_ESDP_VALUE;
  *out = v;
  return 0;
}

static int parse_port(span t, uint16_t *port) {
  uint64_t v;
  int rc = parse_num(t, UINT16_MAX, &v);
  if (rc == 0) *port = (uint16_t)v;
  return rc;
}

/* An IPv4 or IPv6 address in text form; the family must match ipv6. */
static bool addr_valid(const char *a, bool ipv6) {
  unsigned char bin[16];
  return inet_pton(ipv6 ? AF_INET6 : AF_INET, a, bin) == 1;
}

static bool codec_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

/* ---------------------------------------------------------------------- */
/* Build                                                                    */
/* ---------------------------------------------------------------------- */

typedef struct sdp_out {
  char *buf;
  size_t cap;
  size_t len;
  int err;
} sdp_out;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static void out_put(sdp_out *o, const char *fmt, ...) {
  if (o->err) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
  va_end(ap);
  if (n < 0 || (size_t)n >= o->cap - o->len) {
    o->err = PROSE_EBUFSZ;
    return;
  }
  o->len += (size_t)n;
}

static int build_check(const prose_sdp *s) {
  if (memchr(s->addr, 0, sizeof s->addr) == NULL || !addr_valid(s->addr, s->ipv6))
    return PROSE_EINVAL;
  if (s->payload_type > 127) return PROSE_EINVAL;
  size_t cl = strnlen(s->codec, sizeof s->codec);
  if (cl == sizeof s->codec) return PROSE_EINVAL;
  for (size_t i = 0; i < cl; i++)
    if (!codec_char(s->codec[i])) return PROSE_EINVAL;
  if (s->has_key_mgmt && (s->key_mgmt_len == 0 || s->key_mgmt_len > PROSE_SDP_KEYMGMT_MAX))
    return PROSE_EINVAL;
  return 0;
}

static void build_floor(sdp_out *o, const prose_sdp *s) {
  out_put(o, "m=application %u udp MCPTT\r\n", (unsigned)s->floor_port);
  if (!s->mc_queueing && !s->has_mc_priority) return;
  out_put(o, "a=fmtp:MCPTT %s%s", s->mc_queueing ? "mc_queueing" : "",
          s->mc_queueing && s->has_mc_priority ? ";" : "");
  if (s->has_mc_priority) out_put(o, "mc_priority=%u", (unsigned)s->mc_priority);
  out_put(o, "\r\n");
}

int prose_sdp_build(const prose_sdp *s, char *out, size_t cap, size_t *len) {
  if (s == NULL || out == NULL || len == NULL || cap == 0) return PROSE_EINVAL;
  int rc = build_check(s);
  if (rc != 0) return rc;
  const char *fam = s->ipv6 ? "IP6" : "IP4";
  sdp_out o = {out, cap, 0, 0};
  out_put(&o, "v=0\r\no=- %" PRIu64 " %" PRIu64 " IN %s %s\r\ns=-\r\nc=IN %s %s\r\nt=0 0\r\n",
          s->sess_id, s->sess_version, fam, s->addr, fam, s->addr);
  if (s->has_key_mgmt) {
    /* Session level, so it covers every stream of the call (RFC 4567 §3.1). */
    char b64[(PROSE_SDP_KEYMGMT_MAX + 2) / 3 * 4 + 1];
    prose_b64_encode(s->key_mgmt, s->key_mgmt_len, b64);
    out_put(&o, "a=key-mgmt:mikey %s\r\n", b64);
  }
  out_put(&o, "m=audio %u RTP/AVP %u\r\ni=speech\r\n", (unsigned)s->audio_port,
          (unsigned)s->payload_type);
  if (s->codec[0] != '\0')
    out_put(&o, "a=rtpmap:%u %s/%" PRIu32 "\r\n", (unsigned)s->payload_type, s->codec,
            s->clock_rate);
  if (s->audio_rtcp_port != 0) out_put(&o, "a=rtcp:%u\r\n", (unsigned)s->audio_rtcp_port);
  if (s->has_floor) build_floor(&o, s);
  if (o.err) return o.err;
  *len = o.len;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* Parse                                                                    */
/* ---------------------------------------------------------------------- */

typedef enum sdp_section { SEC_SESSION, SEC_AUDIO, SEC_FLOOR, SEC_OTHER } sdp_section;

typedef struct sdp_ctx {
  prose_sdp *s;
  size_t line_no;
  sdp_section sec;
  bool seen_t, seen_audio, seen_floor, seen_rtpmap;
  bool session_c, audio_c;
  char session_addr[PROSE_SDP_ADDR_MAX];
  bool session_v6;
} sdp_ctx;

/* "IN IP4|IP6 <addr>[/ttl[/count]]" (c=) into addr/ipv6. */
static int parse_conn(span v, char addr[PROSE_SDP_ADDR_MAX], bool *ipv6) {
  span net, fam, a;
  int rc;
  if ((rc = next_token(&v, &net)) != 0 || (rc = next_token(&v, &fam)) != 0 ||
      (rc = next_token(&v, &a)) != 0)
    return rc;
  if (v.n != 0) return PROSE_ESDP_SYNTAX;
  if (!span_is(net, "IN")) return PROSE_ESDP_VALUE;
  if (span_is(fam, "IP4")) {
    *ipv6 = false;
  } else if (span_is(fam, "IP6")) {
    *ipv6 = true;
  } else {
    return PROSE_ESDP_VALUE;
  }
  /* Multicast TTL and address count suffixes (RFC 4566 §5.7) are checked
   * as numbers and dropped: the node sets TTL 255 itself (24.379 10.2.1). */
  const char *slash = memchr(a.p, '/', a.n);
  size_t an = slash ? (size_t)(slash - a.p) : a.n;
  if (slash) {
    span suf = {slash + 1, a.n - an - 1};
    const char *s2 = memchr(suf.p, '/', suf.n);
    span first = {suf.p, s2 ? (size_t)(s2 - suf.p) : suf.n};
    uint64_t dummy;
    if ((rc = parse_num(first, 255, &dummy)) != 0) return rc;
    if (s2) {
      span second = {s2 + 1, suf.n - first.n - 1};
      if ((rc = parse_num(second, 255, &dummy)) != 0) return rc;
    }
  }
  if (an == 0 || an >= PROSE_SDP_ADDR_MAX) return PROSE_ESDP_VALUE;
  memcpy(addr, a.p, an);
  addr[an] = '\0';
  return addr_valid(addr, *ipv6) ? 0 : PROSE_ESDP_VALUE;
}

/* o=<username> <sess-id> <sess-version> IN IP4|IP6 <address> */
static int parse_origin(sdp_ctx *c, span v) {
  span user, id, ver, net, fam, a;
  int rc;
  if ((rc = next_token(&v, &user)) != 0 || (rc = next_token(&v, &id)) != 0 ||
      (rc = next_token(&v, &ver)) != 0 || (rc = next_token(&v, &net)) != 0 ||
      (rc = next_token(&v, &fam)) != 0 || (rc = next_token(&v, &a)) != 0)
    return rc;
  if (v.n != 0) return PROSE_ESDP_SYNTAX;
  if ((rc = parse_num(id, UINT64_MAX, &c->s->sess_id)) != 0) return rc;
  if ((rc = parse_num(ver, UINT64_MAX, &c->s->sess_version)) != 0) return rc;
  if (!span_is(net, "IN")) return PROSE_ESDP_VALUE;
  if (!span_is(fam, "IP4") && !span_is(fam, "IP6")) return PROSE_ESDP_VALUE;
  /* The origin address may be a host name (RFC 4566 §5.2) and is not used. */
  return 0;
}

/* t=<start> <stop> */
static int parse_timing(sdp_ctx *c, span v) {
  span a, b;
  uint64_t x;
  int rc;
  if (c->seen_t) return PROSE_ESDP_SYNTAX;
  if ((rc = next_token(&v, &a)) != 0 || (rc = next_token(&v, &b)) != 0) return rc;
  if (v.n != 0) return PROSE_ESDP_SYNTAX;
  if ((rc = parse_num(a, UINT64_MAX, &x)) != 0 || (rc = parse_num(b, UINT64_MAX, &x)) != 0)
    return rc;
  c->seen_t = true;
  return 0;
}

static int parse_c_line(sdp_ctx *c, span v) {
  char addr[PROSE_SDP_ADDR_MAX];
  bool v6;
  int rc = parse_conn(v, addr, &v6);
  if (rc != 0) return rc;
  switch (c->sec) {
    case SEC_SESSION:
      if (c->session_c) return PROSE_ESDP_SYNTAX;
      memcpy(c->session_addr, addr, sizeof addr);
      c->session_v6 = v6;
      c->session_c = true;
      return 0;
    case SEC_AUDIO:
      if (c->audio_c) return PROSE_ESDP_SYNTAX;
      memcpy(c->s->addr, addr, sizeof addr);
      c->s->ipv6 = v6;
      c->audio_c = true;
      return 0;
    case SEC_FLOOR:
    case SEC_OTHER:
      /* Checked above; the floor stream shares the audio address. */
      return 0;
  }
  return PROSE_EINTERNAL;
}

/* m=audio <port> RTP/AVP <fmt>... */
static int parse_audio(sdp_ctx *c, span port, span proto, span fmts) {
  int rc = parse_port(port, &c->s->audio_port);
  if (rc != 0) return rc;
  if (!span_is(proto, "RTP/AVP") && !span_is(proto, "RTP/SAVP")) return PROSE_ESDP_VALUE;
  size_t count = 0;
  while (fmts.n > 0) {
    span f;
    uint64_t pt;
    if ((rc = next_token(&fmts, &f)) != 0) return rc;
    if (++count > PROSE_SDP_MAX_FORMATS) return PROSE_ESDP_LIMIT;
    if ((rc = parse_num(f, 127, &pt)) != 0) return rc;
    if (count == 1) c->s->payload_type = (uint8_t)pt;
  }
  c->seen_audio = true;
  c->sec = SEC_AUDIO;
  return 0;
}

static int parse_media(sdp_ctx *c, span v) {
  span media, port, proto;
  int rc;
  if ((rc = next_token(&v, &media)) != 0 || (rc = next_token(&v, &port)) != 0 ||
      (rc = next_token(&v, &proto)) != 0)
    return rc;
  if (v.n == 0) return PROSE_ESDP_SYNTAX; /* at least one format */
  if (span_is(media, "audio") && !c->seen_audio) return parse_audio(c, port, proto, v);
  if (span_is(media, "application") && span_is(proto, "udp") && span_is(v, "MCPTT") &&
      !c->seen_floor) {
    if ((rc = parse_port(port, &c->s->floor_port)) != 0) return rc;
    c->s->has_floor = true;
    c->seen_floor = true;
    c->sec = SEC_FLOOR;
    return 0;
  }
  /* Another stream: its port must still be a port ("<port>/<count>" is
   * allowed there), its attributes are skipped. */
  const char *slash = memchr(port.p, '/', port.n);
  if (slash) port.n = (size_t)(slash - port.p);
  uint16_t ignored;
  if ((rc = parse_port(port, &ignored)) != 0) return rc;
  c->sec = SEC_OTHER;
  return 0;
}

/* a=key-mgmt:<prtcl-id> <data> (RFC 4567 §3.1). */
static int parse_key_mgmt(sdp_ctx *c, span v) {
  if (c->sec != SEC_SESSION && c->sec != SEC_AUDIO) return 0;
  const char *sp = memchr(v.p, ' ', v.n);
  span proto = {v.p, sp ? (size_t)(sp - v.p) : v.n};
  if (!span_is(proto, "mikey")) return 0; /* another key management protocol */
  if (c->s->has_key_mgmt || sp == NULL) return PROSE_ESDP_KEYMGMT;
  span data = {sp + 1, v.n - proto.n - 1};
  if (data.n == 0) return PROSE_ESDP_KEYMGMT;
  if (data.n > (PROSE_SDP_KEYMGMT_MAX + 2) / 3 * 4) return PROSE_ESDP_LIMIT;
  int rc = prose_b64_decode(data.p, data.n, c->s->key_mgmt, sizeof c->s->key_mgmt,
                            &c->s->key_mgmt_len);
  if (rc == PROSE_EBUFSZ) return PROSE_ESDP_LIMIT;
  if (rc != 0 || c->s->key_mgmt_len == 0) return PROSE_ESDP_KEYMGMT;
  c->s->has_key_mgmt = true;
  return 0;
}

/* a=rtpmap:<pt> <encoding>/<clock rate>[/<params>] for the chosen format. */
static int parse_rtpmap(sdp_ctx *c, span v) {
  span pt_tok, enc;
  uint64_t pt, rate;
  int rc;
  if (c->sec != SEC_AUDIO) return 0;
  if ((rc = next_token(&v, &pt_tok)) != 0 || (rc = next_token(&v, &enc)) != 0) return rc;
  if (v.n != 0) return PROSE_ESDP_SYNTAX;
  if ((rc = parse_num(pt_tok, 127, &pt)) != 0) return rc;
  if (pt != c->s->payload_type || c->seen_rtpmap) return 0;
  const char *slash = memchr(enc.p, '/', enc.n);
  if (slash == NULL) return PROSE_ESDP_SYNTAX;
  span name = {enc.p, (size_t)(slash - enc.p)};
  span rest = {slash + 1, enc.n - name.n - 1};
  const char *slash2 = memchr(rest.p, '/', rest.n);
  if (slash2) rest.n = (size_t)(slash2 - rest.p); /* channels: not used */
  if (name.n == 0) return PROSE_ESDP_SYNTAX;
  if (name.n >= PROSE_SDP_CODEC_MAX) return PROSE_ESDP_LIMIT;
  for (size_t i = 0; i < name.n; i++)
    if (!codec_char(name.p[i])) return PROSE_ESDP_SYNTAX;
  if ((rc = parse_num(rest, UINT32_MAX, &rate)) != 0) return rc;
  if (rate == 0) return PROSE_ESDP_VALUE;
  memcpy(c->s->codec, name.p, name.n);
  c->s->codec[name.n] = '\0';
  c->s->clock_rate = (uint32_t)rate;
  c->seen_rtpmap = true;
  return 0;
}

/* a=rtcp:<port>[ <nettype> <addrtype> <address>] (RFC 3605). */
static int parse_rtcp(sdp_ctx *c, span v) {
  if (c->sec != SEC_AUDIO) return 0;
  span port;
  int rc = next_token(&v, &port);
  if (rc != 0) return rc;
  if ((rc = parse_port(port, &c->s->audio_rtcp_port)) != 0) return rc;
  if (c->s->audio_rtcp_port == 0) return PROSE_ESDP_VALUE;
  if (v.n != 0) {
    char addr[PROSE_SDP_ADDR_MAX];
    bool v6;
    return parse_conn(v, addr, &v6);
  }
  return 0;
}

/* a=fmtp:MCPTT <param>[;<param>]... (TS 24.380 14.2: mc_queueing,
 * mc_priority=<0..255>, others ignored). */
static int parse_fmtp(sdp_ctx *c, span v) {
  if (c->sec != SEC_FLOOR) return 0;
  if (v.n < 6 || memcmp(v.p, "MCPTT ", 6) != 0) return 0;
  span rest = {v.p + 6, v.n - 6};
  while (rest.n > 0) {
    const char *semi = memchr(rest.p, ';', rest.n);
    span par = {rest.p, semi ? (size_t)(semi - rest.p) : rest.n};
    rest.p += par.n + (semi ? 1 : 0);
    rest.n -= par.n + (semi ? 1 : 0);
    while (par.n > 0 && par.p[0] == ' ') par.p++, par.n--;
    if (par.n == 0) return PROSE_ESDP_SYNTAX;
    if (span_is(par, "mc_queueing")) {
      c->s->mc_queueing = true;
    } else if (par.n > 12 && memcmp(par.p, "mc_priority=", 12) == 0) {
      uint64_t prio;
      span num = {par.p + 12, par.n - 12};
      int rc = parse_num(num, 255, &prio);
      if (rc != 0) return rc;
      c->s->mc_priority = (uint8_t)prio;
      c->s->has_mc_priority = true;
    }
  }
  return 0;
}

static int parse_attr(sdp_ctx *c, span v) {
  const char *colon = memchr(v.p, ':', v.n);
  span name = {v.p, colon ? (size_t)(colon - v.p) : v.n};
  span val = {colon ? colon + 1 : v.p + v.n, colon ? v.n - name.n - 1 : 0};
  if (name.n == 0) return PROSE_ESDP_SYNTAX;
  if (span_is(name, "key-mgmt")) return parse_key_mgmt(c, val);
  if (span_is(name, "rtpmap")) return parse_rtpmap(c, val);
  if (span_is(name, "rtcp")) return parse_rtcp(c, val);
  if (span_is(name, "fmtp")) return parse_fmtp(c, val);
  return 0; /* RFC 4566 §5.13: unknown attributes are ignored */
}

/* The fixed head of every description: v=0, o=, s= on lines 0, 1, 2. */
static int parse_head(sdp_ctx *c, char type, span v) {
  static const char order[3] = {'v', 'o', 's'};
  if (c->line_no < 3) {
    if (type != order[c->line_no]) return PROSE_ESDP_MISSING;
  } else if (type == 'v' || type == 'o' || type == 's') {
    return PROSE_ESDP_SYNTAX;
  }
  switch (type) {
    case 'v':
      return span_is(v, "0") ? 0 : PROSE_ESDP_VALUE;
    case 'o':
      return parse_origin(c, v);
    default:
      return 0; /* s=: any non-empty text */
  }
}

static int parse_line(sdp_ctx *c, char type, span v) {
  if (c->line_no < 3 || type == 'v' || type == 'o' || type == 's') return parse_head(c, type, v);
  switch (type) {
    case 't':
      return c->sec == SEC_SESSION ? parse_timing(c, v) : PROSE_ESDP_SYNTAX;
    case 'c':
      return parse_c_line(c, v);
    case 'm':
      return parse_media(c, v);
    case 'a':
      return parse_attr(c, v);
    case 'i': case 'u': case 'e': case 'p': case 'b': case 'z': case 'k': case 'r':
      return 0; /* known informational lines: not used */
    default:
      /* RFC 4566 §5: a description with an unknown type letter is rejected. */
      return PROSE_ESDP_SYNTAX;
  }
}

/* Split one line at pos; *next receives the start of the following line. */
static int take_line(const char *text, size_t len, size_t pos, span *line, size_t *next) {
  const char *nl = memchr(text + pos, '\n', len - pos);
  size_t end = nl ? (size_t)(nl - text) : len;
  *next = nl ? end + 1 : len;
  if (end > pos && text[end - 1] == '\r' && nl) end--;
  line->p = text + pos;
  line->n = end - pos;
  if (line->n > PROSE_SDP_LINE_MAX) return PROSE_ESDP_LIMIT;
  if (line->n < 2 || line->p[1] != '=' || line->p[0] < 'a' || line->p[0] > 'z')
    return PROSE_ESDP_SYNTAX;
  for (size_t i = 0; i < line->n; i++) {
    unsigned char ch = (unsigned char)line->p[i];
    if (ch < 0x20 || ch == 0x7F) return PROSE_ESDP_SYNTAX; /* NUL, CR, tabs, ... */
  }
  return 0;
}

static int parse_finish(sdp_ctx *c) {
  if (c->line_no < 3) return PROSE_ESDP_MISSING;
  if (!c->seen_t || !c->seen_audio) return PROSE_ESDP_MISSING;
  if (!c->audio_c) {
    if (!c->session_c) return PROSE_ESDP_MISSING;
    memcpy(c->s->addr, c->session_addr, sizeof c->session_addr);
    c->s->ipv6 = c->session_v6;
  }
  return 0;
}

int prose_sdp_parse(const char *text, size_t len, prose_sdp *s) {
  if (s == NULL || (text == NULL && len > 0)) return PROSE_EINVAL;
  memset(s, 0, sizeof *s);
  if (len > PROSE_SDP_MAX) return PROSE_ESDP_LIMIT;
  sdp_ctx c = {.s = s, .sec = SEC_SESSION};
  size_t pos = 0;
  int rc = 0;
  while (pos < len && rc == 0) {
    span line;
    size_t next;
    if ((rc = take_line(text, len, pos, &line, &next)) != 0) break;
    span v = {line.p + 2, line.n - 2};
    if (v.n == 0) {
      rc = PROSE_ESDP_SYNTAX;
      break;
    }
    rc = parse_line(&c, line.p[0], v);
    c.line_no++;
    pos = next;
  }
  if (rc == 0) rc = parse_finish(&c);
  if (rc != 0) prose_wipe(s->key_mgmt, sizeof s->key_mgmt);
  return rc;
}
