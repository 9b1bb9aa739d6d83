/*
 * libxml2 keeps copies of the parsed document (its input buffer, text node
 * contents) in memory it frees itself. A KmsKeyProv document holds SSK and
 * RSK in hex, so prose installs allocators that wipe every block before
 * freeing it. malloc_usable_size gives the size of any malloc'd block, so
 * blocks allocated before the hook was installed are wiped correctly too.
 */
#include <libxml/parser.h>
#include <libxml/xmlmemory.h>
#include <malloc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "prose/util.h"
#include "store_internal.h"

static void wipe_free(void *p) {
  if (!p) return;
  prose_wipe(p, malloc_usable_size(p));
  free(p);
}

static void *plain_malloc(size_t n) { return malloc(n ? n : 1); }

/* Realloc by copy: an in-place realloc that moves the block would leave the
 * old contents unwiped. */
static void *wipe_realloc(void *p, size_t n) {
  if (!p) return plain_malloc(n);
  void *q = malloc(n ? n : 1);
  if (!q) return NULL;
  size_t old = malloc_usable_size(p);
  memcpy(q, p, old < n ? old : n);
  wipe_free(p);
  return q;
}

static char *plain_strdup(const char *s) {
  size_t n = strlen(s) + 1;
  char *p = malloc(n);
  if (p) memcpy(p, s, n);
  return p;
}

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_setup(void) {
  xmlFreeFunc f = NULL;
  xmlMallocFunc m = NULL;
  xmlReallocFunc r = NULL;
  xmlStrdupFunc s = NULL;
  /* Only replace libxml2's defaults: if the embedding application installed
   * its own allocators, keep them (and its policy on wiping). */
  if (xmlMemGet(&f, &m, &r, &s) == 0 && f == free)
    (void)xmlMemSetup(wipe_free, plain_malloc, wipe_realloc, plain_strdup);
  xmlInitParser();
}

void prose__xml_init(void) { (void)pthread_once(&xml_once, xml_setup); }
