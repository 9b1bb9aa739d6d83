/* Subcommands of the `prose` CLI. Each returns the process exit status. */
#ifndef PROSE_CLI_H
#define PROSE_CLI_H

int prose_cli_crypto(int argc, char **argv);
int prose_cli_kms(int argc, char **argv);
int prose_cli_gms(int argc, char **argv);
int prose_cli_bundle(int argc, char **argv);
int prose_cli_store(int argc, char **argv);
int prose_cli_mikey(int argc, char **argv);
int prose_cli_ctl(int argc, char **argv);
int prose_cli_demo(int argc, char **argv);
int prose_cli_sim(int argc, char **argv); /* built with the simulator (PROSE_HAVE_SIM) */

#endif
