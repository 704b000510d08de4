#define _GNU_SOURCE
#include "cslirp_system.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <sys/syscall.h>
#include <linux/openat2.h>
#include <linux/nsfs.h>
#include <unistd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/signalfd.h>

int cslirp_peer_credentials(int fd, pid_t *pid, uid_t *uid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    return 0;
}

int cslirp_enter_netns(int fd) {
    return setns(fd, CLONE_NEWNET);
}

int cslirp_interface_mtu(int socket_fd, const char *name, int *mtu) {
    struct ifreq req;
    memset(&req, 0, sizeof(req));
    if (strlen(name) >= IFNAMSIZ) { errno = ENAMETOOLONG; return -1; }
    strncpy(req.ifr_name, name, IFNAMSIZ - 1);
    if (ioctl(socket_fd, SIOCGIFMTU, &req) != 0) return -1;
    *mtu = req.ifr_mtu;
    return 0;
}

int cslirp_window_size(int fd, int *rows, int *columns) {
    struct winsize size;
    if (ioctl(fd, TIOCGWINSZ, &size) != 0) return -1;
    *rows = size.ws_row;
    *columns = size.ws_col;
    return 0;
}

int cslirp_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}

unsigned long long cslirp_kernel_dev(unsigned long long dev) {
    return ((unsigned long long)major(dev) << 20) | minor(dev);
}

int cslirp_unix_listeners(unsigned long long *file_devs, unsigned long long *file_inodes,
                          unsigned long long *socket_inodes, int max) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) return -1;
    struct {
        struct nlmsghdr nlh;
        struct unix_diag_req req;
    } msg;
    memset(&msg, 0, sizeof(msg));
    msg.nlh.nlmsg_len = sizeof(msg);
    msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    msg.req.sdiag_family = AF_UNIX;
    msg.req.udiag_states = 1 << 10; /* TCP_LISTEN only */
    msg.req.udiag_show = UDIAG_SHOW_VFS;
    if (send(fd, &msg, sizeof(msg), 0) < 0) { int e = errno; close(fd); errno = e; return -1; }
    int found = 0;
    long buf[8192];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n < 0) { if (errno == EINTR) continue; int e = errno; close(fd); errno = e; return -1; }
        if (n == 0) break;
        struct nlmsghdr *h = (struct nlmsghdr *)buf;
        for (; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
            if (h->nlmsg_type == NLMSG_DONE) { close(fd); return found; }
            if (h->nlmsg_type == NLMSG_ERROR) { close(fd); errno = EPROTO; return -1; }
            struct unix_diag_msg *m = NLMSG_DATA(h);
            if (m->udiag_state != 10) continue;
            int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
            struct rtattr *attr = (struct rtattr *)(m + 1);
            for (; RTA_OK(attr, len); attr = RTA_NEXT(attr, len)) {
                if (attr->rta_type != UNIX_DIAG_VFS) continue;
                struct unix_diag_vfs *vfs = RTA_DATA(attr);
                if (found < max) {
                    file_devs[found] = vfs->udiag_vfs_dev;
                    file_inodes[found] = vfs->udiag_vfs_ino;
                    socket_inodes[found] = m->udiag_ino;
                }
                found++;
            }
        }
    }
    close(fd);
    return found;
}

int cslirp_is_netns_file(const char *path) {
    struct statfs fs;
    if (statfs(path, &fs) != 0) return -1;
    return fs.f_type == 0x6e736673 ? 1 : 0; /* NSFS_MAGIC */
}

int cslirp_o_path(void) { return O_PATH; }

int cslirp_fd_is_nsfs(int fd) {
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0) return -1;
    return fs.f_type == 0x6e736673 ? 1 : 0; /* NSFS_MAGIC */
}

int cslirp_open_in_root_fd(int root_fd, const char *path, int flags) {
    struct open_how how;
    memset(&how, 0, sizeof(how));
    how.flags = (unsigned long long)(flags | O_CLOEXEC);
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    return (int)syscall(SYS_openat2, root_fd, path, &how, sizeof(how));
}

int cslirp_namespace_owned_by(int ns_fd, uid_t uid) {
    int fd = ioctl(ns_fd, NS_GET_USERNS);
    if (fd < 0) return -1;
    for (int depth = 0; depth < 64; depth++) { /* the kernel nests at most 32 */
        uid_t owner;
        if (ioctl(fd, NS_GET_OWNER_UID, &owner) != 0) { int saved = errno; close(fd); errno = saved; return -1; }
        if (owner == uid) { close(fd); return 1; }
        int parent = ioctl(fd, NS_GET_PARENT);
        close(fd);
        if (parent < 0) return errno == EPERM ? 0 : -1; /* EPERM: the initial namespace (or ours) reached */
        fd = parent;
    }
    close(fd);
    return 0;
}

int cslirp_fd_is_fuse(int fd) {
    struct statfs fs;
    if (fstatfs(fd, &fs) != 0) return -1;
    return fs.f_type == 0x65735546 ? 1 : 0; /* FUSE_SUPER_MAGIC */
}

