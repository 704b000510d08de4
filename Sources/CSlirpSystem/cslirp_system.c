#define _GNU_SOURCE
#include "cslirp_system.h"

#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <unistd.h>

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

int cslirp_pipe_cloexec(int fds[2]) {
    return pipe2(fds, O_CLOEXEC);
}
