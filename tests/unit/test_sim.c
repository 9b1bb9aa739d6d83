/*
 * The simulator itself: the scenario language (and its errors), the
 * determinism of a run (one seed, one trace hash; another seed, another
 * hash), the medium's faults as the KPIs see them, the provisioning cache,
 * and the two pcap files (tshark decodes the plaintext twin).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "prose/err.h"
#include "prose/sim.h"

static prose_sim_scenario *parse_ok(const char *text) {
  char err[PROSE_SIM_ERR_MAX] = "";
  prose_sim_scenario *sc = NULL;
  int rc = prose_sim_scenario_parse(&sc, "test", text, strlen(text), err, sizeof err);
  cr_assert_eq(rc, 0, "parse: %s (%s)", prose_err_name(rc), err);
  return sc;
}

static void parse_fails(const char *text, const char *needle) {
  char err[PROSE_SIM_ERR_MAX] = "";
  prose_sim_scenario *sc = NULL;
  int rc = prose_sim_scenario_parse(&sc, "test", text, strlen(text), err, sizeof err);
  cr_assert_eq(rc, PROSE_ECONFIG, "'%s' parsed (%s)", text, prose_err_name(rc));
  cr_assert_null(sc);
  cr_assert(strstr(err, needle) != NULL, "error '%s' does not say '%s'", err, needle);
}

static prose_sim_result *run(const prose_sim_scenario *sc, const prose_sim_options *o) {
  char err[PROSE_SIM_ERR_MAX] = "";
  prose_sim_result *r = NULL;
  int rc = prose_sim_run(sc, o, &r, err, sizeof err);
  cr_assert_eq(rc, 0, "run: %s (%s)", prose_err_name(rc), err);
  cr_assert_not_null(r);
  return r;
}

static double metric(const prose_sim_result *r, const char *name) {
  double v = 0;
  cr_assert_eq(prose_sim_result_metric(r, name, &v), 0, "metric %s", name);
  return v;
}

/* Three nodes on a lossy, jittery medium that duplicates and reorders, with
 * a private call: every random choice of the medium and every crypto RNG
 * is exercised. */
static const char *const busy =
    "seed 4\n"
    "duration 9s\n"
    "group fire\n"
    "node a groups fire\n"
    "node b groups fire\n"
    "node c groups fire clock 1500ms\n"
    "link * <-> * delay 4ms jitter 3ms loss 5% dup 3% reorder 5% gap 7ms\n"
    "link a -> c burst 5% 40%\n"
    "at 1s call a fire\n"
    "at 1.5s talk b 1s\n"
    "at 2s talk c 1s\n"
    "at 3.5s private a b\n"
    "at 4.5s talk a 1s private\n"
    "at 6s hangup a\n"
    "at 6.5s talk c 1s\n";

/* ---- the scenario language ---------------------------------------------------- */

Test(sim, parses_sweeps_params_and_ranges) {
  prose_sim_scenario *sc = parse_ok("name x\n"
                                    "param d 5ms\n"
                                    "sweep loss 0% 10% 20%\n"
                                    "group g\n"
                                    "node u[08..11] groups g\n"
                                    "link * <-> * delay ${d} loss ${loss}\n");
  cr_assert_str_eq(prose_sim_scenario_name(sc), "test");
  cr_assert_eq(prose_sim_scenario_variants(sc), 3);
  cr_assert_str_eq(prose_sim_scenario_variant_label(sc, 1), "loss=10%");
  cr_assert_str_eq(prose_sim_scenario_variant_label(sc, 3), "");
  prose_sim_scenario_free(sc);
  sc = parse_ok("group g\nnode a groups g\n");
  cr_assert_eq(prose_sim_scenario_variants(sc), 1);
  cr_assert_str_eq(prose_sim_scenario_variant_label(sc, 0), "");
  prose_sim_scenario_free(sc);
}