int cslirp_open_in_root(const char *root, const char *path, int flags) {
    int root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) return -1;
    int fd = cslirp_open_in_root_fd(root_fd, path, flags);
    int saved = errno;
    close(root_fd);
    errno = saved;
    return fd;
}

int cslirp_spawn_isolated(pid_t *pid, const char *path, char *const argv[], char *const envp[],
                          const int stdio[3], const char *directory) {
    posix_spawn_file_actions_t actions;
    posix_spawnattr_t attributes;
    int rc = posix_spawn_file_actions_init(&actions);
    if (rc != 0) return rc;
    rc = posix_spawnattr_init(&attributes);
    if (rc != 0) { posix_spawn_file_actions_destroy(&actions); return rc; }
    sigset_t empty, all;
    sigemptyset(&empty);
    sigfillset(&all);
    if (rc == 0) rc = posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    if (rc == 0) rc = posix_spawnattr_setsigmask(&attributes, &empty);
    if (rc == 0) rc = posix_spawnattr_setsigdefault(&attributes, &all);
    for (int fd = 0; fd < 3 && rc == 0; fd++) {
        if (stdio[fd] < 3) { rc = EINVAL; break; }
        rc = posix_spawn_file_actions_adddup2(&actions, stdio[fd], fd);
    }
    if (rc == 0) rc = posix_spawn_file_actions_addclosefrom_np(&actions, 3);
    if (rc == 0 && directory != NULL) rc = posix_spawn_file_actions_addchdir_np(&actions, directory);
    if (rc == 0) rc = posix_spawn(pid, path, &actions, &attributes, argv, envp);
    posix_spawnattr_destroy(&attributes);
    posix_spawn_file_actions_destroy(&actions);
    return rc;
}

int cslirp_signalfd(const int *signals, int count) {
    sigset_t set;
    sigemptyset(&set);
    for (int i = 0; i < count; i++) sigaddset(&set, signals[i]);
    int rc = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (rc != 0) { errno = rc; return -1; }
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cslirp_signalfd_next(int fd) {
    struct signalfd_siginfo info;
    ssize_t n;
    do { n = read(fd, &info, sizeof(info)); } while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(info)) return -1;
    return (int)info.ssi_signo;
}

int cslirp_pidfd_open(pid_t pid) {
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

int cslirp_route_get_ipv4(unsigned int destination, unsigned short port, unsigned char protocol,
                          uid_t uid, int *oif, int *type) {
    int fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (fd < 0) return -1;
    struct {
        struct nlmsghdr nlh;
        struct rtmsg rtm;
        char attrs[64];
    } req;
    memset(&req, 0, sizeof(req));
    req.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(struct rtmsg));
    req.nlh.nlmsg_type = RTM_GETROUTE;
    req.nlh.nlmsg_flags = NLM_F_REQUEST;
    req.nlh.nlmsg_seq = 1;
    req.rtm.rtm_family = AF_INET;
    req.rtm.rtm_dst_len = 32;
    struct { unsigned short type; const void *data; unsigned short len; } attrs[] = {
        { RTA_DST, &destination, 4 },
        { RTA_UID, &uid, 4 },
        { RTA_IP_PROTO, &protocol, 1 },
        { RTA_DPORT, &port, 2 },
    };
    for (unsigned i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
        struct rtattr *a = (struct rtattr *)((char *)&req + NLMSG_ALIGN(req.nlh.nlmsg_len));
        a->rta_type = attrs[i].type;
        a->rta_len = RTA_LENGTH(attrs[i].len);
        memcpy(RTA_DATA(a), attrs[i].data, attrs[i].len);
        req.nlh.nlmsg_len = NLMSG_ALIGN(req.nlh.nlmsg_len) + RTA_ALIGN(a->rta_len);
    }
    if (send(fd, &req, req.nlh.nlmsg_len, 0) < 0) { int e = errno; close(fd); errno = e; return -1; }
    long buf[1024];
    ssize_t n;
    do { n = recv(fd, buf, sizeof(buf), 0); } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) { errno = saved; return -1; }
    struct nlmsghdr *h = (struct nlmsghdr *)buf;
    for (; NLMSG_OK(h, (unsigned)n); h = NLMSG_NEXT(h, n)) {
        if (h->nlmsg_type == NLMSG_ERROR) {
            struct nlmsgerr *err = NLMSG_DATA(h);
            errno = err->error < 0 ? -err->error : EPROTO;
            return -1;
        }
        if (h->nlmsg_type != RTM_NEWROUTE) continue;
        struct rtmsg *m = NLMSG_DATA(h);
        *type = m->rtm_type;
        *oif = 0;
        int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
        for (struct rtattr *a = RTM_RTA(m); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
            if (a->rta_type == RTA_OIF) memcpy(oif, RTA_DATA(a), sizeof(int));
        }
        return 0;
    }
    errno = EPROTO;
    return -1;
}

int cslirp_spawn_close_from(posix_spawn_file_actions_t *actions, int lowest) {
    return posix_spawn_file_actions_addclosefrom_np(actions, lowest);
}
