/*
 * The scenario language (docs/sim.md): one directive per line, words
 * separated by blanks, `#` starts a comment. Two passes: the first reads the
 * variables (`param`, `sweep`) from the raw text; the second substitutes
 * `${NAME}` for the chosen variant and parses every other directive. Errors
 * name the line and the word that is wrong, since people write these files
 * by hand.
 */
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "prose/call_msg.h"
#include "prose/err.h"
#include "prose/node.h"
#include "scn.h"

#define MAX_WORDS 96
#define LINE_MAX_LEN 2048

/* Defaults of a scenario that does not say otherwise. */
#define DEF_DURATION_US (30u * 1000000u)
#define DEF_SEED 1u
#define DEF_FRAME_MS 20u
#define DEF_FRAME_LEN 160u /* 20 ms of PCMU */
#define DEF_GROUP_MEDIA 30000u
#define DEF_GROUP_APP 40000u
/* Costs measured with prose-bench crypto on the 2-core reference machine
 * (median, rounded): ECCSI sign 50 us, verify with the cached Y 100 us,
 * I_MESSAGE create 1.6 ms, process 2.8 ms; an AES-GCM SRTP packet a few us. */
#define DEF_CPU_SIGN_US 50u
#define DEF_CPU_VERIFY_US 100u
#define DEF_CPU_CREATE_US 1600u
#define DEF_CPU_PROCESS_US 2800u
#define DEF_CPU_SRTP_US 3u

