// What picolibc asks of the system beneath it, for Shuttle's user programs:
//
//   stdin, stdout, stderr   tinystdio streams on file descriptors 0, 1 and 2. Output is
//                           buffered and written out at each '\n', when the buffer fills,
//                           before stdin is read, and at exit
//   read, write, lseek,     POSIX calls on file descriptors (fd.h), so that picolibc's
//   close, open             fopen and fdopen work: a descriptor is a stream handle
//                           (stream.h); open asks fs (fs.h)
//   _exit                   flushes stdout and stderr, then sys_process_exit
//   sbrk                    malloc's heap at HEAP_BASE, mapped with sys_mem_alloc a page at a time
//   __retarget_lock_*       the locks picolibc takes around malloc and atexit, so threads
//                           (uthread.h) may allocate at the same time
//
// Descriptors 0, 1 and 2 start as the process's startup handles STARTUP_H_STDIN,
// _STDOUT and _STDERR. A process started without them (init, the servers, usertests)
// writes through the kernel's debug console instead (sys_debug_write), and reads end
// of file.
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/lock.h>
#include <unistd.h>

#include "fd.h"
#include "fs.h"
#include "stream.h"
#include "ulib.h"

// ---- locks ---------------------------------------------------------------------------
// A waiter yields rather than spins: the holder may be a preempted thread of ours on the
// same hart, and yielding lets it run. A thread is named by its tp, which is its own
// TLS block (crt0.S, uthread.c), so no system call is needed to know who holds a lock.

struct __lock {
    int locked;
    uint64_t owner;  // tp of the holder
    int depth;       // nested acquisitions by the holder
};

struct __lock __lock___libc_recursive_mutex;

static uint64_t thread_tag(void)
{
    uint64_t tp;
    asm("mv %0, tp" : "=r"(tp));
    return tp;
}

static int lock_try(struct __lock *l)
{
    uint64_t me = thread_tag();
    if (__atomic_load_n(&l->owner, __ATOMIC_RELAXED) == me) {
        l->depth++;
        return 1;
    }
    // Acquire semantics: nothing the holder does inside is seen before the lock is ours.
    if (__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE))
        return 0;
    __atomic_store_n(&l->owner, me, __ATOMIC_RELAXED);
    l->depth = 1;
    return 1;
}

static void lock_acquire(struct __lock *l)
{
    while (!lock_try(l))
        sys_yield();
}

static void lock_release(struct __lock *l)
{
    if (--l->depth > 0)
        return;
    __atomic_store_n(&l->owner, 0, __ATOMIC_RELAXED);
    // Release semantics: everything done inside is seen before the lock is free.
    __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE);
}

// Dynamic locks are not used by this build of picolibc; they share one static lock, which
// is correct (only slower) should that change.
void __retarget_lock_init(_LOCK_T *lock)
{
    *lock = &__lock___libc_recursive_mutex;
}

void __retarget_lock_init_recursive(_LOCK_T *lock)
{
    *lock = &__lock___libc_recursive_mutex;
}

void __retarget_lock_close(_LOCK_T lock) {}
void __retarget_lock_close_recursive(_LOCK_T lock) {}
void __retarget_lock_acquire(_LOCK_T lock)
{
    lock_acquire(lock);
}
void __retarget_lock_acquire_recursive(_LOCK_T lock)
{
    lock_acquire(lock);
}
void __retarget_lock_release(_LOCK_T lock)
{
    lock_release(lock);
}
void __retarget_lock_release_recursive(_LOCK_T lock)
{
    lock_release(lock);
}

// 1 when the lock was taken, as picolibc's own stubs answer.
int __retarget_lock_try_acquire(_LOCK_T lock)
{
    return lock_try(lock);
}
int __retarget_lock_try_acquire_recursive(_LOCK_T lock)
{
    return lock_try(lock);
}

// ---- file descriptors ----------------------------------------------------------------

#define FD_MAX 32

struct fd {
    bool open;
    handle_t h;  // the stream, or 0: the kernel's debug console
};

static struct {
    struct __lock lock;
    // lock must be held when using these:
    bool ready;  // 0, 1 and 2 filled in from the startup handles
    struct fd fd[FD_MAX];
} fds;

// Caller must hold fds.lock.
static void fds_init(void)
{
    if (fds.ready)
        return;
    for (int i = 0; i < 3; i++)
        fds.fd[i] = (struct fd){ true, startup_handle(STARTUP_H_STDIN + i) };
    fds.ready = true;
}

