/*
 * prose-bench: benchmarks, reported as medians. Never run as tests.
 *   prose-bench crypto   ECCSI, SAKKE, I_MESSAGE
 *   prose-bench media    SRTP/SRTCP contexts against raw libsrtp2, then the
 *                        media path through the node (as `node`)
 *   prose-bench node     the node's media send and receive paths against raw
 *                        libsrtp2
 *   prose-bench sim      the simulator: a 50..400-node group call in virtual time
 *   prose-bench daemon   real prosed processes on loopback: a group call's
 *                        media at 1k..100k packets/s and unpaced (delivery,
 *                        loss, daemon CPU per packet)
 *   prose-bench all      everything
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

double bench_run(const char *name, void (*fn)(void *ctx), void *ctx, int rounds, int iters) {
  double *per = calloc((size_t)rounds, sizeof *per);
  if (!per) return 0;
  fn(ctx); /* warm up caches and lazy tables */
  for (int r = 0; r < rounds; r++) {
    uint64_t t0 = bench_now_ns();
    for (int i = 0; i < iters; i++) fn(ctx);
    per[r] = (double)(bench_now_ns() - t0) / iters;
  }
  qsort(per, (size_t)rounds, sizeof *per, cmp_double);
  double med = per[rounds / 2];
  printf("%-28s median %10.1f us   %10.0f ops/s   (min %.1f us, max %.1f us, %d x %d)\n", name,
         med / 1000.0, 1e9 / med, per[0] / 1000.0, per[rounds - 1] / 1000.0, rounds, iters);
  free(per);
  return med;
}

/* The media context alone, then (when the node is built) the node's path
 * around it, so one run shows both against raw libsrtp2. */
static int media_all(int argc, char **argv) {
  int rc = bench_media(argc, argv);
#ifdef PROSE_BENCH_NODE
  rc |= bench_node(argc, argv);
#endif
  return rc;
}

/* Everything but the simulator (which `main` adds when it is built). */
static int all_but_sim(int argc, char **argv) {
  int rc = bench_crypto(argc, argv) | media_all(argc, argv);
#ifdef PROSE_BENCH_DAEMON
  rc |= bench_daemon(1, argv);
#endif
  return rc;
}

int main(int argc, char **argv) {
  const char *what = argc > 1 ? argv[1] : "all";
  if (strcmp(what, "crypto") == 0) return bench_crypto(argc - 1, argv + 1);
  if (strcmp(what, "media") == 0) return media_all(argc - 1, argv + 1);
#ifdef PROSE_BENCH_NODE
  if (strcmp(what, "node") == 0) return bench_node(argc - 1, argv + 1);
#endif
#ifdef PROSE_BENCH_DAEMON
  if (strcmp(what, "daemon") == 0) return bench_daemon(argc - 1, argv + 1);
#endif
#ifdef PROSE_BENCH_SIM
  if (strcmp(what, "sim") == 0) return bench_sim(argc - 1, argv + 1);
  if (strcmp(what, "all") == 0) return all_but_sim(argc - 1, argv + 1) | bench_sim(1, argv + 1);
#endif
  if (strcmp(what, "all") == 0) return all_but_sim(argc - 1, argv + 1);
  fprintf(stderr, "usage: prose-bench crypto|media|node|sim|daemon|all\n");
  return 2;
}
