/* Test-only helpers. */
#ifndef PROSE_TESTSUPPORT_H
#define PROSE_TESTSUPPORT_H

#include <stddef.h>
#include <stdint.h>

/* Decode hex that may contain spaces and newlines (as vectors.txt prints it)
 * into a fresh malloc'd buffer; aborts on malformed input. *len gets the size. */
uint8_t *ts_hex(const char *hex, size_t *len);
/* Decode into a fixed buffer; aborts unless exactly n octets. */
void ts_hex_into(const char *hex, uint8_t *out, size_t n);

#endif
