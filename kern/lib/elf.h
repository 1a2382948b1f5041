// Reading a RISC-V 64-bit ELF executable: the kernel uses it to load init, and
// user/lib's spawn() to load every other program. Pure code, bounds-checked against
// the image: a truncated or corrupt file gives an error, never a read outside it.
#pragma once

#include <stdint.h>

struct elf_segment {
    uint64_t vaddr;   // where it goes (page alignment is the loader's business)
    uint64_t memsz;   // bytes in memory; those past filesz are zero
    uint64_t filesz;  // bytes taken from the file
    uint64_t offset;  // where they are in the file
    uint32_t prot;    // PROT_READ | PROT_WRITE | PROT_EXEC from p_flags
};

// Checks a little-endian RV64 ET_EXEC for EM_RISCV in [image, image + size).
// Returns 0 and the entry point, or E_INVAL.
int elf_check(const void *image, uint64_t size, uint64_t *entry);

// The i-th PT_LOAD segment (i = 0, 1, ...). Returns 1 and fills seg; 0 past the last;
// E_INVAL when the segment lies outside the file, filesz > memsz, its addresses wrap
// or leave user space [USER_MIN, USER_MAX).
int elf_segment(const void *image, uint64_t size, int i, struct elf_segment *seg);