// The handle behind fd, in *h; -1 (errno EBADF) when fd is not open.
static int fd_get(int fd, handle_t *h)
{
    int r = -1;
    lock_acquire(&fds.lock);
    fds_init();
    if (fd >= 0 && fd < FD_MAX && fds.fd[fd].open) {
        *h = fds.fd[fd].h;
        r = 0;
    }
    lock_release(&fds.lock);
    if (r < 0)
        errno = EBADF;
    return r;
}

handle_t fd_handle(int fd)
{
    handle_t h = 0;
    return fd_get(fd, &h) == 0 ? h : -1;
}

int fd_adopt(handle_t h)
{
    int fd = -1;
    lock_acquire(&fds.lock);
    fds_init();
    for (int i = 0; i < FD_MAX && fd < 0; i++) {
        if (!fds.fd[i].open) {
            fds.fd[i] = (struct fd){ true, h };
            fd = i;
        }
    }
    lock_release(&fds.lock);
    if (fd < 0)
        errno = EMFILE;
    return fd;
}

// errno for a negative E_*, and the -1 POSIX calls return.
static int fail(long err)
{
    switch (err) {
    case E_NOENT: errno = ENOENT; break;
    case E_EXIST: errno = EEXIST; break;
    case E_NOMEM: errno = ENOMEM; break;
    case E_FAULT: errno = EFAULT; break;
    case E_BADHANDLE: errno = EBADF; break;
    case E_RIGHTS:
    case E_PERM: errno = EACCES; break;
    case E_TOOBIG: errno = EFBIG; break;
    case E_AGAIN: errno = EAGAIN; break;
    case E_BUSY: errno = EBUSY; break;
    case E_LIMIT: errno = EMFILE; break;
    case E_NOSYS: errno = ENOSYS; break;
    case E_RANGE: errno = ERANGE; break;
    case E_DEAD:
    case E_CLOSED: errno = EPIPE; break;
    default: errno = EINVAL; break;
    }
    return -1;
}

// Writes to the stream h, or to the debug console for h == 0.
static long raw_write(handle_t h, const void *buf, size_t n)
{
    if (h)
        return stream_write(h, buf, n);
    const char *p = buf;
    for (size_t done = 0; done < n;) {
        size_t len = n - done < DEBUG_WRITE_MAX ? n - done : DEBUG_WRITE_MAX;
        long r = sys_debug_write(p + done, len);
        if (r < 0)
            return done ? (long)done : r;
        done += len;
    }
    return (long)n;
}

// ---- the standard streams ------------------------------------------------------------

#define STD_BUF_SIZE 256

struct std_file {
    FILE file;  // first: tinystdio hands the callbacks &file
    int fd;
    struct __lock lock;
    // lock must be held when using these:
    char buf[STD_BUF_SIZE];
    size_t len;  // output: bytes waiting; input: bytes read from the stream ...
    size_t pos;  // ... of which the caller has had pos
};

static int std_put(char c, FILE *f);
static int std_get(FILE *f);
static int std_flush(FILE *f);

static struct std_file std_in = { .file = FDEV_SETUP_STREAM(NULL, std_get, NULL, _FDEV_SETUP_READ),
                                  .fd = 0 };
static struct std_file std_out = {
    .file = FDEV_SETUP_STREAM(std_put, NULL, std_flush, _FDEV_SETUP_WRITE), .fd = 1
};
static struct std_file std_err = {
    .file = FDEV_SETUP_STREAM(std_put, NULL, std_flush, _FDEV_SETUP_WRITE), .fd = 2
};

FILE *const stdin = &std_in.file;
FILE *const stdout = &std_out.file;
FILE *const stderr = &std_err.file;

// Caller must hold sf->lock. Writes out what the buffer holds.
static int std_write_out(struct std_file *sf)
{
    handle_t h;
    long r = 0;
    if (sf->len && fd_get(sf->fd, &h) == 0)
        r = raw_write(h, sf->buf, sf->len);
    sf->len = 0;  // what could not be written is dropped: a console that died loses a line
    return r < 0 ? EOF : 0;
}

static int std_put(char c, FILE *f)
{
    struct std_file *sf = (struct std_file *)f;
    int r = 0;
    lock_acquire(&sf->lock);
    sf->buf[sf->len++] = c;
    if (c == '\n' || sf->len == STD_BUF_SIZE)
        r = std_write_out(sf);
    lock_release(&sf->lock);
    return r < 0 ? _FDEV_ERR : (unsigned char)c;
}

static int std_flush_file(struct std_file *sf)
{
    lock_acquire(&sf->lock);
    int r = std_write_out(sf);
    lock_release(&sf->lock);
    return r;
}

