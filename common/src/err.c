#include "prose/err.h"

const char *prose_err_name(int err) {
  switch (err) {
#define PROSE_ERR_NAME(name, val, msg) \
  case (val):                          \
    return #name;
    PROSE_ERR_MAP(PROSE_ERR_NAME)
#undef PROSE_ERR_NAME
  default:
    return "EUNKNOWN";
  }
}

const char *prose_strerror(int err) {
  switch (err) {
#define PROSE_ERR_MSG(name, val, msg) \
  case (val):                         \
    return msg;
    PROSE_ERR_MAP(PROSE_ERR_MSG)
#undef PROSE_ERR_MSG
  default:
    return "unknown error";
  }
}
