// printf-style formatting, with no dependence on where the characters go: the
// kernel console, a buffer, or (in the host unit tests) a test harness.
//
// Supported: %d %i %u %x %X %o %c %s %p %%, flags '-' '0' '+' ' ' '#', a width and a
// precision (numbers or '*'), and the length modifiers hh h l ll z. An unknown
// conversion is printed as it stands, so a typo shows instead of vanishing.
#pragma once

#include <stdarg.h>
#include <stddef.h>

// Calls emit(c, ctx) for each character; returns how many it emitted.
int fmt_vformat(void (*emit)(char c, void *ctx), void *ctx, const char *fmt, va_list ap);

// Like C's vsnprintf: writes at most size-1 characters and a NUL (when size > 0),
// and returns the length the whole output would have had.
int fmt_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int fmt_snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