Test(sim, scenario_errors_name_the_line) {
  parse_fails("frobnicate\n", "line 1: unknown directive 'frobnicate'");
  parse_fails("group g\nnode a groups h\n", "unknown group 'h'");
  parse_fails("group g\nnode a groups g\nnode a groups g\n", "line 3: node 'a' twice");
  parse_fails("group g\nnode a groups g\nat 1 call a g\n", "needs a unit");
  parse_fails("group g\nnode a groups g\nat 1s call b g\n", "'b' names no node");
}

Test(sim, scenario_errors) {
  static const struct {
    const char *text, *why;
  } bad[] = {
      {"group g\nnode a groups g nogmk g,h\n", "unknown group 'h'"},
      {"group g\ngroup h\nnode a groups g nogmk h\n", "nogmk names a group"},
      {"group g\nnode a groups g\nlink a -> b loss 5%\n", "'b' names no node"},
      {"group g\nnode a groups g\nlink a => a loss 5%\n", "usage: link"},
      {"group g\nnode a groups g\nlink * <-> * loss 120%\n", "within 0..100%"},
      {"group g\nnode a groups g\nlink * <-> * wobble 3\n", "unknown parameter 'wobble'"},
      {"group g\nnode a groups g\nset floor.t999 40ms\n", "unknown setting 'floor.t999'"},
      {"group g\nnode a groups g\nset floor.t201 fast\n", "is not a time"},
      {"group g\nnode a groups g\nat 1s every 1s talk a 1s\n", "every needs count"},
      {"group g\nnode a groups g\nat 1s ptt a hold\n", "usage: ptt"},
      {"group g\nnode a groups g\nat 1s private a z\n", "unknown node 'z'"},
      {"group g\nnode a groups g\nat 1s partition a\n", "usage: partition"},
      {"group g\nnode a groups g\nexpect delivery ~ 1\n", "not a comparison"},
      {"group g\nnode a groups g\nlink * <-> * delay ${nope}\n", "unknown variable 'nope'"},
      {"sweep x 1 2\nsweep y 1 2\n", "one sweep per scenario"},
      {"group g\n", "no nodes"},
      {"group g addr 10.0.0.1\n", "not a multicast address"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) parse_fails(bad[i].text, bad[i].why);
}

Test(sim, builtins_parse) {
  size_t n = 0;
  for (; prose_sim_builtin_name(n); n++) {
    char err[PROSE_SIM_ERR_MAX] = "";
    prose_sim_scenario *sc = NULL;
    const char *name = prose_sim_builtin_name(n);
    cr_assert_eq(prose_sim_scenario_load(&sc, name, err, sizeof err), 0, "%s: %s", name, err);
    cr_assert_str_eq(prose_sim_scenario_name(sc), name);
    prose_sim_scenario_free(sc);
  }
  cr_assert_geq(n, 7, "the built-in scenarios are compiled in");
  cr_assert_null(prose_sim_builtin_text("no-such-scenario", NULL));
}

/* ---- determinism -------------------------------------------------------------- */

static char *trace_of(const prose_sim_scenario *sc, uint64_t seed, char hash[65]) {
  char *buf = NULL;
  size_t len = 0;
  FILE *f = open_memstream(&buf, &len);
  cr_assert_not_null(f);
  prose_sim_options o;
  prose_sim_options_default(&o);
  o.trace = f;
  o.trace_packets = true;
  o.has_seed = true;
  o.seed = seed;
  prose_sim_result *r = run(sc, &o);
  memcpy(hash, prose_sim_result_kpi(r)->hash, 65);
  cr_assert_eq(prose_sim_result_kpi(r)->seed, seed);
  prose_sim_result_free(r);
  fclose(f);
  return buf;
}

Test(sim, same_seed_same_hash_other_seed_other_hash) {
  prose_sim_scenario *sc = parse_ok(busy);
  char h1[65], h2[65], h3[65];
  char *t1 = trace_of(sc, 4, h1);
  char *t2 = trace_of(sc, 4, h2);
  char *t3 = trace_of(sc, 5, h3);
  cr_assert_eq(strlen(h1), 64);
  cr_assert_str_eq(h1, h2, "one seed, one hash");
  cr_assert_str_eq(t1, t2, "one seed, one trace, byte for byte");
  cr_assert_str_neq(h1, h3, "another seed, another run");
  cr_assert(strstr(t1, "\"ev\":\"drop\"") != NULL, "the medium dropped something");
  cr_assert(strstr(t1, "\"ev\":\"private_setup\"") != NULL);
  free(t1);
  free(t2);
  free(t3);
  prose_sim_scenario_free(sc);
}

/* The provisioning cache gives the same domain, so the same run. */
Test(sim, cache_gives_the_same_run) {
  char dir[] = "/tmp/prose-sim-test-cache-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  prose_sim_scenario *sc = parse_ok(busy);
  prose_sim_options o;
  prose_sim_options_default(&o);
  prose_sim_result *fresh = run(sc, &o);
  o.cache_dir = dir;
  prose_sim_result *first = run(sc, &o);  /* builds and keeps the domain */
  prose_sim_result *second = run(sc, &o); /* copies it */
  cr_assert_str_eq(prose_sim_result_kpi(fresh)->hash, prose_sim_result_kpi(first)->hash);
  cr_assert_str_eq(prose_sim_result_kpi(first)->hash, prose_sim_result_kpi(second)->hash);
  prose_sim_result_free(fresh);
  prose_sim_result_free(first);
  prose_sim_result_free(second);
  prose_sim_scenario_free(sc);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

/* ---- the medium as the KPIs see it -------------------------------------------- */

Test(sim, total_loss_and_partition_are_counted) {
  prose_sim_scenario *sc = parse_ok("duration 6s\n"
                                    "group g\n"
                                    "node a groups g\n"
                                    "node b groups g\n"
                                    "node c groups g\n"
                                    "link a <-> b loss 100%\n"
                                    "at 500ms partition a,b | c\n"
                                    "at 1s call a g\n"
                                    "at 2s talk a 1s\n"
                                    "at 4s heal\n");
  prose_sim_result *r = run(sc, NULL);
  cr_assert_gt(metric(r, "drops.loss"), 0);
  cr_assert_gt(metric(r, "drops.partition"), 0);
  cr_assert_eq(metric(r, "b.heard"), 0, "b hears nothing over a dead link");
  cr_assert_eq(metric(r, "c.heard"), 0, "c is cut off");
  cr_assert_gt(metric(r, "a.sent"), 0);
  double v;
  cr_assert_eq(prose_sim_result_metric(r, "no_such_metric", &v), PROSE_ENOENT);
  cr_assert_eq(prose_sim_result_metric(r, "a.no_such", &v), PROSE_ENOENT);
  prose_sim_result_free(r);
  prose_sim_scenario_free(sc);
}

/* Expectations are checked, timed ones at their time; a failed one fails
 * the run's verdict but not the run. */
Test(sim, expectations_pass_and_fail) {
  prose_sim_scenario *sc = parse_ok("duration 5s\n"
                                    "group g\n"
                                    "node a groups g\n"
                                    "node b groups g\n"
                                    "at 1s call a g\n"
                                    "at 2s talk b 1s\n"
                                    "at 1.5s expect b.heard == 0\n"
                                    "expect b.heard == 5\n"
                                    "expect a.heard > 10\n"
                                    "expect nonsense == 1\n");
  prose_sim_result *r = run(sc, NULL);
  const prose_sim_kpi *k = prose_sim_result_kpi(r);
  cr_assert_eq(k->expectations, 4);
  cr_assert_eq(k->expectations_failed, 2, "b.heard == 5 and the unknown metric");
  cr_assert(!prose_sim_result_ok(r));
  cr_assert_eq(k->requests, 1);
  cr_assert_eq(k->outcome[PROSE_SIM_IMMEDIATE], 1);
  cr_assert_gt(k->mouth_to_ear.n, 0);
  cr_assert_geq(k->mouth_to_ear.p50, 1.0, "at least the 1 ms default delay");
  prose_sim_result_free(r);
  prose_sim_scenario_free(sc);
}

/* A crash loses the node's calls; the restart rejoins with its store. */
Test(sim, crash_restart_and_late_join) {
  prose_sim_scenario *sc = parse_ok("duration 12s\n"
                                    "group g\n"
                                    "node a groups g\n"
                                    "node b groups g\n"
                                    "node c groups g start 4s\n"
                                    "at 1s call a g\n"
                                    "at 2s talk a 8s\n"
                                    "at 3s crash b\n"
                                    "at 5s restart b\n"
                                    "at 5.5s call b g\n");
  prose_sim_result *r = run(sc, NULL);
  const prose_sim_kpi *k = prose_sim_result_kpi(r);
  cr_assert_geq(k->late_entry.n, 2, "b after its restart and c after its late start");
  cr_assert_eq(k->late_entry_missed, 0);
  cr_assert_gt(metric(r, "b.heard"), 0);
  cr_assert_gt(metric(r, "c.heard"), 0);
  cr_assert_gt(k->drops[PROSE_SIM_DROP_NODE_DOWN], 0, "media for b while it was down");
  prose_sim_result_free(r);
  prose_sim_scenario_free(sc);
}

/* ---- pcaps ------------------------------------------------------------------ */

static size_t count_lines(const char *cmd) {
  FILE *p = popen(cmd, "r");
  cr_assert_not_null(p);
  size_t n = 0;
  int c;
  while ((c = fgetc(p)) != EOF) n += c == '\n';
  pclose(p);
  return n;
}

Test(sim, pcap_and_plaintext_twin) {
  char dir[] = "/tmp/prose-sim-test-pcap-XXXXXX";
  cr_assert_not_null(mkdtemp(dir));
  char wire[128], plain[128];
  snprintf(wire, sizeof wire, "%s/wire.pcap", dir);
  snprintf(plain, sizeof plain, "%s/plain.pcap", dir);
  prose_sim_scenario *sc = parse_ok(busy);
  prose_sim_options o;
  prose_sim_options_default(&o);
  o.pcap_path = wire;
  o.pcap_plain_path = plain;
  prose_sim_result *r = run(sc, &o);
  const prose_sim_kpi *k = prose_sim_result_kpi(r);
  FILE *f = fopen(wire, "rb");
  cr_assert_not_null(f);
  uint8_t hdr[24];
  cr_assert_eq(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
  cr_assert_eq(hdr[0], 0xD4);
  fclose(f);
  if (system("command -v tshark >/dev/null 2>&1") == 0) {
    char cmd[512];
    const char *da = "-d udp.port==30000,rtp -d udp.port==30002,rtcp -d udp.port==20000,rtp "
                     "-d udp.port==20002,rtcp";
    snprintf(cmd, sizeof cmd, "tshark -r %s -T fields -e frame.number 2>/dev/null", wire);
    cr_assert_eq(count_lines(cmd), k->datagrams, "one record per datagram sent");
    /* Plaintext RTP carries the simulator's frame marker "PSIM". */
    snprintf(cmd, sizeof cmd,
             "tshark -r %s %s -Y 'rtp.payload[0:4] == 50:53:49:4d' -T fields -e frame.number "
             "2>/dev/null",
             plain, da);
    cr_assert_eq(count_lines(cmd), k->frames_sent, "every media packet decrypted");
    snprintf(cmd, sizeof cmd,
             "tshark -r %s %s -Y 'rtp.payload[0:4] == 50:53:49:4d' -T fields -e frame.number "
             "2>/dev/null",
             wire, da);
    cr_assert_eq(count_lines(cmd), 0, "no plaintext on the wire");
    snprintf(cmd, sizeof cmd,
             "tshark -r %s %s -Y 'rtcp.app.name == \"MCPT\"' -T fields -e frame.number 2>/dev/null",
             plain, da);
    cr_assert_gt(count_lines(cmd), 0, "floor control decrypted and dissected");
    snprintf(cmd, sizeof cmd, "tshark -r %s %s -Y '_ws.malformed' -T fields -e frame.number 2>/dev/null",
             plain, da);
    cr_assert_eq(count_lines(cmd), 0, "nothing malformed");
  }
  prose_sim_result_free(r);
  prose_sim_scenario_free(sc);
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  cr_assert_eq(system(cmd), 0);
}

/* --set of a param the scenario does not have is refused, not ignored. */
Test(sim, unknown_override_is_an_error) {
  prose_sim_scenario *sc = parse_ok("param n 3\ngroup g\nnode u[1..${n}] groups g\n");
  const char *const good[] = {"n=2"}, *const bad[] = {"m=2"};
  prose_sim_options o;
  prose_sim_options_default(&o);
  o.params = good;
  o.n_params = 1;
  prose_sim_result *r = run(sc, &o);
  cr_assert_eq(prose_sim_result_kpi(r)->nodes, 2);
  prose_sim_result_free(r);
  o.params = bad;
  char err[PROSE_SIM_ERR_MAX] = "";
  cr_assert_eq(prose_sim_run(sc, &o, &r, err, sizeof err), PROSE_ECONFIG);
  cr_assert_null(r);
  cr_assert(strstr(err, "no param 'm'") != NULL, "%s", err);
  prose_sim_scenario_free(sc);
}

/* ---- found by fuzz_scenario (tests/fuzz) ---------------------------------------- */

/* A numbered range is bounded before anything is expanded or matched: the
 * largest unsigned long used to wrap the loop over its numbers around (a
 * pattern never ended; a node range wrapped to v0, v1...), a minus sign
 * went through strtoul, and a range mixed with a glob cost a glob match per
 * number and node. */
Test(sim, range_expansion_is_bounded) {
  static const struct {
    const char *text, *why;
  } bad[] = {
      {"group g\nnode u[1..100000] groups g\n", "'u[1..100000]': more than 1024 numbers"},
      {"group g\nnode a groups g\nat 1s crash a[18446744073709551615..18446744073709551615]\n",
       "numbers go up to 999999999"},
      {"group g\nnode v[18446744073709551615..18446744073709551615]\n",
       "numbers go up to 999999999"},
      {"group g\nnode a groups g\nnode v[-1..-1]\n", "'v[-1..-1]' is not a valid node name"},
      {"group g\nnode u[5..3] groups g\n", "an empty range"},
      {"group g\nnode u[1..3] groups g\nat 1s crash *[1..3]\n", "cannot be part of a glob"},
      {"group g\nnode u[1..1000] groups g\nnode w[1..25] groups g\n", "more than 1024 nodes"},
      {"group g\nnode u[1..3] groups g\nnode u[3..5] groups g\n", "line 3: node 'u3' twice"},
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) parse_fails(bad[i].text, bad[i].why);
  /* Matching compares names, with the range's zero padding. */
  prose_sim_scenario_free(parse_ok("group g\nnode u[08..11] groups g\nnode u9 groups g\n"
                                   "at 1s crash u[08..09],u[10..11],u[9..9]\n"));
  parse_fails("group g\nnode u[08..11] groups g\nat 1s crash u[8..8]\n", "'u[8..8]' names no node");
  parse_fails("group g\nnode u[08..11] groups g\nat 1s crash u[008..009]\n", "names no node");
}

/* Checking that every pattern names a node is bounded too: 1024 nodes, 16
 * variants and a few kilobytes of globs that only the last node matches took
 * seconds; names and ranges are looked up, globs share a budget. */
Test(sim, pattern_checks_are_bounded) {
  char text[8192];
  size_t o = (size_t)snprintf(text, sizeof text,
                              "sweep d 1ms 2ms 3ms 4ms 5ms 6ms 7ms 8ms 9ms 10ms 11ms 12ms 13ms "
                              "14ms 15ms 16ms\ngroup g\nnode u[1..1024] groups g\n"
                              "link * <-> * delay ${d}\n");
  for (int line = 0; line < 16; line++) {
    o += (size_t)snprintf(text + o, sizeof text - o, "at 1s crash u1024");
    for (int k = 0; k < 9; k++)
      o += (size_t)snprintf(text + o, sizeof text - o, ",u1024,u[1000..1024],*,u1*");
    o += (size_t)snprintf(text + o, sizeof text - o, "\n");
  }
  prose_sim_scenario_free(parse_ok(text));
  for (int line = 0; line < 8; line++) {
    o += (size_t)snprintf(text + o, sizeof text - o, "at 1s crash u102?");
    for (int k = 0; k < 41; k++) o += (size_t)snprintf(text + o, sizeof text - o, ",u102?");
    o += (size_t)snprintf(text + o, sizeof text - o, "\n");
  }
  cr_assert_lt(o, sizeof text);
  parse_fails(text, "name comparisons");
}

/* strtod skips white space before a sign, and a \v or \f is part of a word:
 * "\v-1s" was a time of -1 s (a huge one, unsigned) where no sign is allowed. */
Test(sim, time_takes_no_sign_after_white_space) {
  parse_fails("group g\nnode a groups g\nat \v-1s crash a\n", "is not a time");
  parse_fails("duration \f-5s\ngroup g\nnode a groups g\n", "is not a time");
  parse_fails("group g\nnode a groups g\nlink * <-> * delay \v-4ms\n", "is not a time");
  prose_sim_scenario_free(parse_ok("group g\nnode a groups g clock -1.5s\nat .5s crash a\n"));
}

/* Bad input that used to go through: a seed beyond 2^64 was read as the
 * largest one, an override with an empty name matched the empty sweep
 * name, and a partition side longer than a node pattern was cut short when
 * the action ran. */
Test(sim, overflowing_numbers_empty_override_names_and_long_partitions_fail) {
  parse_fails("seed 99999999999999999999999\ngroup g\nnode a groups g\n",
              "'99999999999999999999999' is not a number up to");
  parse_fails("keysets 18446744073709551616\ngroup g\nnode a groups g\n", "is not a number up to");
  prose_sim_scenario *sc = parse_ok("group g\nnode a groups g\nduration 1s\n");
  const char *const empty[] = {"=x"};
  prose_sim_options o;
  prose_sim_options_default(&o);
  o.params = empty;
  o.n_params = 1;
  prose_sim_result *r = NULL;
  char err[PROSE_SIM_ERR_MAX] = "";
  cr_assert_eq(prose_sim_run(sc, &o, &r, err, sizeof err), PROSE_ECONFIG);
  cr_assert_null(r);
  cr_assert(strstr(err, "override '=x' is not NAME=VALUE") != NULL, "%s", err);
  prose_sim_scenario_free(sc);
  char text[1024];
  char side[300];
  memset(side, 'a', sizeof side - 1);
  side[sizeof side - 1] = '\0';
  snprintf(text, sizeof text, "group g\nnode a groups g\nnode b groups g\nat 1s partition a | %s\n",
           side);
  parse_fails(text, "partition: a side longer than 255 octets");
  /* 255 octets is still a side: refused only because it names no node. */
  side[255] = '\0';
  snprintf(text, sizeof text, "group g\nnode a groups g\nnode b groups g\nat 1s partition a | %s\n",
           side);
  char e2[PROSE_SIM_ERR_MAX] = "";
  prose_sim_scenario *s2 = NULL;
  int rc = prose_sim_scenario_parse(&s2, "test", text, strlen(text), e2, sizeof e2);
  cr_assert_eq(rc, PROSE_ECONFIG);
  cr_assert(strncmp(e2, "line 4: 'aaaa", 13) == 0, "%s", e2);
  cr_assert_null(strstr(e2, "longer than"), "%s", e2);
  prose_sim_scenario_free(s2);
}
