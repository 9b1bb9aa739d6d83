/*
 * prosed configuration loader (see config.h for the syntax and contract).
 *
 * Every key is one row of a table: its section, name, kind, where it lives in
 * prosed_config, its range and its default written as text. Defaults are
 * applied by feeding that text through the same converter as the file's
 * values, so a default can never be something the file could not say, and
 * prosed_config_write walks the same rows to print a file that reads back.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prose/err.h"
#include "prose/util.h"

/* Enums are stored through an int: this holds for every ABI we build on. */
_Static_assert(sizeof(prosed_call_type) == sizeof(int), "enum size");
_Static_assert(sizeof(prosed_commencement) == sizeof(int), "enum size");
_Static_assert(sizeof(prosed_discovery_mode) == sizeof(int), "enum size");
_Static_assert(sizeof(prosed_log_level) == sizeof(int), "enum size");

/* ------------------------------------------------------------------------ */
/* The key table                                                             */
/* ------------------------------------------------------------------------ */

enum section {
  SEC_NONE,
  SEC_IDENTITY,
  SEC_NETWORK,
  SEC_DISCOVERY,
  SEC_MEDIA,
  SEC_CONTROL,
  SEC_FLOOR,
  SEC_CALL,
  SEC_LOG,
  SEC_GROUP,
  SEC_COUNT
};

static const char *const section_names[SEC_COUNT] = {
    "", "identity", "network", "discovery", "media", "control", "floor", "call", "log", "group"};

typedef enum kind {
  K_U32,    /* decimal integer in [min, max] */
  K_U16,    /* same, stored in a uint16_t */
  K_U8,     /* same, stored in a uint8_t */
  K_BOOL,   /* true/false/yes/no/on/off/1/0 */
  K_ENUM,   /* one name of `choices`, stored as int */
  K_URI,    /* scheme ":" rest, printable, no blanks */
  K_NAME,   /* printable, no blanks, no brackets (group names and IDs) */
  K_PATH,   /* a file system path (relative: to the config's directory) */
  K_SOCKET, /* a path that fits sun_path */
  K_ADDR,   /* one IP address, constrained by flags */
  K_ADDRS,  /* one IPv4 and/or one IPv6 address: off (v4), off2 (v6) */
  K_IFACE,  /* interface name (off) or IPv4 address (off2) */
  K_CODEC   /* RTP codec "NAME/RATE[/CHANNELS]" */
} kind;

/* Address constraints of K_ADDR / K_ADDRS. */
#define A_V4 0x01u
#define A_V6 0x02u
#define A_MCAST 0x04u   /* must be multicast */
#define A_UNICAST 0x08u /* must be unicast and specified */
/* Other flags. */
#define F_REQUIRED 0x100u

typedef struct choice {
  const char *name;
  int value;
} choice;

typedef struct key_def {
  unsigned section;
  const char *name;
  kind kind;
  size_t off, off2, size; /* size: capacity of a string field */
  uint32_t min, max;
  const char *def; /* default as the file would write it; NULL = none */
  unsigned flags;
  const choice *choices;
} key_def;

static const choice mcast_loops[] = {{"auto", PROSED_MLOOP_AUTO},
                                     {"on", PROSED_MLOOP_ON},
                                     {"off", PROSED_MLOOP_OFF},
                                     {NULL, 0}};
static const choice discovery_modes[] = {{"multicast", PROSED_DISCOVERY_MULTICAST},
                                         {"avahi", PROSED_DISCOVERY_AVAHI},
                                         {"both", PROSED_DISCOVERY_BOTH},
                                         {NULL, 0}};
static const choice call_types[] = {{"basic", PROSED_CALL_BASIC},
                                    {"emergency", PROSED_CALL_EMERGENCY},
                                    {"imminent-peril", PROSED_CALL_IMMINENT_PERIL},
                                    {"broadcast", PROSED_CALL_BROADCAST},
                                    {NULL, 0}};
static const choice commencements[] = {
    {"automatic", PROSED_COMMENCE_AUTOMATIC}, {"manual", PROSED_COMMENCE_MANUAL}, {NULL, 0}};
static const choice log_levels[] = {{"error", PROSED_LOG_ERROR},
                                    {"warn", PROSED_LOG_WARN},
                                    {"info", PROSED_LOG_INFO},
                                    {"debug", PROSED_LOG_DEBUG},
                                    {NULL, 0}};

#define OFF(field) offsetof(prosed_config, field)
#define STR(sec, name, kind, field, def, flags) \
  { sec, name, kind, OFF(field), 0, sizeof(((prosed_config *)0)->field), 0, 0, def, flags, NULL }
#define NUM(sec, name, kind, field, min, max, def) \
  { sec, name, kind, OFF(field), 0, 0, min, max, def, 0, NULL }
#define MS(sec, name, field, min, max, def) NUM(sec, name, K_U32, field, min, max, def)
#define CNT(sec, name, field, def) NUM(sec, name, K_U32, field, 1, 100, def)
#define BOOL(sec, name, field, def) \
  { sec, name, K_BOOL, OFF(field), 0, 0, 0, 0, def, 0, NULL }
#define ENUM(sec, name, field, choices, def) \
  { sec, name, K_ENUM, OFF(field), 0, 0, 0, 0, def, 0, choices }
#define ADDR(sec, name, field, def, flags) \
  { sec, name, K_ADDR, OFF(field), 0, 0, 0, 0, def, flags, NULL }

/*
 * Timer ranges: the lower bounds stop a value that would make a node flood
 * the channel (a 0 ms retransmission timer), the upper bounds stop a value
 * that is surely a unit mistake (seconds typed as days). Defaults are the
 * DIGEST §7.7 and §8.4 values.
 */
