// Linux calls glibc does not declare without _GNU_SOURCE (which a Swift module cannot set
// for Glibc's headers), made through syscall(2) with the kernel's own structures. Import this
// module only in files that do not also import Glibc: <linux/stat.h> repeats some of its names.
#include <linux/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/// Birth time of the open file `fd` in nanoseconds since the epoch (statx STATX_BTIME), or -1
/// where the call fails or the file system records none.
static inline long long tailship_birth_time_ns(int fd) {
    struct statx stx;
    // 0x1000 is AT_EMPTY_PATH (<linux/fcntl.h> would clash with glibc's <fcntl.h> in Swift).
    if (syscall(SYS_statx, fd, "", 0x1000, STATX_BTIME, &stx) != 0) return -1;
    if (!(stx.stx_mask & STATX_BTIME)) return -1;
    return (long long)stx.stx_btime.tv_sec * 1000000000LL + stx.stx_btime.tv_nsec;
}

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>

/// Opens `path` read-only (close-on-exec, non-blocking) refusing a symbolic link in ANY of its
/// components (openat2 RESOLVE_NO_SYMLINKS), so a link swapped in after the path was checked is
/// not followed. Kernels without openat2 (before 5.6), and seccomp filters that do not know it
/// (they answer EPERM, or ENOSYS), get O_NOFOLLOW, which covers the last component. Returns
/// the descriptor, or -errno.
static inline int tailship_open_no_symlinks(const char *path) {
    struct open_how how = {0};
    how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK;
    how.resolve = RESOLVE_NO_SYMLINKS;
    for (;;) {
        long fd = syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
        if (fd >= 0) return (int)fd;
        if (errno == EINTR) continue;
        if (errno != ENOSYS && errno != EPERM && errno != E2BIG) return -errno;
        int plain = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
        if (plain >= 0) return plain;
        if (errno == EINTR) continue;
        return -errno;
    }
}

#include <sys/prctl.h>

/// Marks the process not dumpable (prctl PR_SET_DUMPABLE 0): no core file, no ptrace attach
/// by same-uid processes, /proc/PID owned by root. prctl is variadic, which Swift cannot call.
static inline int tailship_set_not_dumpable(void) { return prctl(PR_SET_DUMPABLE, 0, 0, 0, 0); }

#include <sys/xattr.h>

/// The file's POSIX access ACL in the kernel's xattr form (fgetxattr "system.posix_acl_access"):
/// its length, or -1 (ENODATA: the file has none). <sys/xattr.h> is not in Swift's Glibc module.
static inline long tailship_access_acl(int fd, void *buffer, unsigned long size) {
    return fgetxattr(fd, "system.posix_acl_access", buffer, size);
}

#include <sys/prctl.h>

/// Names the calling thread (what /proc/PID/task/*/comm and `top -H` show; at most 15 bytes,
/// longer names are cut). pthread_setname_np is one of the _GNU_SOURCE declarations.
static inline int tailship_set_thread_name(const char *name) {
    return prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
