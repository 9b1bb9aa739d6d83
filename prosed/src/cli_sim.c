/*
 * prose sim: run a simulator scenario (a built-in one by name, or a file)
 * and print its KPI report (docs/sim.md). Every run of a sweep is run in
 * turn, and a sweep ends with a summary table of its runs.
 *
 * Exit status: 0 when every run held all its expectations, 1 when one did
 * not or a run failed, 2 for a usage error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "cli_common.h"
#include "prose/err.h"
#include "prose/sim.h"

#define PROG "prose sim"
#define MAX_PARAMS 32

static void usage(FILE *f) {
  fputs("usage: prose sim [OPTIONS] SCENARIO\n"
        "       prose sim --list | --show NAME\n"
        "\n"
        "SCENARIO is a built-in scenario name (see --list) or a scenario file.\n"
        "\n"
        "options:\n"
        "  --seed N            use seed N instead of the scenario's\n"
        "  --variant K         run only value K (0-based) of the scenario's sweep\n"
        "  --set NAME=VALUE    override a scenario param (repeatable)\n"
        "  --trace FILE        JSON-lines trace of events and actions ('-': stdout)\n"
        "  --trace-packets     also trace every datagram sent or dropped\n"
        "  --pcap FILE         every datagram on the wire, as sent (--netns: pcapng by dumpcap)\n"
        "  --pcap-plain FILE   the same with SRTP/SRTCP replaced by their RTP/RTCP\n"
        "  --json              the KPI report as JSON, one object per run\n"
        "  --cache DIR         keep provisioned domains in DIR (default $PROSE_SIM_CACHE)\n"
        "  --quiet             no progress lines on stderr\n"
        "  --netns             run real prosed processes in network namespaces on a\n"
        "                      bridge instead (root; real time; see docs/sim.md)\n"
        "  --prosed PATH       the prosed binary for --netns (default: beside prose)\n"
        "\n"
        "Exit status: 0 every expectation held, 1 one failed or a run failed, 2 usage.\n",
        f);
}

typedef struct sim_args {
  const char *scenario;
  const char *seed, *variant, *trace, *pcap, *plain, *cache, *prosed;
  const char *params[MAX_PARAMS];
  size_t n_params;
  bool json, quiet, trace_packets, list, netns;
  const char *show;
} sim_args;

static int value_of(int argc, char **argv, int *i, const char **out) {
  if (*i + 1 >= argc) {
    fprintf(stderr, PROG ": option '%s' needs a value\n", argv[*i]);
    return PROSE_EUSAGE;
  }
  if (*out) {
    fprintf(stderr, PROG ": option '%s' given twice\n", argv[*i]);
    return PROSE_EUSAGE;
  }
  *out = argv[++*i];
  return 0;
}

static int parse_args(int argc, char **argv, sim_args *a) {
  memset(a, 0, sizeof *a);
  for (int i = 1; i < argc; i++) {
    const char *w = argv[i];
    int rc = 0;
    if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
      usage(stdout);
      exit(0);
    } else if (strcmp(w, "--seed") == 0) {
      rc = value_of(argc, argv, &i, &a->seed);
    } else if (strcmp(w, "--variant") == 0) {
      rc = value_of(argc, argv, &i, &a->variant);
    } else if (strcmp(w, "--trace") == 0) {
      rc = value_of(argc, argv, &i, &a->trace);
    } else if (strcmp(w, "--pcap") == 0) {
      rc = value_of(argc, argv, &i, &a->pcap);
    } else if (strcmp(w, "--pcap-plain") == 0) {
      rc = value_of(argc, argv, &i, &a->plain);
    } else if (strcmp(w, "--cache") == 0) {
      rc = value_of(argc, argv, &i, &a->cache);
    } else if (strcmp(w, "--prosed") == 0) {
      rc = value_of(argc, argv, &i, &a->prosed);
    } else if (strcmp(w, "--show") == 0) {
      rc = value_of(argc, argv, &i, &a->show);
    } else if (strcmp(w, "--set") == 0) {
      const char *v = NULL;
      rc = value_of(argc, argv, &i, &v);
      if (rc == 0 && (a->n_params == MAX_PARAMS || strchr(v, '=') == NULL)) {
        fprintf(stderr, PROG ": --set wants NAME=VALUE (at most %d)\n", MAX_PARAMS);
        rc = PROSE_EUSAGE;
      }
      if (rc == 0) a->params[a->n_params++] = v;
    } else if (strcmp(w, "--json") == 0) {
      a->json = true;
    } else if (strcmp(w, "--quiet") == 0) {
      a->quiet = true;
    } else if (strcmp(w, "--trace-packets") == 0) {
      a->trace_packets = true;
    } else if (strcmp(w, "--list") == 0) {
      a->list = true;
    } else if (strcmp(w, "--netns") == 0) {
      a->netns = true;
    } else if (strncmp(w, "--", 2) == 0) {
      fprintf(stderr, PROG ": unknown option '%s'\n", w);
      rc = PROSE_EUSAGE;
    } else if (a->scenario) {
      fprintf(stderr, PROG ": one scenario at a time ('%s')\n", w);
      rc = PROSE_EUSAGE;
    } else {
      a->scenario = w;
    }
    if (rc) return rc;
  }
  if (!a->list && !a->show && !a->scenario) {
    usage(stderr);
    return PROSE_EUSAGE;
  }
  return 0;
}

static int parse_u64(const char *name, const char *v, uint64_t *out) {
  char *end = NULL;
  unsigned long long x = strtoull(v, &end, 10);
  if (v[0] == '\0' || v[0] == '-' || *end != '\0') {
    fprintf(stderr, PROG ": --%s: '%s' is not a number\n", name, v);
    return PROSE_EUSAGE;
  }
  *out = x;
  return 0;
}

static void list_builtins(void) {
  for (size_t i = 0; prose_sim_builtin_name(i); i++) {
    const char *name = prose_sim_builtin_name(i);
    size_t len = 0;
    const char *text = prose_sim_builtin_text(name, &len);
    /* The first comment line says what the scenario is about. */
    const char *title = "";
    size_t tl = 0;
    if (text && len > 2 && text[0] == '#') {
      title = text + 1;
      while (*title == ' ') title++;
      while (title + tl < text + len && title[tl] != '\n') tl++;
    }
    printf("  %-16s %.*s\n", name, (int)tl, title);
  }
}

