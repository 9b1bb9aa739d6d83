#include <stdio.h>

#include "bench.h"

int bench_crypto(int argc, char **argv) {
  (void)argc;
  (void)argv;
  printf("crypto benchmarks: not built yet\n");
  return 0;
}
