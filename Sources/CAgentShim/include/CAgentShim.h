#ifndef CAGENTSHIM_H
#define CAGENTSHIM_H

#include <sys/types.h>
#include <stddef.h>

/// prctl(2) is variadic, which Swift cannot call: this wraps PR_SET_DUMPABLE 0.
int cagent_set_nondumpable(void);

/// Glibc declares `struct ucred` only under _GNU_SOURCE, which Swift's Glibc module does
/// not set, so SO_PEERCRED is read here. Returns 0 or -1 with errno set.
int cagent_peer_credentials(int fd, pid_t *pid, uid_t *uid, gid_t *gid);

/// getrandom(2); returns bytes written or -1 with errno set.
ssize_t cagent_getrandom(void *buffer, size_t length);

/// POSIX_SPAWN_SETSID (glibc >= 2.26) is a macro Swift may not import.
short cagent_spawn_setsid_flag(void);

/// Adds "close every descriptor from `low` up" to spawn file actions
/// (posix_spawn_file_actions_addclosefrom_np, glibc >= 2.34), so a daemon inherits no
/// stray descriptor from whoever started it.
int cagent_spawn_add_closefrom(void *actions, int low);

/// close_range(2) (Linux 5.9, glibc >= 2.34), declared only under _GNU_SOURCE: closes every
/// descriptor from `first` to `last` inclusive. Returns 0 or -1 with errno set.
int cagent_close_range(unsigned int first, unsigned int last);

/// renameat2(2) with RENAME_NOREPLACE (glibc >= 2.28), declared only under _GNU_SOURCE:
/// renames `from` to `to` unless `to` exists (then -1 with errno EEXIST).
int cagent_rename_noreplace(const char *from, const char *to);

/// accept4(2) is declared only under _GNU_SOURCE.
int cagent_accept4(int fd, int flags);

/// accept4(2) that also returns the peer's address.
int cagent_accept4_address(int fd, void *address, unsigned int *length, int flags);

/// pipe2(2) is declared only under _GNU_SOURCE.
int cagent_pipe2(int fds[2], int flags);

/// signalfd(2): a non-blocking, close-on-exec descriptor for the signals in `set`
/// (passed as a plain array because `sigset_t` handling differs across libcs).
int cagent_signalfd(const int *signals, int count);

/// Blocks `signals` in the calling thread (and threads it creates later).
int cagent_block_signals(const int *signals, int count);

/// Unblocks every signal in the calling thread: a process started by a parent whose
/// thread blocked signals (Dispatch workers do) inherits that mask.
int cagent_unblock_all_signals(void);

/// Reads one pending signal from a signalfd: its number, 0 if none, -1 on error.
int cagent_read_signal(int fd);

/// prctl(PR_SET_CHILD_SUBREAPER, 1): orphaned descendants become this process's children,
/// so it can wait for them (and read their resource usage).
int cagent_set_child_subreaper(void);

/// mallopt(M_MMAP_THRESHOLD, bytes): allocations of at least `bytes` get a mapping of their
/// own, unmapped when freed (and glibc's moving threshold is off). Glibc's `malloc.h` is
/// not part of the Swift Glibc module, so the call is made here. Returns 1 on success.
int cagent_set_mmap_threshold(int bytes);

#endif
