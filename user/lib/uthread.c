// Threads with a C library (see uthread.h). One malloc'ed block per thread:
//
//   memory ... stack (grows down) ... | boot record (32 bytes) | TLS block | slack
//                                     ^ sp, 16-byte aligned    ^ tp, 64-byte aligned
#include "uthread.h"

#include <picolibc.h>  // defines PICOLIBC_TLS, which picotls.h tests
#include <picotls.h>
#include <stddef.h>
#include <stdlib.h>

#include <shuttle/syscalls.h>

_Static_assert(offsetof(struct uthread_boot, fn) == UTHREAD_BOOT_FN, "crt0.S reads fn here");
_Static_assert(offsetof(struct uthread_boot, arg) == UTHREAD_BOOT_ARG, "crt0.S reads arg here");
_Static_assert(offsetof(struct uthread_boot, tls) == UTHREAD_BOOT_TLS, "crt0.S reads tls here");
_Static_assert(sizeof(struct uthread_boot) % 16 == 0, "sp below the record stays aligned");

#define TLS_ALIGN 64  // user.ld asserts no TLS section needs more

void uthread_entry(void);  // crt0.S

long uthread_start(struct uthread *t, long (*fn)(void *), void *arg, uint64_t stack_size)
{
    t->handle = 0;
    t->memory = NULL;
    uint64_t tls_size = (_tls_size() + TLS_ALIGN - 1) & ~(uint64_t)(TLS_ALIGN - 1);
    uint64_t total = stack_size + sizeof(struct uthread_boot) + tls_size + TLS_ALIGN;
    uint8_t *mem = malloc(total);
    if (!mem)
        return E_NOMEM;
    uint64_t top = (uint64_t)(uintptr_t)(mem + total);
    uint64_t tls = (top - tls_size) & ~(uint64_t)(TLS_ALIGN - 1);
    struct uthread_boot *boot = (struct uthread_boot *)(uintptr_t)(tls - sizeof(*boot));
    _init_tls((void *)(uintptr_t)tls);
    boot->fn = (uint64_t)(uintptr_t)fn;
    boot->arg = (uint64_t)(uintptr_t)arg;
    boot->tls = tls;
    long h = sys_thread_create(H_SELF, (uint64_t)(uintptr_t)uthread_entry,
                               (uint64_t)(uintptr_t)boot, (uint64_t)(uintptr_t)boot);
    if (h < 0) {
        free(mem);
        return h;
    }
    t->handle = (handle_t)h;
    t->memory = mem;
    return 0;
}

long uthread_join(struct uthread *t, long *value)
{
    long v = 0;
    long r = sys_thread_join(t->handle, &v);
    sys_handle_close(t->handle);
    // The stack may be freed only once the thread can no longer run on it, which a
    // failed join does not promise: keep the memory then, rather than risk it.
    if (r == 0)
        free(t->memory);
    t->handle = 0;
    t->memory = NULL;
    if (value)
        *value = v;
    return r;
}
