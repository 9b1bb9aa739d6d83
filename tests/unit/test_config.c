/*
 * Tests of the prosed configuration loader (prosed/src/config.c): defaults,
 * good files, a numbered table of bad files with the exact "FILE:LINE"
 * prefix of their message, files on disk (relative paths, the shipped
 * example), the write/parse round trip, and the documentation of every key.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "prose/err.h"

#define MIN_ID "[identity]\nuri = sip:alice@example.org\nstore = /var/lib/prose\n"

static int parse(const char *text, prosed_config *cfg, char *err) {
  return prosed_config_parse("test.conf", text, strlen(text), "/etc/prose", cfg, err,
                             PROSED_CONFIG_ERR_MAX);
}

Test(config, defaults_and_minimal_file) {
  prosed_config d, c;
  char err[PROSED_CONFIG_ERR_MAX];
  prosed_config_default(&d);
  /* DIGEST §8.4 and §7.7 defaults. */
  cr_assert_eq(d.floor.t201_ms, 40);
  cr_assert_eq(d.floor.t203_ms, 4000);
  cr_assert_eq(d.floor.t204_ms, 80);
  cr_assert_eq(d.floor.t205_ms, 80);
  cr_assert_eq(d.floor.t206_ms, 27000);
  cr_assert_eq(d.floor.t207_ms, 3000);
  cr_assert_eq(d.floor.t230_ms, 600000);
  cr_assert_eq(d.floor.t233_ms, 3000);
  cr_assert_eq(d.floor.c201, 3);
  cr_assert_eq(d.floor.c204, 3);
  cr_assert_eq(d.floor.c205, 4);
  cr_assert(d.floor.queueing);
  cr_assert_eq(d.call.tfg1_ms, 150);
  cr_assert_eq(d.call.tfg3_ms, 40);
  cr_assert_eq(d.call.tfg4_ms, 30000);
  cr_assert_eq(d.call.tfp1_ms, 40);
  cr_assert_eq(d.call.tfp7_ms, 1000);
  cr_assert_eq(d.call.cfp1, 3);
  cr_assert_eq(d.call.cfg11, 5);
  cr_assert_eq(d.call.tfg13_ms, 255000); /* NIST ns-3 [I]: no spec default retrieved */
  cr_assert_eq(d.call.tfg14_ms, 255000);
  cr_assert(!d.call.auto_accept, "manual calls wait for the user by default");
  cr_assert(!d.media.app_symmetric, "any local source by default");
  cr_assert_eq(d.network.multicast_loop, PROSED_MLOOP_AUTO);
  cr_assert_eq(d.call.refresh_interval_ms, 10000);
  cr_assert_eq(d.call.commencement, PROSED_COMMENCE_AUTOMATIC);
  cr_assert_eq(d.network.call_port, 8809);
  cr_assert_eq(d.network.ttl, 255);
  cr_assert_eq(d.discovery.mode, PROSED_DISCOVERY_MULTICAST);
  cr_assert_str_eq(d.discovery.group.text, "239.255.80.1");
  cr_assert_eq(d.discovery.group6.family, PROSED_AF_INET6);
  cr_assert_str_eq(d.media.app_address.text, "127.0.0.1");
  cr_assert_str_eq(d.media.codec, "PCMU/8000");
  cr_assert_str_eq(d.control.socket, "/run/prose/prosed.sock");
  cr_assert_eq(d.log.level, PROSED_LOG_INFO);
  cr_assert_eq(d.identity.uri[0], '\0');
  cr_assert_eq(d.n_groups, 0);

  /* The smallest valid file is the two required keys; the rest is default. */
  cr_assert_eq(parse(MIN_ID, &c, err), 0, "%s", err);
  cr_assert_str_eq(err, "");
  cr_assert_str_eq(c.identity.uri, "sip:alice@example.org");
  cr_assert_str_eq(c.identity.store, "/var/lib/prose");
  strcpy(d.identity.uri, c.identity.uri);
  strcpy(d.identity.store, c.identity.store);
  cr_assert_eq(memcmp(&c, &d, sizeof c), 0, "minimal file differs from the defaults");

  cr_assert_eq(prosed_config_parse("x", "", 0, NULL, NULL, err, sizeof err), PROSE_EINVAL);
  cr_assert_eq(prosed_config_load(NULL, &c, err, sizeof err), PROSE_EINVAL);
}