static const key_def keys[] = {
    STR(SEC_IDENTITY, "uri", K_URI, identity.uri, NULL, F_REQUIRED),
    STR(SEC_IDENTITY, "kms_uri", K_NAME, identity.kms_uri, NULL, 0),
    STR(SEC_IDENTITY, "store", K_PATH, identity.store, NULL, F_REQUIRED),
    STR(SEC_IDENTITY, "passphrase_file", K_PATH, identity.passphrase_file, NULL, 0),

    {SEC_NETWORK, "interface", K_IFACE, OFF(network.interface_name), OFF(network.interface_addr),
     sizeof(((prosed_config *)0)->network.interface_name), 0, 0, NULL, 0, NULL},
    {SEC_NETWORK, "address", K_ADDRS, OFF(network.address4), OFF(network.address6), 0, 0, 0, NULL,
     A_V4 | A_V6 | A_UNICAST, NULL},
    BOOL(SEC_NETWORK, "ipv6", network.ipv6, "false"),
    NUM(SEC_NETWORK, "call_port", K_U16, network.call_port, 1, 65535, "8809"),
    NUM(SEC_NETWORK, "ttl", K_U8, network.ttl, 1, 255, "255"),
    ENUM(SEC_NETWORK, "multicast_loop", network.multicast_loop, mcast_loops, "auto"),

    ENUM(SEC_DISCOVERY, "mode", discovery.mode, discovery_modes, "multicast"),
    ADDR(SEC_DISCOVERY, "group", discovery.group, "239.255.80.1", A_V4 | A_MCAST),
    ADDR(SEC_DISCOVERY, "group6", discovery.group6, "ff15::7072:6f73", A_V6 | A_MCAST),
    NUM(SEC_DISCOVERY, "port", K_U16, discovery.port, 1, 65535, "8810"),
    MS(SEC_DISCOVERY, "announce_interval_ms", discovery.announce_interval_ms, 0, 3600000, "5000"),
    MS(SEC_DISCOVERY, "announce_ttl_ms", discovery.announce_ttl_ms, 100, 86400000, "15000"),
    MS(SEC_DISCOVERY, "max_skew_ms", discovery.max_skew_ms, 1000, 86400000, "120000"),
    NUM(SEC_DISCOVERY, "max_peers", K_U32, discovery.max_peers, 1, 4096, "256"),

    ADDR(SEC_MEDIA, "app_address", media.app_address, "127.0.0.1", A_V4 | A_V6 | A_UNICAST),
    NUM(SEC_MEDIA, "app_port_base", K_U16, media.app_port_base, 1024, 65534, "40000"),
    NUM(SEC_MEDIA, "rtp_port_base", K_U16, media.rtp_port_base, 1024, 65534, "50000"),
    NUM(SEC_MEDIA, "max_calls", K_U32, media.max_calls, 1, 1024, "16"),
    NUM(SEC_MEDIA, "payload_type", K_U8, media.payload_type, 0, 127, "0"),
    STR(SEC_MEDIA, "codec", K_CODEC, media.codec, "PCMU/8000", 0),
    BOOL(SEC_MEDIA, "app_symmetric", media.app_symmetric, "false"),

    STR(SEC_CONTROL, "socket", K_SOCKET, control.socket, "/run/prose/prosed.sock", 0),
    NUM(SEC_CONTROL, "max_clients", K_U32, control.max_clients, 1, 1024, "16"),

    MS(SEC_FLOOR, "T201", floor.t201_ms, 1, 60000, "40"),
    MS(SEC_FLOOR, "T203", floor.t203_ms, 100, 3600000, "4000"),
    MS(SEC_FLOOR, "T204", floor.t204_ms, 1, 60000, "80"),
    MS(SEC_FLOOR, "T205", floor.t205_ms, 1, 60000, "80"),
    MS(SEC_FLOOR, "T206", floor.t206_ms, 100, 86400000, "27000"),
    MS(SEC_FLOOR, "T207", floor.t207_ms, 100, 86400000, "3000"),
    MS(SEC_FLOOR, "T230", floor.t230_ms, 1000, 86400000, "600000"),
    MS(SEC_FLOOR, "T233", floor.t233_ms, 100, 600000, "3000"),
    CNT(SEC_FLOOR, "C201", floor.c201, "3"),
    CNT(SEC_FLOOR, "C204", floor.c204, "3"),
    CNT(SEC_FLOOR, "C205", floor.c205, "4"),
    NUM(SEC_FLOOR, "priority", K_U8, floor.priority, 0, 255, "1"),
    BOOL(SEC_FLOOR, "queueing", floor.queueing, "true"),
    NUM(SEC_FLOOR, "queue_max", K_U32, floor.queue_max, 1, 16, "8"),

    MS(SEC_CALL, "TFG1", call.tfg1_ms, 10, 60000, "150"),
    MS(SEC_CALL, "TFG3", call.tfg3_ms, 10, 60000, "40"),
    MS(SEC_CALL, "TFG4", call.tfg4_ms, 1000, 60000, "30000"),
    MS(SEC_CALL, "TFG5", call.tfg5_ms, 100, 3600000, "30000"),
    MS(SEC_CALL, "TFG11", call.tfg11_ms, 10, 60000, "1000"),
    MS(SEC_CALL, "TFG12", call.tfg12_ms, 10, 60000, "1000"),
    /* X of TFG13 / TFG14 (24.379 10.2.3.4.1.1, a whole number of seconds in
     * the spec's group configuration): 1 s to a day; 255 s as NIST ns-3 [I]. */
    MS(SEC_CALL, "TFG13", call.tfg13_ms, 1000, 86400000, "255000"),
    MS(SEC_CALL, "TFG14", call.tfg14_ms, 1000, 86400000, "255000"),
    MS(SEC_CALL, "refresh_interval_ms", call.refresh_interval_ms, 1000, 600000, "10000"),
    MS(SEC_CALL, "max_duration_ms", call.max_duration_ms, 1000, 86400000, "3600000"),
    MS(SEC_CALL, "TFP1", call.tfp1_ms, 10, 60000, "40"),
    MS(SEC_CALL, "TFP2", call.tfp2_ms, 1000, 600000, "30000"),
    MS(SEC_CALL, "TFP3", call.tfp3_ms, 10, 60000, "40"),
    MS(SEC_CALL, "TFP4", call.tfp4_ms, 10, 60000, "40"),
    MS(SEC_CALL, "TFP5", call.tfp5_ms, 1000, 86400000, "3600000"),
    MS(SEC_CALL, "TFP6", call.tfp6_ms, 10, 60000, "40"),
    MS(SEC_CALL, "TFP7", call.tfp7_ms, 10, 600000, "1000"),
    MS(SEC_CALL, "TFE1", call.tfe1_ms, 1000, 3600000, "30000"),
    MS(SEC_CALL, "TFE2", call.tfe2_ms, 10, 600000, "5000"),
    MS(SEC_CALL, "TFB1", call.tfb1_ms, 1000, 86400000, "300000"),
    MS(SEC_CALL, "TFB2", call.tfb2_ms, 10, 600000, "3000"),
    MS(SEC_CALL, "TFB3", call.tfb3_ms, 100, 3600000, "30000"),
    CNT(SEC_CALL, "CFP1", call.cfp1, "3"),
    CNT(SEC_CALL, "CFP3", call.cfp3, "3"),
    CNT(SEC_CALL, "CFP4", call.cfp4, "3"),
    CNT(SEC_CALL, "CFP6", call.cfp6, "3"),
    CNT(SEC_CALL, "CFG11", call.cfg11, "5"),
    CNT(SEC_CALL, "CFG12", call.cfg12, "5"),
    ENUM(SEC_CALL, "commencement", call.commencement, commencements, "automatic"),
    BOOL(SEC_CALL, "user_ack", call.user_ack, "false"),
    BOOL(SEC_CALL, "confirm_mode", call.confirm_mode, "false"),
    BOOL(SEC_CALL, "auto_accept", call.auto_accept, "false"),

    ENUM(SEC_LOG, "level", log.level, log_levels, "info"),
};
#define N_KEYS (sizeof keys / sizeof keys[0])

