#ifndef CSLIRP_SYSTEM_H
#define CSLIRP_SYSTEM_H

/* The few Linux calls Swift cannot reach directly (GNU-only structs, variadic ioctl).
   Prefixed cslirp_; each returns 0 or -1 with errno set, like the call it wraps. */

#include <spawn.h>
#include <sys/types.h>

/* SO_PEERCRED of a connected unix socket. */
int cslirp_peer_credentials(int fd, pid_t *pid, uid_t *uid);

/* setns(fd, CLONE_NEWNET) for the calling thread. */
int cslirp_enter_netns(int fd);

/* SIOCGIFMTU on a socket: the MTU of interface `name` in the socket's namespace. */
int cslirp_interface_mtu(int socket_fd, const char *name, int *mtu);

/* TIOCGWINSZ on a terminal: its size in character cells as the kernel has it now. */
int cslirp_window_size(int fd, int *rows, int *columns);

/* pipe2(fds, O_CLOEXEC). */
int cslirp_pipe_cloexec(int fds[2]);

/* Every listening unix socket bound to a file, in one NETLINK_SOCK_DIAG dump: writes up to
   `max` (file device as the kernel reports it, file inode, socket inode) triples and returns
   how many listening bound sockets there are (more than `max`: call again with more room),
   or -1. `cslirp_kernel_dev` converts a stat dev_t to the kernel's form. */
int cslirp_unix_listeners(unsigned long long *file_devs, unsigned long long *file_inodes,
                          unsigned long long *socket_inodes, int max);
unsigned long long cslirp_kernel_dev(unsigned long long dev);

/* 1 when `path` is on nsfs (a namespace file), 0 when not, -1 on error. */
int cslirp_is_netns_file(const char *path);

/* 1 when the open descriptor `fd` is on nsfs (a namespace file), 0 when not, -1 on error. */
int cslirp_fd_is_nsfs(int fd);

/* O_PATH (glibc defines it only with _GNU_SOURCE): a descriptor that names a file without opening it. */
int cslirp_o_path(void);

/* openat2 of `path` with `root` as "/" for every link on the way (RESOLVE_IN_ROOT, no magic
   links): a file inside a container's root as the container sees it, never outside it. */
int cslirp_open_in_root(const char *root, const char *path, int flags);
/* The same with the root given as an open directory descriptor (e.g. openat(/proc/PID dir, "root")). */
int cslirp_open_in_root_fd(int root_fd, const char *path, int flags);

/* 1 when the user namespace owning the namespace open at `ns_fd`, or one of its ancestors, was
   created by `uid` (NS_GET_USERNS, NS_GET_OWNER_UID, NS_GET_PARENT up to the initial one, whose
   owner is 0); 0 when none was; -1 on error. */
int cslirp_namespace_owned_by(int ns_fd, uid_t uid);

/* 1 when the open descriptor `fd` is on a FUSE file system, 0 when not, -1 on error. */
int cslirp_fd_is_fuse(int fd);

/* Adds to `actions` the closing of every descriptor from `lowest` up
   (posix_spawn_file_actions_addclosefrom_np, glibc >= 2.34). Returns 0 or an errno value. */
int cslirp_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest);

/* posix_spawn for a program slirpmon does not trust: POSIX_SPAWN_SETSID (a new session, so no
   controlling terminal), an empty signal mask and default dispositions, fds 0-2 from `stdio`
   (stdin, stdout, stderr: each must be >= 3), every other fd closed
   (posix_spawn_file_actions_addclosefrom_np, glibc >= 2.34), working directory `directory`.
   Returns 0 or an errno value, like posix_spawn. */
int cslirp_spawn_isolated(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                          const int stdio[3], const char *directory);

/* A signalfd (non-blocking, close-on-exec) for `signals`, which are blocked in the calling
   thread so that they arrive only through it. */
int cslirp_signalfd(const int *signals, int count);
/* The next signal read from a cslirp_signalfd, or -1 (errno EAGAIN when none is pending). */
int cslirp_signalfd_next(int fd);

/* pidfd_open(pid, 0): a descriptor that polls readable once the process has exited. */
int cslirp_pidfd_open(pid_t pid);

/* RTM_GETROUTE for the calling thread's network namespace: the route the kernel gives a packet
   of `protocol` from `uid` to the IPv4 `destination` port `port` (both in network byte order),
   policy rules followed, as `ip route get` asks it. Writes the output interface's index (0 when
   none) and the route's type (RTN_UNICAST, RTN_LOCAL...). On -1, errno is the kernel's answer:
   ENETUNREACH (no route), EHOSTUNREACH (unreachable), EACCES (prohibit), EINVAL (blackhole). */
int cslirp_route_get_ipv4(unsigned int destination, unsigned short port, unsigned char protocol,
                          uid_t uid, int *oif, int *type);

#endif