static void summary(prose_sim_result **res, const prose_sim_scenario *sc, size_t n) {
  printf("\nsummary: %s (access: ms from PTT press to grant without queueing)\n",
         prose_sim_scenario_name(sc));
  printf("  %-16s %5s %5s %7s %7s %7s %6s %6s %6s %7s %9s %9s %8s %s\n", "run", "reqs", "immed",
         "acc p50", "acc p95", "acc p99", "queued", "denied", "failed", "collide", "overlap",
         "delivery", "m2e p95", "ok");
  for (size_t v = 0; v < n; v++) {
    if (res[v] == NULL) continue;
    const prose_sim_kpi *k = prose_sim_result_kpi(res[v]);
    const prose_sim_dist *d = &k->access_outcome[PROSE_SIM_IMMEDIATE];
    printf("  %-16s %5zu %5zu %7.1f %7.1f %7.1f %6zu %6zu %6zu %7zu %9.1f %9.4f %8.1f %s\n",
           prose_sim_scenario_variant_label(sc, v), k->requests, d->n, d->p50, d->p95, d->p99,
           k->outcome[PROSE_SIM_QUEUED], k->outcome[PROSE_SIM_DENIED],
           k->outcome[PROSE_SIM_FAILED], k->collisions, k->overlap_ms, k->delivery,
           k->mouth_to_ear.p95, prose_sim_result_ok(res[v]) ? "yes" : "NO");
  }
}

