# The kernel's first instructions, for the boot hart and for every other hart.
#
# OpenSBI enters _start on the boot hart (chosen at random) with a0 = hart id and
# a1 = the device tree's physical address; harts started later with SBI HSM enter
# _start_secondary with a0 = hart id and a1 = their struct hart (a kernel address),
# the opaque argument harts.c gave sbi_hart_start().
# Both run here at the physical address with the MMU off, so this code only uses
# PC-relative addressing until paging is on.
#
# Rarely, OpenSBI 1.1 sends a hart we started with HSM to _start instead, with the
# firmware's default arguments (a1 = the device tree): it reads the start address
# it was given before that address is visibly written. Seen once in several hundred
# boots under QEMU's multi-threaded TCG: the hart re-ran boot_main on the boot
# hart's stack and wiped .bss. So only the first hart to reach _start boots; a later
# one finds its struct hart by hart id (late_harts, filled by harts_init) and goes
# the secondary way.

#include "arch/asm.h"

    .section .text.boot, "ax"
    .globl _start
_start:
    csrw    sie, zero
    csrw    sip, zero
    lla     t0, boot_lottery
    li      t1, 1
    amoswap.w.aq t1, t1, (t0)
    bnez    t1, _start_late
    # Fill the boot page table: the gigapage holding this code mapped to itself, so
    # the next instruction after the satp write still exists, and all of the first
    # 256 GiB of physical memory at KERNBASE (entries 256..511), global.
    lla     t0, boot_pagetable
    li      t1, 0                   # entry index
    li      t2, 512
    auipc   t3, 0
    srli    t3, t3, 30              # gigapage number of this code
1:  li      t4, 0
    bne     t1, t3, 2f
    slli    t4, t1, 28              # identity entry: ppn = index << 18
    ori     t4, t4, PTE_BOOT_FLAGS
2:  li      t5, 256
    blt     t1, t5, 3f
    sub     t4, t1, t5
    slli    t4, t4, 28              # high entry: ppn = (index - 256) << 18
    ori     t4, t4, PTE_BOOT_FLAGS | PTE_G
3:  slli    t5, t1, 3
    add     t5, t5, t0
    sd      t4, 0(t5)
    addi    t1, t1, 1
    blt     t1, t2, 1b

    call    enable_boot_paging
    ld      t0, boot_high_addr
    jr      t0

    .globl _start_secondary
_start_secondary:
    csrw    sie, zero
    csrw    sip, zero
    call    enable_boot_paging
    ld      t0, secondary_high_addr
    jr      t0

# A started hart that arrived at _start (see above): a0 = its hart id.
_start_late:
    call    enable_boot_paging
    ld      t0, late_high_addr
    jr      t0

# satp = Sv39 with boot_pagetable as the root; preserves a0 and a1.
enable_boot_paging:
    lla     t0, boot_pagetable
    srli    t0, t0, 12
    li      t1, SATP_MODE_SV39
    or      t0, t0, t1
    sfence.vma
    csrw    satp, t0
    sfence.vma
    ret

    .balign 8
boot_high_addr:
    .dword  boot_high
secondary_high_addr:
    .dword  secondary_high
late_high_addr:
    .dword  late_high

    .section .data.boot, "aw"
    .balign 4096
boot_pagetable:
    .space  4096
boot_lottery:                       # 0 until the boot hart takes it
    .word   0

# From here on the code runs in the upper half.
    .text
boot_high:
    lla     sp, boot_stack_top
    lla     tp, early_hart
    # Clear .bss; a0 and a1 survive for boot_main.
    lla     t0, bss_start
    lla     t1, bss_end
1:  bgeu    t0, t1, 2f
    sd      zero, 0(t0)
    addi    t0, t0, 8
    j       1b
2:  call    boot_main
3:  wfi
    j       3b

# Look a0 up in late_harts[] = { hart id, struct hart * } pairs; park if absent.
late_high:
    lla     t0, late_harts
    li      t1, MAX_HARTS
1:  ld      t2, 0(t0)
    beq     t2, a0, 2f
    addi    t0, t0, 16
    addi    t1, t1, -1
    bnez    t1, 1b
3:  wfi                             # not a hart we started: stay out of the way
    j       3b
2:  ld      a1, 8(t0)
    beqz    a1, 3b
    # fall through to secondary_high with a1 = struct hart

secondary_high:
    ld      sp, HART_STACK_TOP(a1)
    mv      a0, a1                  # secondary_main(h) points tp at h (lab 1)
    call    secondary_main
1:  wfi
    j       1b

# Where harts_start_others() tells HSM to start the other harts.
    .data
    .balign 8
    .globl secondary_entry_pa
secondary_entry_pa:
    .dword  _start_secondary

    .section .bss.stack, "aw", @nobits
    .balign 16
boot_stack:
    .space  BOOT_STACK_SIZE
    .globl boot_stack_top
boot_stack_top:
