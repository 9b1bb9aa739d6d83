/*
 * libFuzzer target for the simulator's scenario language (docs/sim.md
 * "Scenario files"): arbitrary bytes as a scenario. It either parses (every
 * variant of its sweep is checked by the parse) or is refused with
 * PROSE_ECONFIG and a one-line message; it never crashes, reads out of
 * bounds, leaks or takes long, whatever the ranges, patterns and sweeps.
 *
 * Bytes after the first 0x1E (record separator) are `--set NAME=VALUE`
 * overrides, one per line, as `prose sim --set` passes them to a run: a
 * scenario that parses is then parsed once more per variant with them
 * (scn_parse, what prose_sim_run does first; without overrides every
 * variant is parsed so once more, to check the values it holds). The
 * simulation itself is not run: too slow for a fuzzer.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "prose/err.h"
#include "prose/sim.h"
#include "scn.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SEP 0x1E
#define MAX_OVERRIDES 32 /* as `prose sim` (cli_sim.c) */

static void check_err(int rc, const char *err) {
  if (rc != PROSE_ECONFIG && rc != PROSE_ENOMEM) abort();
  if (rc == PROSE_ECONFIG && err[0] == '\0') abort(); /* says why */
  if (strchr(err, '\n')) abort();                     /* one line */
}

/* Every value of a parsed variant is within what docs/sim.md allows: times
 * are never negative nor beyond the parser's 1e15 us, probabilities within
 * 0..1, and the counts within their limits. */
#define T_MAX 1000000000000000ull
static void check_time(uint64_t us) {
  if (us > T_MAX) abort();
}
static void check_prob(double p) {
  if (!(p >= 0.0 && p <= 1.0)) abort();
}

static void check_scn(const scn *s) {
  if (s->n_nodes == 0 || s->n_nodes > PROSE_SIM_MAX_NODES) abort();
  if (s->n_groups > PROSE_SIM_MAX_GROUPS) abort();
  if (s->duration_us == 0) abort();
  check_time(s->duration_us);
  for (size_t i = 0; i < s->n_nodes; i++) {
    check_time(s->nodes[i].start_us);
    int64_t clock_ms = s->nodes[i].clock_ms;
    if (clock_ms > (int64_t)(T_MAX / 1000) || clock_ms < -(int64_t)(T_MAX / 1000)) abort();
    if (s->nodes[i].groups >> s->n_groups) abort();
  }
  for (size_t i = 0; i < s->n_rules; i++) {
    const scn_linkp *p = &s->rules[i].p;
    check_time(p->delay_us);
    check_time(p->jitter_us);
    check_time(p->reorder_gap_us);
    check_prob(p->loss);
    check_prob(p->ge_p);
    check_prob(p->ge_r);
    check_prob(p->ge_bad);
    check_prob(p->ge_good);
    check_prob(p->dup);
    check_prob(p->reorder);
  }
  for (size_t i = 0; i < s->n_actions; i++) {
    const scn_action *a = &s->actions[i];
    check_time(a->at_us);
    check_time(a->every_us);
    check_time(a->until_us);
    check_time(a->jitter_us);
    check_time(a->dur_us);
    if (a->kind == ACT_EXPECT && a->expect >= s->n_expects) abort();
    if (a->kind == ACT_LINK && a->rule + a->n_rules > s->n_rules) abort();
  }
  for (size_t i = 0; i < s->n_rotates; i++) {
    const scn_rotate *r = &s->rotates[i];
    check_time(r->every_us);
    check_time(r->talk_us);
    check_time(r->from_us);
    if (r->until_us != SCN_NEVER) check_time(r->until_us);
  }
  check_time(s->cpu.sign_us);
  check_time(s->cpu.verify_us);
  check_time(s->cpu.create_us);
  check_time(s->cpu.process_us);
  check_time(s->cpu.srtp_us);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const uint8_t *sep = memchr(data, SEP, size);
  size_t text_len = sep ? (size_t)(sep - data) : size;

  char err[PROSE_SIM_ERR_MAX];
  prose_sim_scenario *sc = NULL;
  int rc = prose_sim_scenario_parse(&sc, NULL, (const char *)data, text_len, err, sizeof err);
  if (rc != 0) {
    if (sc != NULL) abort();
    check_err(rc, err);
    return 0;
  }

  const char *name = prose_sim_scenario_name(sc);
  if (name[0] == '\0' || strlen(name) >= SCN_NAME_MAX) abort();
  size_t variants = prose_sim_scenario_variants(sc);
  if (variants == 0 || variants > SCN_MAX_SWEEP) abort();
  for (size_t v = 0; v <= variants; v++) {
    const char *label = prose_sim_scenario_variant_label(sc, v);
    if (strlen(label) >= sizeof sc->labels[0]) abort();
    if (v == variants && label[0] != '\0') abort();
  }

  /* The overrides: NUL-terminated copies of each line after the separator. */
  const char *over[MAX_OVERRIDES];
  size_t n_over = 0;
  char *buf = NULL;
  if (sep != NULL) {
    size_t olen = size - text_len - 1;
    buf = malloc(olen + 1);
    if (buf == NULL) abort();
    memcpy(buf, sep + 1, olen);
    buf[olen] = '\0';
    for (char *p = buf; n_over < MAX_OVERRIDES;) {
      over[n_over++] = p;
      char *nl = strchr(p, '\n');
      if (nl == NULL) break;
      *nl = '\0';
      p = nl + 1;
    }
  }
  for (size_t v = 0; v < variants; v++) {
    scn s;
    rc = scn_parse(sc, v, over, n_over, &s, err, sizeof err);
    if (rc != 0) {
      /* Without overrides every variant was checked by the parse. */
      if (n_over == 0) abort();
      check_err(rc, err);
      continue;
    }
    check_scn(&s);
    scn_free(&s);
  }
  free(buf);

  prose_sim_scenario_free(sc);
  return 0;
}
