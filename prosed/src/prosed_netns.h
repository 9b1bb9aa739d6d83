/*
 * Several hosts on one machine (PLATFORM.md "Multicast, namespaces"): a
 * bridge in a network namespace of its own and one namespace per node,
 * joined to it by a veth pair (v<i> on the bridge, eth0 in the node) with an
 * IPv4 address and the multicast route. Used by `prose demo --netns` and
 * `prose sim --netns`; only namespaces a caller names are made or removed,
 * so the host's network is not touched. Root only.
 *
 * Every function that can fail writes a one-line reason (no program prefix)
 * into err.
 */
#ifndef PROSED_NETNS_H
#define PROSED_NETNS_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Run argv[0] (from PATH, else /usr/sbin or /sbin) in the network namespace
 * nsfd (-1: ours), with `in` as its standard input when not NULL and its
 * standard output into out[0..cap) (NUL-terminated) when out is not NULL.
 * Its standard error goes to ours unless quiet. 0 when it exited with 0.
 */
int prosed_run_tool(char *const argv[], int nsfd, const char *in, char *out, size_t cap,
                    bool quiet);

/* `ip WORDS` (words split at blanks). 0, or -1 with err "'ip ...' failed". */
#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
int prosed_run_ip(bool quiet, char *err, size_t errlen, const char *fmt, ...);

/*
 * The bridge "<tag>-br" and, for each i < n, namespace ns[i] with eth0 at
 * cidr[i] ("10.0.0.1/8"); fd[i] receives an open descriptor of namespace i
 * (set -1 by the caller beforehand). On failure what was made stays for
 * prosed_netns_remove.
 */
int prosed_netns_make(const char *tag, size_t n, const char *const *ns, const char *const *cidr,
                      int *fd, char *err, size_t errlen);
/* Close fd[0..n) and delete the namespaces (and their veth pairs) and the
 * bridge, quietly: some may not exist. */
void prosed_netns_remove(const char *tag, size_t n, const char *const *ns, int *fd);

#endif
