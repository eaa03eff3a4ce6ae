/* LD_PRELOAD shim of tests/reliability_short_write.rs: faithful short
 * writes. For a file descriptor whose path (readlink /proc/self/fd/N) is
 * under SHORTW_DIR, the wrapped call performs the REAL system call with a
 * shorter count (half, at least 1 byte), so the first half of the data
 * reaches the file and the call returns the shorter count, as a kernel may.
 *
 *   SHORTW_DIR   absolute, canonical directory; only files under it
 *   SHORTW_MODE  nth:    short write at the N-th matching call only
 *                every:  every matching call of 2 bytes or more is short
 *                enospc: short write at the N-th matching call, then every
 *                        later matching call fails with ENOSPC (a disk that
 *                        filled up in the middle of a write)
 *   SHORTW_N     N (1 = the first matching call)
 *   SHORTW_LOG   file that receives one line per injection (and "loaded"
 *                once per process), written with raw system calls
 *
 * Wrapped: write, pwrite, pwrite64, writev, pwritev, pwritev64, pwritev2.
 * The real calls are made with syscall(2), so no symbol lookup is needed. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

static const char *dir;
static size_t dir_len;
static int mode; /* 0 off, 1 nth, 2 every, 3 enospc */
static long nth;
static int log_fd = -1;
static long calls;   /* matching calls so far */
static int filled;   /* enospc: the short write happened */

static void log_line(const char *what, int fd, size_t asked, long done) {
    char buf[256];
    struct stat st;
    long out = -1;
    if (fstat(1, &st) == 0)
        out = (long)st.st_size;
    int n = snprintf(buf, sizeof buf, "%s pid=%ld fd=%d asked=%zu done=%ld stdout_size=%ld\n",
                     what, (long)getpid(), fd, asked, done, out);
    if (log_fd >= 0 && n > 0)
        syscall(SYS_write, log_fd, buf, (size_t)n);
}

__attribute__((constructor)) static void init(void) {
    dir = getenv("SHORTW_DIR");
    const char *m = getenv("SHORTW_MODE");
    const char *n = getenv("SHORTW_N");
    const char *l = getenv("SHORTW_LOG");
    if (!dir || !m || !l)
        return;
    dir_len = strlen(dir);
    nth = n ? atol(n) : 1;
    mode = !strcmp(m, "nth") ? 1 : !strcmp(m, "every") ? 2 : !strcmp(m, "enospc") ? 3 : 0;
    log_fd = (int)syscall(SYS_open, l, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    log_line("loaded", -1, 0, 0);
}

static int under_dir(int fd) {
    char link[64], path[4096];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n <= 0)
        return 0;
    path[n] = 0;
    return (size_t)n > dir_len && !strncmp(path, dir, dir_len) && path[dir_len] == '/';
}

enum action { PASS, SHORT, FAIL };

/* What to do with this call of `count` bytes on `fd`. */
static enum action decide(int fd, size_t count) {
    if (!mode || count == 0 || !under_dir(fd))
        return PASS;
    long k = __atomic_add_fetch(&calls, 1, __ATOMIC_SEQ_CST);
    switch (mode) {
    case 1:
        return k == nth && count >= 2 ? SHORT : PASS;
    case 2:
        return count >= 2 ? SHORT : PASS;
    case 3:
        if (__atomic_load_n(&filled, __ATOMIC_SEQ_CST))
            return FAIL;
        if (k >= nth && count >= 2) {
            __atomic_store_n(&filled, 1, __ATOMIC_SEQ_CST);
            return SHORT;
        }
        return PASS;
    }
    return PASS;
}

static long finish(enum action a, int fd, size_t asked, long r) {
    if (a == SHORT)
        log_line("short", fd, asked, r);
    return r;
}

static long fail(int fd, size_t asked) {
    log_line("enospc", fd, asked, -1);
    errno = ENOSPC;
    return -1;
}

ssize_t write(int fd, const void *buf, size_t count) {
    enum action a = decide(fd, count);
    if (a == FAIL)
        return fail(fd, count);
    size_t c = a == SHORT ? count / 2 : count;
    return finish(a, fd, count, syscall(SYS_write, fd, buf, c));
}

ssize_t pwrite64(int fd, const void *buf, size_t count, off_t off) {
    enum action a = decide(fd, count);
    if (a == FAIL)
        return fail(fd, count);
    size_t c = a == SHORT ? count / 2 : count;
    return finish(a, fd, count, syscall(SYS_pwrite64, fd, buf, c, off));
}

ssize_t pwrite(int fd, const void *buf, size_t count, off_t off) {
    return pwrite64(fd, buf, count, off);
}

/* The vectored calls: keep the leading buffers up to half the total. */
static int shorten(const struct iovec *iov, int cnt, struct iovec *out, size_t *total) {
    size_t sum = 0;
    for (int i = 0; i < cnt; i++)
        sum += iov[i].iov_len;
    *total = sum;
    size_t want = sum / 2, got = 0;
    int n = 0;
    for (int i = 0; i < cnt && got < want && n < 64; i++) {
        out[n] = iov[i];
        if (got + out[n].iov_len > want)
            out[n].iov_len = want - got;
        got += out[n].iov_len;
        n++;
    }
    return n;
}

static size_t iov_total(const struct iovec *iov, int cnt) {
    size_t sum = 0;
    for (int i = 0; i < cnt; i++)
        sum += iov[i].iov_len;
    return sum;
}

static long vectored(int nr, int fd, const struct iovec *iov, int cnt, off_t off, int flags,
                     int positional) {
    size_t total = iov_total(iov, cnt);
    enum action a = cnt <= 64 ? decide(fd, total) : PASS;
    if (a == FAIL)
        return fail(fd, total);
    struct iovec tmp[64];
    if (a == SHORT) {
        cnt = shorten(iov, cnt, tmp, &total);
        iov = tmp;
    }
    long r;
    if (!positional)
        r = syscall(nr, fd, iov, cnt);
    else
        r = syscall(nr, fd, iov, cnt, (unsigned long)off, (unsigned long)((unsigned long long)off >> 32),
                    flags);
    return finish(a, fd, total, r);
}

ssize_t writev(int fd, const struct iovec *iov, int cnt) {
    return vectored(SYS_writev, fd, iov, cnt, 0, 0, 0);
}

ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off_t off) {
    return vectored(SYS_pwritev, fd, iov, cnt, off, 0, 1);
}

ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off) {
    return pwritev64(fd, iov, cnt, off);
}

ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags) {
    return vectored(SYS_pwritev2, fd, iov, cnt, off, flags, 1);
}
