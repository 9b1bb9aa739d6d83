/*
 * prosed: the off-network secure push-to-talk daemon.
 *
 *   prosed --config FILE           run
 *   prosed --config FILE --check   load and validate the configuration, then exit
 *
 * Exit status: 0 after a clean stop (SIGTERM/SIGINT), 1 when it cannot start
 * (the message says why), 2 for bad usage or a bad configuration file.
 */
#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "config.h"
#include "daemon.h"
#include "prose/err.h"

static void usage(FILE *f) {
  fputs("usage: prosed --config FILE [--check | --print-config]\n", f);
}

int main(int argc, char **argv) {
  const char *path = NULL;
  bool check = false, print = false;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else if (strcmp(argv[i], "--check") == 0) {
      check = true;
    } else if (strcmp(argv[i], "--print-config") == 0) {
      print = true;
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "prosed: unexpected argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (!path) {
    usage(stderr);
    return 2;
  }
  static prosed_config cfg;
  char err[PROSED_CONFIG_ERR_MAX];
  if (prosed_config_load(path, &cfg, err, sizeof err) != 0) {
    fprintf(stderr, "prosed: %s\n", err);
    return 2;
  }
  if (print) return prosed_config_write(&cfg, stdout) == 0 ? 0 : 1;
  if (check) {
    printf("%s: configuration ok (%zu groups)\n", path, cfg.n_groups);
    return 0;
  }
  uv_loop_t loop;
  if (uv_loop_init(&loop) != 0) return 1;
  prosed_daemon *d = NULL;
  char msg[512];
  int rc = prosed_daemon_start(&loop, &cfg, &d, msg, sizeof msg);
  if (rc) fprintf(stderr, "prosed: cannot start: %s\n", msg);
  uv_run(&loop, UV_RUN_DEFAULT);
  int closed = uv_loop_close(&loop);
  if (closed != 0) fprintf(stderr, "prosed: handles left open at exit\n");
  return rc ? 1 : 0;
}
