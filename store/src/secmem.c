/* mmap flags and madvise(MADV_DONTDUMP) are not in POSIX; ask glibc for them. */
#define _DEFAULT_SOURCE 1

#include <stddef.h>
#include <sys/mman.h>

#include "prose/util.h"
#include "store_internal.h"

#define SECMEM_PAGE 4096u

void *prose__secmem_alloc(size_t n) {
  if (n == 0 || n > SECMEM_PAGE) return NULL;
  void *p = mmap(NULL, SECMEM_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return NULL;
  /* Both are best effort: a small RLIMIT_MEMLOCK refuses mlock, and an old
   * kernel may not know MADV_DONTDUMP. The key still works without them;
   * it is only more exposed to swap and core files. */
  (void)mlock(p, SECMEM_PAGE);
#ifdef MADV_DONTDUMP
  (void)madvise(p, SECMEM_PAGE, MADV_DONTDUMP);
#endif
  return p;
}

void prose__secmem_free(void *p, size_t n) {
  if (!p) return;
  (void)n;
  prose_wipe(p, SECMEM_PAGE);
  (void)munlock(p, SECMEM_PAGE);
  (void)munmap(p, SECMEM_PAGE);
}
