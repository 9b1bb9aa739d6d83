/*
 * prose: one command-line tool with subcommands (DESIGN.md §5).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static void usage(FILE *f) {
  fputs("usage: prose COMMAND [ARGS...]\n"
        "\n"
        "commands:\n"
        "  crypto   ECCSI / SAKKE / UID primitives on hex, and the known-answer self-test\n"
        "\n"
        "Run 'prose COMMAND --help' for the options of a command.\n",
        f);
}

int main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "crypto") == 0) return prose_cli_crypto(argc - 1, argv + 1);
  fprintf(stderr, "prose: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
