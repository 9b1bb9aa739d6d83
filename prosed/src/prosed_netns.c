/* Namespaces on a bridge for the multi-host runs (prosed_netns.h). */
#define _GNU_SOURCE /* setns, pipe2 */
#include "prosed_netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void write_all(int fd, const char *p, size_t n) {
  for (size_t off = 0; off < n;) {
    ssize_t w = write(fd, p + off, n - off);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return;
    off += (size_t)w;
  }
}

static void read_all(int fd, char *out, size_t cap) {
  size_t used = 0;
  for (;;) {
    char tmp[4096];
    ssize_t r = read(fd, tmp, sizeof tmp);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    size_t take = (size_t)r;
    if (used + take >= cap) take = cap - 1 - used;
    memcpy(out + used, tmp, take);
    used += take;
  }
  out[used] = '\0';
}

int prosed_run_tool(char *const argv[], int nsfd, const char *in, char *out, size_t cap,
                    bool quiet) {
  int ip[2] = {-1, -1}, op[2] = {-1, -1};
  if ((in && pipe2(ip, O_CLOEXEC) != 0) || (out && (cap == 0 || pipe2(op, O_CLOEXEC) != 0)))
    return -1;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) return -1;
  if (pid == 0) {
    if (nsfd >= 0 && setns(nsfd, CLONE_NEWNET) != 0) _exit(126);
    int nul = open("/dev/null", O_RDWR);
    if (in)
      dup2(ip[0], 0);
    else if (nul >= 0)
      dup2(nul, 0);
    if (out)
      dup2(op[1], 1);
    else if (nul >= 0)
      dup2(nul, 1);
    if (quiet && nul >= 0) dup2(nul, 2);
    execvp(argv[0], argv);
    /* Root's tools, when PATH does not name the sbin directories. */
    char alt[64];
    snprintf(alt, sizeof alt, "/usr/sbin/%s", argv[0]);
    execv(alt, argv);
    snprintf(alt, sizeof alt, "/sbin/%s", argv[0]);
    execv(alt, argv);
    if (!quiet) dprintf(2, "cannot run %s: %s\n", argv[0], strerror(errno));
    _exit(127);
  }
  if (in) {
    close(ip[0]);
    write_all(ip[1], in, strlen(in));
    close(ip[1]);
  }
  if (out) {
    close(op[1]);
    read_all(op[0], out, cap);
    close(op[0]);
  }
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

int prosed_run_ip(bool quiet, char *err, size_t errlen, const char *fmt, ...) {
  char cmd[512], words[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  memcpy(words, cmd, sizeof words);
  char *argv[40];
  size_t argc = 0;
  argv[argc++] = (char *)(uintptr_t) "ip";
  char *save = NULL;
  for (char *t = strtok_r(words, " ", &save); t && argc < 39; t = strtok_r(NULL, " ", &save))
    argv[argc++] = t;
  argv[argc] = NULL;
  int rc = prosed_run_tool(argv, -1, NULL, NULL, 0, quiet);
  if (rc != 0 && err && errlen) snprintf(err, errlen, "'ip %s' failed", cmd);
  return rc;
}

int prosed_netns_make(const char *tag, size_t n, const char *const *ns, const char *const *cidr,
                      int *fd, char *err, size_t errlen) {
  if (prosed_run_ip(false, err, errlen, "netns add %s-br", tag) ||
      prosed_run_ip(false, err, errlen, "-n %s-br link add br0 type bridge", tag) ||
      prosed_run_ip(false, err, errlen, "-n %s-br link set br0 up", tag))
    return -1;
  for (size_t i = 0; i < n; i++) {
    if (prosed_run_ip(false, err, errlen, "netns add %s", ns[i]) ||
        prosed_run_ip(false, err, errlen, "-n %s link set lo up", ns[i]) ||
        prosed_run_ip(false, err, errlen, "-n %s-br link add v%zu type veth peer name eth0 netns %s",
                      tag, i, ns[i]) ||
        prosed_run_ip(false, err, errlen, "-n %s-br link set v%zu master br0", tag, i) ||
        prosed_run_ip(false, err, errlen, "-n %s-br link set v%zu up", tag, i) ||
        prosed_run_ip(false, err, errlen, "-n %s addr add %s dev eth0", ns[i], cidr[i]) ||
        prosed_run_ip(false, err, errlen, "-n %s link set eth0 up", ns[i]) ||
        prosed_run_ip(false, err, errlen, "-n %s route add 224.0.0.0/4 dev eth0", ns[i]))
      return -1;
    char path[300];
    snprintf(path, sizeof path, "/run/netns/%s", ns[i]);
    if ((fd[i] = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
      snprintf(err, errlen, "%s: %s", path, strerror(errno));
      return -1;
    }
  }
  return 0;
}

void prosed_netns_remove(const char *tag, size_t n, const char *const *ns, int *fd) {
  /* Deleting a node's namespace deletes its veth pair with it. */
  for (size_t i = 0; i < n; i++) {
    if (fd[i] >= 0) close(fd[i]);
    fd[i] = -1;
    (void)prosed_run_ip(true, NULL, 0, "netns del %s", ns[i]);
  }
  (void)prosed_run_ip(true, NULL, 0, "netns del %s-br", tag);
}
