// Kernel console output: printf() for every hart, serialized by console_lock so
// lines from different harts do not interleave within a line.
#pragma once

#include <stdint.h>

__attribute__((format(printf, 1, 2))) int printf(const char *fmt, ...);

// Set (to the hart index + 1) by the first hart to panic; the others stop
// at their next printf or interrupt.
extern volatile int panicking;

// Stops this hart for good: used when another hart panicked.
__attribute__((noreturn)) void hart_halt(void);

// Prints the return addresses of the calling stack with the functions they are in
// (panic does, after its message).
void backtrace_print(void);

// The console log: every byte printf and panic print also goes to a ring in memory, so
// that a debugger can show the kernel's recent output after a hang (`shuttle log` in
// tools/gdb/shuttle.py). Byte i of the output since boot is console_log[i %
// CONSOLE_LOG_SIZE]; console_log_bytes counts them. (The console server's output, once
// it runs, goes to the UART from user mode and is not in it.)
#define CONSOLE_LOG_SIZE 16384
extern char console_log[CONSOLE_LOG_SIZE];
extern uint64_t console_log_bytes;
