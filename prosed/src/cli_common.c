#include "cli_common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_opts.h"
#include "prose/err.h"
#include "prose/util.h"

int cli_report(const char *prog, const char *what, int rc, const prose_diag *d) {
  const char *msg = d && d->msg[0] ? d->msg : prose_strerror(rc);
  if (what)
    fprintf(stderr, "%s: %s: %s (%s)\n", prog, what, msg, prose_err_name(rc));
  else
    fprintf(stderr, "%s: %s (%s)\n", prog, msg, prose_err_name(rc));
  return 1;
}

int cli_read_passphrase(const char *prog, const char *path, char **pass, size_t *len) {
  uint8_t *buf = NULL;
  size_t n = 0;
  int rc = cli_read_file(prog, path, 4096, &buf, &n);
  if (rc) return rc;
  size_t end = 0;
  while (end < n && buf[end] != '\n' && buf[end] != '\r') end++;
  if (end == 0) {
    fprintf(stderr, "%s: %s: the passphrase is empty\n", prog, path);
    prose_free_secret(buf, 4097);
    return PROSE_EUSAGE;
  }
  buf[end] = '\0';
  /* Hand over a buffer of exactly end + 1 octets so the caller wipes it all. */
  char *p = malloc(end + 1);
  if (p) memcpy(p, buf, end + 1);
  prose_free_secret(buf, 4097);
  if (!p) return PROSE_ENOMEM;
  *pass = p;
  *len = end;
  return 0;
}

int cli_store_open(const char *prog, const char *dir, const char *passphrase_file, int create,
                   prose_store_role role, const char *owner, prose_store **out) {
  prose_store_settings s;
  prose_diag d;
  char *pass = NULL;
  size_t pass_len = 0;
  int rc;
  prose_store_settings_default(&s);
  prose_diag_clear(&d);
  if (passphrase_file) {
    rc = cli_read_passphrase(prog, passphrase_file, &pass, &pass_len);
    if (rc) return 1;
    s.passphrase = pass;
    s.passphrase_len = pass_len;
  }
  s.role = role;
  s.owner_uri = owner;
  rc = create ? prose_store_create(out, dir, &s, &d) : prose_store_open(out, dir, &s, &d);
  if (pass) prose_free_secret(pass, pass_len + 1);
  if (rc) return cli_report(prog, dir, rc, &d);
  return 0;
}

int cli_find_prosed(char *out, size_t cap) {
  char self[4096];
  ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
  if (n <= 0) return -1;
  self[n] = '\0';
  char *slash = strrchr(self, '/');
  if (!slash) return -1;
  *slash = '\0';
  if ((size_t)snprintf(out, cap, "%s/prosed", self) >= cap) return -1;
  return access(out, X_OK);
}
