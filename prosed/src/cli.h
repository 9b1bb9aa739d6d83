/* Subcommands of the `prose` CLI. Each returns the process exit status. */
#ifndef PROSE_CLI_H
#define PROSE_CLI_H

int prose_cli_crypto(int argc, char **argv);

#endif
