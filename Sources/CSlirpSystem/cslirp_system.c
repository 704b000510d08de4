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
#include <unistd.h>

int cslirp_peer_credentials(int fd, pid_t *pid, uid_t *uid) {
    struct ucred cred;
    socklen_t len = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return -1;
    *pid = cred.pid;
    *uid = cred.uid;
    return 0;
}

int cslirp_open_path(const char *path) {
    return open(path, O_PATH | O_CLOEXEC);
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
