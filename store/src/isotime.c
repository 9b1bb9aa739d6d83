/*
 * xs:dateTime <-> NTP seconds without the C library's time zone machinery
 * (timegm is not POSIX, and the store never consults the local clock or
 * zone). Calendar arithmetic is the proleptic Gregorian "days from civil"
 * algorithm.
 */
#include <stdbool.h>
#include <string.h>

#include "prose/err.h"
#include "prose/kdf.h"
#include "prose/kmsxml.h"

/* Days since 1970-01-01 of y-m-d (may be negative before 1970). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, int64_t *m, int64_t *d) {
  z += 719468;
  int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp + (mp < 10 ? 3 : -9);
  *y = yoe + era * 400 + (*m <= 2);
}

/* Read exactly n decimal digits. */
static bool digits(const char **s, int n, int64_t *v) {
  int64_t x = 0;
  for (int i = 0; i < n; i++) {
    char c = (*s)[i];
    if (c < '0' || c > '9') return false;
    x = x * 10 + (c - '0');
  }
  *s += n;
  *v = x;
  return true;
}

static bool expect(const char **s, char c) {
  if (**s != c) return false;
  (*s)++;
  return true;
}

static int days_in_month(int64_t y, int64_t m) {
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return (m == 2 && leap) ? 29 : dm[m - 1];
}

int prose_kmsxml_parse_time(const char *s, uint64_t *ntp) {
  int64_t y, mo, d, h, mi, se, zh = 0, zm = 0, sign = 0;
  if (!s || !ntp) return PROSE_EINVAL;
  if (!digits(&s, 4, &y) || !expect(&s, '-') || !digits(&s, 2, &mo) || !expect(&s, '-') ||
      !digits(&s, 2, &d) || !expect(&s, 'T') || !digits(&s, 2, &h) || !expect(&s, ':') ||
      !digits(&s, 2, &mi) || !expect(&s, ':') || !digits(&s, 2, &se))
    return PROSE_EXML;
  if (*s == '.') { /* fractional seconds: at least one digit, dropped */
    s++;
    if (*s < '0' || *s > '9') return PROSE_EXML;
    while (*s >= '0' && *s <= '9') s++;
  }
  if (*s == 'Z') {
    s++;
  } else if (*s == '+' || *s == '-') {
    sign = *s == '+' ? 1 : -1;
    s++;
    if (!digits(&s, 2, &zh) || !expect(&s, ':') || !digits(&s, 2, &zm) || zh > 14 || zm > 59)
      return PROSE_EXML;
  }
  if (*s != '\0') return PROSE_EXML;
  if (y < 1900 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
      se > 60)
    return PROSE_EXML;
  /* A leap second (:60) is folded onto the next second. */
  int64_t unix_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se;
  unix_s -= sign * (zh * 3600 + zm * 60);
  int64_t v = unix_s + (int64_t)PROSE_NTP_UNIX_OFFSET;
  if (v < 0) return PROSE_EXML;
  *ntp = (uint64_t)v;
  return 0;
}

void prose_kmsxml_format_time(uint64_t ntp, char out[21]) {
  /* Clamp to the years 1900..9999 that the format can express. */
  const uint64_t max = (uint64_t)(days_from_civil(10000, 1, 1) * 86400) + PROSE_NTP_UNIX_OFFSET - 1;
  if (ntp > max) ntp = max;
  int64_t unix_s = (int64_t)ntp - (int64_t)PROSE_NTP_UNIX_OFFSET;
  int64_t days = unix_s >= 0 ? unix_s / 86400 : -((-unix_s + 86399) / 86400);
  int64_t secs = unix_s - days * 86400;
  int64_t y, m, d;
  civil_from_days(days, &y, &m, &d);
  /* Write digit by digit: every field is known to be in range here. */
  const int64_t f[6] = {y, m, d, secs / 3600, secs / 60 % 60, secs % 60};
  const int width[6] = {4, 2, 2, 2, 2, 2};
  const char sep[6] = {'-', '-', 'T', ':', ':', 'Z'};
  size_t o = 0;
  for (int i = 0; i < 6; i++) {
    for (int k = width[i] - 1; k >= 0; k--) {
      int64_t v = f[i];
      for (int j = 0; j < k; j++) v /= 10;
      out[o++] = (char)('0' + v % 10);
    }
    out[o++] = sep[i];
  }
  out[o] = '\0';
}
