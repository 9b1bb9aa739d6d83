/* Benchmark harness: run an operation repeatedly, report the median. */
#ifndef PROSE_BENCH_H
#define PROSE_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* Monotonic nanoseconds. */
uint64_t bench_now_ns(void);
/* Run fn(ctx) `iters` times in `rounds` rounds; print name, median µs per op and ops/s.
 * Returns the median nanoseconds per operation. */
double bench_run(const char *name, void (*fn)(void *ctx), void *ctx, int rounds, int iters);

int bench_crypto(int argc, char **argv);
int bench_media(int argc, char **argv);
int bench_node(int argc, char **argv); /* built when the node is (PROSE_BENCH_NODE) */
int bench_sim(int argc, char **argv);  /* built with the simulator (PROSE_BENCH_SIM) */
int bench_daemon(int argc, char **argv); /* built with prosed (PROSE_BENCH_DAEMON) */

#endif
