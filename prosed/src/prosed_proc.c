/*
 * A real prosed as a child process (prosed_proc.h). A tool, not the daemon:
 * plain fork and exec, and waiting is polling waitpid with short sleeps, so
 * that the caller keeps no SIGCHLD handler.
 */
#define _GNU_SOURCE /* setns, CLONE_NEWNET */
#include "prosed_proc.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROC_NAP_MS 2 /* between two looks at a daemon that is stopping */

void prosed_proc_settings_default(prosed_proc_settings *s) {
  memset(s, 0, sizeof *s);
  s->nsfd = -1;
  s->death_signal = SIGTERM;
  s->prog = "prose";
}

/* The child, between fork and exec: only async-signal-safe calls, and it
 * never returns. */
static void child(const prosed_proc_settings *s, pid_t parent, int logfd) {
  (void)prctl(PR_SET_PDEATHSIG, s->death_signal);
  /* The parent may have died before the line above: then nothing would
   * ever stop this daemon. */
  if (getppid() != parent) _exit(127);
  if (s->nsfd >= 0 && setns(s->nsfd, CLONE_NEWNET) != 0) {
    dprintf(logfd, "%s: setns: %s\n", s->prog, strerror(errno));
    _exit(127);
  }
  int nul = open("/dev/null", O_RDONLY);
  if (nul < 0 || dup2(nul, 0) < 0 || dup2(logfd, 1) < 0 || dup2(logfd, 2) < 0) _exit(127);
  execl(s->prosed, "prosed", "--config", s->config, (char *)NULL);
  dprintf(2, "%s: cannot run %s: %s\n", s->prog, s->prosed, strerror(errno));
  _exit(127);
}

int prosed_proc_spawn(prosed_proc *p, const prosed_proc_settings *s, char *err, size_t errlen) {
  int logfd = open(s->log, O_WRONLY | O_CREAT | O_CLOEXEC | (s->log_append ? O_APPEND : O_TRUNC),
                   0600);
  if (logfd < 0) {
    snprintf(err, errlen, "%s: %s", s->log, strerror(errno));
    return -1;
  }
  /* Nothing buffered is written twice (the child only execs or _exits, but
   * the caller's output keeps its order around the daemon's). */
  fflush(NULL);
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(err, errlen, "fork: %s", strerror(errno));
    close(logfd);
    return -1;
  }
  if (pid == 0) child(s, parent, logfd);
  close(logfd);
  p->pid = pid;
  p->running = true;
  p->status = 0;
  return 0;
}

bool prosed_proc_reap(prosed_proc *p) {
  if (p->running && waitpid(p->pid, &p->status, WNOHANG) == p->pid) p->running = false;
  return p->running;
}

/* Send sig unless it was reaped. Not reaped yet, the pid is still this
 * daemon's (a zombie at worst): one that ended on its own is seen by the
 * wait that follows. */
static void signal_proc(prosed_proc *p, int sig) {
  if (p->running) kill(p->pid, sig);
}

/* Wait for it to end, napping at most *naps times (and taking those naps
 * from *naps); then SIGKILL it and reap it. The timeout is counted in naps,
 * not read from a clock: a stop timeout need not be exact. */
static prosed_proc_end wait_proc(prosed_proc *p, int *naps) {
  if (!p->running) return PROSED_PROC_GONE;
  while (prosed_proc_reap(p)) {
    if (*naps <= 0) {
      kill(p->pid, SIGKILL);
      while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR) {
      }
      p->running = false;
      return PROSED_PROC_KILLED;
    }
    struct timespec ts = {0, PROC_NAP_MS * 1000000L};
    nanosleep(&ts, NULL);
    (*naps)--;
  }
  return WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0 ? PROSED_PROC_CLEAN
                                                             : PROSED_PROC_UNCLEAN;
}

prosed_proc_end prosed_proc_stop(prosed_proc *p, int sig, int timeout_ms) {
  signal_proc(p, sig);
  int naps = timeout_ms / PROC_NAP_MS;
  return wait_proc(p, &naps);
}

void prosed_proc_stop_all(prosed_proc *const *procs, size_t n, int sig, int timeout_ms,
                          prosed_proc_end *ends) {
  for (size_t i = 0; i < n; i++) signal_proc(procs[i], sig);
  int naps = timeout_ms / PROC_NAP_MS;
  for (size_t i = 0; i < n; i++) {
    prosed_proc_end end = wait_proc(procs[i], &naps);
    if (ends) ends[i] = end;
  }
}

void prosed_proc_describe_exit(int status, char *buf, size_t cap) {
  if (WIFEXITED(status))
    snprintf(buf, cap, "exit status %d", WEXITSTATUS(status));
  else if (WIFSIGNALED(status))
    snprintf(buf, cap, "killed by signal %d", WTERMSIG(status));
  else
    snprintf(buf, cap, "status %d", status);
}

/* The whole file, NUL-terminated (NULL when it cannot be read). */
static char *read_all(const char *path, size_t *len_out) {
  FILE *f = fopen(path, "r");
  if (!f) return NULL;
  char *buf = NULL;
  size_t len = 0, cap = 0;
  char chunk[4096];
  size_t got;
  while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + got + 1 > cap) {
      size_t ncap = (len + got + 1) * 2;
      char *nb = realloc(buf, ncap);
      if (!nb) break;
      buf = nb;
      cap = ncap;
    }
    memcpy(buf + len, chunk, got);
    len += got;
  }
  fclose(f);
  if (!buf) buf = calloc(1, 1);
  if (buf) buf[len] = '\0';
  *len_out = len;
  return buf;
}

void prosed_proc_print_log_tail(FILE *out, const char *path, int lines, const char *heading,
                                const char *indent) {
  size_t len = 0;
  char *buf = read_all(path, &len);
  if (!buf) return;
  if (heading) fprintf(out, "%s\n", heading);
  /* Back from the end to the start of the lines-th last line. */
  size_t start = len;
  int seen = 0;
  if (start > 0 && buf[start - 1] == '\n') start--;
  while (start > 0) {
    if (buf[start - 1] == '\n' && ++seen == lines) break;
    start--;
  }
  for (char *line = buf + start; *line;) {
    char *nl = strchr(line, '\n');
    size_t n = nl ? (size_t)(nl - line) : strlen(line);
    fprintf(out, "%s%.*s\n", indent ? indent : "", (int)n, line);
    line += n + (nl ? 1 : 0);
  }
  free(buf);
}
