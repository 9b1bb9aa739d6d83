#include <stdio.h>

#include "cli.h"

int prose_cli_crypto(int argc, char **argv) {
  (void)argc;
  (void)argv;
  fputs("prose crypto: not built yet\n", stderr);
  return 2;
}