Test(config, good_file_values) {
  static const char text[] =
      "\xEF\xBB\xBF# a comment\r\n"
      "; another comment\n"
      "[Identity]\n"
      "  URI   =   sip:alice@example.org  \n"
      "store = keys\n"
      "passphrase_file = /etc/prose/pass\n"
      "kms_uri = sip:kms@example.org\n"
      "\n"
      "[network]\n"
      "interface = eth0\n"
      "address = 198.18.0.1, fd77::1\n"
      "ipv6 = Yes\n"
      "call_port = 9809\n"
      "ttl = 1\n"
      "[discovery]\n"
      "mode = both\n"
      "group = 239.1.2.3\n"
      "group6 = ff12::1\n"
      "port = 9900\n"
      "announce_interval_ms = 0\n"
      "announce_ttl_ms = 100\n"
      "[media]\n"
      "app_address = ::1\n"
      "app_port_base = 20000\n"
      "rtp_port_base = 20200\n"
      "max_calls = 50\n"
      "payload_type = 96\n"
      "codec = opus/48000/2\n"
      "app_symmetric = on\n"
      "[control]\n"
      "socket = run/ctl.sock\n"
      "max_clients = 2\n"
      "[floor]\n"
      "T201 = 0040\n"
      "t203 = 5000\n"
      "C205 = 100\n"
      "priority = 255\n"
      "queueing = off\n"
      "[call]\n"
      "TFG4 = 60000\n"
      "TFP7 = 2000\n"
      "CFP1 = 1\n"
      "commencement = manual\n"
      "user_ack = 1\n"
      "confirm_mode = true\n"
      "auto_accept = yes\n"
      "max_duration_ms = 1000\n"
      "[log]\n"
      "level = debug\n"
      "[group fire]\n"
      "id = sip:fire@example.org\n"
      "address = 239.0.0.10\n"
      "[group sip:rescue@example.org]\n"
      "address = ff15::10\n"
      "media_port = 31000\n"
      "floor_port = 31010\n"
      "call_type = emergency\n";
  prosed_config c;
  char err[PROSED_CONFIG_ERR_MAX];
  cr_assert_eq(parse(text, &c, err), 0, "%s", err);
  cr_assert_str_eq(c.identity.uri, "sip:alice@example.org");
  cr_assert_str_eq(c.identity.store, "/etc/prose/keys", "relative path joins the base dir");
  cr_assert_str_eq(c.identity.passphrase_file, "/etc/prose/pass");
  cr_assert_str_eq(c.identity.kms_uri, "sip:kms@example.org");
  cr_assert_str_eq(c.network.interface_name, "eth0");
  cr_assert_eq(c.network.interface_addr.family, PROSED_AF_NONE);
  cr_assert_str_eq(c.network.address4.text, "198.18.0.1");
  cr_assert_eq(c.network.address4.octets[0], 198);
  cr_assert_str_eq(c.network.address6.text, "fd77::1");
  cr_assert(c.network.ipv6);
  cr_assert_eq(c.network.call_port, 9809);
  cr_assert_eq(c.network.ttl, 1);
  cr_assert_eq(c.discovery.mode, PROSED_DISCOVERY_BOTH);
  cr_assert_str_eq(c.discovery.group.text, "239.1.2.3");
  cr_assert_str_eq(c.discovery.group6.text, "ff12::1");
  cr_assert_eq(c.discovery.port, 9900);
  cr_assert_eq(c.discovery.announce_interval_ms, 0);
  cr_assert_eq(c.media.app_address.family, PROSED_AF_INET6);
  cr_assert_eq(c.media.app_port_base, 20000);
  cr_assert_eq(c.media.max_calls, 50);
  cr_assert_eq(c.media.payload_type, 96);
  cr_assert_str_eq(c.media.codec, "opus/48000/2");
  cr_assert(c.media.app_symmetric);
  cr_assert_str_eq(c.control.socket, "/etc/prose/run/ctl.sock");
  cr_assert_eq(c.control.max_clients, 2);
  cr_assert_eq(c.floor.t201_ms, 40);
  cr_assert_eq(c.floor.t203_ms, 5000);
  cr_assert_eq(c.floor.c205, 100);
  cr_assert_eq(c.floor.priority, 255);
  cr_assert(!c.floor.queueing);
  cr_assert_eq(c.call.tfg4_ms, 60000);
  cr_assert_eq(c.call.tfp7_ms, 2000);
  cr_assert_eq(c.call.cfp1, 1);
  cr_assert_eq(c.call.commencement, PROSED_COMMENCE_MANUAL);
  cr_assert(c.call.user_ack);
  cr_assert(c.call.confirm_mode);
  cr_assert(c.call.auto_accept);
  cr_assert_eq(c.call.max_duration_ms, 1000);
  cr_assert_eq(c.log.level, PROSED_LOG_DEBUG);
  cr_assert_eq(c.n_groups, 2);
  cr_assert_str_eq(c.groups[0].name, "fire");
  cr_assert_str_eq(c.groups[0].id, "sip:fire@example.org");
  cr_assert_str_eq(c.groups[0].address.text, "239.0.0.10");
  cr_assert_eq(c.groups[0].media_port, 30000);
  cr_assert_eq(c.groups[0].floor_port, 30002, "floor port defaults to media + 2");
  cr_assert_eq(c.groups[0].call_type, PROSED_CALL_BASIC);
  cr_assert_eq(c.groups[0].line, 50);
  cr_assert_str_eq(c.groups[1].id, "sip:rescue@example.org", "id defaults to NAME");
  cr_assert_eq(c.groups[1].address.family, PROSED_AF_INET6);
  cr_assert_eq(c.groups[1].media_port, 31000);
  cr_assert_eq(c.groups[1].floor_port, 31010);
  cr_assert_eq(c.groups[1].call_type, PROSED_CALL_EMERGENCY);
  cr_assert_eq(prosed_config_find_group(&c, "sip:fire@example.org"), &c.groups[0]);
  cr_assert_eq(prosed_config_find_group(&c, "fire"), &c.groups[0]);
  cr_assert_null(prosed_config_find_group(&c, "water"));

  /* An interface given as an IPv4 address; a single IPv4 own address. */
  cr_assert_eq(parse(MIN_ID "[network]\ninterface = 127.0.0.1\naddress = 10.0.0.1\n", &c, err), 0,
               "%s", err);
  cr_assert_str_eq(c.network.interface_addr.text, "127.0.0.1");
  cr_assert_str_eq(c.network.interface_name, "");
  cr_assert_str_eq(c.network.address4.text, "10.0.0.1");
  cr_assert_eq(c.network.address6.family, PROSED_AF_NONE);

  /* Names of enums, both ways. */
  prosed_call_type t;
  cr_assert_eq(prosed_call_type_parse("imminent-peril", &t), 0);
  cr_assert_eq(t, PROSED_CALL_IMMINENT_PERIL);
  cr_assert_str_eq(prosed_call_type_name(PROSED_CALL_BROADCAST), "broadcast");
  cr_assert_eq(prosed_call_type_parse("loud", &t), PROSE_EINVAL);

  /* The implicit downgrade bases (TFG13/TFG14), at both ends of their range. */
  cr_assert_eq(parse(MIN_ID "[call]\nTFG13 = 1000\ntfg14 = 86400000\n", &c, err), 0, "%s", err);
  cr_assert_eq(c.call.tfg13_ms, 1000);
  cr_assert_eq(c.call.tfg14_ms, 86400000);
  cr_assert_eq(c.call.tfg12_ms, 1000, "neighbours keep their defaults");
  cr_assert_str_eq(prosed_commencement_name(PROSED_COMMENCE_MANUAL), "manual");
  cr_assert_str_eq(prosed_discovery_mode_name(PROSED_DISCOVERY_AVAHI), "avahi");
  cr_assert_str_eq(prosed_log_level_name(PROSED_LOG_WARN), "warn");
}