int prose_cli_sim(int argc, char **argv) {
  sim_args a;
  int rc = parse_args(argc, argv, &a);
  if (rc) return 2;
  if (a.list) {
    puts("built-in scenarios:");
    list_builtins();
    return 0;
  }
  if (a.show) {
    size_t len = 0;
    const char *text = prose_sim_builtin_text(a.show, &len);
    if (text == NULL) {
      fprintf(stderr, PROG ": no built-in scenario '%s'\n", a.show);
      return 1;
    }
    fwrite(text, 1, len, stdout);
    return 0;
  }
  if (a.netns && a.plain) {
    fprintf(stderr, PROG ": --pcap-plain needs the simulator (it decrypts with the nodes' stores), "
                    "not --netns; --pcap captures the real wire there\n");
    return 2;
  }
  if (a.prosed && !a.netns) {
    fprintf(stderr, PROG ": --prosed goes with --netns\n");
    return 2;
  }
  char prosed[4096] = "";
  if (a.netns) {
    if (a.prosed)
      snprintf(prosed, sizeof prosed, "%s", a.prosed);
    else if (cli_find_prosed(prosed, sizeof prosed) != 0) {
      fprintf(stderr, PROG ": no prosed beside this prose; name it with --prosed PATH\n");
      return 2;
    }
  }
  char err[PROSE_SIM_ERR_MAX];
  prose_sim_scenario *sc = NULL;
  rc = prose_sim_scenario_load(&sc, a.scenario, err, sizeof err);
  if (rc) {
    fprintf(stderr, PROG ": %s: %s\n", a.scenario, err[0] ? err : prose_strerror(rc));
    return 1;
  }
  prose_sim_options o;
  prose_sim_options_default(&o);
  uint64_t v64 = 0;
  size_t first = 0, last = prose_sim_scenario_variants(sc);
  int status = 0;
  if (a.seed) {
    if (parse_u64("seed", a.seed, &o.seed)) status = 2;
    o.has_seed = true;
  }
  if (status == 0 && a.variant) {
    if (parse_u64("variant", a.variant, &v64)) {
      status = 2;
    } else if (v64 >= last) {
      fprintf(stderr, PROG ": --variant %llu: the scenario has %zu\n", (unsigned long long)v64,
              last);
      status = 2;
    } else {
      first = (size_t)v64;
      last = first + 1;
    }
  }
  if (status == 0 && last - first > 1 && (a.trace || a.pcap || a.plain)) {
    fprintf(stderr, PROG ": a sweep has %zu runs; pick one with --variant for --trace/--pcap\n",
            last - first);
    status = 2;
  }
  FILE *trace = NULL;
  if (status == 0 && a.trace) {
    trace = strcmp(a.trace, "-") == 0 ? stdout : fopen(a.trace, "w");
    if (trace == NULL) {
      fprintf(stderr, PROG ": %s: cannot write\n", a.trace);
      status = 1;
    }
  }
  if (status != 0) {
    prose_sim_scenario_free(sc);
    return status;
  }
  o.params = a.params;
  o.n_params = a.n_params;
  o.trace = trace;
  o.trace_packets = a.trace_packets;
  o.pcap_path = a.pcap;
  o.pcap_plain_path = a.plain;
  o.cache_dir = a.cache ? a.cache : getenv("PROSE_SIM_CACHE");
  o.log = a.quiet ? NULL : stderr;
  o.netns = a.netns;
  o.prosed_path = a.netns ? prosed : NULL;
  prose_sim_result **res = calloc(last, sizeof *res);
  if (res == NULL) {
    prose_sim_scenario_free(sc);
    return 1;
  }
  for (size_t v = first; v < last; v++) {
    o.variant = v;
    rc = prose_sim_run(sc, &o, &res[v], err, sizeof err);
    if (rc) {
      const char *label = prose_sim_scenario_variant_label(sc, v);
      fprintf(stderr, PROG ": %s%s%s: %s\n", prose_sim_scenario_name(sc), label[0] ? " " : "",
              label, err[0] ? err : prose_strerror(rc));
      status = 1;
      continue;
    }
    if (a.json)
      prose_sim_report_json(res[v], stdout);
    else
      prose_sim_report_text(res[v], stdout);
    if (!a.json && v + 1 < last) putchar('\n');
    if (!prose_sim_result_ok(res[v])) status = 1;
  }
  if (!a.json && last - first > 1) summary(res + 0, sc, last);
  for (size_t v = 0; v < last; v++) prose_sim_result_free(res[v]);
  free(res);
  if (trace && trace != stdout) fclose(trace);
  prose_sim_scenario_free(sc);
  return status;
}
