/*
 * The offline authority tools: `prose kms`, `prose gms` and `prose bundle`.
 *
 * A KMS or GMS is a store directory (prose/store.h) whose secrets are sealed
 * at rest like a device's. Files that hold user secrets (key sets, bundles)
 * are written mode 0600; public files (the KMS certificate, I_MESSAGEs,
 * whose keys are SAKKE-encrypted) 0644. Every file is written atomically.
 *
 * Exit status: 0 success, 1 the operation failed (the message says why),
 * 2 bad usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_opts.h"
#include "prose/authority.h"
#include "prose/bundle.h"
#include "prose/err.h"
#include "prose/mikey.h"
#include "prose/util.h"

#define EXIT_BAD 2
#define MAX_DOC (16u * 1024u * 1024u)


/* ---- prose kms ---------------------------------------------------------- */

static int write_cert(const char *prog, prose_store *st, const char *kms_uri, const char *path) {
  char *xml = NULL;
  size_t len = 0;
  prose_diag d;
  prose_diag_clear(&d);
  int rc = prose_kms_cert_xml(st, kms_uri, cli_now_ntp(), &xml, &len, &d);
  if (rc) return cli_report(prog, "certificate", rc, &d);
  if (path)
    rc = cli_write_file(prog, path, xml, len, 0644) ? 1 : 0;
  else
    fwrite(xml, 1, len, stdout);
  free(xml);
  return rc;
}

static int kms_init(int argc, char **argv) {
  const char *prog = "prose kms init";
  OPTS({"dir", true, true, NULL}, {"uri", true, true, NULL}, {"period", true, false, NULL},
       {"offset", true, false, NULL}, {"passphrase-file", true, false, NULL},
       {"cert-out", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  prose_kms_settings ks;
  prose_kms_settings_default(&ks);
  ks.kms_uri = GET("uri");
  if ((GET("period") && cli_u64(prog, "period", GET("period"), &ks.period)) ||
      (GET("offset") && cli_u64(prog, "offset", GET("offset"), &ks.offset)))
    return EXIT_BAD;
  if (ks.period == 0) {
    fprintf(stderr, "%s: --period: must be at least 1 second\n", prog);
    return EXIT_BAD;
  }
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("dir"), GET("passphrase-file"), 1, PROSE_STORE_KMS, NULL, &st))
    return 1;
  prose_diag d;
  prose_diag_clear(&d);
  int status = 0;
  int rc = prose_kms_init(st, &ks, &d);
  if (rc) {
    status = cli_report(prog, NULL, rc, &d);
    goto out;
  }
  /* The public certificate goes beside the store unless asked elsewhere. */
  char path[4096];
  const char *cert_out = GET("cert-out");
  if (!cert_out) {
    snprintf(path, sizeof path, "%s/kms-cert.xml", GET("dir"));
    cert_out = path;
  }
  status = write_cert(prog, st, ks.kms_uri, cert_out);
  if (status == 0) printf("KMS %s created in %s; certificate: %s\n", ks.kms_uri, GET("dir"), cert_out);
out:
  prose_store_close(st);
  return status;
}

static int kms_cert(int argc, char **argv) {
  const char *prog = "prose kms cert";
  OPTS({"dir", true, true, NULL}, {"uri", true, false, NULL},
       {"passphrase-file", true, false, NULL}, {"out", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("dir"), GET("passphrase-file"), 0, PROSE_STORE_KMS, NULL, &st))
    return 1;
  int status = write_cert(prog, st, GET("uri"), GET("out"));
  prose_store_close(st);
  return status;
}

