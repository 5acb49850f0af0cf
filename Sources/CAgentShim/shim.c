#define _GNU_SOURCE
#include "CAgentShim.h"

#include <malloc.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>

int cagent_set_nondumpable(void) {
    return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int cagent_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid) {
    struct ucred cred;
    socklen_t length = sizeof(cred);
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &length) != 0) {
        return -1;
    }
    *pid = cred.pid;
    *uid = cred.uid;
    *gid = cred.gid;
    return 0;
}

ssize_t cagent_getrandom(void *buffer, size_t length) {
    return getrandom(buffer, length, 0);
}

short cagent_spawn_setsid_flag(void) {
    return POSIX_SPAWN_SETSID;
}

int cagent_accept4(int fd, int flags) {
    return accept4(fd, NULL, NULL, flags);
}

static void fill_set(sigset_t *set, const int *signals, int count) {
    sigemptyset(set);
    for (int i = 0; i < count; i++) sigaddset(set, signals[i]);
}

int cagent_block_signals(const int *signals, int count) {
    sigset_t set;
    fill_set(&set, signals, count);
    int result = pthread_sigmask(SIG_BLOCK, &set, NULL);
    if (result != 0) { errno = result; return -1; }
    return 0;
}

int cagent_signalfd(const int *signals, int count) {
    sigset_t set;
    fill_set(&set, signals, count);
    return signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
}

int cagent_read_signal(int fd) {
    struct signalfd_siginfo info;
    ssize_t n = read(fd, &info, sizeof(info));
    if (n == (ssize_t)sizeof(info)) return (int)info.ssi_signo;
    if (n < 0 && errno == EAGAIN) return 0;
    return n < 0 ? -1 : 0;
}

int cagent_pipe2(int fds[2], int flags) {
    return pipe2(fds, flags);
}

int cagent_accept4_address(int fd, void *address, unsigned int *length, int flags) {
    socklen_t size = *length;
    int result = accept4(fd, (struct sockaddr *)address, &size, flags);
    *length = size;
    return result;
}

int cagent_spawn_add_closefrom(void *actions, int low) {
    return posix_spawn_file_actions_addclosefrom_np((posix_spawn_file_actions_t *)actions, low);
}

int cagent_close_range(unsigned int first, unsigned int last) {
    return close_range(first, last, 0);
}

int cagent_unblock_all_signals(void) {
    sigset_t set;
    sigemptyset(&set);
    int result = pthread_sigmask(SIG_SETMASK, &set, NULL);
    if (result != 0) { errno = result; return -1; }
    return 0;
}

int cagent_set_child_subreaper(void) {
    return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int cagent_set_mmap_threshold(int bytes) {
    return mallopt(M_MMAP_THRESHOLD, bytes);
}

int cagent_rename_noreplace(const char *from, const char *to) {
    return renameat2(AT_FDCWD, from, AT_FDCWD, to, RENAME_NOREPLACE);
}
