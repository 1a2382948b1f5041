// Fixed-size integer and boolean types, and small helpers every file uses.
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a)  (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b)      ((a) < (b) ? (a) : (b))
#define MAX(a, b)      ((a) > (b) ? (a) : (b))
#define ALIGN_UP(x, a) (((x) + (a)-1) & ~((uint64_t)(a)-1))

// For the few functions on the hottest paths (locks, the IPC fast path), which -O1 would
// otherwise leave out of line.
#define ALWAYS_INLINE static inline __attribute__((always_inline))

#define READ_ONCE(x)     (*(volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))