static int std_flush(FILE *f)
{
    return std_flush_file((struct std_file *)f);
}

void console_flush(void)
{
    std_flush_file(&std_out);
    std_flush_file(&std_err);
}

// A prompt printed without '\n' must show before the program waits for input.
static int std_get(FILE *f)
{
    struct std_file *sf = (struct std_file *)f;
    int c;
    lock_acquire(&sf->lock);
    if (sf->pos == sf->len) {
        console_flush();
        handle_t h;
        long n = fd_get(sf->fd, &h) == 0 && h ? stream_read(h, sf->buf, sizeof(sf->buf)) : 0;
        sf->pos = sf->len = 0;
        if (n > 0)
            sf->len = (size_t)n;
        if (n <= 0) {
            lock_release(&sf->lock);
            return n == 0 ? _FDEV_EOF : _FDEV_ERR;
        }
    }
    c = (unsigned char)sf->buf[sf->pos++];
    lock_release(&sf->lock);
    return c;
}

// ---- the POSIX calls -------------------------------------------------------------------

// What the standard stream on fd holds must go out before anything written to fd.
static void flush_std(int fd)
{
    if (fd == 1)
        std_flush_file(&std_out);
    else if (fd == 2)
        std_flush_file(&std_err);
}

ssize_t write(int fd, const void *buf, size_t n)
{
    handle_t h;
    if (fd_get(fd, &h) < 0)
        return -1;
    flush_std(fd);
    long r = raw_write(h, buf, n);
    return r < 0 ? fail(r) : (ssize_t)r;
}

ssize_t read(int fd, void *buf, size_t n)
{
    handle_t h;
    if (fd_get(fd, &h) < 0)
        return -1;
    if (fd == 0)
        console_flush();
    long r = h ? stream_read(h, buf, n) : 0;  // the debug console has no input
    return r < 0 ? fail(r) : (ssize_t)r;
}

off_t lseek(int fd, off_t offset, int whence)
{
    handle_t h;
    if (fd_get(fd, &h) < 0)
        return -1;
    if (!h) {
        errno = ESPIPE;
        return -1;
    }
    long r = stream_seek(h, offset, whence);
    return r < 0 ? fail(r) : (off_t)r;
}

int close(int fd)
{
    handle_t h;
    if (fd_get(fd, &h) < 0)
        return -1;
    flush_std(fd);
    lock_acquire(&fds.lock);
    fds.fd[fd] = (struct fd){ false, 0 };
    lock_release(&fds.lock);
    long r = h ? stream_close(h) : 0;
    return r < 0 ? fail(r) : 0;
}

// The mode (a third argument with O_CREAT) is ignored: fs has no permissions.
int open(const char *path, int flags, ...)
{
    handle_t h;
    long r = fs_open(path, flags, &h);
    if (r < 0)
        return fail(r);
    int fd = fd_adopt(h);
    if (fd < 0)
        stream_close(h);
    return fd;
}

// ---- process exit --------------------------------------------------------------------

// tinystdio has no exit-time flush of its own: without this a last line lacking its
// '\n' would be lost.
void _exit(int status)
{
    console_flush();
    sys_process_exit(status);
    for (;;)
        sys_thread_exit(status);  // not reached: process_exit does not return
}

// ---- the heap ------------------------------------------------------------------------
// malloc calls sbrk with its lock held, so these need no lock of their own.

static uint64_t heap_brk = HEAP_BASE;     // the end malloc asked for
static uint64_t heap_mapped = HEAP_BASE;  // the end of the pages mapped so far

void *sbrk(ptrdiff_t incr)
{
    uint64_t old = heap_brk;
    if (incr < 0) {
        // Shrinking keeps the pages mapped: growing again will reuse them.
        if ((uint64_t)-incr > heap_brk - HEAP_BASE)
            goto fail;
        heap_brk -= (uint64_t)-incr;
        return (void *)(uintptr_t)old;
    }
    if ((uint64_t)incr > HEAP_LIMIT - heap_brk)
        goto fail;
    uint64_t end = page_round_up(heap_brk + (uint64_t)incr);
    if (end > heap_mapped) {
        if (sys_mem_alloc(H_SELF, heap_mapped, end - heap_mapped, PROT_READ | PROT_WRITE) < 0)
            goto fail;
        heap_mapped = end;
    }
    heap_brk += (uint64_t)incr;
    return (void *)(uintptr_t)old;
fail:
    errno = ENOMEM;
    return (void *)-1;
}