#define GOFF(field) offsetof(prosed_group_config, field)
/* Keys of a [group NAME] section; offsets are into prosed_group_config. The
 * id defaults to NAME and floor_port to media_port + 2 (after RTP and RTCP),
 * which finish_groups fills in, hence no default text here. */
static const key_def group_keys[] = {
    {SEC_GROUP, "id", K_NAME, GOFF(id), 0, sizeof(((prosed_group_config *)0)->id), 0, 0, NULL, 0,
     NULL},
    {SEC_GROUP, "address", K_ADDR, GOFF(address), 0, 0, 0, 0, NULL,
     A_V4 | A_V6 | A_MCAST | F_REQUIRED, NULL},
    {SEC_GROUP, "media_port", K_U16, GOFF(media_port), 0, 0, 1024, 65534, "30000", 0, NULL},
    {SEC_GROUP, "floor_port", K_U16, GOFF(floor_port), 0, 0, 1024, 65535, NULL, 0, NULL},
    {SEC_GROUP, "call_type", K_ENUM, GOFF(call_type), 0, 0, 0, 0, "basic", 0, call_types},
};
#define N_GROUP_KEYS (sizeof group_keys / sizeof group_keys[0])
enum { GK_ID, GK_ADDRESS, GK_MEDIA_PORT, GK_FLOOR_PORT, GK_CALL_TYPE };

/* ------------------------------------------------------------------------ */
/* Value converters                                                          */
/* ------------------------------------------------------------------------ */

/* Quote a value for a message, cut to a readable length. Values never hold
 * control characters (lines with them are rejected first), so quoting is
 * enough to keep the message on one line. */
static const char *quote(const char *v, char *buf, size_t cap) {
  size_t n = strlen(v);
  if (n > 60)
    snprintf(buf, cap, "'%.57s...'", v);
  else
    snprintf(buf, cap, "'%s'", v);
  return buf;
}

static int parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out, char *why,
                     size_t wcap) {
  char q[72];
  size_t n = strlen(v);
  if (n == 0 || strspn(v, "0123456789") != n) {
    snprintf(why, wcap, "%s is not a decimal integer", quote(v, q, sizeof q));
    return -1;
  }
  /* Leading zeros are harmless; more than ten significant digits overflow. */
  while (n > 1 && *v == '0') v++, n--;
  if (n > 10) goto range;
  uint64_t x = 0;
  for (size_t i = 0; i < n; i++) x = x * 10 + (uint64_t)(v[i] - '0');
  if (x < min || x > max) goto range;
  *out = (uint32_t)x;
  return 0;
range:
  snprintf(why, wcap, "%s is out of range", quote(v, q, sizeof q));
  return -1;
}

static int parse_bool(const char *v, bool *out) {
  static const char *const t[] = {"true", "yes", "on", "1"};
  static const char *const f[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < PROSE_ARRAY_LEN(t); i++) {
    if (strcasecmp(v, t[i]) == 0) return *out = true, 0;
    if (strcasecmp(v, f[i]) == 0) return *out = false, 0;
  }
  return -1;
}

static bool is_blank_or_ctl(unsigned char c) { return c <= 0x20 || c == 0x7f; }

/* An MCPTT ID or group ID: a URI scheme, ':', and at least one more octet,
 * with no blanks (they would end an SDP or log field early). The length
 * bound is the one of the 1-octet floor-control length fields. */
static bool valid_uri(const char *v) {
  size_t n = strlen(v);
  if (n < 3 || n > PROSED_CONFIG_URI_MAX) return false;
  size_t s = 0;
  if (!((v[0] >= 'a' && v[0] <= 'z') || (v[0] >= 'A' && v[0] <= 'Z'))) return false;
  while (v[s] && strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-", v[s]))
    s++;
  if (v[s] != ':' || v[s + 1] == '\0') return false;
  for (size_t i = 0; i < n; i++)
    if (is_blank_or_ctl((unsigned char)v[i])) return false;
  return true;
}

static bool valid_name(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n > PROSED_CONFIG_URI_MAX) return false;
  for (size_t i = 0; i < n; i++)
    if (is_blank_or_ctl((unsigned char)v[i]) || v[i] == '[' || v[i] == ']') return false;
  return true;
}

static bool valid_codec(const char *v) {
  size_t n = strlen(v);
  if (n == 0 || n >= PROSED_CONFIG_CODEC_MAX) return false;
  size_t a = strcspn(v, "/");
  if (a == 0 || v[a] != '/') return false;
  for (size_t i = 0; i < a; i++)
    if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", v[i]))
      return false;
  const char *rate = v + a + 1;
  size_t r = strspn(rate, "0123456789");
  if (r == 0 || r > 6) return false;
  if (rate[r] == '\0') return true;
  if (rate[r] != '/') return false;
  size_t c = strspn(rate + r + 1, "0123456789");
  return c >= 1 && c <= 2 && rate[r + 1 + c] == '\0';
}

static bool addr_is_multicast(const prosed_addr *a) {
  if (a->family == PROSED_AF_INET) return (a->octets[0] & 0xf0) == 0xe0;
  return a->octets[0] == 0xff;
}

static bool addr_is_unspecified(const prosed_addr *a) {
  size_t n = a->family == PROSED_AF_INET ? 4 : 16;
  for (size_t i = 0; i < n; i++)
    if (a->octets[i]) return false;
  return true;
}

