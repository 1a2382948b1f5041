// The kernel's own symbol table, so a panic can name the functions in its backtrace.
//
// The build links the kernel twice (kern/SConscript): the first link has an empty
// table; kern/gen_ksyms.py turns that kernel's function symbols into C for the second.
// The table sits in its own section, .ksyms, after everything else in the image, so it
// moves no code (the build checks that it did not).
//
//   ksyms_lookup(addr, &offset)   the function holding addr and addr's offset in it,
//                                 or NULL when addr is no kernel code
#pragma once

#include "lib/types.h"

#define KSYMS_SECTION __attribute__((section(".ksyms"), used))

// Written by gen_ksyms.py: ksyms_count functions, sorted by address; the name of the
// i-th starts at ksyms_names + ksyms_offsets[i].
extern const uint32_t ksyms_count;
extern const uint64_t ksyms_addrs[];
extern const uint32_t ksyms_offsets[];
extern const char ksyms_names[];

const char *ksyms_lookup(uint64_t addr, uint64_t *offset);
