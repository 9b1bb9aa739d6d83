/*
 * prose-bench sim: how fast the simulator runs a large group call.
 *
 * The call: N members with 1 % loss and 10 ms +- 5 ms per link, a call
 * started at 1 s, a member talking 4 s of every 5 s in turn (rotating), 60
 * virtual seconds. Reported per size: virtual seconds per wall second of the
 * run itself (provisioning is reported apart: it is the domain's crypto, done
 * once and cached), loop steps and datagram deliveries per wall second.
 *
 * Each size runs three times: with discovery as configured by default (every
 * node announces every 5 s and every other node verifies the ECCSI
 * signature, so that work grows as N^2), with a 30 s announcement interval,
 * and with announcements off (group calls need none), which shows what the
 * rest of the simulation costs.
 *
 *   prose-bench sim [N...]     default sizes 50 100 200 400
 *
 * The provisioned domains are kept in $PROSE_SIM_CACHE, else
 * /tmp/prose-bench-sim-cache, so a second run skips building them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "prose/sim.h"

#define VIRTUAL_S 60

/* disc_s: 0 = the default interval (5 s), DISC_OFF = no announcements. */
#define DISC_OFF 1000u

static char *scenario_text(unsigned n, unsigned disc_s) {
  char *t = malloc(2048);
  if (t == NULL) return NULL;
  int len = snprintf(t, 2048,
                     "# bench: %u-node group call, talker rotating every 5 s\n"
                     "seed 42\n"
                     "duration %ds\n"
                     "group fire\n"
                     "node u[1..%u] groups fire\n"
                     "link * <-> * delay 10ms jitter 5ms loss 1%%\n"
                     "at 1s call u1 fire\n"
                     "rotate u* every 5s talk 4s from 3s\n",
                     n, VIRTUAL_S, n);
  if (disc_s == DISC_OFF)
    snprintf(t + len, 2048 - (size_t)len, "set disc.interval 0\n");
  else if (disc_s)
    snprintf(t + len, 2048 - (size_t)len, "set disc.interval %us\nset disc.ttl %us\n", disc_s,
             3 * disc_s);
  return t;
}

static int run_one(unsigned n, unsigned disc_s, const char *cache) {
  char *text = scenario_text(n, disc_s);
  if (text == NULL) return 1;
  char err[PROSE_SIM_ERR_MAX];
  prose_sim_scenario *sc = NULL;
  int rc = prose_sim_scenario_parse(&sc, "bench", text, strlen(text), err, sizeof err);
  free(text);
  if (rc) {
    fprintf(stderr, "bench sim: %s\n", err);
    return 1;
  }
  prose_sim_options o;
  prose_sim_options_default(&o);
  o.cache_dir = cache;
  prose_sim_result *r = NULL;
  rc = prose_sim_run(sc, &o, &r, err, sizeof err);
  prose_sim_scenario_free(sc);
  if (rc) {
    fprintf(stderr, "bench sim: %s\n", err);
    return 1;
  }
  const prose_sim_kpi *k = prose_sim_result_kpi(r);
  double run = k->wall_s - k->provision_s;
  char disc[16];
  if (disc_s == DISC_OFF)
    snprintf(disc, sizeof disc, "off");
  else
    snprintf(disc, sizeof disc, "%us", disc_s ? disc_s : 5u);
  printf("sim %4u nodes disc %-4s %7.2f virtual s/wall s   run %7.2f s  provisioning %6.2f s"
         "   %9.0f steps/s %10.0f deliveries/s   delivery %.4f\n",
         n, disc, run > 0 ? k->virtual_s / run : 0.0, run, k->provision_s,
         run > 0 ? (double)k->steps / run : 0.0, run > 0 ? (double)k->deliveries / run : 0.0,
         k->delivery);
  fflush(stdout);
  prose_sim_result_free(r);
  return 0;
}

int bench_sim(int argc, char **argv) {
  unsigned sizes[16] = {50, 100, 200, 400};
  size_t n = 4;
  if (argc > 1) {
    n = 0;
    for (int i = 1; i < argc && n < 16; i++) {
      long v = strtol(argv[i], NULL, 10);
      if (v < 2 || v > (long)PROSE_SIM_MAX_NODES) {
        fprintf(stderr, "usage: prose-bench sim [N...] (2..%u nodes)\n", PROSE_SIM_MAX_NODES);
        return 2;
      }
      sizes[n++] = (unsigned)v;
    }
  }
  const char *cache = getenv("PROSE_SIM_CACHE");
  if (cache == NULL) cache = "/tmp/prose-bench-sim-cache";
  printf("== sim: N-node group call, talker rotating every 5 s, %d virtual s (one core)\n",
         VIRTUAL_S);
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    rc |= run_one(sizes[i], 0, cache);
    rc |= run_one(sizes[i], 30, cache);
    rc |= run_one(sizes[i], DISC_OFF, cache);
  }
  return rc;
}
