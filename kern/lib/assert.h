// panic() and assert(): both stop the kernel, naming the hart. A panic message
// starts with its subsystem ("kalloc: freeing a page twice"). Assertions stay on
// in every build: they document invariants students rely on when they read code.
//
// A panic prints its message, then what a student needs to act on it: what the hart was
// running, a backtrace with function names (lib/ksyms.h), and what every other hart was
// running. panic_trap, for a trap the kernel cannot handle, also decodes scause, sepc
// and stval.
#pragma once

#include <stdint.h>

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);
__attribute__((noreturn, format(printf, 4, 5))) void
panic_trap(uint64_t scause, uint64_t sepc, uint64_t stval, const char *fmt, ...);

#define assert(e)                                                                                  \
    ((e) ? (void)0 : panic("assert: %s failed at %s:%d in %s()", #e, __FILE__, __LINE__, __func__))