/* A bad file, the exact start of its message and a word that must follow. */
typedef struct bad_case {
  const char *text;
  const char *prefix;
  const char *contains;
} bad_case;

static char *many_groups(unsigned n) {
  size_t cap = 64 + (size_t)n * 64;
  char *s = malloc(cap);
  size_t used = (size_t)snprintf(s, cap, "%s", MIN_ID);
  for (unsigned i = 0; i < n; i++)
    used += (size_t)snprintf(s + used, cap - used, "[group g%u]\naddress = 239.1.%u.%u\n", i,
                             i / 256, i % 256);
  return s;
}

Test(config, bad_files) {
  char long_line[PROSED_CONFIG_LINE_MAX + 256];
  snprintf(long_line, sizeof long_line, MIN_ID "[log]\nlevel = %01100d\n", 0);
  char long_path[1200];
  snprintf(long_path, sizeof long_path, "[identity]\nuri = sip:a@b\nstore = %01014d\n", 0);
  char *groups65 = many_groups(65);
  char *groups64 = many_groups(64);
  const bad_case cases[] = {
      /* 0 */ {MIN_ID "[floor]\nT202 = 40\n", "test.conf:5: [floor] T202: unknown key",
               "expected one of T201, T203"},
      /* 1 */ {MIN_ID "[flor]\nT201 = 40\n", "test.conf:4: [flor]: unknown section", "identity"},
      /* 2 */ {MIN_ID "[empty]\n", "test.conf:4: [empty]: unknown section", "group NAME"},
      /* 3 */
      {MIN_ID "[floor]\nT201 = 40\nt201 = 50\n",
       "test.conf:6: [floor] T201: duplicate key (first set on line 5)", ""},
      /* 4 */
      {MIN_ID "[floor]\nT201 = 0\n", "test.conf:5: [floor] T201: '0' is out of range",
       "(expected an integer from 1 to 60000, in milliseconds)"},
      /* 5 */
      {MIN_ID "[floor]\nT203 = 99999999999999999999\n",
       "test.conf:5: [floor] T203: '99999999999999999999' is out of range", ""},
      /* 6 */
      {MIN_ID "[floor]\nC201 = -1\n", "test.conf:5: [floor] C201: '-1' is not a decimal integer",
       "from 1 to 100"},
      /* 7 */ {MIN_ID "[floor]\nT201 = 40 ms\n", "test.conf:5: [floor] T201: '40 ms' is not", ""},
      /* 8 */ {MIN_ID "[floor]\nT201 = 0x28\n", "test.conf:5: [floor] T201: '0x28' is not", ""},
      /* 9 */
      {MIN_ID "[network]\naddress = 198.18.0.256\n",
       "test.conf:5: [network] address: '198.18.0.256' is not an IP address", "unicast address"},
      /* 10 */
      {MIN_ID "[network]\naddress = 239.1.1.1\n",
       "test.conf:5: [network] address: '239.1.1.1' is not a unicast address", ""},
      /* 11 */
      {MIN_ID "[network]\naddress = 10.0.0.1, 10.0.0.2\n",
       "test.conf:5: [network] address: two IPv4 addresses", ""},
      /* 12 */
      {MIN_ID "[discovery]\ngroup = 10.0.0.1\n",
       "test.conf:5: [discovery] group: '10.0.0.1' is not a multicast address", "IPv4 multicast"},
      /* 13 */
      {MIN_ID "[discovery]\ngroup = ff02::1\n",
       "test.conf:5: [discovery] group: 'ff02::1' is an IPv6 address", ""},
      /* 14 */
      {"[identity]\nstore = /x\n", "test.conf: missing [identity] uri (expected a URI", ""},
      /* 15 */ {"[identity]\nuri = sip:a@b\n", "test.conf: missing [identity] store", ""},
      /* 16 */ {"", "test.conf: missing [identity] uri", ""},
      /* 17 */
      {MIN_ID "[floor]\nqueueing = maybe\n",
       "test.conf:5: [floor] queueing: 'maybe' is not a boolean",
       "true, false, yes, no, on, off, 1 or 0"},
      /* 18 */
      {MIN_ID "[group fire]\nmedia_port = 30000\n",
       "test.conf:4: missing [group fire] address (expected", "multicast"},
      /* 19 */ {MIN_ID "[group fire]\n[floor]\n", "test.conf:4: missing [group fire] address", ""},
      /* 20 */ {groups65, "test.conf:132: [group g64]: too many groups (expected at most 64)", ""},
      /* 21 */
      {MIN_ID "[group a]\naddress = 239.1.1.1\n[group b]\naddress = 239.1.1.2\nid = a\n",
       "test.conf:8: [group b] id: 'a' is already the id of [group a]", ""},
      /* 22 */
      {MIN_ID "[group a]\naddress = ff15::1\n",
       "test.conf:5: [group a] address: 'ff15::1' is an IPv6 address but [network] ipv6", ""},
      /* 23 */
      {MIN_ID "[group a]\naddress = 239.1.1.1\n[group a]\n",
       "test.conf:6: [group a]: duplicate section (first on line 4)", ""},
      /* 24 */ {MIN_ID "[floor]\n[floor]\n", "test.conf:5: [floor]: duplicate section", ""},
      /* 25 */ {"T201 = 40\n", "test.conf:1: T201: key outside any section", ""},
      /* 26 */ {MIN_ID "[floor]\nT201\n", "test.conf:5: syntax error: expected 'key = value'", ""},
      /* 27 */ {MIN_ID "[floor\n", "test.conf:4: syntax error: a section line must end", ""},
      /* 28 */ {long_line, "test.conf:5: line longer than 1024 octets", ""},
      /* 29 */ {MIN_ID "[log]\nlevel = in\001fo\n", "test.conf:5: control character 0x01", ""},
      /* 30 */
      {MIN_ID "[log]\nlevel = loud\n", "test.conf:5: [log] level: 'loud' is not a valid",
       "error | warn | info | debug"},
      /* 31 */
      {"[identity]\nuri = alice\nstore = /x\n",
       "test.conf:2: [identity] uri: 'alice' is not a valid URI", ""},
      /* 32 */
      {MIN_ID "[media]\napp_port_base = 40001\n",
       "test.conf:5: [media] app_port_base: 40001 is odd", ""},
      /* 33 */
      {MIN_ID "[media]\napp_port_base = 50010\n", "test.conf:5: [media] rtp_port_base: the ranges",
       "overlap"},
      /* 34 */
      {MIN_ID "[network]\ncall_port = 50002\n",
       "test.conf:5: [media] rtp_port_base: the range 50000-50063 holds [network] "
       "call_port 50002",
       ""},
      /* 35 */
      {MIN_ID "[discovery]\nannounce_interval_ms = 20000\n",
       "test.conf:5: [discovery] announce_ttl_ms: 15000 is below", ""},
      /* 36 */
      {MIN_ID "[group a]\naddress = 239.1.1.1\nfloor_port = 30001\n",
       "test.conf:6: [group a] floor_port: 30001 collides", ""},
      /* 37 */ {long_path, "test.conf:3: [identity] store: the path is too long", ""},
      /* 38 */
      {MIN_ID "[control]\nsocket = /run/prose/"
              "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
              "aaaaaaaaaaaaaaaaaaaaaa.sock\n",
       "test.conf:5: [control] socket: the path is too long", "at most 107 octets"},
      /* 39 */ {MIN_ID "[floor]\nT201 =\n", "test.conf:5: [floor] T201: empty value", ""},
      /* 40 */
      {MIN_ID "[network]\ninterface = 0.0.0.0\n",
       "test.conf:5: [network] interface: '0.0.0.0' is neither", ""},
      /* 41 */
      {MIN_ID "[network]\naddress = fd77::1\n",
       "test.conf:5: [network] address: 'fd77::1' is an IPv6 address but ipv6 is false", ""},
      /* 42 */ {MIN_ID "[group]\n", "test.conf:4: [group]: missing group name", ""},
      /* 43 */
      {MIN_ID "[group a]\naddress = 239.1.1.1\n[group b]\naddress = 239.1.1.1\n",
       "test.conf:7: [group b] media_port: 239.1.1.1 port 30000 is already used", ""},
      /* 44 */ {MIN_ID "[media]\ncodec = PCMU\n", "test.conf:5: [media] codec: 'PCMU' is not", ""},
      /* 45 */
      {MIN_ID "[discovery]\nmode = carrier-pigeon\n",
       "test.conf:5: [discovery] mode: 'carrier-pigeon' is not a valid choice",
       "multicast | avahi | both"},
      /* 46 */ {MIN_ID "[floor]\nT2-01 = 40\n", "test.conf:5: syntax error: a key name", ""},
      /* 47 */
      {MIN_ID "[group fire]\naddress = 239.1.1.1\nttl = 3\n",
       "test.conf:6: [group fire] ttl: unknown key",
       "expected one of id, address, media_port, floor_port, call_type"},
      /* 48 */
      {MIN_ID "[media]\nrtp_port_base = 65000\nmax_calls = 200\n",
       "test.conf:6: [media] rtp_port_base: 65000 + 800 ports for 200 call slots passes", ""},
      /* 49 */
      {MIN_ID "[call]\nTFG13 = 999\n", "test.conf:5: [call] TFG13: '999' is out of range",
       "(expected an integer from 1000 to 86400000, in milliseconds)"},
      /* 50 */
      {MIN_ID "[call]\nTFG14 = 86400001\n",
       "test.conf:5: [call] TFG14: '86400001' is out of range",
       "(expected an integer from 1000 to 86400000, in milliseconds)"},
      /* 51 */
      {MIN_ID "[call]\nTFG14 = 255 s\n", "test.conf:5: [call] TFG14: '255 s' is not a decimal",
       ""},
      /* 52 */
      {MIN_ID "[network]\nmulticast_loop = yes\n",
       "test.conf:5: [network] multicast_loop: 'yes' is not a valid choice", "auto | on | off"},
  };
  prosed_config c, sentinel;
  memset(&sentinel, 0xA5, sizeof sentinel);
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    char err[PROSED_CONFIG_ERR_MAX];
    memcpy(&c, &sentinel, sizeof c);
    int rc = parse(cases[i].text, &c, err);
    cr_assert_eq(rc, PROSE_ECONFIG, "case %zu: rc %d (%s)", i, rc, err);
    cr_assert(strncmp(err, cases[i].prefix, strlen(cases[i].prefix)) == 0,
              "case %zu: message\n  '%s'\ndoes not start with\n  '%s'", i, err, cases[i].prefix);
    cr_assert(strstr(err, cases[i].contains) != NULL, "case %zu: '%s' lacks '%s'", i, err,
              cases[i].contains);
    cr_assert(strchr(err, '\n') == NULL, "case %zu: message spans lines", i);
    cr_assert_eq(memcmp(&c, &sentinel, sizeof c), 0, "case %zu: cfg changed on failure", i);
  }
  /* 64 groups are fine. */
  char err[PROSED_CONFIG_ERR_MAX];
  cr_assert_eq(parse(groups64, &c, err), 0, "%s", err);
  cr_assert_eq(c.n_groups, 64);
  free(groups64);
  free(groups65);
}