static int kms_issue(int argc, char **argv) {
  const char *prog = "prose kms issue";
  OPTS({"dir", true, true, NULL}, {"user", true, true, NULL}, {"at", true, false, NULL},
       {"periods", true, false, NULL}, {"out", true, true, NULL}, {"uri", true, false, NULL},
       {"with-cert", false, false, NULL}, {"passphrase-file", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  prose_kms_issue_params p;
  prose_kms_issue_params_default(&p);
  p.kms_uri = GET("uri");
  p.user_uri = GET("user");
  p.include_cert = GET("with-cert") != NULL;
  uint64_t periods = p.count;
  if (cli_time(prog, "at", GET("at"), &p.t)) return EXIT_BAD;
  if (GET("periods") && cli_u64(prog, "periods", GET("periods"), &periods)) return EXIT_BAD;
  if (periods < 1 || periods > 64) {
    fprintf(stderr, "%s: --periods: must be between 1 and 64\n", prog);
    return EXIT_BAD;
  }
  p.count = (uint32_t)periods;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("dir"), GET("passphrase-file"), 0, PROSE_STORE_KMS, NULL, &st))
    return 1;
  char *xml = NULL;
  size_t len = 0;
  prose_diag d;
  prose_diag_clear(&d);
  int status = 0;
  int rc = prose_kms_issue(st, &p, &xml, &len, &d);
  if (rc)
    status = cli_report(prog, p.user_uri, rc, &d);
  else if (cli_write_file(prog, GET("out"), xml, len, 0600))
    status = 1;
  else
    printf("issued %u key set(s) for %s: %s\n", p.count, p.user_uri, GET("out"));
  if (xml) prose_free_secret(xml, len);
  prose_store_close(st);
  return status;
}

static int cmd_kms(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "init") == 0) return kms_init(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "issue") == 0) return kms_issue(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "cert") == 0) return kms_cert(argc - 1, argv + 1);
  fputs("usage: prose kms init --dir DIR --uri KMS_URI [--period SEC] [--offset SEC]\n"
        "                      [--cert-out FILE] [--passphrase-file F]\n"
        "       prose kms issue --dir DIR --user URI [--at TIME] [--periods N] --out FILE\n"
        "                      [--with-cert] [--uri KMS_URI]\n"
        "       prose kms cert --dir DIR [--uri KMS_URI] [--out FILE]\n"
        "TIME: now, Unix seconds, or a UTC time like 2026-11-28T12:00:00Z\n",
        argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
  return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : EXIT_BAD;
}

/* ---- prose gms ---------------------------------------------------------- */

static int import_one(const char *prog, prose_store *st, const char *path, uint64_t t) {
  prose_diag d;
  prose_import_summary sum;
  prose_diag_clear(&d);
  int rc = prose_store_import_file(st, path, t, &sum, &d);
  if (rc) return cli_report(prog, path, rc, &d);
  return 0;
}

