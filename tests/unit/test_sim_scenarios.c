/*
 * Every built-in scenario (sim/scenarios) runs to its end and holds every
 * expectation it states, in every run of its sweep; the ones that matter
 * most are checked here again by name, so a scenario edit cannot quietly
 * drop them. The 100-node scenario runs with 20 nodes here (its `nodes`
 * param): the full size is a CLI and benchmark run.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "prose/err.h"
#include "prose/sim.h"

typedef struct ran {
  size_t n;
  prose_sim_result *r[16];
} ran;

/* Run every variant of built-in `name` with the param overrides given. */
static void run_builtin(const char *name, const char *const *params, size_t n_params, ran *out) {
  char err[PROSE_SIM_ERR_MAX] = "";
  prose_sim_scenario *sc = NULL;
  cr_assert_eq(prose_sim_scenario_load(&sc, name, err, sizeof err), 0, "%s: %s", name, err);
  memset(out, 0, sizeof *out);
  out->n = prose_sim_scenario_variants(sc);
  cr_assert_leq(out->n, 16);
  for (size_t v = 0; v < out->n; v++) {
    prose_sim_options o;
    prose_sim_options_default(&o);
    o.variant = v;
    o.params = params;
    o.n_params = n_params;
    int rc = prose_sim_run(sc, &o, &out->r[v], err, sizeof err);
    cr_assert_eq(rc, 0, "%s %s: %s (%s)", name, prose_sim_scenario_variant_label(sc, v),
                 prose_err_name(rc), err);
    if (!prose_sim_result_ok(out->r[v])) {
      prose_sim_report_text(out->r[v], stderr);
      cr_assert_fail("%s %s: %zu expectation(s) failed", name,
                     prose_sim_scenario_variant_label(sc, v),
                     prose_sim_result_kpi(out->r[v])->expectations_failed);
    }
  }
  prose_sim_scenario_free(sc);
}

static void ran_free(ran *x) {
  for (size_t v = 0; v < x->n; v++) prose_sim_result_free(x->r[v]);
}

static double m(const prose_sim_result *r, const char *name) {
  double v = 0;
  cr_assert_eq(prose_sim_result_metric(r, name, &v), 0, "metric %s", name);
  return v;
}

/* Every listener heard every talk burst, the queued request was granted,
 * and the private call connected. */
Test(sim_scenarios, demo) {
  ran x;
  run_builtin("demo", NULL, 0, &x);
  const prose_sim_kpi *k = prose_sim_result_kpi(x.r[0]);
  cr_assert_eq(k->bursts_heard, 1.0);
  cr_assert_eq(k->delivery, 1.0);
  cr_assert_eq(k->frames_delivered, k->frames_expected);
  cr_assert_eq(k->private_connected, 1);
  cr_assert_gt(k->private_setup.p50, 4.4, "setup includes the modelled SAKKE/ECCSI work");
  cr_assert_eq(k->collisions, 0);
  ran_free(&x);
}

/* Access time and collisions at 0..20 % loss: more loss, less delivery. */
Test(sim_scenarios, loss_sweep) {
  ran x;
  run_builtin("loss", NULL, 0, &x);
  cr_assert_eq(x.n, 4);
  cr_assert_eq(prose_sim_result_kpi(x.r[0])->delivery, 1.0, "no loss, no gap");
  for (size_t v = 1; v < x.n; v++)
    cr_assert_lt(prose_sim_result_kpi(x.r[v])->delivery, prose_sim_result_kpi(x.r[v - 1])->delivery);
  ran_free(&x);
}

Test(sim_scenarios, t201_race) {
  ran x;
  run_builtin("t201", NULL, 0, &x);
  cr_assert_eq(x.n, 4);
  /* A longer T201 means a longer wait for the floor in silence (C201 x T201). */
  for (size_t v = 1; v < x.n; v++)
    cr_assert_gt(prose_sim_result_kpi(x.r[v])->access_outcome[PROSE_SIM_IMMEDIATE].p50,
                 prose_sim_result_kpi(x.r[v - 1])->access_outcome[PROSE_SIM_IMMEDIATE].p50);
  ran_free(&x);
}

Test(sim_scenarios, large_rotating_talkers) {
  const char *const params[] = {"nodes=20"};
  ran x;
  run_builtin("large", params, 1, &x);
  const prose_sim_kpi *k = prose_sim_result_kpi(x.r[0]);
  cr_assert_eq(k->nodes, 20);
  cr_assert_eq(k->collisions, 0);
  cr_assert_geq(k->bursts, 11);
  ran_free(&x);
}

/* Two calls while split, one after the heal. */
Test(sim_scenarios, partition_and_heal_merge) {
  ran x;
  run_builtin("partition", NULL, 0, &x);
  cr_assert_eq(m(x.r[0], "fire.calls"), 1);
  cr_assert_eq(m(x.r[0], "fire.members_in_call"), 6);
  ran_free(&x);
}

Test(sim_scenarios, emergency_preemption) {
  ran x;
  run_builtin("emergency", NULL, 0, &x);
  cr_assert_geq(prose_sim_result_kpi(x.r[0])->revoked, 1);
  cr_assert_leq(m(x.r[0], "alice.access_ms"), 50);
  ran_free(&x);
}

/* The member without the GMK decrypts nothing and disturbs nobody. */
Test(sim_scenarios, member_without_gmk) {
  ran x;
  run_builtin("nogmk", NULL, 0, &x);
  cr_assert_eq(m(x.r[0], "dave.decrypted"), 0);
  cr_assert_eq(m(x.r[0], "dave.heard"), 0);
  cr_assert_eq(prose_sim_result_kpi(x.r[0])->delivery, 1.0);
  ran_free(&x);
}

Test(sim_scenarios, faults) {
  ran x;
  run_builtin("faults", NULL, 0, &x);
  cr_assert_geq(prose_sim_result_kpi(x.r[0])->late_entry.n, 2);
  ran_free(&x);
}
