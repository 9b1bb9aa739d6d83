/*
 * The device side: `prose store` (init, import, list, expire, trust) and
 * `prose mikey decode`.
 *
 * Exit status: 0 success, 1 the operation failed (or, for import, any file
 * failed; each failed file leaves the store exactly as it was), 2 bad usage.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_common.h"
#include "cli_opts.h"
#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/keyring.h"
#include "prose/kmsxml.h"
#include "prose/mikey.h"
#include "prose/store.h"
#include "prose/util.h"

#define EXIT_BAD 2
#define MAX_DOC (16u * 1024u * 1024u)


static const char *format_name(prose_import_format f) {
  switch (f) {
    case PROSE_IMPORT_BUNDLE:
      return "bundle";
    case PROSE_IMPORT_KMSXML:
      return "KMS XML";
    case PROSE_IMPORT_IMESSAGE:
      return "I_MESSAGE";
    case PROSE_IMPORT_UNKNOWN:
      break;
  }
  return "unknown";
}

static int store_init(int argc, char **argv) {
  const char *prog = "prose store init";
  OPTS({"db", true, true, NULL}, {"owner", true, false, NULL},
       {"passphrase-file", true, false, NULL});
  cli_multi trust = {"trust-gms", NULL, 0, 0};
  int status = EXIT_BAD;
  prose_store *st = NULL;
  if (cli_parse_multi(prog, argc, argv, 1, opts, n_opts, &trust, 1)) goto out;
  status = 1;
  if (cli_store_open(prog, GET("db"), GET("passphrase-file"), 1, PROSE_STORE_DEVICE, GET("owner"),
                     &st))
    goto out;
  for (size_t i = 0; i < trust.n; i++) {
    int rc = prose_store_trust_gms(st, trust.values[i]);
    if (rc) {
      status = cli_report(prog, trust.values[i], rc, NULL);
      goto out;
    }
  }
  printf("store created in %s%s%s\n", GET("db"), GET("owner") ? " for " : "",
         GET("owner") ? GET("owner") : "");
  status = 0;
out:
  free(trust.values);
  prose_store_close(st);
  return status;
}

static int store_import(int argc, char **argv) {
  const char *prog = "prose store import";
  OPTS({"db", true, true, NULL}, {"at", true, false, NULL}, {"passphrase-file", true, false, NULL});
  const char *files[256];
  size_t n_files = 0;
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, files, PROSE_ARRAY_LEN(files), &n_files))
    return EXIT_BAD;
  if (n_files == 0) {
    fprintf(stderr, "%s: no FILE given\n", prog);
    return EXIT_BAD;
  }
  uint64_t t;
  if (cli_time(prog, "at", GET("at"), &t)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("db"), GET("passphrase-file"), 0, PROSE_STORE_DEVICE, NULL, &st))
    return 1;
  int status = 0;
  /* Each file is its own transaction: one bad file does not undo the others. */
  for (size_t i = 0; i < n_files; i++) {
    prose_import_summary s;
    prose_diag d;
    prose_diag_clear(&d);
    memset(&s, 0, sizeof s);
    int rc = prose_store_import_file(st, files[i], t, &s, &d);
    if (rc) {
      status = cli_report(prog, files[i], rc, &d);
      continue;
    }
    printf("%s: %s: %zu certificate(s), %zu key set(s), %zu GMK(s), %zu trusted GMS, "
           "%zu unchanged\n",
           files[i], format_name(s.format), s.certs, s.keysets, s.gmks, s.trusted_gms,
           s.unchanged);
  }
  prose_store_close(st);
  return status;
}

static void fmt_time(uint64_t ntp, char out[32]) {
  if (ntp == 0)
    snprintf(out, 32, "-");
  else if (ntp >= PROSE_STORE_NEVER)
    snprintf(out, 32, "never");
  else
    prose_kmsxml_format_time(ntp, out);
}

