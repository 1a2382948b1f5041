// The layouts the kernel and user programs share, pinned with static_assert so a
// change on one side cannot silently disagree with the other.
#pragma once

#include <stdint.h>

typedef int32_t handle_t;

// Pseudo-handles every process has without a table entry.
#define H_SELF        ((handle_t)-1)  // the calling process
#define H_SELF_THREAD ((handle_t)-2)  // the calling thread

// Rights a handle carries. handle_dup and handle_give can only remove rights.
#define RIGHT_READ     (1u << 0)   // map a region readable
#define RIGHT_WRITE    (1u << 1)   // map a region writable
#define RIGHT_EXEC     (1u << 2)   // map a region executable
#define RIGHT_MEM      (1u << 3)   // allocate, map, unmap, protect, write in a process
#define RIGHT_THREAD   (1u << 4)   // create threads in a process
#define RIGHT_WAIT     (1u << 5)   // wait for a process, join a thread
#define RIGHT_KILL     (1u << 6)   // kill a process
#define RIGHT_SCHED    (1u << 7)   // set a thread's priority and affinity
#define RIGHT_DUP      (1u << 8)   // duplicate the handle
#define RIGHT_TRANSFER (1u << 9)   // give the handle to another process
#define RIGHT_SEND     (1u << 10)  // call / send on an endpoint; signal a notification
#define RIGHT_RECV     (1u << 11)  // recv / reply on an endpoint; wait on a notification
#define RIGHT_ALL      ((1u << 12) - 1)

// Page protections for mem_alloc, mem_protect and region_map.
#define PROT_READ  1u
#define PROT_WRITE 2u
#define PROT_EXEC  4u

// Scheduling.
#define PRIORITY_MIN     0
#define PRIORITY_MAX     7
#define PRIORITY_DEFAULT 4

// Exit statuses the kernel gives a process that did not call process_exit.
#define EXIT_FAULT  0x1000  // killed for a fault (the kernel prints why)
#define EXIT_KILLED 0x2000  // killed by process_kill

// User address space (Sv39 lower half). Nothing is mapped below USER_MIN, so a
// null pointer faults.
#define USER_MIN       0x10000ULL
#define USER_MAX       0x4000000000ULL  // first address above user space
#define USER_STACK_TOP 0x3fff000000ULL  // the main thread's stack grows down from here

#define DEBUG_WRITE_MAX 4096  // bytes one debug_write may print

// What sys_stats fills in.
struct sys_stats {
    uint64_t free_pages;          // pages the page allocator has free now
    uint64_t total_pages;         // pages it had at boot
    uint64_t handles;             // handle table entries in use, all processes
    uint64_t threads;             // threads that exist (any state but unused)
    uint64_t processes;           // processes that exist
    uint64_t nharts;              // harts online
    uint64_t context_switches;    // summed over all harts
    uint64_t ticks;               // timer interrupts, summed over all harts
    uint64_t objects;             // kernel objects that exist: threads, processes, endpoints, ...
    uint64_t badges;              // badges watched for closing notices, and notices queued
    uint64_t irq_latency_max_ns;  // the latest any timer interrupt came since init started
                                  // (how long a kernel path held interrupts off, at most)
};
_Static_assert(sizeof(struct sys_stats) == 88, "struct sys_stats is part of the ABI");

// What hart_stats fills in for one hart (index 0 .. nharts-1).
struct hart_stats {
    uint64_t online;              // 1 when the hart runs
    uint64_t hartid;              // what SBI and the device tree call it
    uint64_t current_pid;         // the process running there (0: a kernel thread or idle)
    uint64_t runqueue_len;        // threads waiting to run that the hart could take
    uint64_t context_switches;    // threads switched to
    uint64_t ipis;                // software interrupts taken
    uint64_t ticks;               // timer interrupts taken
    uint64_t preemptions;         // threads the timer took the hart from
    uint64_t ipc_fast;            // IPC calls and reply_recvs the fast path completed here
    uint64_t ipc_slow;            // ... and those it handed to the general path
    uint64_t steals;              // threads it took from another hart's run queue (perhart)
    uint64_t pushed;              // threads other harts took from its run queue (perhart)
    uint64_t migrations;          // threads switched to here that ran last on another hart
    uint64_t rq_spins;            // its run-queue lock acquisitions that found the lock taken
    uint64_t rq_handoffs;         // ... and those that took a queue another hart took last
    uint64_t ipis_sent;           // IPIs it sent (wakeups, calls)
    uint64_t ipis_coalesced;      // IPIs it did not send: the target had one pending already
    uint64_t resched_ipis;        // IPIs it took that asked it to reschedule (wakeup=ipi)
    uint64_t wakeup_preemptions;  // ... after which its thread gave way to the one woken
    uint64_t rpc_calls;           // RPC calls made on it (rpc_call that entered a server)
    uint64_t rpc_slow;            // ... of those, the ones that took the slow path
};
_Static_assert(sizeof(struct hart_stats) == 168, "struct hart_stats is part of the ABI");

