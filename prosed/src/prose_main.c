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
        "  kms      offline KMS: create a domain, issue user key sets (KMS XML)\n"
        "  gms      offline GMS: groups, GMKs, GMK I_MESSAGE distribution\n"
        "  bundle   build one offline provisioning file for a device\n"
        "  store    the device key store: init, import, list, expire\n"
        "  mikey    decode and verify a MIKEY-SAKKE I_MESSAGE\n"
        "  crypto   ECCSI / SAKKE / UID primitives on hex, and the known-answer self-test\n"
        "  ctl      talk to a running prosed: status, calls, push-to-talk, events\n"
        "  demo     see it work: four prosed, a secure group call and a private call, checked\n"
#ifdef PROSE_HAVE_SIM
        "  sim      the network simulator: many nodes in virtual time, scenarios, KPIs\n"
#endif
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
  static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
  } cmds[] = {{"crypto", prose_cli_crypto}, {"kms", prose_cli_kms},     {"gms", prose_cli_gms},
              {"bundle", prose_cli_bundle}, {"store", prose_cli_store}, {"mikey", prose_cli_mikey},
              {"ctl", prose_cli_ctl},       {"demo", prose_cli_demo},
#ifdef PROSE_HAVE_SIM
              {"sim", prose_cli_sim},
#endif
  };
  for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++)
    if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, "prose: unknown command '%s'\n", argv[1]);
  usage(stderr);
  return 2;
}
