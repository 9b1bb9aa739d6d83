/*
 * A real prosed as a child process, for the tools that start and drive
 * daemons: `prose demo`, `prose sim --netns` and `prose-bench daemon`. They
 * talk to it through its control socket (ctl_client.h); this is the rest:
 * start it, notice that it ended, stop it, and explain an end.
 *
 * Nothing blocks for longer than its timeout (and a SIGKILL at its end).
 * Errors are written as one line (no program prefix, no newline) into the
 * caller's err buffer, as in ctl_client.h.
 */
#ifndef PROSE_PROSED_PROC_H
#define PROSE_PROSED_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* One daemon. Zero-initialised: never started. */
typedef struct prosed_proc {
  pid_t pid;    /* read-only: 0 until started */
  bool running; /* read-only: started and not yet reaped */
  int status;   /* read-only: its waitpid status once reaped */
} prosed_proc;

/* How to start a daemon: `prosed --config CONFIG` with its standard output
 * and error in LOG and /dev/null as its input. */
typedef struct prosed_proc_settings {
  const char *prosed; /* the executable */
  const char *config; /* its --config file */
  const char *log;    /* its standard output and error */
  bool log_append;    /* append to the log (a restarted node); default: truncate */
  int nsfd;           /* network namespace to run in (setns); -1 (default): the caller's */
  /* PR_SET_PDEATHSIG: what the daemon gets when the caller dies, so that no
   * daemon outlives a tool killed outright. SIGTERM (default) lets it stop
   * cleanly; SIGKILL does not wait for that. */
  int death_signal;
  /* Prefix of what the child writes to the log when it cannot become the
   * daemon ("prose demo"). Default "prose". */
  const char *prog;
} prosed_proc_settings;

/* What became of a daemon that was asked to stop. */
typedef enum prosed_proc_end {
  PROSED_PROC_GONE,    /* it was not running (never started, or reaped before) */
  PROSED_PROC_CLEAN,   /* it ended with exit status 0 */
  PROSED_PROC_UNCLEAN, /* it ended otherwise: see status */
  PROSED_PROC_KILLED,  /* it was still running at the timeout: killed (SIGKILL) and reaped */
} prosed_proc_end;

/* Defaults: no files, log truncated, nsfd -1, death_signal SIGTERM. */
void prosed_proc_settings_default(prosed_proc_settings *s);

/*
 * Start a daemon as s says. The child sets its parent-death signal, then
 * checks that the caller did not die before that took effect (else it would
 * never get it). A failure to enter the namespace or to run the executable
 * happens in the child: it writes why to the log and exits 127, which the
 * caller sees as an early end (prosed_proc_reap). Returns 0, or -1 with err
 * set when the log cannot be opened or fork fails; p is then unchanged.
 */
int prosed_proc_spawn(prosed_proc *p, const prosed_proc_settings *s, char *err, size_t errlen);

/* Reap the daemon if it ended, without waiting. True while it runs. */
bool prosed_proc_reap(prosed_proc *p);

/* Stop it: send sig unless it was reaped, wait up to timeout_ms for it to
 * end, and at the timeout SIGKILL it and reap it. sig SIGTERM: a stop (the
 * daemon exits 0 when it stopped cleanly); SIGKILL: a crash. A daemon that
 * ended before, but was not reaped yet, is PROSED_PROC_CLEAN or _UNCLEAN. */
prosed_proc_end prosed_proc_stop(prosed_proc *p, int sig, int timeout_ms);

/* prosed_proc_stop for n daemons in parallel: sig to each first, then one
 * timeout_ms for all of them together. ends[i] (when ends is not NULL)
 * receives what became of procs[i]. */
void prosed_proc_stop_all(prosed_proc *const *procs, size_t n, int sig, int timeout_ms,
                          prosed_proc_end *ends);

/* A waitpid status in words: "exit status 1", "killed by signal 9". */
void prosed_proc_describe_exit(int status, char *buf, size_t cap);

/* Print the last `lines` lines of the log at path to out, each after
 * indent, below heading (a line of its own; NULL: none). Prints nothing
 * when the log cannot be read. */
void prosed_proc_print_log_tail(FILE *out, const char *path, int lines, const char *heading,
                                const char *indent);

#endif