static int gms_init(int argc, char **argv) {
  const char *prog = "prose gms init";
  OPTS({"dir", true, true, NULL}, {"uri", true, true, NULL}, {"kms-cert", true, true, NULL},
       {"key-sets", true, true, NULL}, {"at", true, false, NULL},
       {"passphrase-file", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  uint64_t t;
  if (cli_time(prog, "at", GET("at"), &t)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("dir"), GET("passphrase-file"), 1, PROSE_STORE_GMS, GET("uri"),
                     &st))
    return 1;
  int status = import_one(prog, st, GET("kms-cert"), t);
  if (!status) status = import_one(prog, st, GET("key-sets"), t);
  if (!status) printf("GMS %s created in %s\n", GET("uri"), GET("dir"));
  prose_store_close(st);
  return status;
}

static int gms_group(int argc, char **argv) {
  const char *prog = "prose gms group";
  if (argc < 2) goto usage;
  const char *verb = argv[1];
  OPTS({"dir", true, true, NULL}, {"group", true, true, NULL}, {"activate", true, false, NULL},
       {"expire", true, false, NULL}, {"passphrase-file", true, false, NULL});
  cli_multi members = {"member", NULL, 0, 0};
  int status = EXIT_BAD;
  prose_store *st = NULL;
  if (strcmp(verb, "create") != 0 && strcmp(verb, "rekey") != 0 && strcmp(verb, "add") != 0)
    goto usage;
  if (cli_parse_multi(prog, argc - 1, argv + 1, 1, opts, n_opts, &members, 1)) goto out;
  uint64_t activation, expiry = PROSE_STORE_NEVER;
  if (cli_time(prog, "activate", GET("activate"), &activation)) goto out;
  if (GET("expire") && cli_time(prog, "expire", GET("expire"), &expiry)) goto out;
  if (strcmp(verb, "rekey") == 0 && !GET("activate")) {
    fprintf(stderr, "%s rekey: --activate TIME is required (the new GMK's activation time)\n",
            prog);
    goto out;
  }
  if (strcmp(verb, "rekey") != 0 && members.n == 0) {
    fprintf(stderr, "%s %s: at least one --member URI is required\n", prog, verb);
    goto out;
  }
  status = 1;
  if (cli_store_open(prog, GET("dir"), GET("passphrase-file"), 0, PROSE_STORE_GMS, NULL, &st))
    goto out;
  prose_diag d;
  prose_diag_clear(&d);
  uint32_t gmk_id = 0;
  int rc;
  if (strcmp(verb, "create") == 0) {
    prose_gms_group_params gp;
    prose_gms_group_params_default(&gp);
    gp.group_id = GET("group");
    gp.members = members.values;
    gp.n_members = members.n;
    gp.activation = activation;
    gp.expiry = expiry;
    rc = prose_gms_group_create(st, &gp, &gmk_id, &d);
  } else if (strcmp(verb, "rekey") == 0) {
    rc = prose_gms_group_rekey(st, GET("group"), activation, expiry, &gmk_id, &d);
  } else {
    rc = prose_gms_group_add_members(st, GET("group"), members.values, members.n, &d);
  }
  if (rc) {
    status = cli_report(prog, GET("group"), rc, &d);
    goto out;
  }
  if (gmk_id) printf("group %s: GMK-ID %08x\n", GET("group"), gmk_id);
  else printf("group %s: %zu member(s) added\n", GET("group"), members.n);
  status = 0;
out:
  free(members.values);
  prose_store_close(st);
  return status;
usage:
  fputs("usage: prose gms group create --dir DIR --group ID --member URI... [--activate TIME]\n"
        "                              [--expire TIME]\n"
        "       prose gms group rekey --dir DIR --group ID --activate TIME [--expire TIME]\n"
        "       prose gms group add --dir DIR --group ID --member URI...\n",
        stderr);
  return EXIT_BAD;
}

typedef struct distribute_ctx {
  const char *prog;
  const char *out;
  size_t n;
} distribute_ctx;

/* Each GMK of the group becomes one file: OUT for the first, OUT.2, OUT.3 ...
 * for later ones (a rekeyed group has the current and the pending GMK). */
static int distribute_write(void *ud, const char *group_id, uint32_t gmk_id, const uint8_t *msg,
                            size_t len) {
  distribute_ctx *c = ud;
  char path[4096];
  c->n++;
  if (c->n == 1)
    snprintf(path, sizeof path, "%s", c->out);
  else
    snprintf(path, sizeof path, "%s.%zu", c->out, c->n);
  if (cli_write_file(c->prog, path, msg, len, 0644)) return PROSE_EIO;
  printf("%s: GMK-ID %08x of %s\n", path, gmk_id, group_id);
  return 0;
}

static int gms_distribute(int argc, char **argv) {
  const char *prog = "prose gms distribute";
  OPTS({"dir", true, true, NULL}, {"group", true, false, NULL}, {"member", true, true, NULL},
       {"out", true, true, NULL}, {"at", true, false, NULL}, {"member-kms", true, false, NULL},
       {"passphrase-file", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  prose_gms_distribute_params p;
  prose_gms_distribute_params_default(&p);
  p.member_uri = GET("member");
  p.group_id = GET("group");
  p.member_kms = GET("member-kms");
  if (cli_time(prog, "at", GET("at"), &p.t)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("dir"), GET("passphrase-file"), 0, PROSE_STORE_GMS, NULL, &st))
    return 1;
  distribute_ctx c = {prog, GET("out"), 0};
  prose_diag d;
  prose_diag_clear(&d);
  int rc = prose_gms_distribute(st, &p, distribute_write, &c, &d);
  prose_store_close(st);
  if (rc) return cli_report(prog, p.member_uri, rc, &d);
  return 0;
}

static int cmd_gms(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "init") == 0) return gms_init(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "group") == 0) return gms_group(argc - 1, argv + 1);
  if (argc >= 2 && strcmp(argv[1], "distribute") == 0) return gms_distribute(argc - 1, argv + 1);
  fputs("usage: prose gms init --dir DIR --uri GMS_URI --kms-cert FILE --key-sets FILE\n"
        "       prose gms group create|rekey|add ...   (prose gms group for details)\n"
        "       prose gms distribute --dir DIR --member URI --out FILE [--group ID] [--at TIME]\n",
        argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
  return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : EXIT_BAD;
}

