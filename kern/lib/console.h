// Kernel console output: printf() for every hart, serialized by console_lock so
// lines from different harts do not interleave within a line.
#pragma once

__attribute__((format(printf, 1, 2))) int printf(const char *fmt, ...);

// Set (to the hart index + 1) by the first hart to panic; the others stop
// at their next printf or interrupt.
extern volatile int panicking;

// Stops this hart for good: used when another hart panicked.
__attribute__((noreturn)) void hart_halt(void);

// Prints the return addresses of the calling stack (panic does, after its message).
void backtrace_print(void);
