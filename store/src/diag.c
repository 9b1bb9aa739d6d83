#include "prose/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void prose_diag_clear(prose_diag *d) {
  if (!d) return;
  d->code = 0;
  d->msg[0] = '\0';
}

int prose_diag_set(prose_diag *d, int code, const char *fmt, ...) {
  /* Keep the first (innermost) failure: it is the most precise description. */
  if (!d || d->code != 0) return code;
  d->code = code;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(d->msg, sizeof d->msg, fmt, ap);
  va_end(ap);
  return code;
}

void prose_diag_prefix(prose_diag *d, const char *prefix) {
  if (!d || d->code == 0 || !prefix) return;
  /* Room for both parts, then truncate to the message size. */
  char tmp[2 * PROSE_DIAG_MSG_MAX + 4];
  snprintf(tmp, sizeof tmp, "%.*s: %s", PROSE_DIAG_MSG_MAX, prefix, d->msg);
  memcpy(d->msg, tmp, sizeof d->msg - 1);
  d->msg[sizeof d->msg - 1] = '\0';
}