typedef struct pctx {
  int line; /* for errors; 0 when not about one line */
  char *err;
  size_t err_cap;
} pctx;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int fail(pctx *c, const char *fmt, ...) {
  if (c->err && c->err_cap) {
    char msg[PROSE_SIM_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (c->line > 0)
      snprintf(c->err, c->err_cap, "line %d: %s", c->line, msg);
    else
      snprintf(c->err, c->err_cap, "%s", msg);
  }
  return PROSE_ECONFIG;
}

static void *grow(void *p, size_t *cap, size_t need, size_t elem) {
  if (need <= *cap) return p;
  size_t nc = *cap ? *cap * 2 : 16;
  while (nc < need) nc *= 2;
  void *q = realloc(p, nc * elem);
  if (q == NULL) return NULL;
  memset((char *)q + *cap * elem, 0, (nc - *cap) * elem);
  *cap = nc;
  return q;
}

static bool copy_str(char *dst, size_t cap, const char *s) {
  size_t n = strlen(s);
  if (n >= cap) return false;
  memcpy(dst, s, n + 1);
  return true;
}

/* ---- values ------------------------------------------------------------------ */

/* "250ms", "1.5s", "20us", "2min"; a leading sign only when signed. */
static int parse_time_s(pctx *c, const char *w, bool allow_sign, int64_t *out) {
  char *end = NULL;
  if (!allow_sign && (w[0] == '-' || w[0] == '+')) return fail(c, "'%s': no sign allowed", w);
  /* strtod would skip leading white space (a \v or \f is part of a word)
   * and then take a sign: "\v-1s" must not be a time of -1 s. */
  const char *num = w + (w[0] == '-' || w[0] == '+');
  if (!isdigit((unsigned char)num[0]) && num[0] != '.') return fail(c, "'%s' is not a time", w);
  double v = strtod(w, &end);
  if (end == w || !isfinite(v)) return fail(c, "'%s' is not a time", w);
  double mul;
  if (strcmp(end, "us") == 0)
    mul = 1.0;
  else if (strcmp(end, "ms") == 0)
    mul = 1e3;
  else if (strcmp(end, "s") == 0)
    mul = 1e6;
  else if (strcmp(end, "min") == 0)
    mul = 60e6;
  else if (*end == '\0' && v == 0.0)
    mul = 1.0;
  else
    return fail(c, "'%s': a time needs a unit (us, ms, s, min)", w);
  double us = v * mul;
  if (fabs(us) > 1e15) return fail(c, "'%s' is out of range", w);
  *out = (int64_t)llround(us);
  return 0;
}

static int parse_time(pctx *c, const char *w, uint64_t *out) {
  int64_t v = 0;
  int rc = parse_time_s(c, w, false, &v);
  if (rc == 0) *out = (uint64_t)v;
  return rc;
}

/* "5%" or "0.05". */
static int parse_prob(pctx *c, const char *w, double *out) {
  char *end = NULL;
  double v = strtod(w, &end);
  if (end == w || !isfinite(v)) return fail(c, "'%s' is not a probability", w);
  if (strcmp(end, "%") == 0)
    v /= 100.0;
  else if (*end != '\0')
    return fail(c, "'%s' is not a probability", w);
  if (v < 0.0 || v > 1.0) return fail(c, "'%s' is not within 0..100%%", w);
  *out = v;
  return 0;
}

static int parse_uint(pctx *c, const char *w, uint64_t max, uint64_t *out) {
  char *end = NULL;
  if (!isdigit((unsigned char)w[0])) return fail(c, "'%s' is not a number", w);
  errno = 0;
  unsigned long long v = strtoull(w, &end, 10);
  if (*end != '\0' || errno == ERANGE || v > max) return fail(c, "'%s' is not a number up to %llu", w,
                                           (unsigned long long)max);
  *out = v;
  return 0;
}

/* Bits per second: "64k", "2M", "1.5G" or a plain number. */
static int parse_rate(pctx *c, const char *w, uint64_t *out) {
  char *end = NULL;
  double v = strtod(w, &end);
  if (end == w || !isfinite(v) || v <= 0) return fail(c, "'%s' is not a rate", w);
  if (strcmp(end, "k") == 0)
    v *= 1e3;
  else if (strcmp(end, "M") == 0)
    v *= 1e6;
  else if (strcmp(end, "G") == 0)
    v *= 1e9;
  else if (*end != '\0')
    return fail(c, "'%s' is not a rate (bits/s, k, M, G)", w);
  if (v < 1 || v > 1e12) return fail(c, "'%s' is out of range", w);
  *out = (uint64_t)llround(v);
  return 0;
}

static int parse_ipv4(pctx *c, const char *w, uint8_t out[4]) {
  unsigned a, b, d, e;
  char tail;
  if (sscanf(w, "%u.%u.%u.%u%c", &a, &b, &d, &e, &tail) != 4 || a > 255 || b > 255 || d > 255 ||
      e > 255)
    return fail(c, "'%s' is not an IPv4 address", w);
  if ((a & 0xF0u) != 0xE0u) return fail(c, "'%s' is not a multicast address", w);
  out[0] = (uint8_t)a, out[1] = (uint8_t)b, out[2] = (uint8_t)d, out[3] = (uint8_t)e;
  return 0;
}

static int parse_port(pctx *c, const char *w, uint16_t *out) {
  uint64_t v = 0;
  int rc = parse_uint(c, w, 65535, &v);
  if (rc == 0 && v == 0) rc = fail(c, "port 0");
  if (rc == 0) *out = (uint16_t)v;
  return rc;
}

static bool valid_name(const char *w) {
  if (!isalpha((unsigned char)w[0])) return false;
  for (const char *p = w; *p; p++)
    if (!isalnum((unsigned char)*p) && *p != '_' && *p != '-') return false;
  return strlen(w) < SCN_NAME_MAX;
}

/* ---- words ----------------------------------------------------------------- */

typedef struct words {
  size_t n;
  char *w[MAX_WORDS];
} words;

static int split(pctx *c, char *line, words *ws) {
  ws->n = 0;
  char *p = line;
  for (;;) {
    while (*p == ' ' || *p == '\t' || *p == '\r') p++;
    if (*p == '\0' || *p == '#') break;
    if (ws->n == MAX_WORDS) return fail(c, "more than %d words", MAX_WORDS);
    ws->w[ws->n++] = p;
    while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#') p++;
    if (*p == '#') {
      *p = '\0';
      break;
    }
    if (*p) *p++ = '\0';
  }
  return 0;
}

/* ---- variables ----------------------------------------------------------- */

static const char *param_value(const prose_sim_scenario *sc, size_t variant,
                               const char *const *over, size_t n_over, const char *name,
                               size_t name_len) {
  for (size_t i = n_over; i-- > 0;) {
    const char *eq = strchr(over[i], '=');
    if (eq && (size_t)(eq - over[i]) == name_len && strncmp(over[i], name, name_len) == 0)
      return eq + 1;
  }
  if (sc->sweep[0] && strlen(sc->sweep) == name_len && strncmp(sc->sweep, name, name_len) == 0)
    return sc->sweep_values[variant < sc->n_sweep ? variant : 0];
  for (size_t i = 0; i < sc->n_params; i++)
    if (strlen(sc->params[i].name) == name_len && strncmp(sc->params[i].name, name, name_len) == 0)
      return sc->params[i].value;
  return NULL;
}

static int substitute(pctx *c, const prose_sim_scenario *sc, size_t variant,
                      const char *const *over, size_t n_over, const char *in, char *out,
                      size_t cap) {
  size_t o = 0;
  for (const char *p = in; *p;) {
    if (p[0] == '$' && p[1] == '{') {
      const char *end = strchr(p + 2, '}');
      if (end == NULL) return fail(c, "unterminated ${");
      const char *v = param_value(sc, variant, over, n_over, p + 2, (size_t)(end - p - 2));
      if (v == NULL) return fail(c, "unknown variable '%.*s'", (int)(end - p - 2), p + 2);
      size_t vl = strlen(v);
      if (o + vl >= cap) return fail(c, "line too long");
      memcpy(out + o, v, vl);
      o += vl;
      p = end + 1;
      continue;
    }
    if (o + 1 >= cap) return fail(c, "line too long");
    out[o++] = *p++;
  }
  out[o] = '\0';
  return 0;
}

/* ---- node patterns --------------------------------------------------------- */

/* "u[3..12]" -> prefix "u", 3, 12, width (zero padding of "003"), suffix.
 * A range names at most PROSE_SIM_MAX_NODES numbers below RANGE_NUM_MAX
 * and its prefix and suffix are plain text (no glob), so that matching it
 * costs one comparison per node and declaring it at most as many nodes as a
 * scenario may have: `u[1..100000]` or `u[18446744073709551615..
 * 18446744073709551615]` are refused, not expanded (or wrapped around). */
#define RANGE_NUM_MAX 1000000000ul
typedef struct range {
  char prefix[SCN_NAME_MAX], suffix[SCN_NAME_MAX];
  unsigned long lo, hi;
  int width;
} range;

enum { RANGE_NONE = 0, RANGE_OK = 1, RANGE_BAD = -1 };

/* RANGE_NONE when the item has no numbered range (a name or a glob),
 * RANGE_BAD with why when it has one that cannot be. */
static int parse_range(const char *item, range *r, char *why, size_t why_cap) {
  const char *open = strchr(item, '[');
  const char *dots = open ? strstr(open, "..") : NULL;
  const char *close = dots ? strchr(dots, ']') : NULL;
  if (!open || !dots || !close || !isdigit((unsigned char)open[1]) ||
      !isdigit((unsigned char)dots[2]))
    return RANGE_NONE;
  char *e1 = NULL, *e2 = NULL;
  r->lo = strtoul(open + 1, &e1, 10);
  r->hi = strtoul(dots + 2, &e2, 10);
  if (e1 != dots || e2 != close) return RANGE_NONE;
  const char *bad = NULL;
  char many[64];
  if ((size_t)(open - item) >= SCN_NAME_MAX || strlen(close + 1) >= SCN_NAME_MAX ||
      dots - open - 1 >= SCN_NAME_MAX)
    bad = "too long";
  else if (r->lo >= RANGE_NUM_MAX || r->hi >= RANGE_NUM_MAX)
    bad = "numbers go up to 999999999";
  else if (r->hi < r->lo)
    bad = "an empty range";
  else if (r->hi - r->lo >= PROSE_SIM_MAX_NODES) {
    snprintf(many, sizeof many, "more than %u numbers", PROSE_SIM_MAX_NODES);
    bad = many;
  } else if (strpbrk(close + 1, "*?[\\") || strcspn(item, "*?\\") < (size_t)(open - item))
    bad = "a numbered range cannot be part of a glob";
  if (bad) {
    if (why) snprintf(why, why_cap, "'%.*s': %s", SCN_PAT_MAX, item, bad);
    return RANGE_BAD;
  }
  r->width = open[1] == '0' ? (int)(dots - open - 1) : 0;
  memcpy(r->prefix, item, (size_t)(open - item));
  r->prefix[open - item] = '\0';
  snprintf(r->suffix, sizeof r->suffix, "%s", close + 1);
  return RANGE_OK;
}

static void range_name(const range *r, unsigned long k, char *out, size_t cap) {
  snprintf(out, cap, "%s%0*lu%s", r->prefix, r->width, k, r->suffix);
}

/* Whether name is one of the range's names: prefix, digits, suffix, and the
 * digits written as range_name writes the number (padded to the width). */
static bool range_has(const range *r, const char *name) {
  size_t pl = strlen(r->prefix), sl = strlen(r->suffix), nl = strlen(name);
  if (nl <= pl + sl || memcmp(name, r->prefix, pl) != 0 ||
      memcmp(name + nl - sl, r->suffix, sl) != 0)
    return false;
  size_t dl = nl - pl - sl, sig = 0; /* digits, and those from the first non-zero */
  unsigned long k = 0;
  for (size_t i = pl; i < nl - sl; i++) {
    if (!isdigit((unsigned char)name[i]) || k >= RANGE_NUM_MAX / 10) return false;
    k = k * 10 + (unsigned long)(name[i] - '0');
    if (k) sig++;
  }
  if (sig == 0) sig = 1; /* "0" */
  size_t w = (size_t)r->width;
  return k >= r->lo && k <= r->hi && dl == (w > sig ? w : sig);
}

long scn_node_find(const scn *s, const char *name) {
  for (size_t i = 0; i < s->n_nodes; i++)
    if (strcmp(s->nodes[i].name, name) == 0) return (long)i;
  return -1;
}

int scn_group_find(const scn *s, const char *name) {
  for (size_t i = 0; i < s->n_groups; i++)
    if (strcmp(s->groups[i].name, name) == 0) return (int)i;
  return -1;
}

/* Sets the bits of the nodes that item names; PROSE_ECONFIG with err when
 * it names none or is a bad range. */
static int match_item(const scn *s, const char *item, uint64_t *set, char *err, size_t err_cap) {
  size_t hits = 0;
  range r;
  int kind = parse_range(item, &r, err, err_cap);
  if (kind == RANGE_BAD) return PROSE_ECONFIG;
  for (size_t i = 0; i < s->n_nodes; i++)
    if (kind == RANGE_OK ? range_has(&r, s->nodes[i].name)
                         : fnmatch(item, s->nodes[i].name, 0) == 0) {
      set[i / 64] |= 1ull << (i % 64);
      hits++;
    }
  if (hits > 0) return 0;
  if (err) snprintf(err, err_cap, "'%s' names no node", item);
  return PROSE_ECONFIG;
}

int scn_match(const scn *s, const char *pattern, uint64_t *set, char *err, size_t err_cap) {
  char buf[SCN_PAT_MAX];
  if (!copy_str(buf, sizeof buf, pattern)) {
    if (err) snprintf(err, err_cap, "pattern too long");
    return PROSE_ECONFIG;
  }
  for (char *save = NULL, *item = strtok_r(buf, ",", &save); item;
       item = strtok_r(NULL, ",", &save)) {
    int rc = match_item(s, item, set, err, err_cap);
    if (rc) return rc;
  }
  return 0;
}

/* ---- directives ------------------------------------------------------------ */

typedef struct parser {
  pctx c;
  scn *s;
} parser;

static int word_is(const words *ws, size_t i, const char *w) {
  return i < ws->n && strcmp(ws->w[i], w) == 0;
}

static int need(parser *p, const words *ws, size_t i, const char *what) {
  if (i >= ws->n) return fail(&p->c, "'%s' needs %s", ws->w[0], what);
  return 0;
}

static int d_group(parser *p, const words *ws) {
  scn *s = p->s;
  int rc = need(p, ws, 1, "a name");
  if (rc) return rc;
  if (!valid_name(ws->w[1])) return fail(&p->c, "'%s' is not a valid group name", ws->w[1]);
  if (scn_group_find(s, ws->w[1]) >= 0) return fail(&p->c, "group '%s' twice", ws->w[1]);
  if (s->n_groups == PROSE_SIM_MAX_GROUPS) return fail(&p->c, "more than %u groups",
                                                       PROSE_SIM_MAX_GROUPS);
  size_t k = s->n_groups;
  scn_group *g = &s->groups[k];
  memset(g, 0, sizeof *g);
  snprintf(g->name, sizeof g->name, "%s", ws->w[1]);
  snprintf(g->uri, sizeof g->uri, "sip:%s@example.org", ws->w[1]);
  g->addr[0] = 239, g->addr[1] = 1, g->addr[2] = 1, g->addr[3] = (uint8_t)(k + 1);
  g->media_port = (uint16_t)(DEF_GROUP_MEDIA + 4u * k);
  g->floor_port = (uint16_t)(DEF_GROUP_MEDIA + 4u * k + 2u); /* after RTP and RTCP, as prosed */
  g->app_port = (uint16_t)(DEF_GROUP_APP + 4u * k);
  for (size_t i = 2; i < ws->n; i += 2) {
    if ((rc = need(p, ws, i + 1, "a value after each keyword")) != 0) return rc;
    const char *k2 = ws->w[i], *v = ws->w[i + 1];
    if (strcmp(k2, "uri") == 0) {
      if (!copy_str(g->uri, sizeof g->uri, v)) return fail(&p->c, "uri too long");
    } else if (strcmp(k2, "addr") == 0) {
      rc = parse_ipv4(&p->c, v, g->addr);
    } else if (strcmp(k2, "media") == 0) {
      rc = parse_port(&p->c, v, &g->media_port);
    } else if (strcmp(k2, "floor") == 0) {
      rc = parse_port(&p->c, v, &g->floor_port);
    } else if (strcmp(k2, "app") == 0) {
      rc = parse_port(&p->c, v, &g->app_port);
    } else {
      return fail(&p->c, "group: unknown keyword '%s'", k2);
    }
    if (rc) return rc;
  }
  if (g->floor_port == g->media_port || g->floor_port == g->media_port + 1u)
    return fail(&p->c, "group %s: floor port %u collides with RTP or RTCP of media port %u", g->name,
                g->floor_port, g->media_port);
  s->n_groups++;
  return 0;
}

/* "fire,police" or "all" -> group bits. */
static int parse_groups(parser *p, const char *v, uint32_t *out) {
  if (strcmp(v, "all") == 0) {
    *out = p->s->n_groups == 32 ? UINT32_MAX : (1u << p->s->n_groups) - 1u;
    return 0;
  }
  char buf[SCN_PAT_MAX];
  if (!copy_str(buf, sizeof buf, v)) return fail(&p->c, "group list too long");
  *out = 0;
  for (char *save = NULL, *g = strtok_r(buf, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
    int k = scn_group_find(p->s, g);
    if (k < 0) return fail(&p->c, "unknown group '%s' (declare groups before nodes)", g);
    *out |= 1u << k;
  }
  return 0;
}

/* checked: whether name may already be a node (one search among them). */
static int add_node(parser *p, const char *name, const scn_node *proto, bool checked) {
  scn *s = p->s;
  if (!valid_name(name)) return fail(&p->c, "'%s' is not a valid node name", name);
  if (!checked && scn_node_find(s, name) >= 0) return fail(&p->c, "node '%s' twice", name);
  if (s->n_nodes == PROSE_SIM_MAX_NODES) return fail(&p->c, "more than %u nodes",
                                                     PROSE_SIM_MAX_NODES);
  scn_node *nn = grow(s->nodes, &s->cap_nodes, s->n_nodes + 1, sizeof *s->nodes);
  if (nn == NULL) return PROSE_ENOMEM;
  s->nodes = nn;
  scn_node *n = &s->nodes[s->n_nodes++];
  *n = *proto;
  snprintf(n->name, sizeof n->name, "%s", name);
  if (n->uri[0] == '\0') snprintf(n->uri, sizeof n->uri, "sip:%s@example.org", name);
  return 0;
}

static int d_node(parser *p, const words *ws) {
  int rc = need(p, ws, 1, "a name");
  if (rc) return rc;
  scn_node proto;
  memset(&proto, 0, sizeof proto);
  proto.line = p->c.line;
  range r;
  char why[PROSE_SIM_ERR_MAX];
  int kind = parse_range(ws->w[1], &r, why, sizeof why);
  if (kind == RANGE_BAD) return fail(&p->c, "%s", why);
  bool is_range = kind == RANGE_OK;
  for (size_t i = 2; i < ws->n; i++) {
    const char *k = ws->w[i];
    if (strcmp(k, "off") == 0) {
      proto.off = true;
      continue;
    }
    if ((rc = need(p, ws, i + 1, "a value after each keyword")) != 0) return rc;
    const char *v = ws->w[++i];
    if (strcmp(k, "uri") == 0) {
      if (is_range) return fail(&p->c, "a range of nodes cannot share one uri");
      if (!copy_str(proto.uri, sizeof proto.uri, v)) return fail(&p->c, "uri too long");
    } else if (strcmp(k, "groups") == 0) {
      rc = parse_groups(p, v, &proto.groups);
    } else if (strcmp(k, "nogmk") == 0) {
      rc = parse_groups(p, v, &proto.nogmk);
    } else if (strcmp(k, "clock") == 0) {
      int64_t us = 0;
      rc = parse_time_s(&p->c, v, true, &us);
      proto.clock_ms = us / 1000;
    } else if (strcmp(k, "start") == 0) {
      rc = parse_time(&p->c, v, &proto.start_us);
    } else {
      return fail(&p->c, "node: unknown keyword '%s'", k);
    }
    if (rc) return rc;
  }
  if (proto.nogmk & ~proto.groups) return fail(&p->c, "nogmk names a group the node is not in");
  if (!is_range) return add_node(p, ws->w[1], &proto, false);
  /* The names of a range differ from each other, so one pass over the nodes
   * before it finds every name given twice (not one search per name: a
   * range of a thousand names would cost a million comparisons). */
  scn *s = p->s;
  if (s->n_nodes + (r.hi - r.lo + 1u) > PROSE_SIM_MAX_NODES)
    return fail(&p->c, "more than %u nodes", PROSE_SIM_MAX_NODES);
  for (size_t i = 0; i < s->n_nodes; i++)
    if (range_has(&r, s->nodes[i].name)) return fail(&p->c, "node '%s' twice", s->nodes[i].name);
  char name[SCN_NAME_MAX * 2];
  for (unsigned long k = r.lo; k <= r.hi; k++) {
    range_name(&r, k, name, sizeof name);
    if ((rc = add_node(p, name, &proto, true)) != 0) return rc;
  }
  return 0;
}

static int d_set(parser *p, const words *ws) {
  scn *s = p->s;
  if (ws->n != 3 && !(ws->n == 5 && strcmp(ws->w[3], "nodes") == 0))
    return fail(&p->c, "usage: set KEY VALUE [nodes PATTERN]");
  /* Check the key and value now, on a throwaway settings struct. */
  prose_node_settings probe;
  char why[PROSE_SIM_ERR_MAX];
  prose_node_settings_default(&probe);
  if (sim_settings_apply(&probe, ws->w[1], ws->w[2], why, sizeof why) != 0)
    return fail(&p->c, "set: %s", why);
  scn_set *ns = grow(s->sets, &s->cap_sets, s->n_sets + 1, sizeof *s->sets);
  if (ns == NULL) return PROSE_ENOMEM;
  s->sets = ns;
  scn_set *e = &s->sets[s->n_sets];
  memset(e, 0, sizeof *e);
  e->line = p->c.line;
  if (!copy_str(e->key, sizeof e->key, ws->w[1]) || !copy_str(e->value, sizeof e->value, ws->w[2]) ||
      (ws->n == 5 && !copy_str(e->nodes, sizeof e->nodes, ws->w[4])))
    return fail(&p->c, "set: a word is too long");
  s->n_sets++;
  return 0;
}

/* Link parameters from word i on. */
static int parse_linkp(parser *p, const words *ws, size_t i, scn_linkp *lp) {
  int rc = 0;
  while (i < ws->n && rc == 0) {
    const char *k = ws->w[i++];
    if ((rc = need(p, ws, i, "a value")) != 0) return rc;
    const char *v = ws->w[i++];
    if (strcmp(k, "delay") == 0) {
      rc = parse_time(&p->c, v, &lp->delay_us);
      lp->has |= LP_DELAY;
    } else if (strcmp(k, "jitter") == 0) {
      rc = parse_time(&p->c, v, &lp->jitter_us);
      lp->has |= LP_JITTER;
    } else if (strcmp(k, "loss") == 0) {
      rc = parse_prob(&p->c, v, &lp->loss);
      lp->has |= LP_LOSS;
    } else if (strcmp(k, "burst") == 0) {
      /* burst P(good->bad) P(bad->good) [bad LOSS] [good LOSS] */
      if ((rc = need(p, ws, i, "P(good->bad) P(bad->good)")) != 0) return rc;
      rc = parse_prob(&p->c, v, &lp->ge_p);
      if (rc == 0) rc = parse_prob(&p->c, ws->w[i++], &lp->ge_r);
      lp->ge_bad = 1.0;
      lp->ge_good = 0.0;
      while (rc == 0 && i + 1 < ws->n &&
             (strcmp(ws->w[i], "bad") == 0 || strcmp(ws->w[i], "good") == 0)) {
        double *dst = strcmp(ws->w[i], "bad") == 0 ? &lp->ge_bad : &lp->ge_good;
        rc = parse_prob(&p->c, ws->w[i + 1], dst);
        i += 2;
      }
      lp->has |= LP_BURST;
    } else if (strcmp(k, "dup") == 0) {
      rc = parse_prob(&p->c, v, &lp->dup);
      lp->has |= LP_DUP;
    } else if (strcmp(k, "reorder") == 0) {
      rc = parse_prob(&p->c, v, &lp->reorder);
      lp->reorder_gap_us = 10000;
      if (rc == 0 && word_is(ws, i, "gap")) {
        if ((rc = need(p, ws, i + 1, "a time after gap")) != 0) return rc;
        rc = parse_time(&p->c, ws->w[i + 1], &lp->reorder_gap_us);
        i += 2;
      }
      lp->has |= LP_REORDER;
    } else if (strcmp(k, "rate") == 0) {
      rc = parse_rate(&p->c, v, &lp->rate_bps);
      lp->has |= LP_RATE;
    } else if (strcmp(k, "queue") == 0) {
      uint64_t q = 0;
      rc = parse_uint(&p->c, v, 1000000, &q);
      lp->queue_pkts = (uint32_t)q;
      lp->has |= LP_QUEUE;
    } else {
      return fail(&p->c, "link: unknown parameter '%s'", k);
    }
  }
  return rc;
}

int scn_value_time(const char *w, uint64_t *us) {
  pctx c = {0, NULL, 0};
  return parse_time(&c, w, us);
}

int scn_value_bool(const char *w, bool *out) {
  if (strcmp(w, "on") == 0 || strcmp(w, "true") == 0 || strcmp(w, "yes") == 0) {
    *out = true;
    return 0;
  }
  if (strcmp(w, "off") == 0 || strcmp(w, "false") == 0 || strcmp(w, "no") == 0) {
    *out = false;
    return 0;
  }
  return PROSE_ECONFIG;
}

static int add_rule(parser *p, const scn_rule *r, size_t *index) {
  scn *s = p->s;
  scn_rule *nr = grow(s->rules, &s->cap_rules, s->n_rules + 1, sizeof *s->rules);
  if (nr == NULL) return PROSE_ENOMEM;
  s->rules = nr;
  s->rules[s->n_rules] = *r;
  *index = s->n_rules++;
  return 0;
}

/* link SRC (->|<->) DST [to GROUP|disc|unicast] PARAMS...; both directions
 * make two rules. */
static int parse_link(parser *p, const words *ws, size_t i, size_t *first_rule,
                      size_t *n_rules) {
  if (i + 3 > ws->n || (strcmp(ws->w[i + 1], "->") != 0 && strcmp(ws->w[i + 1], "<->") != 0))
    return fail(&p->c, "usage: link SRC -> DST | SRC <-> DST [to G] PARAMS...");
  scn_rule r;
  memset(&r, 0, sizeof r);
  r.line = p->c.line;
  bool both = strcmp(ws->w[i + 1], "<->") == 0;
  if (!copy_str(r.src, sizeof r.src, ws->w[i]) || !copy_str(r.dst, sizeof r.dst, ws->w[i + 2]))
    return fail(&p->c, "link: pattern too long");
  size_t k = i + 3;
  if (word_is(ws, k, "to")) {
    int rc = need(p, ws, k + 1, "a group, disc or unicast after 'to'");
    if (rc) return rc;
    const char *t = ws->w[k + 1];
    if (strcmp(t, "disc") == 0) {
      r.to = SCN_TO_DISC;
    } else if (strcmp(t, "unicast") == 0) {
      r.to = SCN_TO_UNICAST;
    } else {
      int g = scn_group_find(p->s, t);
      if (g < 0) return fail(&p->c, "link: unknown group '%s'", t);
      r.to = SCN_TO_GROUP;
      r.group = (size_t)g;
    }
    k += 2;
  }
  int rc = parse_linkp(p, ws, k, &r.p);
  if (rc) return rc;
  if (r.p.has == 0) return fail(&p->c, "link: no parameter given");
  size_t idx = 0;
  if ((rc = add_rule(p, &r, &idx)) != 0) return rc;
  *first_rule = idx;
  *n_rules = both ? 2 : 1;
  if (both) {
    scn_rule back = r;
    memcpy(back.src, r.dst, sizeof back.src);
    memcpy(back.dst, r.src, sizeof back.dst);
    rc = add_rule(p, &back, &idx);
  }
  return rc;
}

static int d_cpu(parser *p, const words *ws) {
  scn_cpu *c = &p->s->cpu;
  if (ws->n == 2 && strcmp(ws->w[1], "off") == 0) {
    c->on = false;
    return 0;
  }
  c->on = true;
  for (size_t i = 1; i < ws->n; i += 2) {
    int rc = need(p, ws, i + 1, "a time after each cost");
    if (rc) return rc;
    uint64_t *dst = NULL;
    if (strcmp(ws->w[i], "sign") == 0) dst = &c->sign_us;
    if (strcmp(ws->w[i], "verify") == 0) dst = &c->verify_us;
    if (strcmp(ws->w[i], "create") == 0) dst = &c->create_us;
    if (strcmp(ws->w[i], "process") == 0) dst = &c->process_us;
    if (strcmp(ws->w[i], "srtp") == 0) dst = &c->srtp_us;
    if (dst == NULL) return fail(&p->c, "cpu: unknown cost '%s'", ws->w[i]);
    if ((rc = parse_time(&p->c, ws->w[i + 1], dst)) != 0) return rc;
  }
  return 0;
}

static int parse_op(parser *p, const char *w, scn_op *op) {
  static const struct {
    const char *s;
    scn_op op;
  } ops[] = {{"==", OP_EQ}, {"!=", OP_NE}, {"<", OP_LT}, {"<=", OP_LE}, {">", OP_GT}, {">=", OP_GE}};
  for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
    if (strcmp(w, ops[i].s) == 0) {
      *op = ops[i].op;
      return 0;
    }
  return fail(&p->c, "'%s' is not a comparison (== != < <= > >=)", w);
}

static int parse_expect(parser *p, const words *ws, size_t i, uint64_t at, size_t *index) {
  scn *s = p->s;
  if (ws->n != i + 3) return fail(&p->c, "usage: expect METRIC OP VALUE");
  scn_expect e;
  memset(&e, 0, sizeof e);
  e.line = p->c.line;
  e.at_us = at;
  if (!copy_str(e.metric, sizeof e.metric, ws->w[i])) return fail(&p->c, "metric name too long");
  int rc = parse_op(p, ws->w[i + 1], &e.op);
  if (rc) return rc;
  char *end = NULL;
  e.value = strtod(ws->w[i + 2], &end);
  if (end == ws->w[i + 2] || !isfinite(e.value)) return fail(&p->c, "'%s' is not a number",
                                                             ws->w[i + 2]);
  if (strcmp(end, "%") == 0)
    e.value /= 100.0;
  else if (*end != '\0')
    return fail(&p->c, "'%s' is not a number", ws->w[i + 2]);
  scn_expect *ne = grow(s->expects, &s->cap_expects, s->n_expects + 1, sizeof *s->expects);
  if (ne == NULL) return PROSE_ENOMEM;
  s->expects = ne;
  s->expects[s->n_expects] = e;
  *index = s->n_expects++;
  return 0;
}

/* A call target: a group name or "private". */
static int parse_target(parser *p, const char *w, int *target) {
  if (strcmp(w, "private") == 0) {
    *target = SCN_CALL_TARGET_PRIVATE;
    return 0;
  }
  int g = scn_group_find(p->s, w);
  if (g < 0) return fail(&p->c, "unknown group '%s'", w);
  *target = g;
  return 0;
}

/* [GROUP|private] [prio N] from word i on. */
static int parse_ptt_tail(parser *p, const words *ws, size_t i, scn_action *a) {
  a->target = SCN_CALL_TARGET_CURRENT;
  a->prio = -1;
  for (; i < ws->n; i++) {
    if (strcmp(ws->w[i], "prio") == 0) {
      uint64_t v = 0;
      int rc = need(p, ws, i + 1, "a priority");
      if (rc == 0) rc = parse_uint(&p->c, ws->w[++i], 255, &v);
      if (rc) return rc;
      a->prio = (int)v;
    } else {
      int rc = parse_target(p, ws->w[i], &a->target);
      if (rc) return rc;
    }
  }
  return 0;
}

static int node_word(parser *p, const words *ws, size_t i, scn_action *a) {
  int rc = need(p, ws, i, "a node pattern");
  if (rc == 0 && !copy_str(a->nodes, sizeof a->nodes, ws->w[i]))
    rc = fail(&p->c, "pattern too long");
  return rc;
}

static int parse_call_type(parser *p, const char *w, int *type) {
  if (strcmp(w, "basic") == 0)
    *type = PROSE_MONP_CALL_BASIC_GROUP;
  else if (strcmp(w, "emergency") == 0)
    *type = PROSE_MONP_CALL_EMERGENCY_GROUP;
  else if (strcmp(w, "imminent") == 0)
    *type = PROSE_MONP_CALL_IMMINENT_PERIL_GROUP;
  else if (strcmp(w, "broadcast") == 0)
    *type = PROSE_MONP_CALL_BROADCAST_GROUP;
  else
    return fail(&p->c, "'%s' is not a call type (basic emergency imminent broadcast)", w);
  return 0;
}

/* The action words from i on into a (kind and arguments). */
static int parse_action(parser *p, const words *ws, size_t i, scn_action *a) {
  int rc = need(p, ws, i, "an action");
  if (rc) return rc;
  const char *verb = ws->w[i++];
  static const struct {
    const char *verb;
    scn_act_kind kind;
  } simple[] = {{"accept", ACT_ACCEPT}, {"reject", ACT_REJECT},   {"hangup", ACT_HANGUP},
                {"crash", ACT_CRASH},   {"restart", ACT_RESTART}, {"start", ACT_START},
                {"stop", ACT_STOP}};
  for (size_t k = 0; k < sizeof simple / sizeof simple[0]; k++)
    if (strcmp(verb, simple[k].verb) == 0) {
      a->kind = simple[k].kind;
      if ((rc = node_word(p, ws, i, a)) != 0) return rc;
      return ws->n == i + 1 ? 0 : fail(&p->c, "%s takes one node pattern", verb);
    }
  if (strcmp(verb, "call") == 0) {
    a->kind = ACT_CALL;
    a->call_type = PROSE_MONP_CALL_BASIC_GROUP;
    if ((rc = node_word(p, ws, i, a)) != 0 || (rc = need(p, ws, i + 1, "a group")) != 0) return rc;
    int g = scn_group_find(p->s, ws->w[i + 1]);
    if (g < 0) return fail(&p->c, "unknown group '%s'", ws->w[i + 1]);
    a->target = g;
    if (ws->n > i + 3) return fail(&p->c, "usage: call NODES GROUP [TYPE]");
    return ws->n == i + 3 ? parse_call_type(p, ws->w[i + 2], &a->call_type) : 0;
  }
  if (strcmp(verb, "ptt") == 0) {
    if ((rc = node_word(p, ws, i, a)) != 0) return rc;
    if (word_is(ws, i + 1, "press"))
      a->kind = ACT_PTT_PRESS;
    else if (word_is(ws, i + 1, "release"))
      a->kind = ACT_PTT_RELEASE;
    else
      return fail(&p->c, "usage: ptt NODES press|release [GROUP|private] [prio N]");
    return parse_ptt_tail(p, ws, i + 2, a);
  }
  if (strcmp(verb, "talk") == 0) {
    a->kind = ACT_TALK;
    if ((rc = node_word(p, ws, i, a)) != 0 || (rc = need(p, ws, i + 1, "a duration")) != 0 ||
        (rc = parse_time(&p->c, ws->w[i + 1], &a->dur_us)) != 0)
      return rc;
    return parse_ptt_tail(p, ws, i + 2, a);
  }
  if (strcmp(verb, "private") == 0) {
    a->kind = ACT_PRIVATE;
    if ((rc = node_word(p, ws, i, a)) != 0 || (rc = need(p, ws, i + 1, "the callee")) != 0)
      return rc;
    if (scn_node_find(p->s, ws->w[i + 1]) < 0) return fail(&p->c, "unknown node '%s'",
                                                           ws->w[i + 1]);
    snprintf(a->peer, sizeof a->peer, "%s", ws->w[i + 1]);
    for (size_t k = i + 2; k < ws->n; k++) {
      if (strcmp(ws->w[k], "manual") == 0)
        a->manual = true;
      else if (strcmp(ws->w[k], "emergency") == 0)
        a->emergency = true;
      else
        return fail(&p->c, "private: unknown word '%s'", ws->w[k]);
    }
    return 0;
  }
  if (strcmp(verb, "partition") == 0) {
    a->kind = ACT_PARTITION;
    size_t o = 0;
    for (size_t k = i; k < ws->n; k++) {
      int n = snprintf(a->parts + o, sizeof a->parts - o, "%s%s", o ? " " : "", ws->w[k]);
      if (n < 0 || (size_t)n >= sizeof a->parts - o) return fail(&p->c, "partition too long");
      o += (size_t)n;
    }
    if (!strchr(a->parts, '|')) return fail(&p->c, "usage: partition NODES | NODES [| ...]");
    /* Each side is a node pattern, with the patterns' length limit. */
    size_t side = 0;
    for (const char *q = a->parts;; q++) {
      if (*q == '|' || *q == '\0') {
        if (side >= SCN_PAT_MAX) return fail(&p->c, "partition: a side longer than %d octets", SCN_PAT_MAX - 1);
        if (*q == '\0') break;
        side = 0;
      } else if (*q != ' ') {
        side++;
      }
    }
    return 0;
  }
  if (strcmp(verb, "heal") == 0) {
    a->kind = ACT_HEAL;
    return ws->n == i ? 0 : fail(&p->c, "heal takes no arguments");
  }
  if (strcmp(verb, "link") == 0) {
    a->kind = ACT_LINK;
    return parse_link(p, ws, i, &a->rule, &a->n_rules);
  }
  if (strcmp(verb, "clock") == 0) {
    a->kind = ACT_CLOCK;
    int64_t us = 0;
    if ((rc = node_word(p, ws, i, a)) != 0 || (rc = need(p, ws, i + 1, "an offset")) != 0 ||
        (rc = parse_time_s(&p->c, ws->w[i + 1], true, &us)) != 0)
      return rc;
    a->clock_ms = us / 1000;
    return 0;
  }
  if (strcmp(verb, "mark") == 0) {
    a->kind = ACT_MARK;
    size_t o = 0;
    for (size_t k = i; k < ws->n && o + 1 < sizeof a->text; k++) {
      int n = snprintf(a->text + o, sizeof a->text - o, "%s%s", o ? " " : "", ws->w[k]);
      if (n < 0) break;
      o += (size_t)n;
      if (o >= sizeof a->text) o = sizeof a->text - 1;
    }
    return 0;
  }
  if (strcmp(verb, "expect") == 0) {
    a->kind = ACT_EXPECT;
    return parse_expect(p, ws, i, a->at_us, &a->expect);
  }
  return fail(&p->c, "unknown action '%s'", verb);
}

static int push_action(parser *p, const scn_action *a) {
  scn *s = p->s;
  scn_action *na = grow(s->actions, &s->cap_actions, s->n_actions + 1, sizeof *s->actions);
  if (na == NULL) return PROSE_ENOMEM;
  s->actions = na;
  s->actions[s->n_actions++] = *a;
  return 0;
}

/* at TIME [every T (count N | until T)] [jitter T] ACTION... */
static int d_at(parser *p, const words *ws) {
  scn_action a;
  memset(&a, 0, sizeof a);
  a.line = p->c.line;
  a.target = SCN_CALL_TARGET_CURRENT;
  a.prio = -1;
  int rc = need(p, ws, 1, "a time");
  if (rc == 0) rc = parse_time(&p->c, ws->w[1], &a.at_us);
  if (rc) return rc;
  size_t i = 2;
  for (;;) {
    if (word_is(ws, i, "every")) {
      if ((rc = need(p, ws, i + 1, "a period")) != 0 ||
          (rc = parse_time(&p->c, ws->w[i + 1], &a.every_us)) != 0)
        return rc;
      if (a.every_us == 0) return fail(&p->c, "every 0");
      i += 2;
    } else if (word_is(ws, i, "count")) {
      uint64_t n = 0;
      if ((rc = need(p, ws, i + 1, "a count")) != 0 ||
          (rc = parse_uint(&p->c, ws->w[i + 1], 1000000, &n)) != 0)
        return rc;
      a.count = (uint32_t)n;
      i += 2;
    } else if (word_is(ws, i, "until")) {
      if ((rc = need(p, ws, i + 1, "a time")) != 0 ||
          (rc = parse_time(&p->c, ws->w[i + 1], &a.until_us)) != 0)
        return rc;
      i += 2;
    } else if (word_is(ws, i, "jitter")) {
      if ((rc = need(p, ws, i + 1, "a time")) != 0 ||
          (rc = parse_time(&p->c, ws->w[i + 1], &a.jitter_us)) != 0)
        return rc;
      i += 2;
    } else {
      break;
    }
  }
  if (a.every_us && a.count == 0 && a.until_us == 0)
    return fail(&p->c, "every needs count N or until TIME");
  if (!a.every_us && (a.count || a.until_us)) return fail(&p->c, "count/until need every");
  if ((rc = parse_action(p, ws, i, &a)) != 0) return rc;
  if (a.kind == ACT_EXPECT && a.every_us) return fail(&p->c, "a timed expect cannot repeat");
  return push_action(p, &a);
}

static int d_rotate(parser *p, const words *ws) {
  scn *s = p->s;
  scn_rotate r;
  memset(&r, 0, sizeof r);
  r.line = p->c.line;
  r.target = SCN_CALL_TARGET_CURRENT;
  r.prio = -1;
  r.until_us = SCN_NEVER;
  int rc = need(p, ws, 1, "a node pattern");
  if (rc) return rc;
  if (!copy_str(r.nodes, sizeof r.nodes, ws->w[1])) return fail(&p->c, "pattern too long");
  for (size_t i = 2; i < ws->n; i += 2) {
    if ((rc = need(p, ws, i + 1, "a value after each keyword")) != 0) return rc;
    const char *k = ws->w[i], *v = ws->w[i + 1];
    if (strcmp(k, "every") == 0)
      rc = parse_time(&p->c, v, &r.every_us);
    else if (strcmp(k, "talk") == 0)
      rc = parse_time(&p->c, v, &r.talk_us);
    else if (strcmp(k, "from") == 0)
      rc = parse_time(&p->c, v, &r.from_us);
    else if (strcmp(k, "until") == 0)
      rc = parse_time(&p->c, v, &r.until_us);
    else if (strcmp(k, "group") == 0)
      rc = parse_target(p, v, &r.target);
    else if (strcmp(k, "prio") == 0) {
      uint64_t pr = 0;
      rc = parse_uint(&p->c, v, 255, &pr);
      r.prio = (int)pr;
    } else
      return fail(&p->c, "rotate: unknown keyword '%s'", k);
    if (rc) return rc;
  }
  if (r.every_us == 0 || r.talk_us == 0) return fail(&p->c, "rotate needs every and talk");
  scn_rotate *nr = grow(s->rotates, &s->cap_rotates, s->n_rotates + 1, sizeof *s->rotates);
  if (nr == NULL) return PROSE_ENOMEM;
  s->rotates = nr;
  s->rotates[s->n_rotates++] = r;
  return 0;
}

static int d_simple(parser *p, const words *ws) {
  scn *s = p->s;
  const char *d = ws->w[0];
  int rc = 0;
  if (strcmp(d, "name") == 0) {
    size_t o = 0;
    s->name[0] = '\0';
    for (size_t i = 1; i < ws->n && o + 1 < sizeof s->name; i++) {
      int n = snprintf(s->name + o, sizeof s->name - o, "%s%s", o ? " " : "", ws->w[i]);
      if (n < 0) break;
      o += (size_t)n;
      if (o >= sizeof s->name) o = sizeof s->name - 1;
    }
    return 0;
  }
  if (ws->n != 2 && strcmp(d, "frame") != 0) return fail(&p->c, "'%s' takes one value", d);
  if (strcmp(d, "seed") == 0) {
    rc = parse_uint(&p->c, ws->w[1], UINT64_MAX, &s->seed);
  } else if (strcmp(d, "duration") == 0) {
    rc = parse_time(&p->c, ws->w[1], &s->duration_us);
    if (rc == 0 && s->duration_us == 0) rc = fail(&p->c, "duration 0");
  } else if (strcmp(d, "keysets") == 0) {
    uint64_t v = 0;
    rc = parse_uint(&p->c, ws->w[1], 12, &v);
    if (rc == 0 && v == 0) rc = fail(&p->c, "keysets 0");
    s->keysets = (uint32_t)v;
  } else if (strcmp(d, "frame") == 0) {
    /* frame INTERVAL [size OCTETS] */
    uint64_t us = 0, len = s->frame_len;
    if (ws->n != 2 && !(ws->n == 4 && strcmp(ws->w[2], "size") == 0))
      return fail(&p->c, "usage: frame INTERVAL [size OCTETS]");
    rc = parse_time(&p->c, ws->w[1], &us);
    if (rc == 0 && (us < 1000 || us > 1000000)) rc = fail(&p->c, "frame interval out of 1ms..1s");
    if (rc == 0 && ws->n == 4) rc = parse_uint(&p->c, ws->w[3], 1200, &len);
    if (rc == 0 && len < 32) rc = fail(&p->c, "frame size below 32 octets");
    s->frame_ms = (uint32_t)(us / 1000u);
    s->frame_len = (uint32_t)len;
  }
  return rc;
}

static int directive(parser *p, const words *ws) {
  const char *d = ws->w[0];
  if (strcmp(d, "param") == 0 || strcmp(d, "sweep") == 0) return 0; /* first pass */
  if (strcmp(d, "group") == 0) return d_group(p, ws);
  if (strcmp(d, "node") == 0) return d_node(p, ws);
  if (strcmp(d, "set") == 0) return d_set(p, ws);
  if (strcmp(d, "link") == 0) {
    size_t idx = 0, nr = 0;
    return parse_link(p, ws, 1, &idx, &nr);
  }
  if (strcmp(d, "cpu") == 0) return d_cpu(p, ws);
  if (strcmp(d, "at") == 0) return d_at(p, ws);
  if (strcmp(d, "rotate") == 0) return d_rotate(p, ws);
  if (strcmp(d, "expect") == 0) {
    size_t idx = 0;
    return parse_expect(p, ws, 1, SCN_NEVER, &idx);
  }
  if (strcmp(d, "name") == 0 || strcmp(d, "seed") == 0 || strcmp(d, "duration") == 0 ||
      strcmp(d, "keysets") == 0 || strcmp(d, "frame") == 0)
    return d_simple(p, ws);
  return fail(&p->c, "unknown directive '%s'", d);
}

/* Iterate the lines of text: copies line k into buf, returns false at the end. */
static bool next_line(const char *text, size_t len, size_t *pos, char *buf, size_t cap,
                      bool *too_long) {
  if (*pos >= len) return false;
  size_t s = *pos, e = s;
  while (e < len && text[e] != '\n') e++;
  *pos = e < len ? e + 1 : e;
  size_t n = e - s;
  *too_long = n >= cap;
  if (*too_long) n = cap - 1;
  memcpy(buf, text + s, n);
  buf[n] = '\0';
  for (size_t i = 0; i < n; i++)
    if (buf[i] == '\0') buf[i] = ' ';
  return true;
}

static void scn_defaults(scn *s) {
  memset(s, 0, sizeof *s);
  s->seed = DEF_SEED;
  s->duration_us = DEF_DURATION_US;
  s->keysets = 1;
  s->frame_ms = DEF_FRAME_MS;
  s->frame_len = DEF_FRAME_LEN;
  s->cpu.on = true;
  s->cpu.sign_us = DEF_CPU_SIGN_US;
  s->cpu.verify_us = DEF_CPU_VERIFY_US;
  s->cpu.create_us = DEF_CPU_CREATE_US;
  s->cpu.process_us = DEF_CPU_PROCESS_US;
  s->cpu.srtp_us = DEF_CPU_SRTP_US;
}

/* A node pattern must name at least one node (checked once all nodes are
 * known, since a pattern may come before a node it names), with the same
 * outcome as scn_match but bounded: finding a node for an item costs a
 * comparison per node at worst (a glob that only the last node matches),
 * and a file of a few kilobytes can hold thousands of items for a thousand
 * nodes and sixteen variants. So a name, `*`, and the first and last names
 * of a range are looked up in a sorted index (no cost), and other items
 * share PATTERN_WORK_MAX name comparisons per variant. */
#define PATTERN_WORK_MAX (1u << 17)

typedef struct pcheck {
  const char **sorted; /* the node names, sorted */
  size_t n;
  size_t work; /* name comparisons spent */
} pcheck;

static int cmp_name(const void *a, const void *b) {
  return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool sorted_has(const pcheck *k, const char *name) {
  return k->n > 0 && bsearch(&name, k->sorted, k->n, sizeof *k->sorted, cmp_name) != NULL;
}

static int check_item(parser *p, pcheck *k, const char *item, char *why, size_t why_cap) {
  const scn *s = p->s;
  range r;
  int kind = parse_range(item, &r, why, why_cap);
  if (kind == RANGE_BAD) return PROSE_ECONFIG;
  bool found = false;
  size_t i = s->n_nodes; /* scanned up to, when not at the end: out of budget */
  if (kind == RANGE_OK) {
    char name[SCN_NAME_MAX * 2];
    range_name(&r, r.lo, name, sizeof name);
    found = sorted_has(k, name);
    range_name(&r, r.hi, name, sizeof name);
    found = found || sorted_has(k, name);
    for (i = 0; !found && i < s->n_nodes && k->work < PATTERN_WORK_MAX; i++, k->work++)
      found = range_has(&r, s->nodes[i].name);
  } else if (strcmp(item, "*") == 0) {
    found = s->n_nodes > 0;
  } else if (strpbrk(item, "*?[\\") == NULL) {
    found = sorted_has(k, item); /* fnmatch is strcmp without those */
  } else {
    for (i = 0; !found && i < s->n_nodes && k->work < PATTERN_WORK_MAX; i++, k->work++)
      found = fnmatch(item, s->nodes[i].name, 0) == 0;
  }
  if (found) return 0;
  if (i < s->n_nodes)
    snprintf(why, why_cap,
             "'%s': matching the node patterns takes over %u name comparisons (use names, "
             "ranges or fewer globs)",
             item, PATTERN_WORK_MAX);
  else
    snprintf(why, why_cap, "'%s' names no node", item);
  return PROSE_ECONFIG;
}

static int check_pattern(parser *p, pcheck *k, const char *pat, int line) {
  char buf[SCN_PAT_MAX], why[PROSE_SIM_ERR_MAX];
  int rc = 0;
  if (!copy_str(buf, sizeof buf, pat)) {
    snprintf(why, sizeof why, "pattern too long");
    rc = PROSE_ECONFIG;
  }
  for (char *save = NULL, *item = rc ? NULL : strtok_r(buf, ",", &save); item && rc == 0;
       item = strtok_r(NULL, ",", &save))
    rc = check_item(p, k, item, why, sizeof why);
  if (rc == 0) return 0;
  p->c.line = line;
  return fail(&p->c, "%s", why);
}

static int check_patterns(parser *p) {
  scn *s = p->s;
  pcheck k = {calloc(s->n_nodes ? s->n_nodes : 1, sizeof *k.sorted), s->n_nodes, 0};
  if (k.sorted == NULL) return PROSE_ENOMEM;
  for (size_t i = 0; i < s->n_nodes; i++) k.sorted[i] = s->nodes[i].name;
  qsort(k.sorted, k.n, sizeof *k.sorted, cmp_name);
  int rc = 0;
  for (size_t i = 0; rc == 0 && i < s->n_rules; i++) {
    rc = check_pattern(p, &k, s->rules[i].src, s->rules[i].line);
    if (rc == 0) rc = check_pattern(p, &k, s->rules[i].dst, s->rules[i].line);
  }
  for (size_t i = 0; rc == 0 && i < s->n_sets; i++)
    rc = check_pattern(p, &k, s->sets[i].nodes, s->sets[i].line);
  for (size_t i = 0; rc == 0 && i < s->n_rotates; i++)
    rc = check_pattern(p, &k, s->rotates[i].nodes, s->rotates[i].line);
  for (size_t i = 0; rc == 0 && i < s->n_actions; i++) {
    const scn_action *a = &s->actions[i];
    rc = check_pattern(p, &k, a->nodes, a->line);
    if (rc || a->kind != ACT_PARTITION) continue;
    char buf[sizeof a->parts];
    snprintf(buf, sizeof buf, "%s", a->parts);
    for (char *save = NULL, *part = strtok_r(buf, "|", &save); part && rc == 0;
         part = strtok_r(NULL, "|", &save)) {
      char pat[SCN_PAT_MAX];
      size_t o = 0;
      for (char *q = part; *q && o + 1 < sizeof pat; q++)
        if (*q != ' ') pat[o++] = *q;
      pat[o] = '\0';
      if (o == 0) {
        p->c.line = a->line;
        rc = fail(&p->c, "partition: an empty side");
      } else {
        rc = check_pattern(p, &k, pat, a->line);
      }
    }
  }
  free(k.sorted);
  return rc;
}

static int check_scn(parser *p) {
  scn *s = p->s;
  p->c.line = 0;
  if (s->n_nodes == 0) return fail(&p->c, "no nodes");
  int rc = check_patterns(p);
  if (rc) return rc;
  p->c.line = 0;
  for (size_t i = 0; i < s->n_groups; i++)
    for (size_t k = 0; k < i; k++)
      if (memcmp(s->groups[i].addr, s->groups[k].addr, 4) == 0 ||
          s->groups[i].app_port == s->groups[k].app_port)
        return fail(&p->c, "groups %s and %s share an address or application port",
                    s->groups[k].name, s->groups[i].name);
  if (s->name[0] == '\0') snprintf(s->name, sizeof s->name, "scenario");
  return 0;
}

int scn_parse(const prose_sim_scenario *sc, size_t variant, const char *const *params,
              size_t n_params, scn *out, char *err, size_t err_cap) {
  parser p;
  memset(&p, 0, sizeof p);
  p.c.err = err;
  p.c.err_cap = err_cap;
  p.s = out;
  scn_defaults(out);
  snprintf(out->name, sizeof out->name, "%s", sc->name);
  for (size_t i = 0; i < n_params; i++) {
    const char *eq = strchr(params[i], '=');
    if (eq == NULL || eq == params[i])
      return fail(&p.c, "override '%s' is not NAME=VALUE", params[i]);
    /* An override of a variable the scenario does not have is a typo. */
    bool known = strlen(sc->sweep) == (size_t)(eq - params[i]) &&
                 strncmp(sc->sweep, params[i], (size_t)(eq - params[i])) == 0;
    for (size_t k = 0; k < sc->n_params && !known; k++)
      known = strlen(sc->params[k].name) == (size_t)(eq - params[i]) &&
              strncmp(sc->params[k].name, params[i], (size_t)(eq - params[i])) == 0;
    if (!known) return fail(&p.c, "the scenario has no param '%.*s'", (int)(eq - params[i]), params[i]);
  }
  char raw[LINE_MAX_LEN], line[LINE_MAX_LEN * 2];
  size_t pos = 0;
  bool too_long = false;
  int rc = 0;
  while (rc == 0 && next_line(sc->text, sc->len, &pos, raw, sizeof raw, &too_long)) {
    p.c.line++;
    if (too_long) {
      rc = fail(&p.c, "line longer than %d characters", LINE_MAX_LEN - 1);
      break;
    }
    rc = substitute(&p.c, sc, variant, params, n_params, raw, line, sizeof line);
    words ws;
    if (rc == 0) rc = split(&p.c, line, &ws);
    if (rc == 0 && ws.n > 0) rc = directive(&p, &ws);
  }
  if (rc == 0) rc = check_scn(&p);
  if (rc != 0) scn_free(out);
  return rc;
}

void scn_free(scn *s) {
  free(s->nodes);
  free(s->sets);
  free(s->rules);
  free(s->actions);
  free(s->expects);
  free(s->rotates);
  memset(s, 0, sizeof *s);
}

/* ---- the public scenario object ---------------------------------------------- */

/* First pass: `param NAME VALUE` and `sweep NAME V1 V2 ...`. */
static int read_vars(prose_sim_scenario *sc, char *err, size_t err_cap) {
  pctx c = {0, err, err_cap};
  char raw[LINE_MAX_LEN];
  size_t pos = 0;
  bool too_long = false;
  while (next_line(sc->text, sc->len, &pos, raw, sizeof raw, &too_long)) {
    c.line++;
    words ws;
    if (too_long) return fail(&c, "line longer than %d characters", LINE_MAX_LEN - 1);
    int rc = split(&c, raw, &ws);
    if (rc) return rc;
    if (ws.n == 0) continue;
    if (strcmp(ws.w[0], "param") == 0) {
      if (ws.n != 3 || !valid_name(ws.w[1])) return fail(&c, "usage: param NAME VALUE");
      if (sc->n_params == SCN_MAX_PARAMS) return fail(&c, "more than %d params", SCN_MAX_PARAMS);
      scn_param *pp = &sc->params[sc->n_params++];
      snprintf(pp->name, sizeof pp->name, "%s", ws.w[1]);
      if (!copy_str(pp->value, sizeof pp->value, ws.w[2])) return fail(&c, "value too long");
    } else if (strcmp(ws.w[0], "sweep") == 0) {
      if (sc->sweep[0]) return fail(&c, "one sweep per scenario");
      if (ws.n < 3 || !valid_name(ws.w[1])) return fail(&c, "usage: sweep NAME V1 V2 ...");
      if (ws.n - 2 > SCN_MAX_SWEEP) return fail(&c, "more than %d sweep values", SCN_MAX_SWEEP);
      snprintf(sc->sweep, sizeof sc->sweep, "%s", ws.w[1]);
      for (size_t i = 2; i < ws.n; i++) {
        if (!copy_str(sc->sweep_values[sc->n_sweep], SCN_VALUE_MAX, ws.w[i]))
          return fail(&c, "sweep value too long");
        snprintf(sc->labels[sc->n_sweep], sizeof sc->labels[0], "%s=%s", sc->sweep, ws.w[i]);
        sc->n_sweep++;
      }
    } else if (strcmp(ws.w[0], "name") == 0 && ws.n >= 2) {
      snprintf(sc->name, sizeof sc->name, "%s", ws.w[1]);
    }
  }
  return 0;
}

int prose_sim_scenario_parse(prose_sim_scenario **out, const char *name, const char *text,
                             size_t len, char *err, size_t err_cap) {
  if (out == NULL || text == NULL) return PROSE_EINVAL;
  *out = NULL;
  if (err && err_cap) err[0] = '\0';
  prose_sim_scenario *sc = calloc(1, sizeof *sc);
  if (sc == NULL) return PROSE_ENOMEM;
  sc->text = malloc(len + 1);
  if (sc->text == NULL) {
    free(sc);
    return PROSE_ENOMEM;
  }
  memcpy(sc->text, text, len);
  sc->text[len] = '\0';
  sc->len = len;
  snprintf(sc->name, sizeof sc->name, "scenario");
  int rc = read_vars(sc, err, err_cap);
  if (name) snprintf(sc->name, sizeof sc->name, "%s", name);
  /* Check every variant now, so a run never fails on a typo in the last one. */
  for (size_t v = 0; rc == 0 && v < prose_sim_scenario_variants(sc); v++) {
    scn s;
    rc = scn_parse(sc, v, NULL, 0, &s, err, err_cap);
    if (rc == 0) scn_free(&s);
  }
  if (rc != 0) {
    prose_sim_scenario_free(sc);
    return rc;
  }
  *out = sc;
  return 0;
}

int prose_sim_scenario_load(prose_sim_scenario **out, const char *path, char *err,
                            size_t err_cap) {
  if (out == NULL || path == NULL) return PROSE_EINVAL;
  size_t len = 0;
  const char *builtin = prose_sim_builtin_text(path, &len);
  if (builtin) return prose_sim_scenario_parse(out, path, builtin, len, err, err_cap);
  FILE *f = fopen(path, "rb");
  if (f == NULL) {
    if (err) snprintf(err, err_cap, "no such file or built-in scenario");
    return PROSE_ENOENT;
  }
  char *buf = NULL;
  size_t cap = 0, n = 0;
  int rc = 0;
  for (;;) {
    if (n + 4096 > cap) {
      if (cap > (8u << 20)) {
        rc = PROSE_ELEN;
        break;
      }
      char *nb = realloc(buf, cap ? cap * 2 : 8192);
      if (nb == NULL) {
        rc = PROSE_ENOMEM;
        break;
      }
      buf = nb;
      cap = cap ? cap * 2 : 8192;
    }
    size_t r = fread(buf + n, 1, cap - n, f);
    n += r;
    if (r == 0) {
      if (ferror(f)) rc = PROSE_EIO;
      break;
    }
  }
  fclose(f);
  if (rc == 0) {
    /* The file name without directory and extension labels the run. */
    const char *base = strrchr(path, '/');
    char name[SCN_NAME_MAX];
    snprintf(name, sizeof name, "%s", base ? base + 1 : path);
    char *dot = strrchr(name, '.');
    if (dot) *dot = '\0';
    rc = prose_sim_scenario_parse(out, name, buf, n, err, err_cap);
  } else if (err) {
    snprintf(err, err_cap, "%s", prose_strerror(rc));
  }
  free(buf);
  return rc;
}

void prose_sim_scenario_free(prose_sim_scenario *sc) {
  if (sc == NULL) return;
  free(sc->text);
  free(sc);
}

const char *prose_sim_scenario_name(const prose_sim_scenario *sc) { return sc ? sc->name : ""; }

size_t prose_sim_scenario_variants(const prose_sim_scenario *sc) {
  return sc == NULL ? 0 : sc->n_sweep ? sc->n_sweep : 1;
}

const char *prose_sim_scenario_variant_label(const prose_sim_scenario *sc, size_t i) {
  if (sc == NULL || sc->n_sweep == 0 || i >= sc->n_sweep) return "";
  return sc->labels[i];
}
