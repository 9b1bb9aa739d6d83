/*
 * `prose crypto`: the crypto primitives on the command line, hex in and hex
 * out, for interop work with other vendors' KMSs and clients.
 *
 * Octet strings are big-endian hex, points 04 || X || Y, identifiers the raw
 * octets in hex. Exit status: 0 success; 1 a verification failed (signature
 * invalid, SAKKE TEST failed); 2 bad usage or bad input (malformed hex, wrong
 * length, a point off the curve, a key set that fails validation).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_opts.h"
#include "prose/eccsi.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/rng.h"
#include "prose/sakke.h"
#include "prose/selftest.h"
#include "prose/util.h"

#define PROG "prose crypto"
#define MAX_ID 1024
#define MAX_MSG 65536
#define EXIT_BAD 2
#define EXIT_FAIL 1

/* Report a library error for a person: one line, exit 2. */
static int fail_input(const char *what, int rc) {
  fprintf(stderr, PROG ": %s: %s (%s)\n", what, prose_strerror(rc), prose_err_name(rc));
  return EXIT_BAD;
}

#define PARSE(argc, argv)                                                              \
  do {                                                                                 \
    if (cli_parse(PROG, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD; \
  } while (0)

static int cmd_uid(int argc, char **argv) {
  OPTS({"uri", true, true, NULL}, {"kms", true, true, NULL}, {"period", true, true, NULL},
       {"offset", true, true, NULL}, {"period-no", true, true, NULL});
  PARSE(argc, argv);
  uint64_t period, offset, no;
  if (cli_u64(PROG, "period", GET("period"), &period) ||
      cli_u64(PROG, "offset", GET("offset"), &offset) ||
      cli_u64(PROG, "period-no", GET("period-no"), &no))
    return EXIT_BAD;
  uint8_t uid[PROSE_UID_LEN];
  int rc = prose_uid(GET("uri"), GET("kms"), period, offset, no, uid);
  if (rc) return fail_input("uid", rc);
  cli_print_hex(NULL, uid, sizeof uid);
  return 0;
}

static int cmd_eccsi_keygen(int argc, char **argv) {
  OPTS({"help", false, false, NULL});
  PARSE(argc, argv);
  uint8_t ksak[32], kpak[65];
  int rc = prose_eccsi_kms_keygen(prose_rng_system(), ksak, kpak);
  if (rc) return fail_input("eccsi-keygen", rc);
  cli_print_hex("KSAK", ksak, sizeof ksak);
  cli_print_hex("KPAK", kpak, sizeof kpak);
  prose_wipe(ksak, sizeof ksak);
  return 0;
}

static int cmd_eccsi_issue(int argc, char **argv) {
  OPTS({"ksak", true, true, NULL}, {"id", true, true, NULL});
  PARSE(argc, argv);
  uint8_t ksak[32], id[MAX_ID], ssk[32], pvt[65];
  size_t id_len = 0;
  int status = EXIT_BAD;
  if (cli_hex(PROG, "ksak", GET("ksak"), ksak, 32, 0, NULL)) goto out;
  if (cli_hex(PROG, "id", GET("id"), id, 0, sizeof id, &id_len)) goto out;
  int rc = prose_eccsi_issue(prose_rng_system(), ksak, id, id_len, ssk, pvt);
  if (rc) {
    status = fail_input("--ksak", rc);
    goto out;
  }
  cli_print_hex("SSK", ssk, sizeof ssk);
  cli_print_hex("PVT", pvt, sizeof pvt);
  status = 0;
out:
  prose_wipe(ksak, sizeof ksak);
  prose_wipe(ssk, sizeof ssk);
  return status;
}

static int cmd_eccsi_sign(int argc, char **argv) {
  OPTS({"kpak", true, true, NULL}, {"ssk", true, true, NULL}, {"pvt", true, true, NULL},
       {"id", true, true, NULL}, {"msg", true, true, NULL});
  PARSE(argc, argv);
  static uint8_t msg[MAX_MSG];
  uint8_t kpak[65], ssk[32], pvt[65], id[MAX_ID], sig[PROSE_ECCSI_SIG_LEN];
  size_t id_len = 0, msg_len = 0;
  prose_eccsi_signer *s = NULL;
  int status = EXIT_BAD, rc;
  if (cli_hex(PROG, "kpak", GET("kpak"), kpak, 65, 0, NULL) ||
      cli_hex(PROG, "ssk", GET("ssk"), ssk, 32, 0, NULL) ||
      cli_hex(PROG, "pvt", GET("pvt"), pvt, 65, 0, NULL) ||
      cli_hex(PROG, "id", GET("id"), id, 0, sizeof id, &id_len) ||
      cli_hex(PROG, "msg", GET("msg"), msg, 0, sizeof msg, &msg_len))
    goto out;
  rc = prose_eccsi_signer_new(&s, kpak, id, id_len, ssk, pvt);
  if (rc) {
    status = fail_input("key set (--kpak/--ssk/--pvt/--id)", rc);
    goto out;
  }
  rc = prose_eccsi_sign(s, prose_rng_system(), msg, msg_len, sig);
  if (rc) {
    status = fail_input("sign", rc);
    goto out;
  }
  cli_print_hex(NULL, sig, sizeof sig);
  status = 0;
out:
  prose_eccsi_signer_free(s);
  prose_wipe(ssk, sizeof ssk);
  return status;
}

static int cmd_eccsi_verify(int argc, char **argv) {
  OPTS({"kpak", true, true, NULL}, {"id", true, true, NULL}, {"msg", true, true, NULL},
       {"sig", true, true, NULL});
  PARSE(argc, argv);
  static uint8_t msg[MAX_MSG];
  uint8_t kpak[65], id[MAX_ID], sig[PROSE_ECCSI_SIG_LEN];
  size_t id_len = 0, msg_len = 0;
  prose_eccsi_verifier *v = NULL;
  int status = EXIT_BAD, rc;
  if (cli_hex(PROG, "kpak", GET("kpak"), kpak, 65, 0, NULL) ||
      cli_hex(PROG, "id", GET("id"), id, 0, sizeof id, &id_len) ||
      cli_hex(PROG, "msg", GET("msg"), msg, 0, sizeof msg, &msg_len) ||
      cli_hex(PROG, "sig", GET("sig"), sig, sizeof sig, 0, NULL))
    goto out;
  rc = prose_eccsi_verifier_new(&v, kpak);
  if (rc) {
    status = fail_input("--kpak", rc);
    goto out;
  }
  rc = prose_eccsi_verify(v, id, id_len, msg, msg_len, sig, sizeof sig);
  if (rc == 0) {
    puts("valid");
    status = 0;
  } else if (rc == PROSE_ESIG) {
    puts("invalid");
    status = EXIT_FAIL;
  } else {
    status = fail_input("--sig (PVT)", rc);
  }
out:
  prose_eccsi_verifier_free(v);
  return status;
}

static int cmd_sakke_keygen(int argc, char **argv) {
  OPTS({"help", false, false, NULL});
  PARSE(argc, argv);
  uint8_t z[PROSE_SAKKE_FP_LEN], Z[PROSE_SAKKE_POINT_LEN];
  int rc = prose_sakke_kms_keygen(prose_rng_system(), z, Z);
  if (rc) return fail_input("sakke-keygen", rc);
  cli_print_hex("z", z, sizeof z);
  cli_print_hex("Z", Z, sizeof Z);
  prose_wipe(z, sizeof z);
  return 0;
}

static int cmd_sakke_issue(int argc, char **argv) {
  OPTS({"z", true, true, NULL}, {"id", true, true, NULL});
  PARSE(argc, argv);
  uint8_t z[PROSE_SAKKE_FP_LEN], id[MAX_ID], rsk[PROSE_SAKKE_POINT_LEN];
  size_t z_len = 0, id_len = 0;
  int status = EXIT_BAD, rc;
  if (cli_hex(PROG, "z", GET("z"), z, 0, sizeof z, &z_len) ||
      cli_hex(PROG, "id", GET("id"), id, 0, sizeof id, &id_len))
    goto out;
  rc = prose_sakke_issue_rsk(z, z_len, id, id_len, rsk);
  if (rc) {
    status = fail_input("--z", rc);
    goto out;
  }
  cli_print_hex("RSK", rsk, sizeof rsk);
  status = 0;
out:
  prose_wipe(z, sizeof z);
  prose_wipe(rsk, sizeof rsk);
  return status;
}

static int cmd_sakke_encap(int argc, char **argv) {
  OPTS({"Z", true, true, NULL}, {"id", true, true, NULL}, {"ssv", true, true, NULL});
  PARSE(argc, argv);
  uint8_t Z[PROSE_SAKKE_POINT_LEN], id[MAX_ID], ssv[PROSE_SAKKE_SSV_LEN], ed[PROSE_SAKKE_ED_LEN];
  size_t id_len = 0;
  prose_sakke_pub *pub = NULL;
  int status = EXIT_BAD, rc;
  if (cli_hex(PROG, "Z", GET("Z"), Z, sizeof Z, 0, NULL) ||
      cli_hex(PROG, "id", GET("id"), id, 0, sizeof id, &id_len) ||
      cli_hex(PROG, "ssv", GET("ssv"), ssv, sizeof ssv, 0, NULL))
    goto out;
  rc = prose_sakke_pub_new(&pub, Z);
  if (rc) {
    status = fail_input("--Z", rc);
    goto out;
  }
  rc = prose_sakke_encap(pub, id, id_len, ssv, ed);
  if (rc) {
    status = fail_input("encapsulate", rc);
    goto out;
  }
  cli_print_hex(NULL, ed, sizeof ed);
  status = 0;
out:
  prose_sakke_pub_free(pub);
  prose_wipe(ssv, sizeof ssv);
  return status;
}

static int cmd_sakke_decap(int argc, char **argv) {
  OPTS({"Z", true, true, NULL}, {"rsk", true, true, NULL}, {"id", true, true, NULL},
       {"data", true, true, NULL});
  PARSE(argc, argv);
  uint8_t Z[PROSE_SAKKE_POINT_LEN], rsk[PROSE_SAKKE_POINT_LEN], id[MAX_ID];
  uint8_t ed[PROSE_SAKKE_ED_LEN], ssv[PROSE_SAKKE_SSV_LEN];
  size_t id_len = 0;
  prose_sakke_recipient *rcp = NULL;
  int status = EXIT_BAD, rc;
  if (cli_hex(PROG, "Z", GET("Z"), Z, sizeof Z, 0, NULL) ||
      cli_hex(PROG, "rsk", GET("rsk"), rsk, sizeof rsk, 0, NULL) ||
      cli_hex(PROG, "id", GET("id"), id, 0, sizeof id, &id_len) ||
      cli_hex(PROG, "data", GET("data"), ed, sizeof ed, 0, NULL))
    goto out;
  rc = prose_sakke_recipient_new(&rcp, Z, id, id_len, rsk);
  if (rc) {
    status = fail_input("key set (--Z/--rsk/--id)", rc);
    goto out;
  }
  rc = prose_sakke_decap(rcp, ed, sizeof ed, ssv);
  if (rc == PROSE_ESAKKE_TEST) {
    fprintf(stderr, PROG ": %s\n", prose_strerror(rc));
    status = EXIT_FAIL;
    goto out;
  }
  if (rc) {
    status = fail_input("--data", rc);
    goto out;
  }
  cli_print_hex(NULL, ssv, sizeof ssv);
  status = 0;
out:
  prose_sakke_recipient_free(rcp);
  prose_wipe(rsk, sizeof rsk);
  prose_wipe(ssv, sizeof ssv);
  return status;
}

static void selftest_line(void *ud, const char *name, int result, const char *detail) {
  (void)ud;
  printf("%-10s %s  %s\n", name, result == 0 ? "ok  " : "FAIL", detail);
}

static int cmd_selftest(int argc, char **argv) {
  OPTS({"help", false, false, NULL});
  PARSE(argc, argv);
  int rc = prose_crypto_selftest(selftest_line, NULL);
  if (rc) {
    fprintf(stderr, PROG ": selftest FAILED\n");
    return EXIT_FAIL;
  }
  puts("selftest: all known-answer tests passed");
  return 0;
}

static const struct {
  const char *name;
  int (*fn)(int argc, char **argv);
  const char *usage;
} cmds[] = {
    {"uid", cmd_uid, "--uri URI --kms KMS_URI --period SEC --offset SEC --period-no N"},
    {"eccsi-keygen", cmd_eccsi_keygen, ""},
    {"eccsi-issue", cmd_eccsi_issue, "--ksak H --id H"},
    {"eccsi-sign", cmd_eccsi_sign, "--kpak H --ssk H --pvt H --id H --msg H"},
    {"eccsi-verify", cmd_eccsi_verify, "--kpak H --id H --msg H --sig H"},
    {"sakke-keygen", cmd_sakke_keygen, ""},
    {"sakke-issue", cmd_sakke_issue, "--z H --id H"},
    {"sakke-encap", cmd_sakke_encap, "--Z H --id H --ssv H"},
    {"sakke-decap", cmd_sakke_decap, "--Z H --rsk H --id H --data H"},
    {"selftest", cmd_selftest, ""},
};

static void usage(FILE *f) {
  fputs("usage: prose crypto COMMAND [OPTIONS]   (octets as hex, points as 04||X||Y)\n\n", f);
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cmds); i++)
    fprintf(f, "  %-13s %s\n", cmds[i].name, cmds[i].usage);
  fputs("\nexit status: 0 ok, 1 verification failed, 2 bad usage or input\n", f);
}

int prose_cli_crypto(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return EXIT_BAD;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  for (size_t i = 0; i < PROSE_ARRAY_LEN(cmds); i++)
    if (strcmp(argv[1], cmds[i].name) == 0) return cmds[i].fn(argc - 1, argv + 1);
  fprintf(stderr, PROG ": unknown command '%s' (see 'prose crypto --help')\n", argv[1]);
  return EXIT_BAD;
}