static json_t *item_json(const prose_store_item *it) {
  json_t *o = json_object();
  char hex[65], a[32], b[32];
  json_object_set_new(o, "kind", json_string(prose_store_item_kind_name(it->kind)));
  json_object_set_new(o, "state", json_string(prose_store_state_name(it->state)));
  if (it->uri && *it->uri) json_object_set_new(o, "uri", json_string(it->uri));
  if (it->kms_uri && *it->kms_uri) json_object_set_new(o, "kms", json_string(it->kms_uri));
  if (it->group_id && *it->group_id) json_object_set_new(o, "group", json_string(it->group_id));
  if (it->gms_uri && *it->gms_uri) json_object_set_new(o, "gms", json_string(it->gms_uri));
  switch (it->kind) {
    case PROSE_ITEM_KMS:
      json_object_set_new(o, "period", json_integer((json_int_t)it->period));
      json_object_set_new(o, "offset", json_integer((json_int_t)it->offset));
      break;
    case PROSE_ITEM_KEYSET:
      json_object_set_new(o, "period_no", json_integer((json_int_t)it->period_no));
      prose_hex_encode(it->uid, 32, hex);
      json_object_set_new(o, "uid", json_string(hex));
      break;
    case PROSE_ITEM_GMK:
      snprintf(hex, sizeof hex, "%08x", it->key_id2);
      json_object_set_new(o, "guk_id", json_string(hex));
      /* fall through */
    case PROSE_ITEM_PCK:
    case PROSE_ITEM_GMS_GMK:
      snprintf(hex, sizeof hex, "%08x", it->key_id);
      json_object_set_new(o, "key_id", json_string(hex));
      break;
    case PROSE_ITEM_GMS_GROUP:
      json_object_set_new(o, "members", json_integer((json_int_t)it->n_members));
      break;
    case PROSE_ITEM_TRUSTED_GMS:
    case PROSE_ITEM_KMS_MASTER:
    case PROSE_ITEM_GMS_MEMBER:
      break;
  }
  if (it->start || it->end) {
    fmt_time(it->start, a);
    fmt_time(it->end, b);
    json_object_set_new(o, "from", json_string(a));
    json_object_set_new(o, "until", json_string(b));
  }
  return o;
}

static int list_text(void *ud, const prose_store_item *it) {
  (void)ud;
  char a[32], b[32];
  fmt_time(it->start, a);
  fmt_time(it->end, b);
  printf("%-12s %-8s", prose_store_item_kind_name(it->kind), prose_store_state_name(it->state));
  switch (it->kind) {
    case PROSE_ITEM_KMS:
      printf(" %s period %llus offset %llus", it->uri, (unsigned long long)it->period,
             (unsigned long long)it->offset);
      break;
    case PROSE_ITEM_KEYSET:
      printf(" %s @ %s period %llu", it->uri, it->kms_uri, (unsigned long long)it->period_no);
      break;
    case PROSE_ITEM_GMK:
      printf(" group %s GMK-ID %08x GUK-ID %08x for %s from %s", it->group_id, it->key_id,
             it->key_id2, it->uri, it->gms_uri);
      break;
    case PROSE_ITEM_PCK:
      printf(" PCK-ID %08x peer %s", it->key_id, it->uri);
      break;
    case PROSE_ITEM_GMS_GMK:
      printf(" group %s GMK-ID %08x", it->group_id, it->key_id);
      break;
    case PROSE_ITEM_GMS_GROUP:
      printf(" group %s, %zu member(s)", it->group_id, it->n_members);
      break;
    case PROSE_ITEM_GMS_MEMBER:
      printf(" group %s member %s", it->group_id, it->uri);
      break;
    case PROSE_ITEM_TRUSTED_GMS:
    case PROSE_ITEM_KMS_MASTER:
      printf(" %s", it->uri);
      break;
  }
  if (it->start || it->end) printf("  [%s .. %s)", a, b);
  putchar('\n');
  return 0;
}

static int list_json(void *ud, const prose_store_item *it) {
  json_array_append_new((json_t *)ud, item_json(it));
  return 0;
}

