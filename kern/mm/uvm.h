// User address spaces: the lower half of a process's page table (the upper half is
// the kernel's, shared). Every function here takes the process's vm_lock itself and
// fails with E_DEAD once the process is torn down.
//
// User pages are 4 KiB. A mapped page from the allocator holds a page reference, so
// the same page can be mapped in several places (regions) and is freed by the last
// unmap; pages the allocator does not manage (the boot archive) are never freed.
//
// Checked user access: copy_in / copy_out walk the page table in software and fail
// with E_FAULT on any address that is not mapped user-accessible with the needed
// permission, so no user pointer is ever dereferenced by the kernel.
#pragma once

#include "abi/types.h"
#include "mm/vm.h"

struct process;
#include "kern/sys_decls.h"  // uaddr_t

// A page table whose upper half maps the kernel, or NULL.
pagetable_t uvm_create(void);
// Frees every user page and page-table page of the lower half of p's table pt, after
// fencing the harts that may have cached them; the root stays, for harts that still
// have it loaded (they reach only kernel addresses through it).
void uvm_free_user(struct process *p, pagetable_t pt);

// The user pages mapped in p (a page mapped twice counts twice); 0 once torn down.
uint64_t uvm_count_pages(struct process *p);

// 0 or E_RANGE: [va, va + len) page-aligned, non-empty, inside user space.
long uvm_check_range(uint64_t va, uint64_t len);
// 0 or E_INVAL: prot is readable, and only PROT_READ | PROT_WRITE | PROT_EXEC.
long uvm_check_prot(uint32_t prot);

// Maps zeroed pages at [va, va + len). E_EXIST when a page there is mapped (nothing
// is changed then), E_NOMEM.
long uvm_alloc(struct process *p, uint64_t va, uint64_t len, uint32_t prot);
// Maps npages pages, the i-th at physical page_pa(ctx, i); read_only_forever: no later
// mem_protect or mem_write may write them (a region mapped without RIGHT_WRITE).
long uvm_map_phys(struct process *p, uint64_t va, uint64_t npages,
                  uint64_t (*page_pa)(const void *ctx, uint64_t i), const void *ctx, uint32_t prot,
                  bool read_only_forever);
// Unmaps whatever is mapped in [va, va + len).
long uvm_unmap(struct process *p, uint64_t va, uint64_t len);
// Changes the protection of [va, va + len): E_NOENT unless every page is mapped, E_RIGHTS
// for write on a page that must stay read-only.
long uvm_protect(struct process *p, uint64_t va, uint64_t len, uint32_t prot);

// 0 when every page of [va, va + len) is mapped user-accessible with all of need (PTE_W:
// writable, and not a read-only region's page; PTE_X: executable), else E_FAULT.
long uvm_check_access(struct process *p, uint64_t va, uint64_t len, uint64_t need);

// Copies between kernel memory and p's user memory. 0 or E_FAULT.
long copy_in(struct process *p, void *dst, uaddr_t src, uint64_t len);
long copy_out(struct process *p, uaddr_t dst, const void *src, uint64_t len);
// Copies len bytes from src's memory at sva into dst's at dva, directly between the two
// address spaces (both are in the kernel's direct map). 0, or E_FAULT with *src_fault
// true when the source range was the bad one.
long uvm_copy_between(struct process *dst, uaddr_t dva, struct process *src, uaddr_t sva,
                      uint64_t len, bool *src_fault);
// Like copy_out, but writes any mapped user page, writable or not (mem_write: a
// loader fills a text page before making it read-only), except one that must stay
// read-only (a region mapped without RIGHT_WRITE).
long copy_out_any(struct process *p, uaddr_t dst, const void *src, uint64_t len);
