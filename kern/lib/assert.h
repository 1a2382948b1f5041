// panic() and assert(): both stop the kernel, naming the hart. A panic message
// starts with its subsystem ("kalloc: freeing a page twice"). Assertions stay on
// in every build: they document invariants students rely on when they read code.
#pragma once

__attribute__((noreturn, format(printf, 1, 2))) void panic(const char *fmt, ...);

#define assert(e)                                                                                  \
    ((e) ? (void)0 : panic("assert: %s failed at %s:%d in %s()", #e, __FILE__, __LINE__, __func__))