static int store_list(int argc, char **argv) {
  const char *prog = "prose store list";
  OPTS({"db", true, true, NULL}, {"at", true, false, NULL}, {"json", false, false, NULL},
       {"passphrase-file", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  uint64_t t;
  if (cli_time(prog, "at", GET("at"), &t)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("db"), GET("passphrase-file"), 0, PROSE_STORE_DEVICE, NULL, &st))
    return 1;
  int rc;
  if (GET("json")) {
    json_t *arr = json_array();
    rc = prose_store_list(st, t, list_json, arr);
    if (rc == 0) {
      json_t *o = json_object();
      json_object_set_new(o, "owner", json_string(prose_store_owner(st)));
      json_object_set_new(o, "items", arr);
      json_dumpf(o, stdout, JSON_INDENT(2));
      putchar('\n');
      json_decref(o);
    } else {
      json_decref(arr);
    }
  } else {
    if (*prose_store_owner(st)) printf("owner        %s\n", prose_store_owner(st));
    rc = prose_store_list(st, t, list_text, NULL);
  }
  prose_store_close(st);
  return rc ? cli_report(prog, GET("db"), rc, NULL) : 0;
}

static int store_expire(int argc, char **argv) {
  const char *prog = "prose store expire";
  OPTS({"db", true, true, NULL}, {"at", true, false, NULL}, {"passphrase-file", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  uint64_t t;
  if (cli_time(prog, "at", GET("at"), &t)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("db"), GET("passphrase-file"), 0, PROSE_STORE_DEVICE, NULL, &st))
    return 1;
  prose_expire_summary s;
  memset(&s, 0, sizeof s);
  int rc = prose_store_expire(st, t, &s);
  prose_store_close(st);
  if (rc) return cli_report(prog, GET("db"), rc, NULL);
  printf("removed %zu certificate(s), %zu key set(s), %zu GMK(s), %zu PCK(s), %zu GMS GMK(s)\n",
         s.certs, s.keysets, s.gmks, s.pcks, s.gms_gmks);
  return 0;
}

static int store_trust(int argc, char **argv, int trust) {
  const char *prog = trust ? "prose store trust-gms" : "prose store untrust-gms";
  OPTS({"db", true, true, NULL}, {"gms", true, true, NULL}, {"passphrase-file", true, false, NULL});
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, NULL, 0, NULL)) return EXIT_BAD;
  prose_store *st = NULL;
  if (cli_store_open(prog, GET("db"), GET("passphrase-file"), 0, PROSE_STORE_DEVICE, NULL, &st))
    return 1;
  int rc = trust ? prose_store_trust_gms(st, GET("gms")) : prose_store_untrust_gms(st, GET("gms"));
  prose_store_close(st);
  return rc ? cli_report(prog, GET("gms"), rc, NULL) : 0;
}

int prose_cli_store(int argc, char **argv) {
  const char *v = argc >= 2 ? argv[1] : "";
  if (strcmp(v, "init") == 0) return store_init(argc - 1, argv + 1);
  if (strcmp(v, "import") == 0) return store_import(argc - 1, argv + 1);
  if (strcmp(v, "list") == 0) return store_list(argc - 1, argv + 1);
  if (strcmp(v, "expire") == 0) return store_expire(argc - 1, argv + 1);
  if (strcmp(v, "trust-gms") == 0) return store_trust(argc - 1, argv + 1, 1);
  if (strcmp(v, "untrust-gms") == 0) return store_trust(argc - 1, argv + 1, 0);
  FILE *f = strcmp(v, "--help") == 0 ? stdout : stderr;
  fputs("usage: prose store init --db DIR [--owner URI] [--trust-gms URI...] [--passphrase-file F]\n"
        "       prose store import --db DIR [--at TIME] FILE...\n"
        "       prose store list --db DIR [--at TIME] [--json]\n"
        "       prose store expire --db DIR [--at TIME]\n"
        "       prose store trust-gms|untrust-gms --db DIR --gms URI\n"
        "FILE: a bundle, a KMS XML document or a GMK I_MESSAGE (detected from its content)\n",
        f);
  return f == stdout ? 0 : EXIT_BAD;
}

/* ---- prose mikey decode ----------------------------------------------- */

/* A keyring for the receiving user from a KMS certificate file and a key-set
 * file, without a store (all key sets in the file are added). */
