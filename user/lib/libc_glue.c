// What picolibc asks of the system beneath it, for Shuttle's user programs:
//
//   stdin, stdout, stderr   tinystdio streams on the kernel's debug console: output is
//                           buffered and written with sys_debug_write at each '\n' or when
//                           the buffer fills; input reads EOF until a console server exists
//   _exit                   flushes stdout, then sys_process_exit
//   sbrk                    malloc's heap at HEAP_BASE, mapped with sys_mem_alloc a page at a time
//   __retarget_lock_*       the locks picolibc takes around malloc and atexit, so threads
//                           (uthread.h) may allocate at the same time
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/lock.h>
#include <unistd.h>

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
void __retarget_lock_acquire(_LOCK_T lock) { lock_acquire(lock); }
void __retarget_lock_acquire_recursive(_LOCK_T lock) { lock_acquire(lock); }
void __retarget_lock_release(_LOCK_T lock) { lock_release(lock); }
void __retarget_lock_release_recursive(_LOCK_T lock) { lock_release(lock); }

// 1 when the lock was taken, as picolibc's own stubs answer.
int __retarget_lock_try_acquire(_LOCK_T lock) { return lock_try(lock); }
int __retarget_lock_try_acquire_recursive(_LOCK_T lock) { return lock_try(lock); }

// ---- the console streams ---------------------------------------------------------------

#define CONSOLE_BUF_SIZE 256  // well under DEBUG_WRITE_MAX

static struct {
    struct __lock lock;
    // lock must be held when using these:
    char buf[CONSOLE_BUF_SIZE];
    uint64_t len;
} console;

// Caller must hold console.lock.
static void console_write_out(void)
{
    if (console.len)
        sys_debug_write(console.buf, console.len);
    console.len = 0;
}

static int console_put(char c, FILE *f)
{
    lock_acquire(&console.lock);
    console.buf[console.len++] = c;
    if (c == '\n' || console.len == CONSOLE_BUF_SIZE)
        console_write_out();
    lock_release(&console.lock);
    return (unsigned char)c;
}

static int console_get(FILE *f)
{
    return EOF;
}

static int console_flush_stream(FILE *f)
{
    console_flush();
    return 0;
}

void console_flush(void)
{
    lock_acquire(&console.lock);
    console_write_out();
    lock_release(&console.lock);
}

static FILE console_stream =
    FDEV_SETUP_STREAM(console_put, console_get, console_flush_stream, _FDEV_SETUP_RW);

FILE *const stdin = &console_stream;
FILE *const stdout = &console_stream;
FILE *const stderr = &console_stream;

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