static char *slurp(const char *path) {
  FILE *f = fopen(path, "rb");
  cr_assert_not_null(f, "cannot open %s", path);
  char *buf = malloc(1 << 20);
  size_t n = fread(buf, 1, (1 << 20) - 1, f);
  buf[n] = '\0';
  fclose(f);
  return buf;
}

/* write(cfg) parsed again must write the same text. */
static void assert_round_trip(const prosed_config *c) {
  char *t1 = NULL, *t2 = NULL;
  size_t n1 = 0, n2 = 0;
  char err[PROSED_CONFIG_ERR_MAX];
  FILE *f = open_memstream(&t1, &n1);
  cr_assert_eq(prosed_config_write(c, f), 0);
  fclose(f);
  prosed_config c2;
  cr_assert_eq(prosed_config_parse("written", t1, n1, NULL, &c2, err, sizeof err), 0, "%s\n%s", err,
               t1);
  f = open_memstream(&t2, &n2);
  cr_assert_eq(prosed_config_write(&c2, f), 0);
  fclose(f);
  cr_assert_str_eq(t1, t2);
  free(t1);
  free(t2);
}

Test(config, files_example_round_trip_and_docs) {
  char dir[] = "/tmp/prose-config-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char path[256], err[PROSED_CONFIG_ERR_MAX];
  snprintf(path, sizeof path, "%s/node.conf", dir);
  FILE *f = fopen(path, "w");
  fputs(
      "[identity]\nuri = sip:bob@example.org\nstore = store\npassphrase_file = ../pass\n"
      "[control]\nsocket = ctl.sock\n[network]\ninterface = lo\n[floor]\nT201 = 99999\n",
      f);
  fclose(f);
  prosed_config c;
  /* The message names the file as given and the line. */
  cr_assert_eq(prosed_config_load(path, &c, err, sizeof err), PROSE_ECONFIG);
  char want[512];
  snprintf(want, sizeof want, "%s:10: [floor] T201: '99999' is out of range", path);
  cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);
  /* Fix the line; relative paths become relative to the file's directory. */
  f = fopen(path, "r+");
  fseek(f, -6, SEEK_END);
  fputs("0040\n", f);
  fclose(f);
  cr_assert_eq(prosed_config_load(path, &c, err, sizeof err), 0, "%s", err);
  char exp[300];
  snprintf(exp, sizeof exp, "%s/store", dir);
  cr_assert_str_eq(c.identity.store, exp);
  snprintf(exp, sizeof exp, "%s/../pass", dir);
  cr_assert_str_eq(c.identity.passphrase_file, exp);
  snprintf(exp, sizeof exp, "%s/ctl.sock", dir);
  cr_assert_str_eq(c.control.socket, exp);
  cr_assert_str_eq(c.network.interface_name, "lo");
  assert_round_trip(&c);
  unlink(path);
  rmdir(dir);

  /* A file that does not exist. */
  snprintf(path, sizeof path, "%s/missing.conf", dir);
  cr_assert_eq(prosed_config_load(path, &c, err, sizeof err), PROSE_ECONFIG);
  snprintf(want, sizeof want, "%s: cannot open: ", path);
  cr_assert(strncmp(err, want, strlen(want)) == 0, "%s", err);

  /* The shipped example loads, and round-trips. */
  cr_assert_eq(prosed_config_load(PROSE_SOURCE_DIR "/examples/prosed.conf", &c, err, sizeof err), 0,
               "%s", err);
  cr_assert(c.n_groups >= 1);
  assert_round_trip(&c);

  /* Every key the loader knows is documented in docs/config.md and shown in
   * the example: write() prints every key of every section. */
  char *doc = slurp(PROSE_SOURCE_DIR "/docs/config.md");
  char *example = slurp(PROSE_SOURCE_DIR "/examples/prosed.conf");
  prosed_config full;
  cr_assert_eq(parse(MIN_ID "passphrase_file = p\nkms_uri = sip:k@x\n[network]\n"
                            "interface = lo\naddress = 10.0.0.1\n[group g]\naddress = 239.9.9.9\n"
                            "id = sip:g@x\n",
                     &full, err),
               0, "%s", err);
  char *text = NULL;
  size_t n = 0;
  f = open_memstream(&text, &n);
  prosed_config_write(&full, f);
  fclose(f);
  char *save = NULL;
  unsigned checked = 0;
  for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
    char key[64], needle[80];
    if (line[0] == '[') {
      if (strncmp(line, "[group ", 7) == 0) continue;
      cr_assert(strstr(doc, line) != NULL, "docs/config.md lacks section %s", line);
      cr_assert(strstr(example, line) != NULL, "example lacks section %s", line);
      continue;
    }
    if (sscanf(line, "%63s =", key) != 1) continue;
    snprintf(needle, sizeof needle, "`%s`", key);
    cr_assert(strstr(doc, needle) != NULL, "docs/config.md does not document %s", needle);
    snprintf(needle, sizeof needle, "%s =", key);
    cr_assert(strstr(example, needle) != NULL, "examples/prosed.conf does not show '%s'", key);
    checked++;
  }
  cr_assert_geq(checked, 70);
  free(text);
  free(doc);
  free(example);
}