static int keyring_from_files(const char *prog, const char *cert_path, const char *keys_path,
                              prose_keyring **out) {
  uint8_t *cbuf = NULL, *kbuf = NULL;
  size_t clen = 0, klen = 0;
  prose_kmsxml_doc cdoc, kdoc;
  prose_keyring *kr = NULL;
  prose_diag d;
  int status = 1, rc;
  prose_kmsxml_doc_init(&cdoc);
  prose_kmsxml_doc_init(&kdoc);
  prose_diag_clear(&d);
  if (cli_read_file(prog, cert_path, MAX_DOC, &cbuf, &clen) ||
      cli_read_file(prog, keys_path, MAX_DOC, &kbuf, &klen))
    goto out;
  if ((rc = prose_kmsxml_parse(cbuf, clen, &cdoc, &d)) != 0) {
    cli_report(prog, cert_path, rc, &d);
    goto out;
  }
  if ((rc = prose_kmsxml_parse(kbuf, klen, &kdoc, &d)) != 0) {
    cli_report(prog, keys_path, rc, &d);
    goto out;
  }
  if (kdoc.n_keysets == 0) {
    fprintf(stderr, "%s: %s: no KmsKeySet in the document\n", prog, keys_path);
    goto out;
  }
  if ((rc = prose_keyring_new(&kr, kdoc.keysets[0].user_uri, NULL)) != 0) goto fail;
  for (size_t i = 0; i < cdoc.n_certs; i++) {
    prose_kms_cert c = {.uri = cdoc.certs[i].kms_uri,
                        .period = cdoc.certs[i].period,
                        .offset = cdoc.certs[i].offset};
    memcpy(c.kpak, cdoc.certs[i].kpak, sizeof c.kpak);
    memcpy(c.z, cdoc.certs[i].z, sizeof c.z);
    if ((rc = prose_keyring_add_kms(kr, &c)) != 0) goto fail;
  }
  for (size_t i = 0; i < kdoc.n_keysets; i++) {
    prose_kmsxml_keyset *x = &kdoc.keysets[i];
    prose_keyset ks = {.kms_uri = x->kms_uri, .period_no = x->period_no, .uid = x->uid};
    memcpy(ks.ssk, x->ssk, sizeof ks.ssk);
    memcpy(ks.pvt, x->pvt, sizeof ks.pvt);
    memcpy(ks.rsk, x->rsk, sizeof ks.rsk);
    rc = prose_keyring_add_keyset(kr, &ks);
    prose_wipe(&ks, sizeof ks);
    if (rc) goto fail;
  }
  *out = kr;
  kr = NULL;
  status = 0;
  goto out;
fail:
  cli_report(prog, keys_path, rc, NULL);
out:
  prose_keyring_free(kr);
  prose_kmsxml_doc_free(&cdoc);
  prose_kmsxml_doc_free(&kdoc);
  if (cbuf) prose_free_secret(cbuf, MAX_DOC + 1);
  if (kbuf) prose_free_secret(kbuf, MAX_DOC + 1);
  return status;
}

static json_t *view_str(prose_mikey_view v) { return json_stringn((const char *)v.p, v.len); }

static json_t *hex_json(const uint8_t *p, size_t n) {
  char *s = malloc(2 * n + 1);
  if (!s) return json_null();
  prose_hex_encode(p, n, s);
  json_t *j = json_string(s);
  prose_wipe(s, 2 * n + 1);
  free(s);
  return j;
}

static json_t *time_json(uint64_t unix_s) {
  char t[32];
  prose_kmsxml_format_time(unix_s + PROSE_NTP_UNIX_OFFSET, t);
  return json_string(t);
}

static json_t *result_json(const prose_mikey_result *r, bool reveal) {
  json_t *o = json_object();
  char id[16];
  const prose_mikey_msg *m = &r->msg;
  json_object_set_new(o, "signature_valid", json_true());
  json_object_set_new(o, "signature_form", json_string(r->sig_variant ? "without SIGN header"
                                                                      : "RFC 3830"));
  json_object_set_new(o, "sender", json_string(r->initiator_uri));
  json_object_set_new(o, "sender_kms", json_string(r->initiator_kms));
  json_object_set_new(o, "recipient", m->idr_r.present ? view_str(m->idr_r.id) : json_null());
  json_object_set_new(o, "key_type", json_string(r->kind == PROSE_MIKEY_GMK ? "GMK" : "PCK"));
  snprintf(id, sizeof id, "%08x", r->key_id);
  json_object_set_new(o, "key_id", json_string(id));
  if (r->kind == PROSE_MIKEY_GMK) {
    snprintf(id, sizeof id, "%08x", r->csb_id);
    json_object_set_new(o, "guk_id", json_string(id));
  } else {
    json_object_set_new(o, "guk_id", json_null());
  }
  if (m->has_kp) {
    json_t *groups = json_array();
    for (size_t i = 0; i < m->kp.n_groups; i++) json_array_append_new(groups, view_str(m->kp.groups[i]));
    json_object_set_new(o, "group", m->kp.n_groups ? view_str(m->kp.groups[0]) : json_null());
    json_object_set_new(o, "groups", groups);
    json_object_set_new(o, "activation", time_json(m->kp.activation));
    /* An expiry of 0 on the wire means "no expiry" (store.c, E.6 decision). */
    json_object_set_new(o, "expiry",
                        m->kp.expiry ? time_json(m->kp.expiry) : json_string("never"));
  } else {
    json_object_set_new(o, "group", json_null());
    json_object_set_new(o, "activation", json_null());
    json_object_set_new(o, "expiry", json_null());
  }
  char t[32];
  prose_kmsxml_format_time(r->t >> 32, t);
  json_object_set_new(o, "time", json_string(t));
  json_object_set_new(o, "rand", hex_json(r->rand, r->rand_len));
  if (reveal) json_object_set_new(o, "key", hex_json(r->key, sizeof r->key));
  return o;
}

