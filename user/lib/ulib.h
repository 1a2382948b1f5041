// Small helpers every user program may use, beside the C library and the system calls:
//
//   startup()                  the struct startup this process was started with, or NULL
//   startup_handle(i)          handles[i] from it (STARTUP_H_BOOTFS, ...), 0 when none
//   arg_value(argc, argv, k)   "v" for the word "k=v" (the last one wins), NULL when absent
//   arg_flag(argc, argv, w)    true when the word w, or "w=...", is present
//   nonce_from_argv(...)       the grader's nonce (the word nonce=...), "" when absent
//   time_now(), time_ns(t)     the time CSR, and time CSR ticks in nanoseconds
//   console_flush()            writes out what stdout holds (stdout flushes at '\n' anyway)
//   profile_begin(), profile_end()   mark a window for the profiler (see below)
//
// The fixed addresses of a process's address space (see also abi/types.h):
//
//   USER_MIN (0x10000)   nothing below; every program is linked above it, each at its
//                        own base (user/lib/user.ld, user/SConscript)
//   HEAP_BASE            malloc's heap, grown by sbrk up to HEAP_LIMIT
//   BOOTFS_VA            the boot archive, read-only, where bootfs.c maps it
//   USER_STACK_TOP       the main thread's stack, STACK_SIZE bytes below it
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include <abi/types.h>
#include <shuttle/syscalls.h>

#define PAGE_SIZE  4096ULL
#define HEAP_BASE  0x1000000000ULL
#define HEAP_LIMIT 0x2000000000ULL
#define BOOTFS_VA  0x2000000000ULL
#define STACK_SIZE (64 * 1024ULL)

// QEMU virt's time CSR runs at 10 MHz (the device tree's timebase-frequency). The
// kernel does not tell user programs yet, so they assume it.
#define TIMEBASE_HZ 10000000ULL

static inline uint64_t page_round_up(uint64_t x)
{
    return (x + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1);
}

static inline uint64_t page_round_down(uint64_t x)
{
    return x & ~(PAGE_SIZE - 1);
}

static inline uint64_t time_now(void)
{
    uint64_t t;
    asm volatile("rdtime %0" : "=r"(t));
    return t;
}

// The instret CSR: under ICOUNT=1, icount's clock (the benchmarks' unit).
static inline uint64_t instret(void)
{
    uint64_t n;
    asm volatile("rdinstret %0" : "=r"(n));
    return n;
}

static inline uint64_t time_ns(uint64_t ticks)
{
    return ticks * (1000000000ULL / TIMEBASE_HZ);
}

static inline uint64_t time_from_ms(uint64_t ms)
{
    return ms * (TIMEBASE_HZ / 1000);
}

// What a raw ecall in inline assembly must declare clobbered besides a0 and a7: a system
// call returns every other caller-saved register zeroed (kern/abi/syscalls.list).
#define ECALL_CLOBBERS                                                                             \
    "a1", "a2", "a3", "a4", "a5", "a6", "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory"

const struct startup *startup(void);
handle_t startup_handle(int i);
const char *arg_value(int argc, char *const argv[], const char *key);
bool arg_flag(int argc, char *const argv[], const char *word);
bool arg_list_has(const char *list, const char *word);  // in "a,b,c" (NULL: every word)
const char *nonce_from_argv(int argc, char *const argv[]);
void console_flush(void);

// The profiler's window markers (tools/profile.py, `scons profile`). They do nothing:
// the profiler boots the machine under an instruction trace and finds them there by
// address. Everything every hart executes from a call of profile_begin() to the next
// call of profile_end() is one window, counted per function:
//
//   profile_begin();
//   round_trips(ep, n);      // the code to measure
//   profile_end();
//
// Windows are numbered 1, 2, ... in the order they begin; one must end before the next
// begins. Calls outside a profile cost a few instructions each.
void profile_begin(void);
void profile_end(void);

// Set once by start.c before main runs.
extern const struct startup *ulib_startup;