/* Parse one address and check it against flags; *why explains a refusal. */
static int parse_addr(const char *v, unsigned flags, prosed_addr *out, char *why, size_t wcap) {
  char q[72];
  prosed_addr a;
  memset(&a, 0, sizeof a);
  if (inet_pton(AF_INET, v, a.octets) == 1)
    a.family = PROSED_AF_INET;
  else if (inet_pton(AF_INET6, v, a.octets) == 1)
    a.family = PROSED_AF_INET6;
  else {
    snprintf(why, wcap, "%s is not an IP address", quote(v, q, sizeof q));
    return -1;
  }
  if (a.family == PROSED_AF_INET && !(flags & A_V4)) {
    snprintf(why, wcap, "%s is an IPv4 address", quote(v, q, sizeof q));
    return -1;
  }
  if (a.family == PROSED_AF_INET6 && !(flags & A_V6)) {
    snprintf(why, wcap, "%s is an IPv6 address", quote(v, q, sizeof q));
    return -1;
  }
  if ((flags & A_MCAST) && !addr_is_multicast(&a)) {
    snprintf(why, wcap, "%s is not a multicast address", quote(v, q, sizeof q));
    return -1;
  }
  if ((flags & A_UNICAST) && (addr_is_multicast(&a) || addr_is_unspecified(&a))) {
    snprintf(why, wcap, "%s is not a unicast address", quote(v, q, sizeof q));
    return -1;
  }
  inet_ntop(a.family == PROSED_AF_INET ? AF_INET : AF_INET6, a.octets, a.text, sizeof a.text);
  *out = a;
  return 0;
}

/* "198.18.0.1", "fd77::1" or "198.18.0.1, fd77::1": at most one per family. */
static int parse_addrs(const char *v, unsigned flags, prosed_addr *v4, prosed_addr *v6, char *why,
                       size_t wcap) {
  char item[PROSED_CONFIG_LINE_MAX + 1];
  prosed_addr a4, a6;
  memset(&a4, 0, sizeof a4);
  memset(&a6, 0, sizeof a6);
  const char *p = v;
  for (;;) {
    size_t n = strcspn(p, ",");
    while (n > 0 && (*p == ' ' || *p == '\t')) p++, n--;
    while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t')) n--;
    memcpy(item, p, n);
    item[n] = '\0';
    prosed_addr a;
    if (parse_addr(item, flags, &a, why, wcap)) return -1;
    prosed_addr *slot = a.family == PROSED_AF_INET ? &a4 : &a6;
    if (slot->family != PROSED_AF_NONE) {
      snprintf(why, wcap, "two %s addresses", a.family == PROSED_AF_INET ? "IPv4" : "IPv6");
      return -1;
    }
    *slot = a;
    p += strcspn(p, ",");
    if (*p == '\0') break;
    p++;
  }
  *v4 = a4;
  *v6 = a6;
  return 0;
}

static int parse_iface(const char *v, char *name, size_t cap, prosed_addr *addr, char *why,
                       size_t wcap) {
  char q[72];
  prosed_addr a;
  if (parse_addr(v, A_V4 | A_UNICAST, &a, why, wcap) == 0) {
    name[0] = '\0';
    *addr = a;
    return 0;
  }
  /* Linux interface names: 1..15 octets, no '/', no blanks, not "." or "..".
   * A value of only digits and dots is a mistyped or unusable address (such
   * as 0.0.0.0), not a name: say so rather than look for such an interface. */
  size_t n = strlen(v);
  bool ok = n > 0 && n < cap && strspn(v, "0123456789.") != n;
  for (size_t i = 0; ok && i < n; i++)
    if (is_blank_or_ctl((unsigned char)v[i]) || v[i] == '/' || v[i] == ':') ok = false;
  if (!ok) {
    snprintf(why, wcap, "%s is neither an IPv4 address nor an interface name",
             quote(v, q, sizeof q));
    return -1;
  }
  memcpy(name, v, n + 1);
  memset(addr, 0, sizeof *addr);
  return 0;
}

/* A path: relative ones are joined to base_dir (the configuration's own
 * directory), so a test lab can keep a node's files beside its config. */
static int parse_path(const char *v, const char *base_dir, char *out, size_t cap, char *why,
                      size_t wcap) {
  int n;
  if (v[0] != '/' && base_dir && base_dir[0])
    n = snprintf(out, cap, "%s/%s", base_dir, v);
  else
    n = snprintf(out, cap, "%s", v);
  if (n < 0 || (size_t)n >= cap) {
    snprintf(why, wcap, "the path is too long");
    out[0] = '\0';
    return -1;
  }
  return 0;
}

/* Convert the text v of key k into its field at base. Returns 0, or -1 with
 * a description of the problem in why. */
/* Integers are stored in the width of their field. */
static int convert_number(const key_def *k, const char *v, char *field, char *why, size_t wcap) {
  uint32_t u;
  if (parse_u32(v, k->min, k->max, &u, why, wcap)) return -1;
  if (k->kind == K_U32) memcpy(field, &u, sizeof u);
  if (k->kind == K_U16) {
    uint16_t s = (uint16_t)u;
    memcpy(field, &s, sizeof s);
  }
  if (k->kind == K_U8) {
    uint8_t b = (uint8_t)u;
    memcpy(field, &b, sizeof b);
  }
  return 0;
}

/* Strings checked as a whole, then copied: each validator bounds the length
 * to what the field holds (URIs and names 255 octets, codecs 31). */
static int convert_text(const key_def *k, const char *v, char *field, char *why, size_t wcap) {
  char q[72];
  bool ok = k->kind == K_URI ? valid_uri(v) : k->kind == K_NAME ? valid_name(v) : valid_codec(v);
  if (!ok) {
    const char *what = k->kind == K_URI ? "URI" : k->kind == K_NAME ? "name" : "codec name";
    snprintf(why, wcap, "%s is not a valid %s", quote(v, q, sizeof q), what);
    return -1;
  }
  memcpy(field, v, strlen(v) + 1);
  return 0;
}

/* Convert the text v of key k into its field at base. Returns 0, or -1 with
 * a description of the problem in why. */
static int convert(const key_def *k, const char *v, void *base, const char *base_dir, char *why,
                   size_t wcap) {
  char q[72];
  char *field = (char *)base + k->off;
  prosed_addr *second = (prosed_addr *)(void *)((char *)base + k->off2);
  switch (k->kind) {
    case K_U32:
    case K_U16:
    case K_U8:
      return convert_number(k, v, field, why, wcap);
    case K_BOOL: {
      bool b;
      if (parse_bool(v, &b)) {
        snprintf(why, wcap, "%s is not a boolean", quote(v, q, sizeof q));
        return -1;
      }
      memcpy(field, &b, sizeof b);
      return 0;
    }
    case K_ENUM:
      for (const choice *c = k->choices; c->name; c++) {
        if (strcasecmp(c->name, v) == 0) {
          memcpy(field, &c->value, sizeof c->value);
          return 0;
        }
      }
      snprintf(why, wcap, "%s is not a valid choice", quote(v, q, sizeof q));
      return -1;
    case K_URI:
    case K_NAME:
    case K_CODEC:
      return convert_text(k, v, field, why, wcap);
    case K_PATH:
    case K_SOCKET:
      return parse_path(v, base_dir, field, k->size, why, wcap);
    case K_ADDR:
      return parse_addr(v, k->flags, (prosed_addr *)(void *)field, why, wcap);
    case K_ADDRS:
      return parse_addrs(v, k->flags, (prosed_addr *)(void *)field, second, why, wcap);
    case K_IFACE:
      return parse_iface(v, field, k->size, second, why, wcap);
  }
  snprintf(why, wcap, "internal error");
  return -1;
}

