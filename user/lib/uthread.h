// Threads in this process with everything a C function needs: a stack from malloc and
// a TLS block of their own (picolibc's errno lives there), so fn may call the C library.
//
//   uthread_start(&t, fn, arg, stack_size)   runs fn(arg) in a new thread
//   uthread_join(&t, &value)                 waits for it, then frees its handle and stack
//
// The thread starts in crt0.S's uthread_entry, which reads a struct uthread_boot kept at
// the top of the thread's memory; the offsets below are pinned by static_assert.
#pragma once

#define UTHREAD_BOOT_FN  0
#define UTHREAD_BOOT_ARG 8
#define UTHREAD_BOOT_TLS 16

#ifndef __ASSEMBLER__
#include <stdint.h>

#include <abi/types.h>

#define UTHREAD_STACK_DEFAULT (16 * 1024)

struct uthread {
    handle_t handle;  // the kernel's thread handle
    void *memory;     // stack, TLS block and boot record, from malloc
};

struct uthread_boot {
    uint64_t fn;  // long (*)(void *)
    uint64_t arg;
    uint64_t tls;  // the value for tp
    uint64_t unused;
};

// Returns 0, or a negative E_* (then nothing is left allocated and t->handle is 0).
long uthread_start(struct uthread *t, long (*fn)(void *), void *arg, uint64_t stack_size);

// Joins the thread; *value (when value is not NULL) gets what fn returned. Returns 0
// or a negative E_* from sys_thread_join; the handle and memory are freed either way.
long uthread_join(struct uthread *t, long *value);
#endif