// What proc_list fills in for each process. The pid is the kernel's: one number for a
// process everywhere (ps, kill, harts, fault reports, the GDB helpers), never reused.
enum proc_state {
    PROC_NEW = 1,      // created, no thread started yet (being loaded)
    PROC_RUNNING = 2,  // a thread of it is on a hart now
    PROC_WAITING = 3,  // alive, no thread on a hart (runnable, sleeping or in IPC)
    PROC_ZOMBIE = 4,   // exited; exit_status holds its status until the last handle closes
};
#define PROC_NAME_MAX 15  // a process name's length

struct proc_info {
    int32_t pid;
    int32_t state;        // enum proc_state
    int32_t hart;         // the hart index a thread of it runs on now, or -1
    uint32_t threads;     // threads not yet exited
    uint64_t pages;       // user pages mapped (a page shared by several counts in each)
    int32_t exit_status;  // PROC_ZOMBIE only
    uint32_t pad;
    char name[PROC_NAME_MAX + 1];
};
_Static_assert(sizeof(struct proc_info) == 48, "struct proc_info is part of the ABI");

// What a new process finds at the address its first thread gets in a0: written by
// whoever builds the process (the kernel for init, user/lib's spawn for the rest).
#define STARTUP_MAGIC       0x5368757474ULL  // "Shutt"
#define STARTUP_MAX_HANDLES 8
struct startup {
    uint64_t magic;
    uint64_t argc;
    uint64_t argv;                          // char *argv[argc + 1] in the new process
    handle_t handles[STARTUP_MAX_HANDLES];  // given to it; 0 where none
    uint64_t cwd;  // its current directory: an absolute, normalised path ending
                   // in '\0' in the new process, or 0 for "/" (what init gets)
};
_Static_assert(sizeof(struct startup) == 64, "struct startup is part of the ABI");

// Which startup handle is which.
#define STARTUP_H_BOOTFS   0  // a region holding the boot archive (cpio): init, pm
#define STARTUP_H_UART     1  // init only: a region over the UART's registers
#define STARTUP_H_UART_IRQ 2  // init only: the UART's interrupt line
#define STARTUP_H_NS       3  // the name server's endpoint (every process but ns)
#define STARTUP_H_STDIN    4  // streams (see user/lib/stream.h): endpoints with a badge
#define STARTUP_H_STDOUT   5
#define STARTUP_H_STDERR   6
#define STARTUP_H_SPARE    7  // program-specific (e.g. pm's handle for init)

// ---- IPC ----------------------------------------------------------------------------
//
// The IPC calls pass the message in registers, named here by their place among a0..a7
// (IPC_REG_*): in, a0 = the endpoint handle, a1..a4 = the message words, a5 = the address
// of a struct ipc_xfer or 0, a6 = flags; out, a0 = the status, a1..a4 = the reply or
// received words, a5 = the sender's badge (after a receive), a6 = the bytes received
// into the xfer's buffer, a7 = the handle received (or 0). The kernel never writes the
// xfer block: user/lib/ipc.S moves a struct ipc_msg in and out of the registers and
// stores a6 and a7 into the block's recv_len and recv_handle.
#define IPC_WORDS    4
#define IPC_BUF_MAX  4096  // bytes one message may carry besides its words
#define IPC_NONBLOCK 1u    // send / recv: E_AGAIN instead of waiting for the other side
// call / send / reply / reply_recv: the handle sent is moved, not copied: the call closes
// it in the caller's table as it takes it, and then even if the message fails (only a
// call refused before it reads the handle leaves it: bad flags, endpoint or xfer block,
// or no call to reply to). A server replying with a handle made for the reply moves it,
// so that the handle's last close (a closing notice) does not wait for the server's
// next receive.
#define IPC_MOVE     2u