/* What a key accepts, for the "(expected ...)" part of a message. */
static void describe(const key_def *k, char *buf, size_t cap) {
  size_t used = 0;
  switch (k->kind) {
    case K_U32:
    case K_U16:
    case K_U8: {
      bool ms = strncmp(k->name, "T", 1) == 0 || strstr(k->name, "_ms") != NULL;
      snprintf(buf, cap, "an integer from %u to %u%s", (unsigned)k->min, (unsigned)k->max,
               ms ? ", in milliseconds" : "");
      return;
    }
    case K_BOOL:
      snprintf(buf, cap, "true, false, yes, no, on, off, 1 or 0");
      return;
    case K_ENUM:
      buf[0] = '\0';
      for (const choice *c = k->choices; c->name; c++) {
        int n = snprintf(buf + used, cap - used, "%s%s", c == k->choices ? "" : " | ", c->name);
        if (n < 0 || (size_t)n >= cap - used) break;
        used += (size_t)n;
      }
      return;
    case K_URI:
      snprintf(buf, cap, "a URI such as sip:alice@example.org, at most %u octets",
               PROSED_CONFIG_URI_MAX);
      return;
    case K_NAME:
      snprintf(buf, cap,
               "1 to %u octets without blanks or brackets, such as "
               "sip:fire@example.org",
               PROSED_CONFIG_URI_MAX);
      return;
    case K_PATH:
    case K_SOCKET:
      snprintf(buf, cap, "a path of at most %zu octets", k->size - 1);
      return;
    case K_ADDR:
    case K_ADDRS: {
      const char *fam = (k->flags & A_V4) && (k->flags & A_V6) ? "IPv4 or IPv6"
                        : (k->flags & A_V4)                    ? "IPv4"
                                                               : "IPv6";
      const char *what = (k->flags & A_MCAST) ? "multicast" : "unicast";
      if (k->kind == K_ADDRS)
        snprintf(buf, cap, "one IPv4 and/or one IPv6 %s address, separated by a comma", what);
      else
        snprintf(buf, cap, "an %s %s address", fam, what);
      return;
    }
    case K_IFACE:
      snprintf(buf, cap, "an IPv4 address or an interface name such as eth0");
      return;
    case K_CODEC:
      snprintf(buf, cap, "an RTP codec NAME/RATE[/CHANNELS] such as PCMU/8000");
      return;
  }
  buf[0] = '\0';
}

/* ------------------------------------------------------------------------ */
/* Defaults                                                                  */
/* ------------------------------------------------------------------------ */

static void apply_defaults(const key_def *table, size_t n, void *base) {
  char why[128];
  for (size_t i = 0; i < n; i++) {
    if (!table[i].def) continue;
    /* A default that does not convert is a bug in the table; the unit tests
     * load the defaults, so it cannot ship. */
    if (convert(&table[i], table[i].def, base, NULL, why, sizeof why) != 0) abort();
  }
}

void prosed_config_default(prosed_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  apply_defaults(keys, N_KEYS, cfg);
}

/* ------------------------------------------------------------------------ */
/* The parser                                                                */
/* ------------------------------------------------------------------------ */

typedef struct parser {
  const char *file;
  const char *base_dir;
  prosed_config *cfg; /* the candidate, committed only on success */
  char *err;
  size_t errlen;
  unsigned line;
  unsigned section;                       /* SEC_* of the current section */
  char label[PROSED_CONFIG_URI_MAX + 16]; /* "[floor]" or "[group NAME]" */
  prosed_group_config *group;             /* the current [group NAME] */
  unsigned section_line[SEC_COUNT];       /* first line of each fixed section */
  unsigned key_line[N_KEYS];              /* where each key was set, 0 = default */
  unsigned group_key_line[PROSED_CONFIG_MAX_GROUPS][N_GROUP_KEYS];
} parser;

__attribute__((format(printf, 3, 4))) static int fail(parser *p, unsigned line, const char *fmt,
                                                      ...) {
  if (p->err && p->errlen) {
    int n = line ? snprintf(p->err, p->errlen, "%s:%u: ", p->file, line)
                 : snprintf(p->err, p->errlen, "%s: ", p->file);
    if (n >= 0 && (size_t)n < p->errlen) {
      va_list ap;
      va_start(ap, fmt);
      vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
      va_end(ap);
    }
  }
  return PROSE_ECONFIG;
}

static char *trim(char *s) {
  while (*s == ' ' || *s == '\t') s++;
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) s[--n] = '\0';
  return s;
}

static unsigned max_u(unsigned a, unsigned b) { return a > b ? a : b; }

/* List the keys of a section for an "unknown key" message. */
static void list_keys(unsigned sec, char *buf, size_t cap) {
  const key_def *t = sec == SEC_GROUP ? group_keys : keys;
  size_t n = sec == SEC_GROUP ? N_GROUP_KEYS : N_KEYS, used = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (t[i].section != sec) continue;
    int w = snprintf(buf + used, cap - used, "%s%s", used ? ", " : "", t[i].name);
    if (w < 0 || (size_t)w >= cap - used) break;
    used += (size_t)w;
  }
}

static int start_group(parser *p, const char *name) {
  prosed_config *c = p->cfg;
  if (!valid_name(name))
    return fail(p, p->line, "[group %s]: invalid group name (expected 1 to %u octets, no blanks)",
                name, PROSED_CONFIG_URI_MAX);
  for (size_t i = 0; i < c->n_groups; i++)
    if (strcmp(c->groups[i].name, name) == 0)
      return fail(p, p->line, "[group %s]: duplicate section (first on line %u)", name,
                  c->groups[i].line);
  if (c->n_groups == PROSED_CONFIG_MAX_GROUPS)
    return fail(p, p->line, "[group %s]: too many groups (expected at most %u)", name,
                PROSED_CONFIG_MAX_GROUPS);
  prosed_group_config *g = &c->groups[c->n_groups];
  memset(g, 0, sizeof *g);
  apply_defaults(group_keys, N_GROUP_KEYS, g);
  memcpy(g->name, name, strlen(name) + 1);
  g->line = p->line;
  memset(p->group_key_line[c->n_groups], 0, sizeof p->group_key_line[0]);
  c->n_groups++;
  p->group = g;
  p->section = SEC_GROUP;
  snprintf(p->label, sizeof p->label, "[group %s]", name);
  return 0;
}