static int cmd_mikey_decode(int argc, char **argv) {
  const char *prog = "prose mikey decode";
  OPTS({"db", true, false, NULL}, {"kms-cert", true, false, NULL}, {"key-sets", true, false, NULL},
       {"reveal-key", false, false, NULL}, {"at", true, false, NULL},
       {"passphrase-file", true, false, NULL});
  const char *file[1];
  size_t n_file = 0;
  if (cli_parse(prog, argc, argv, 1, opts, n_opts, file, 1, &n_file)) return EXIT_BAD;
  bool with_store = GET("db") != NULL, with_files = GET("kms-cert") && GET("key-sets");
  if (n_file != 1 || with_store == with_files) {
    fprintf(stderr, "usage: %s (--db DIR | --kms-cert FILE --key-sets FILE) [--reveal-key] "
                    "[--at TIME] FILE\n", prog);
    return EXIT_BAD;
  }
  uint8_t *msg = NULL;
  size_t len = 0;
  prose_keyring *kr = NULL;
  prose_store *st = NULL;
  prose_mikey_result res;
  prose_mikey_msg m;
  int status = 1, rc;
  memset(&res, 0, sizeof res);
  if (cli_read_file(prog, file[0], MAX_DOC, &msg, &len)) goto out;
  /* Decode first: a malformed message is reported as such before any key is
   * loaded, and the time to check it at defaults to its own T. */
  if ((rc = prose_mikey_decode(msg, len, &m)) != 0) {
    cli_report(prog, file[0], rc, NULL);
    goto out;
  }
  uint64_t now = m.t >> 32;
  if (GET("at") && cli_time(prog, "at", GET("at"), &now)) {
    status = EXIT_BAD;
    goto out;
  }
  if (with_store) {
    prose_diag d;
    prose_diag_clear(&d);
    if (cli_store_open(prog, GET("db"), GET("passphrase-file"), 0, PROSE_STORE_DEVICE, NULL, &st))
      goto out;
    if (!*prose_store_owner(st)) {
      fprintf(stderr, "%s: %s: the store has no owner identity to decode for\n", prog, GET("db"));
      goto out;
    }
    if ((rc = prose_keyring_new(&kr, prose_store_owner(st), NULL)) != 0 ||
        (rc = prose_store_load_keyring(st, kr, m.t >> 32, &d)) != 0) {
      cli_report(prog, GET("db"), rc, &d);
      goto out;
    }
  } else if (keyring_from_files(prog, GET("kms-cert"), GET("key-sets"), &kr)) {
    goto out;
  }
  if ((rc = prose_mikey_process(kr, now, msg, len, &res)) != 0) {
    cli_report(prog, file[0], rc, NULL);
    goto out;
  }
  json_t *o = result_json(&res, GET("reveal-key") != NULL);
  char *s = json_dumps(o, JSON_INDENT(2));
  if (s) {
    puts(s);
    prose_free_secret(s, strlen(s));
  }
  json_decref(o);
  status = 0;
out:
  prose_mikey_result_clear(&res);
  prose_keyring_free(kr);
  prose_store_close(st);
  free(msg);
  return status;
}

int prose_cli_mikey(int argc, char **argv) {
  if (argc >= 2 && strcmp(argv[1], "decode") == 0) return cmd_mikey_decode(argc - 1, argv + 1);
  fputs("usage: prose mikey decode (--db DIR | --kms-cert FILE --key-sets FILE) [--reveal-key] "
        "FILE\n",
        argc >= 2 && strcmp(argv[1], "--help") == 0 ? stdout : stderr);
  return argc >= 2 && strcmp(argv[1], "--help") == 0 ? 0 : EXIT_BAD;
}
