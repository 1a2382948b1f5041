// Reading a RISC-V 64-bit ELF executable (see elf.h). The image may sit anywhere, at
// any alignment (a cpio archive aligns files to 4 bytes only), so every field is read
// byte by byte as little-endian rather than through a cast structure. Every offset and
// length from the file is checked against the image size in a form that cannot wrap:
// `off <= size && len <= size - off`, never `off + len <= size`.
#include "lib/elf.h"

#include "abi/errno.h"
#include "abi/types.h"
#include "lib/string.h"

// The parts of the ELF-64 layout this reader uses (System V ABI, "ELF Header" and
// "Program Header"), as byte offsets.
#define EHDR_SIZE    64
#define EH_TYPE      16  // uint16_t e_type
#define EH_MACHINE   18  // uint16_t e_machine
#define EH_VERSION   20  // uint32_t e_version
#define EH_ENTRY     24  // uint64_t e_entry
#define EH_PHOFF     32  // uint64_t e_phoff
#define EH_PHENTSIZE 54  // uint16_t e_phentsize
#define EH_PHNUM     56  // uint16_t e_phnum

#define PHDR_SIZE 56
#define PH_TYPE   0   // uint32_t p_type
#define PH_FLAGS  4   // uint32_t p_flags
#define PH_OFFSET 8   // uint64_t p_offset
#define PH_VADDR  16  // uint64_t p_vaddr
#define PH_FILESZ 32  // uint64_t p_filesz
#define PH_MEMSZ  40  // uint64_t p_memsz

#define ELFCLASS64  2
#define ELFDATA2LSB 1
#define EV_CURRENT  1
#define ET_EXEC     2
#define EM_RISCV    243
#define PT_LOAD     1
#define PF_X        1u
#define PF_W        2u
#define PF_R        4u

static uint64_t read_le(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

// True when [off, off + len) lies inside an object of size bytes.
static int within(uint64_t off, uint64_t len, uint64_t size)
{
    return off <= size && len <= size - off;
}

// The program header table, once the ELF header is known to be ours and the table to
// lie inside the image. Returns 0, or E_INVAL.
static int elf_header(const uint8_t *p, uint64_t size, uint64_t *phoff, int *phnum)
{
    static const uint8_t ident[] = { 0x7f, 'E', 'L', 'F', ELFCLASS64, ELFDATA2LSB, EV_CURRENT };
    if (!p || size < EHDR_SIZE || memcmp(p, ident, sizeof(ident)) != 0)
        return E_INVAL;
    if (read_le(p + EH_TYPE, 2) != ET_EXEC || read_le(p + EH_MACHINE, 2) != EM_RISCV ||
        read_le(p + EH_VERSION, 4) != EV_CURRENT || read_le(p + EH_PHENTSIZE, 2) != PHDR_SIZE)
        return E_INVAL;
    *phoff = read_le(p + EH_PHOFF, 8);
    *phnum = (int)read_le(p + EH_PHNUM, 2);
    // phnum < 2^16, so the product cannot overflow.
    if (!within(*phoff, (uint64_t)*phnum * PHDR_SIZE, size))
        return E_INVAL;
    return 0;
}

static uint32_t prot_from_flags(uint32_t flags)
{
    return (flags & PF_R ? PROT_READ : 0) | (flags & PF_W ? PROT_WRITE : 0) |
           (flags & PF_X ? PROT_EXEC : 0);
}

// Fills seg from the program header at ph and checks it against the image and user space.
static int read_segment(const uint8_t *ph, uint64_t size, struct elf_segment *seg)
{
    seg->vaddr = read_le(ph + PH_VADDR, 8);
    seg->memsz = read_le(ph + PH_MEMSZ, 8);
    seg->filesz = read_le(ph + PH_FILESZ, 8);
    seg->offset = read_le(ph + PH_OFFSET, 8);
    seg->prot = prot_from_flags((uint32_t)read_le(ph + PH_FLAGS, 4));
    if (!within(seg->offset, seg->filesz, size) || seg->filesz > seg->memsz)
        return E_INVAL;
    // [vaddr, vaddr + memsz) inside [USER_MIN, USER_MAX), written so it cannot wrap.
    if (seg->vaddr < USER_MIN || !within(seg->vaddr - USER_MIN, seg->memsz, USER_MAX - USER_MIN))
        return E_INVAL;
    return 0;
}

int elf_segment(const void *image, uint64_t size, int i, struct elf_segment *seg)
{
    const uint8_t *p = image;
    uint64_t phoff;
    int phnum;
    if (i < 0 || elf_header(p, size, &phoff, &phnum) < 0)
        return E_INVAL;
    for (int k = 0; k < phnum; k++) {
        const uint8_t *ph = p + phoff + (uint64_t)k * PHDR_SIZE;
        if (read_le(ph + PH_TYPE, 4) != PT_LOAD)
            continue;
        if (i-- > 0)
            continue;
        return read_segment(ph, size, seg) < 0 ? E_INVAL : 1;
    }
    return 0;
}

// Beyond the header, a program is loadable when it has at least one PT_LOAD, every
// PT_LOAD is valid, and the entry point lies in an executable one: a loader that
// checks once with elf_check can then trust elf_segment's answers. One pass over the
// table (not elf_segment per index), so a hostile e_phnum costs linear time.
int elf_check(const void *image, uint64_t size, uint64_t *entry)
{
    const uint8_t *p = image;
    uint64_t phoff;
    int phnum;
    if (elf_header(p, size, &phoff, &phnum) < 0)
        return E_INVAL;
    uint64_t e = read_le(p + EH_ENTRY, 8);
    int loads = 0, entry_ok = 0;
    for (int k = 0; k < phnum; k++) {
        const uint8_t *ph = p + phoff + (uint64_t)k * PHDR_SIZE;
        struct elf_segment seg;
        if (read_le(ph + PH_TYPE, 4) != PT_LOAD)
            continue;
        if (read_segment(ph, size, &seg) < 0)
            return E_INVAL;
        loads++;
        if ((seg.prot & PROT_EXEC) && e >= seg.vaddr && e - seg.vaddr < seg.memsz)
            entry_ok = 1;
    }
    if (!loads || !entry_ok)
        return E_INVAL;
    if (entry)
        *entry = e;
    return 0;
}