static int start_section(parser *p, char *inner) {
  char *name = trim(inner);
  if (strncasecmp(name, "group", 5) == 0 && (name[5] == ' ' || name[5] == '\t'))
    return start_group(p, trim(name + 5));
  if (strcasecmp(name, "group") == 0)
    return fail(p, p->line, "[group]: missing group name (expected [group NAME])");
  for (unsigned s = SEC_IDENTITY; s < SEC_GROUP; s++) {
    if (strcasecmp(name, section_names[s]) != 0) continue;
    if (p->section_line[s])
      return fail(p, p->line, "[%s]: duplicate section (first on line %u)", section_names[s],
                  p->section_line[s]);
    p->section_line[s] = p->line;
    p->section = s;
    p->group = NULL;
    snprintf(p->label, sizeof p->label, "[%s]", section_names[s]);
    return 0;
  }
  return fail(p, p->line,
              "[%s]: unknown section (expected identity, network, discovery, media, control, "
              "floor, call, log or group NAME)",
              name);
}

static int set_key(parser *p, const char *key, const char *value) {
  const key_def *t = keys;
  size_t n = N_KEYS;
  void *base = p->cfg;
  unsigned *lines = p->key_line;
  if (p->section == SEC_GROUP) {
    t = group_keys;
    n = N_GROUP_KEYS;
    base = p->group;
    lines = p->group_key_line[p->cfg->n_groups - 1];
  }
  for (size_t i = 0; i < n; i++) {
    const key_def *k = &t[i];
    if (k->section != p->section || strcasecmp(k->name, key) != 0) continue;
    if (lines[i])
      return fail(p, p->line, "%s %s: duplicate key (first set on line %u)", p->label, k->name,
                  lines[i]);
    char why[160], expect[200];
    if (value[0] == '\0') {
      snprintf(why, sizeof why, "empty value");
    } else if (convert(k, value, base, p->base_dir, why, sizeof why) == 0) {
      lines[i] = p->line;
      return 0;
    }
    describe(k, expect, sizeof expect);
    return fail(p, p->line, "%s %s: %s (expected %s)", p->label, k->name, why, expect);
  }
  char list[600];
  list_keys(p->section, list, sizeof list);
  return fail(p, p->line, "%s %s: unknown key (expected one of %s)", p->label, key, list);
}