/* ---- prose bundle ------------------------------------------------------- */

static int bundle_add_file(const char *prog, prose_bundle_writer *w, uint16_t type,
                           const char *path) {
  uint8_t *buf = NULL;
  size_t len = 0;
  if (cli_read_file(prog, path, MAX_DOC, &buf, &len)) return 1;
  int rc = prose_bundle_add(w, type, buf, len);
  prose_free_secret(buf, MAX_DOC + 1);
  if (rc) return cli_report(prog, path, rc, NULL);
  return 0;
}

/* The GMS that signed a GMK I_MESSAGE (its IDRi URI), to trust by default. */
static int gmk_sender(const char *prog, const char *path, char *uri, size_t cap) {
  uint8_t *buf = NULL;
  size_t len = 0;
  prose_mikey_msg m;
  if (cli_read_file(prog, path, MAX_DOC, &buf, &len)) return 1;
  int rc = prose_mikey_decode(buf, len, &m);
  if (rc == 0 && (!m.idr_i.present || m.idr_i.id.len >= cap)) rc = PROSE_EMIKEY_MISSING;
  if (rc == 0) {
    memcpy(uri, m.idr_i.id.p, m.idr_i.id.len);
    uri[m.idr_i.id.len] = '\0';
  }
  free(buf);
  if (rc) return cli_report(prog, path, rc, NULL);
  return 0;
}

static int cmd_bundle(int argc, char **argv) {
  const char *prog = "prose bundle";
  OPTS({"kms-cert", true, true, NULL}, {"key-sets", true, true, NULL}, {"out", true, true, NULL});
  cli_multi multi[] = {{"gmk", NULL, 0, 0}, {"trust-gms", NULL, 0, 0}};
  prose_bundle_writer *w = NULL;
  uint8_t *out = NULL;
  size_t out_len = 0;
  int status = EXIT_BAD;
  if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
    fputs("usage: prose bundle --kms-cert FILE --key-sets FILE [--gmk FILE...]\n"
          "                    [--trust-gms URI...] --out FILE\n"
          "Without --trust-gms, the GMS that signed each --gmk message is trusted.\n",
          stdout);
    return 0;
  }
  if (cli_parse_multi(prog, argc, argv, 1, opts, n_opts, multi, 2)) goto out;
  status = 1;
  if (prose_bundle_writer_new(&w)) goto out;
  if (bundle_add_file(prog, w, PROSE_BUNDLE_KMS_XML, GET("kms-cert")) ||
      bundle_add_file(prog, w, PROSE_BUNDLE_KMS_XML, GET("key-sets")))
    goto out;
  for (size_t i = 0; i < multi[0].n; i++)
    if (bundle_add_file(prog, w, PROSE_BUNDLE_IMESSAGE, multi[0].values[i])) goto out;
  for (size_t i = 0; i < multi[1].n; i++)
    if (prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, multi[1].values[i],
                         strlen(multi[1].values[i])))
      goto out;
  if (multi[1].n == 0) {
    for (size_t i = 0; i < multi[0].n; i++) {
      char uri[PROSE_MIKEY_URI_MAX + 1];
      if (gmk_sender(prog, multi[0].values[i], uri, sizeof uri)) goto out;
      if (prose_bundle_add(w, PROSE_BUNDLE_TRUST_GMS, uri, strlen(uri))) goto out;
    }
  }
  int rc = prose_bundle_finish(w, &out, &out_len);
  if (rc) {
    status = cli_report(prog, GET("out"), rc, NULL);
    goto out;
  }
  /* A bundle carries the user's SSK and RSK: owner-only. */
  if (cli_write_file(prog, GET("out"), out, out_len, 0600)) goto out;
  printf("bundle %s: KMS certificate, key sets, %zu GMK message(s)\n", GET("out"), multi[0].n);
  status = 0;
out:
  if (out) prose_free_secret(out, out_len);
  prose_bundle_writer_free(w);
  free(multi[0].values);
  free(multi[1].values);
  return status;
}

int prose_cli_kms(int argc, char **argv) { return cmd_kms(argc, argv); }
int prose_cli_gms(int argc, char **argv) { return cmd_gms(argc, argv); }
int prose_cli_bundle(int argc, char **argv) { return cmd_bundle(argc, argv); }
