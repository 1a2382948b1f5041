// Bringing up the harts (IPIs and cross-hart calls are in dev/ipi.h).
//
//   harts_init(platform, boot_hartid)  fill harts[] from the tree; point tp at ours
//   harts_start_others()               SBI HSM hart_start for every other hart, then
//                                      wait for them; returns how many are online
#pragma once

#include "arch/hart.h"
#include "boot/platform.h"

// The boot hart's struct hart until harts_init() switches it to its harts[] entry.
extern struct hart early_hart;

// use_sstc false makes every hart program its timer through SBI even where it has
// Sstc (boot argument timer=sbi), so both paths can be tested on one machine.
void harts_init(const struct platform *p, uint64_t boot_hartid, bool use_sstc);
int harts_start_others(void);
int harts_online(void);
// Test hook (boot argument hsm_fail=HARTID): that hart's start fails.
void harts_set_hsm_fail(uint64_t hartid);
uint64_t hart_entry_address(struct hart *h);
// Set up the per-hart parts of the kernel on this hart (page table, traps, timer).
void hart_init_local(void);