static int parse_line(parser *p, char *raw) {
  char *s = trim(raw);
  if (s[0] == '\0' || s[0] == '#' || s[0] == ';') return 0;
  if (s[0] == '[') {
    size_t n = strlen(s);
    if (s[n - 1] != ']') return fail(p, p->line, "syntax error: a section line must end with ']'");
    s[n - 1] = '\0';
    return start_section(p, s + 1);
  }
  char *eq = strchr(s, '=');
  if (!eq)
    return fail(p, p->line,
                "syntax error: expected 'key = value', '[section]', a comment or a blank line");
  *eq = '\0';
  char *key = trim(s), *value = trim(eq + 1);
  if (key[0] == '\0') return fail(p, p->line, "syntax error: missing key before '='");
  if (strspn(key, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") != strlen(key))
    return fail(p, p->line, "syntax error: a key name is letters, digits and '_'");
  if (p->section == SEC_NONE)
    return fail(p, p->line, "%s: key outside any section (expected a [section] line first)", key);
  return set_key(p, key, value);
}

/* ------------------------------------------------------------------------ */
/* Checks across keys, once the whole file is read                           */
/* ------------------------------------------------------------------------ */

static size_t key_index(unsigned sec, const char *name) {
  for (size_t i = 0; i < N_KEYS; i++)
    if (keys[i].section == sec && strcmp(keys[i].name, name) == 0) return i;
  abort(); /* a typo in this file: the tests would catch it */
}

static unsigned line_of(const parser *p, unsigned sec, const char *name) {
  return p->key_line[key_index(sec, name)];
}

static int check_required(parser *p) {
  char expect[200];
  for (size_t i = 0; i < N_KEYS; i++) {
    if (!(keys[i].flags & F_REQUIRED) || p->key_line[i]) continue;
    describe(&keys[i], expect, sizeof expect);
    return fail(p, 0, "missing [%s] %s (expected %s)", section_names[keys[i].section], keys[i].name,
                expect);
  }
  return 0;
}

static int finish_group(parser *p, size_t gi) {
  prosed_config *c = p->cfg;
  prosed_group_config *g = &c->groups[gi];
  const unsigned *gl = p->group_key_line[gi];
  char expect[200];
  if (!gl[GK_ADDRESS]) {
    describe(&group_keys[GK_ADDRESS], expect, sizeof expect);
    return fail(p, g->line, "missing [group %s] address (expected %s)", g->name, expect);
  }
  if (g->address.family == PROSED_AF_INET6 && !c->network.ipv6)
    return fail(p, gl[GK_ADDRESS],
                "[group %s] address: '%s' is an IPv6 address but [network] ipv6 is false "
                "(expected an IPv4 multicast address, or ipv6 = true)",
                g->name, g->address.text);
  if (!gl[GK_ID]) memcpy(g->id, g->name, strlen(g->name) + 1);
  if (!gl[GK_FLOOR_PORT]) {
    /* RTP on media_port and RTCP on media_port + 1, so floor control takes
     * the next port. */
    if (g->media_port > 65533)
      return fail(p, gl[GK_MEDIA_PORT],
                  "[group %s] media_port: %u leaves no room for the default floor_port "
                  "(expected at most 65533, or an explicit floor_port)",
                  g->name, g->media_port);
    g->floor_port = (uint16_t)(g->media_port + 2);
  } else if (g->floor_port == g->media_port || g->floor_port == g->media_port + 1) {
    return fail(p, gl[GK_FLOOR_PORT],
                "[group %s] floor_port: %u collides with RTP or RTCP on media_port %u (expected "
                "another port)",
                g->name, g->floor_port, g->media_port);
  }
  for (size_t j = 0; j < gi; j++) {
    const prosed_group_config *o = &c->groups[j];
    if (strcmp(o->id, g->id) == 0)
      return fail(p, max_u(gl[GK_ID], g->line),
                  "[group %s] id: '%s' is already the id of [group %s] (expected a unique MCPTT "
                  "group ID)",
                  g->name, g->id, o->name);
    if (o->address.family == g->address.family &&
        memcmp(o->address.octets, g->address.octets, sizeof o->address.octets) == 0 &&
        o->media_port == g->media_port)
      return fail(p, max_u(gl[GK_ADDRESS], gl[GK_MEDIA_PORT]),
                  "[group %s] media_port: %s port %u is already used by [group %s] (expected "
                  "another address or media_port)",
                  g->name, g->address.text, g->media_port, o->name);
  }
  return 0;
}

/* Port ranges of [media] must not overlap each other or the fixed ports.
 * Each range holds one slot of PROSED_MEDIA_SLOT_PORTS ports per call: slot
 * 0 for private calls, slot k for the k-th group, so there are at least
 * n_groups + 1 slots whatever max_calls says. */
static int check_ports(parser *p) {
  const prosed_config *c = p->cfg;
  const struct {
    const char *key;
    uint32_t base;
  } r[2] = {{"app_port_base", c->media.app_port_base}, {"rtp_port_base", c->media.rtp_port_base}};
  uint32_t slots = prosed_config_media_slots(c);
  uint32_t span = PROSED_MEDIA_SLOT_PORTS * slots;
  unsigned calls_line = line_of(p, SEC_MEDIA, "max_calls");
  for (size_t i = 0; i < 2; i++) {
    unsigned line = max_u(line_of(p, SEC_MEDIA, r[i].key), calls_line);
    if (r[i].base % 2)
      return fail(p, line_of(p, SEC_MEDIA, r[i].key),
                  "[media] %s: %u is odd (expected an even port: RTP even, RTCP odd)", r[i].key,
                  (unsigned)r[i].base);
    if (r[i].base + span > 65536)
      return fail(p, line,
                  "[media] %s: %u + %u ports for %u call slots passes port 65535 (expected a "
                  "lower base or fewer calls)",
                  r[i].key, (unsigned)r[i].base, (unsigned)span, (unsigned)slots);
    const struct {
      unsigned sec;
      const char *key;
      uint32_t port;
    } fixed[2] = {{SEC_NETWORK, "call_port", c->network.call_port},
                  {SEC_DISCOVERY, "port", c->discovery.port}};
    for (size_t f = 0; f < 2; f++)
      if (fixed[f].port >= r[i].base && fixed[f].port < r[i].base + span)
        return fail(p, max_u(line, line_of(p, fixed[f].sec, fixed[f].key)),
                    "[media] %s: the range %u-%u holds [%s] %s %u (expected ranges apart from "
                    "the fixed ports)",
                    r[i].key, (unsigned)r[i].base, (unsigned)(r[i].base + span - 1),
                    section_names[fixed[f].sec], fixed[f].key, (unsigned)fixed[f].port);
  }
  if (r[0].base < r[1].base + span && r[1].base < r[0].base + span)
    return fail(p,
                max_u(calls_line, max_u(line_of(p, SEC_MEDIA, "app_port_base"),
                                        line_of(p, SEC_MEDIA, "rtp_port_base"))),
                "[media] rtp_port_base: the ranges of app_port_base (%u) and rtp_port_base (%u) "
                "overlap for %u call slots (expected ranges %u ports apart)",
                (unsigned)r[0].base, (unsigned)r[1].base, (unsigned)slots, (unsigned)span);
  if (c->network.call_port == c->discovery.port)
    return fail(p, max_u(line_of(p, SEC_NETWORK, "call_port"), line_of(p, SEC_DISCOVERY, "port")),
                "[discovery] port: %u is also [network] call_port (expected another port)",
                (unsigned)c->discovery.port);
  return 0;
}

static int check_network(parser *p) {
  const prosed_config *c = p->cfg;
  if (c->network.address6.family != PROSED_AF_NONE && !c->network.ipv6)
    return fail(p, line_of(p, SEC_NETWORK, "address"),
                "[network] address: '%s' is an IPv6 address but ipv6 is false (expected "
                "ipv6 = true, or IPv4 only)",
                c->network.address6.text);
  if (c->media.app_address.family == PROSED_AF_INET6 && !c->network.ipv6)
    return fail(p, line_of(p, SEC_MEDIA, "app_address"),
                "[media] app_address: '%s' is an IPv6 address but [network] ipv6 is false "
                "(expected an IPv4 address, or ipv6 = true)",
                c->media.app_address.text);
  /* The discovery engine drops a peer after announce_ttl_ms of silence, so
   * announcing less often than that would make us flap in every table. */
  const prosed_discovery_config *d = &c->discovery;
  if (d->announce_interval_ms > 0 && d->announce_ttl_ms < d->announce_interval_ms)
    return fail(p,
                max_u(line_of(p, SEC_DISCOVERY, "announce_ttl_ms"),
                      line_of(p, SEC_DISCOVERY, "announce_interval_ms")),
                "[discovery] announce_ttl_ms: %u is below announce_interval_ms %u (expected at "
                "least the interval, 3 intervals recommended)",
                (unsigned)d->announce_ttl_ms, (unsigned)d->announce_interval_ms);
  return 0;
}

static int finish(parser *p) {
  int rc = check_required(p);
  for (size_t i = 0; rc == 0 && i < p->cfg->n_groups; i++) rc = finish_group(p, i);
  if (rc == 0) rc = check_network(p);
  if (rc == 0) rc = check_ports(p);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Entry points                                                              */
/* ------------------------------------------------------------------------ */

static int parse_text(parser *p, const char *text, size_t len) {
  char buf[PROSED_CONFIG_LINE_MAX + 1];
  size_t pos = 0;
  if (len > PROSED_CONFIG_FILE_MAX)
    return fail(p, 0, "larger than %u octets", PROSED_CONFIG_FILE_MAX);
  if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) pos = 3;
  while (pos < len) {
    p->line++;
    const char *start = text + pos;
    const char *nl = memchr(start, '\n', len - pos);
    size_t n = nl ? (size_t)(nl - start) : len - pos;
    pos += n + (nl ? 1 : 0);
    if (n > 0 && start[n - 1] == '\r') n--;
    if (n > PROSED_CONFIG_LINE_MAX)
      return fail(p, p->line, "line longer than %u octets", PROSED_CONFIG_LINE_MAX);
    for (size_t i = 0; i < n; i++) {
      unsigned char ch = (unsigned char)start[i];
      if ((ch < 0x20 && ch != '\t') || ch == 0x7f)
        return fail(p, p->line, "control character 0x%02x in the line", ch);
    }
    memcpy(buf, start, n);
    buf[n] = '\0';
    int rc = parse_line(p, buf);
    if (rc) return rc;
  }
  return finish(p);
}

int prosed_config_parse(const char *name, const char *text, size_t len, const char *base_dir,
                        prosed_config *cfg, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!cfg || (!text && len)) return PROSE_EINVAL;
  /* The parser state is ~40 KiB with the candidate config: keep it off the
   * stack of a daemon that may reload from a signal handler's loop turn. */
  parser *p = calloc(1, sizeof *p);
  prosed_config *cand = malloc(sizeof *cand);
  int rc = PROSE_ENOMEM;
  if (p && cand) {
    prosed_config_default(cand);
    p->file = name ? name : "(config)";
    p->base_dir = base_dir;
    p->cfg = cand;
    p->err = err;
    p->errlen = errlen;
    rc = parse_text(p, text ? text : "", len);
    if (rc == 0) *cfg = *cand;
  }
  free(p);
  free(cand);
  return rc;
}

int prosed_config_load(const char *path, prosed_config *cfg, char *err, size_t errlen) {
  if (err && errlen) err[0] = '\0';
  if (!path || !cfg) return PROSE_EINVAL;
  FILE *f = fopen(path, "rb");
  if (!f) {
    if (err && errlen) snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
    return PROSE_ECONFIG;
  }
  char *text = malloc(PROSED_CONFIG_FILE_MAX + 1);
  char *dir = malloc(strlen(path) + 1);
  int rc = PROSE_ENOMEM;
  if (text && dir) {
    size_t n = fread(text, 1, PROSED_CONFIG_FILE_MAX + 1, f);
    if (ferror(f)) {
      if (err && errlen) snprintf(err, errlen, "%s: read error", path);
      rc = PROSE_ECONFIG;
    } else {
      /* Relative paths in the file are relative to the file's directory. */
      memcpy(dir, path, strlen(path) + 1);
      char *slash = strrchr(dir, '/');
      if (slash == dir)
        slash[1] = '\0';
      else if (slash)
        *slash = '\0';
      rc = prosed_config_parse(path, text, n, slash ? dir : NULL, cfg, err, errlen);
    }
  }
  fclose(f);
  free(text);
  free(dir);
  return rc;
}

/* ------------------------------------------------------------------------ */
/* Writing a configuration back                                              */
/* ------------------------------------------------------------------------ */

static const char *choice_name(const choice *c, int v) {
  for (; c->name; c++)
    if (c->value == v) return c->name;
  return "?";
}

/* Print one key; keys that are unset (empty strings, no address) are left
 * out, which reads back as the same unset value. */
static int write_key(FILE *f, const key_def *k, const void *base) {
  const char *field = (const char *)base + k->off;
  uint32_t u32;
  uint16_t u16;
  uint8_t u8;
  bool b;
  int e;
  prosed_addr a, a2;
  switch (k->kind) {
    case K_U32:
      memcpy(&u32, field, sizeof u32);
      return fprintf(f, "%s = %u\n", k->name, (unsigned)u32);
    case K_U16:
      memcpy(&u16, field, sizeof u16);
      return fprintf(f, "%s = %u\n", k->name, (unsigned)u16);
    case K_U8:
      memcpy(&u8, field, sizeof u8);
      return fprintf(f, "%s = %u\n", k->name, (unsigned)u8);
    case K_BOOL:
      memcpy(&b, field, sizeof b);
      return fprintf(f, "%s = %s\n", k->name, b ? "true" : "false");
    case K_ENUM:
      memcpy(&e, field, sizeof e);
      return fprintf(f, "%s = %s\n", k->name, choice_name(k->choices, e));
    case K_URI:
    case K_NAME:
    case K_PATH:
    case K_SOCKET:
    case K_CODEC:
      return field[0] ? fprintf(f, "%s = %s\n", k->name, field) : 0;
    case K_ADDR:
      memcpy(&a, field, sizeof a);
      return a.family ? fprintf(f, "%s = %s\n", k->name, a.text) : 0;
    case K_ADDRS:
      memcpy(&a, field, sizeof a);
      memcpy(&a2, (const char *)base + k->off2, sizeof a2);
      if (a.family && a2.family) return fprintf(f, "%s = %s, %s\n", k->name, a.text, a2.text);
      if (a.family || a2.family)
        return fprintf(f, "%s = %s\n", k->name, a.family ? a.text : a2.text);
      return 0;
    case K_IFACE:
      memcpy(&a, (const char *)base + k->off2, sizeof a);
      if (field[0]) return fprintf(f, "%s = %s\n", k->name, field);
      return a.family ? fprintf(f, "%s = %s\n", k->name, a.text) : 0;
  }
  return -1;
}

int prosed_config_write(const prosed_config *cfg, FILE *f) {
  int bad = 0;
  for (unsigned s = SEC_IDENTITY; s < SEC_GROUP; s++) {
    bad |= fprintf(f, "%s[%s]\n", s == SEC_IDENTITY ? "" : "\n", section_names[s]) < 0;
    for (size_t i = 0; i < N_KEYS; i++)
      if (keys[i].section == s) bad |= write_key(f, &keys[i], cfg) < 0;
  }
  for (size_t g = 0; g < cfg->n_groups; g++) {
    bad |= fprintf(f, "\n[group %s]\n", cfg->groups[g].name) < 0;
    for (size_t i = 0; i < N_GROUP_KEYS; i++)
      bad |= write_key(f, &group_keys[i], &cfg->groups[g]) < 0;
  }
  return bad || ferror(f) ? PROSE_EIO : 0;
}

/* ------------------------------------------------------------------------ */
/* Names                                                                     */
/* ------------------------------------------------------------------------ */

const char *prosed_call_type_name(prosed_call_type t) { return choice_name(call_types, (int)t); }
const char *prosed_commencement_name(prosed_commencement c) {
  return choice_name(commencements, (int)c);
}
const char *prosed_discovery_mode_name(prosed_discovery_mode m) {
  return choice_name(discovery_modes, (int)m);
}
const char *prosed_log_level_name(prosed_log_level l) { return choice_name(log_levels, (int)l); }

int prosed_call_type_parse(const char *s, prosed_call_type *out) {
  for (const choice *c = call_types; s && c->name; c++) {
    if (strcmp(c->name, s) == 0) {
      *out = (prosed_call_type)c->value;
      return 0;
    }
  }
  return PROSE_EINVAL;
}

uint32_t prosed_config_media_slots(const prosed_config *cfg) {
  uint32_t need = (uint32_t)cfg->n_groups + 1u;
  return cfg->media.max_calls > need ? cfg->media.max_calls : need;
}

const prosed_group_config *prosed_config_find_group(const prosed_config *cfg, const char *name) {
  for (size_t i = 0; name && i < cfg->n_groups; i++)
    if (strcmp(cfg->groups[i].name, name) == 0 || strcmp(cfg->groups[i].id, name) == 0)
      return &cfg->groups[i];
  return NULL;
}