// A receive returns IPC_NOTICE, not 0, when the kernel speaks instead of a sender (no
// reply goes back): w[0] says what, the badge which handle. handle_mint with
// MINT_NOTIFY_CLOSED asks for IPC_NOTICE_CLOSED once the last copy of the handle it
// mints is closed, by whoever held it (see kern/ipc/badges.h).
#define IPC_NOTICE         1
#define IPC_NOTICE_CLOSED  1   // w[0] of a notice
#define MINT_NOTIFY_CLOSED 1u  // handle_mint's flags

#define IPC_REG_ENDPOINT    0  // in: the endpoint handle
#define IPC_REG_STATUS      0  // out: 0 or an E_*
#define IPC_REG_WORD        1  // in and out: the words, a1 .. a4
#define IPC_REG_XFER        5  // in: the struct ipc_xfer, or 0
#define IPC_REG_BADGE       5  // out: the badge of the sender's handle
#define IPC_REG_FLAGS       6  // in: IPC_NONBLOCK or 0
#define IPC_REG_RECV_LEN    6  // out: bytes received into recv_buf
#define IPC_REG_RECV_HANDLE 7  // out: the handle received, or 0

struct ipc_msg {
    uint64_t w[IPC_WORDS];
    uint64_t badge;  // out: the badge of the handle the sender used
};
_Static_assert(sizeof(struct ipc_msg) == 40, "struct ipc_msg is part of the ABI");

// The optional parts of a message: a buffer the kernel copies, and one handle.
struct ipc_xfer {
    uint64_t send_buf, send_len;  // bytes to send (send_len <= IPC_BUF_MAX)
    uint64_t recv_buf, recv_cap;  // room for bytes received
    uint64_t recv_len;            // out (from a6, by the stub): bytes received
    handle_t send_handle;         // a handle to pass along (0: none); needs RIGHT_TRANSFER
    uint32_t send_rights;         // the rights it keeps (cut down to the handle's own)
    handle_t recv_handle;         // out (from a7, by the stub): the handle received, or 0
    uint32_t pad;
};
_Static_assert(sizeof(struct ipc_xfer) == 56, "struct ipc_xfer is part of the ABI");

// ---- migrating-thread RPC (kern/ipc/rpc.h) ---------------------------------------------
//
// rpc_register(ep, entry, stacks, n): the caller's process serves RPC on endpoint ep (a
// handle with RIGHT_RECV) with n activations: activation i runs on the stack whose top is
// stacks + (i + 1) * RPC_STACK_SIZE ([stacks, stacks + n * RPC_STACK_SIZE) page-aligned,
// mapped writable). rpc_call(ep, w[4], window, window_len) (RIGHT_SEND; the words in
// a1..a4, the window in a5, a6): the calling thread itself runs entry in the server's
// address space, on a free activation's stack, with a0..a3 = the words and a5 = the badge
// of the caller's handle; every other register 0. The entry ends with rpc_return(w0..w3)
// (a0..a3): the caller resumes with a0 = 0 and a1..a4 = those words, its callee-saved
// registers (s0-s11, sp, gp, tp and fs0-fs11) as they were. The window is the one part of
// the caller's memory the entry may reach, through rpc_copy(offset, buf, len, direction):
// RPC_COPY_IN copies window[offset, offset + len) to buf in the server, RPC_COPY_OUT
// buf to the window (E_RANGE outside the window, E_FAULT where it is not mapped so,
// E_PERM outside a call).
// Errors, in a0 for the caller: E_DEAD (the server is gone, or went while the call was in
// it), E_FAULT (the entry faulted; the server lives on), E_LIMIT (nested too deep),
// E_NOENT (nothing registered on ep).
#define RPC_STACK_SIZE      16384  // bytes per activation stack
#define RPC_COPY_IN         1      // rpc_copy: from the caller's window
#define RPC_COPY_OUT        2      // rpc_copy: to the caller's window
#define RPC_ACTIVATIONS_MAX 32     // n per registration
#define RPC_DEPTH_MAX       4      // calls a thread may be inside at once (A -> B -> C -> D -> E)
