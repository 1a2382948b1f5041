// fuzz: random system calls against the kernel, from threads on every hart, in
// disposable children; the kernel must not panic, hang or leak, whatever they pass.
//
// Boot with `run=fuzz` (every phase) or `run=fuzz fuzz=ipc,memory`. `fuzzcalls=N` sets
// the calls per phase (default FUZZ_CALLS), `fuzzseed=S` the seed (default: from the
// clock). The seed is printed: with it each thread of each child makes the same calls
// with the same arguments again; how the threads interleave is the machine's.
//
// Boot with `failalloc=N failin=fuzzchild` too, and the children's allocations fail now
// and then besides (mm/failalloc.h): the counts must still come back.
//
// The parent calls nothing at random. For each child it picks a seed, starts
// `fuzz --child PHASE SEED CALLS`, and then lets it run to its end (children may also
// fault, or unmap or kill themselves), kills it at a random moment, or kills it once its
// call counter stops moving (every thread blocked, say in calls nobody answers). A kill
// must take effect within KILL_MS. After each phase the kernel's counts (free pages,
// handles, threads, processes, objects, watched badges) must be what they were before.
// So a panic, a hang or a leak fails the phase.
//
// A child runs one worker per hart (at most MAX_WORKERS), pinned, each making its share
// of the calls with arguments drawn from interesting sets (below), and a janitor thread
// that creates and destroys what the workers aim at: endpoints, notifications, regions,
// processes that never start, threads. So handles go stale under the workers' feet.
//
//   random    any call, any argument
//   ipc       call, send, receive, reply with buffers and handles, while endpoints close
//   memory    stores into pages that other harts unmap, protect and map again
//   process   chains and cycles of process handles, kills, waits, threads in processes
//             that never started
//
// The findings these phases were written after are replayed one by one in robusttests.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "rpc.h"
#include "spawn.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"
#include <abi/sysnum.h>

#define FUZZ_CALLS   25000  // per phase, by default
#define CHILD_CALLS  4000   // per child at most
#define MAX_WORKERS  8
#define POOL         24    // objects the janitor keeps for the workers to aim at
#define STALE        16    // handles closed lately
#define RING         8     // threads the janitor started and has not joined
#define STUCK_MS     150   // a child whose counter stands still this long is killed
#define KILL_MS      3000  // a kill must end a child within this
#define EARLY_KILLS  4     // one child in EARLY_KILLS is killed at a random moment
#define MS           1000000ULL
#define SHARED_VA    0x2f00000000ULL  // the page the parent reads the counter from
#define SANDBOX_VA   0x3000000000ULL  // where a child maps, unmaps and stores at will
#define SANDBOX_SIZE (16 * PAGE_SIZE)
#define KERNEL_VA    0xffffffc080200000ULL
#define HOLE_VA      0x2800000000ULL              // never mapped
#define SELF         ((uint64_t)(int64_t)H_SELF)  // as a register holds them
#define SELF_THREAD  ((uint64_t)(int64_t)H_SELF_THREAD)

struct shared {
    uint64_t calls;  // made by the child so far (atomic)
    uint64_t ok;     // of them, those that returned >= 0
};

enum phase { PHASE_RANDOM, PHASE_IPC, PHASE_MEMORY, PHASE_PROCESS, NPHASES };
static const char *const phase_names[NPHASES] = { "random", "ipc", "memory", "process" };

// ---- randomness -----------------------------------------------------------------------------

static uint64_t mix(uint64_t x)  // splitmix64's finaliser: seeds from seeds
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

struct rng {
    uint64_t s;
};

static uint64_t rnd(struct rng *r)  // xorshift64*
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(struct rng *r, uint64_t n)
{
    return n ? rnd(r) % n : 0;
}

static bool one_in(struct rng *r, uint64_t n)
{
    return below(r, n) == 0;
}

#define PICK(r, array) ((array)[below((r), sizeof(array) / sizeof((array)[0]))])

// ---- the child's world: its objects and the interesting values ------------------------------

static struct shared *shared = (struct shared *)SHARED_VA;
static volatile long pool[POOL];  // handles to aim at; 0: empty (any thread may swap one out)
static volatile long stale[STALE];
static volatile unsigned stale_next;
static volatile int stop_janitor;
static int nharts = 1;
static const char read_only_bytes[64] = "read-only data, for calls that must not write here";

static void stale_push(long h)
{
    stale[__atomic_fetch_add(&stale_next, 1, __ATOMIC_RELAXED) % STALE] = h;
}

// Keeps h (a handle a call returned) in a pool slot, or closes it.
static void keep_or_close(struct rng *r, long h)
{
    if (h <= 0)
        return;
    if (one_in(r, 2)) {
        sys_handle_close((handle_t)h);
        stale_push(h);
        return;
    }
    long old = __atomic_exchange_n(&pool[below(r, POOL)], h, __ATOMIC_ACQ_REL);
    if (old) {
        sys_handle_close((handle_t)old);
        stale_push(old);
    }
}

static uint64_t any_handle(struct rng *r)
{
    static const uint64_t odd[] = { 0, SELF, SELF_THREAD, 65, 9999, 1ULL << 40 };  // -1 is SELF
    switch (below(r, 8)) {
    case 0: return PICK(r, odd);
    case 1: return stale[below(r, STALE)];
    case 2: return 1 + below(r, 70);
    default: return (uint64_t)pool[below(r, POOL)];
    }
}

// A process to aim at: rarely this one (a child may kill itself, but not all the time).
static uint64_t target_process(struct rng *r)
{
    return one_in(r, 40) ? SELF : any_handle(r);
}

static uint64_t bad_address(struct rng *r)
{
    static const uint64_t bad[] = { 0,        0x10,    USER_MIN - 8, KERNEL_VA, USER_MAX - 4,
                                    USER_MAX, HOLE_VA, UINT64_MAX,   1ULL << 63 };
    return PICK(r, bad);
}

// Memory the kernel may read from (or may not).
static uint64_t input_address(struct rng *r, const void *own)
{
    switch (below(r, 7)) {
    case 0: return bad_address(r);
    case 1: return (uint64_t)(uintptr_t)read_only_bytes;
    case 2: return (uint64_t)(uintptr_t)own;
    case 3: return (uint64_t)(uintptr_t)&mix;  // code
    case 4: return BOOTFS_VA + below(r, PAGE_SIZE);
    case 5: return SANDBOX_VA + SANDBOX_SIZE - 1 - below(r, 16);  // straddles the end
    default: return SANDBOX_VA + below(r, SANDBOX_SIZE);
    }
}

// Memory the kernel may write to (or may not): never this child's own live data.
static uint64_t output_address(struct rng *r)
{
    switch (below(r, 6)) {
    case 0: return bad_address(r);
    case 1: return (uint64_t)(uintptr_t)read_only_bytes;
    case 2: return (uint64_t)(uintptr_t)&mix;
    case 3: return BOOTFS_VA;
    case 4: return SANDBOX_VA + SANDBOX_SIZE - 1 - below(r, 16);
    default: return SANDBOX_VA + below(r, SANDBOX_SIZE);
    }
}

// A page address to map at; in this child only the sandbox (and past it) or nonsense.
static uint64_t map_address(struct rng *r, uint64_t process)
{
    static const uint64_t odd[] = { 0,        USER_MIN,       KERNEL_VA, USER_MAX - PAGE_SIZE,
                                    USER_MAX, SANDBOX_VA + 8, HOLE_VA,   1ULL << 63 };
    (void)process;
    if (one_in(r, 6))
        return PICK(r, odd);  // USER_MIN: below every program, but a long range reaches ours
    return SANDBOX_VA + below(r, SANDBOX_SIZE / PAGE_SIZE + 2) * PAGE_SIZE;
}

static uint64_t length(struct rng *r)
{
    static const uint64_t lengths[] = {
        0,           1,        8,           PAGE_SIZE - 1, PAGE_SIZE,  PAGE_SIZE + 1,
        IPC_BUF_MAX, 4097,     1ULL << 20,  1ULL << 32,    UINT64_MAX, UINT64_MAX - PAGE_SIZE + 1,
        1ULL << 63,  USER_MAX, SANDBOX_SIZE
    };
    return one_in(r, 8) ? rnd(r) : PICK(r, lengths);
}

static uint64_t page_length(struct rng *r)
{
    return one_in(r, 5) ? length(r) : (1 + below(r, SANDBOX_SIZE / PAGE_SIZE + 1)) * PAGE_SIZE;
}

static uint64_t bits(struct rng *r)
{
    static const uint64_t values[] = { 0, 1, 2, 3, 7, RIGHT_ALL, 1u << 31, UINT64_MAX };
    return one_in(r, 3) ? below(r, 1u << 13) : PICK(r, values);
}

static uint64_t protection(struct rng *r)
{
    return one_in(r, 6) ? bits(r) : PROT_READ | (one_in(r, 2) ? PROT_WRITE : 0);
}

// ---- one call -------------------------------------------------------------------------------

struct worker {
    struct rng rng;
    enum phase phase;
    int hart;
    uint64_t quota;
    struct ipc_xfer xfer;  // what an IPC call's xfer points at, when it points at valid memory
    uint8_t scratch[64];
    struct uthread thread;
};

static long ecall(uint64_t nr, uint64_t a[7], uint64_t *a7_out)
{
    register uint64_t r0 asm("a0") = a[0], r1 asm("a1") = a[1], r2 asm("a2") = a[2];
    register uint64_t r3 asm("a3") = a[3], r4 asm("a4") = a[4], r5 asm("a5") = a[5];
    register uint64_t r6 asm("a6") = a[6], r7 asm("a7") = nr;
    asm volatile("ecall"
                 : "+r"(r0), "+r"(r1), "+r"(r2), "+r"(r3), "+r"(r4), "+r"(r5), "+r"(r6), "+r"(r7)
                 :
                 : "t0", "t1", "t2", "t3", "t4", "t5", "t6", "memory");
    *a7_out = r7;
    return (long)r0;
}

static uint64_t xfer_address(struct worker *w)
{
    struct rng *r = &w->rng;
    if (one_in(r, 5))
        return one_in(r, 2) ? 0 : input_address(r, w->scratch);
    if (one_in(r, 2)) {  // a well-formed one, so that messages go through
        w->xfer = (struct ipc_xfer){
            .send_buf = (uint64_t)(uintptr_t)w->scratch,
            .send_len = below(r, sizeof(w->scratch)),
            .recv_buf = SANDBOX_VA + below(r, SANDBOX_SIZE - IPC_BUF_MAX),
            .recv_cap = IPC_BUF_MAX,
            .send_handle = one_in(r, 3) ? (handle_t)pool[below(r, POOL)] : 0,
            .send_rights = RIGHT_ALL,
        };
        return (uint64_t)(uintptr_t)&w->xfer;
    }
    w->xfer = (struct ipc_xfer){
        .send_buf = input_address(r, w->scratch),
        .send_len = one_in(r, 3) ? below(r, 200) : length(r),
        .recv_buf = output_address(r),
        .recv_cap = one_in(r, 3) ? IPC_BUF_MAX : length(r),
        .send_handle = one_in(r, 2) ? 0 : (handle_t)any_handle(r),
        .send_rights = (uint32_t)bits(r),
    };
    return (uint64_t)(uintptr_t)&w->xfer;
}

static void ipc_args(struct worker *w, uint64_t a[7])
{
    a[0] = one_in(&w->rng, 4) ? any_handle(&w->rng) : (uint64_t)pool[below(&w->rng, POOL)];
    for (int i = 1; i <= 4; i++)
        a[i] = rnd(&w->rng);
    a[5] = xfer_address(w);
    a[6] = one_in(&w->rng, 4) ? bits(&w->rng) : one_in(&w->rng, 2) ? IPC_NONBLOCK : 0;
}

// Fills a with arguments for system call nr; false for a call this fuzzer never makes.
static bool args_for(struct worker *w, uint64_t nr, uint64_t a[7])
{
    struct rng *r = &w->rng;
    memset(a, 0, 7 * sizeof(a[0]));
    switch (nr) {
    case SYS_debug_write:  // never valid pointer and length together: nothing is printed
        a[0] = one_in(r, 2) ? bad_address(r) : (uint64_t)(uintptr_t)read_only_bytes;
        a[1] = a[0] == (uint64_t)(uintptr_t)read_only_bytes ? DEBUG_WRITE_MAX + 1 : length(r);
        return true;
    case SYS_sleep: a[0] = one_in(r, 500) ? UINT64_MAX : below(r, 300000); return true;
    case SYS_thread_create:
        a[0] = target_process(r);
        a[1] = one_in(r, 3) ? (uint64_t)(uintptr_t)sys_thread_exit : input_address(r, w->scratch);
        a[2] = one_in(r, 2) ? SANDBOX_VA + SANDBOX_SIZE : output_address(r);
        a[3] = rnd(r);
        return true;
    case SYS_thread_join:
        a[0] = any_handle(r);
        a[1] = output_address(r);
        return true;
    case SYS_thread_set_priority:
        a[0] = any_handle(r);
        a[1] = one_in(r, 2) ? below(r, PRIORITY_MAX + 2) : rnd(r);
        return true;
    case SYS_thread_set_affinity:
        a[0] = one_in(r, 4) ? SELF_THREAD : any_handle(r);
        a[1] = one_in(r, 2) ? 1ULL << below(r, 64) : bits(r);
        return true;
    case SYS_process_create:
        a[0] = input_address(r, "fuzzed");
        a[1] = one_in(r, 2) ? 1 + below(r, 16) : length(r);
        return true;
    case SYS_process_wait:
        a[0] = any_handle(r);
        a[1] = output_address(r);
        return true;
    case SYS_process_kill:  // itself only now and then: a child's life is its calls
        a[0] = one_in(r, 500) ? SELF : any_handle(r);
        if (a[0] == SELF && !one_in(r, 500))
            a[0] = 0;
        return true;
    case SYS_handle_close: a[0] = any_handle(r); return true;
    case SYS_handle_dup:
        a[0] = any_handle(r);
        a[1] = bits(r);
        return true;
    case SYS_handle_give:
        a[0] = target_process(r);
        a[1] = any_handle(r);
        a[2] = bits(r);
        return true;
    case SYS_mem_alloc:
    case SYS_mem_protect:
        a[0] = target_process(r);
        a[1] = map_address(r, a[0]);
        a[2] = page_length(r);
        a[3] = protection(r);
        return true;
    case SYS_mem_unmap:
        a[0] = target_process(r);
        a[1] = map_address(r, a[0]);
        a[2] = page_length(r);
        return true;
    case SYS_mem_write:
        a[0] = target_process(r);
        a[1] = a[0] == SELF ? output_address(r) : rnd(r) & (USER_MAX - 1);
        a[2] = input_address(r, w->scratch);
        a[3] = length(r);
        return true;
    case SYS_region_create: a[0] = one_in(r, 2) ? page_length(r) : length(r); return true;
    case SYS_region_map:
        a[0] = any_handle(r);
        a[1] = target_process(r);
        a[2] = map_address(r, a[1]);
        a[3] = one_in(r, 2) ? 0 : page_length(r);
        a[4] = page_length(r);
        a[5] = protection(r);
        return true;
    case SYS_region_size:
    case SYS_notify_wait:
    case SYS_irq_ack:
        a[0] = any_handle(r);
        a[1] = one_in(r, 2) ? IPC_NONBLOCK : bits(r);
        return true;
    case SYS_stats: a[0] = output_address(r); return true;
    case SYS_hart_stats:
        a[0] = one_in(r, 2) ? below(r, (uint64_t)nharts + 1) : rnd(r);
        a[1] = output_address(r);
        return true;
    case SYS_poweroff: a[0] = rnd(r); return true;  // E_PERM: only init may
    case SYS_handle_mint:
        a[0] = any_handle(r);
        a[1] = one_in(r, 4) ? 0 : 1 + below(r, 64);
        a[2] = bits(r);
        a[3] = one_in(r, 2) ? MINT_NOTIFY_CLOSED : bits(r);
        return true;
    case SYS_ipc_call:
    case SYS_ipc_send:
    case SYS_ipc_recv:
    case SYS_ipc_reply:
    case SYS_ipc_reply_recv:
        ipc_args(w, a);
        if (nr == SYS_ipc_reply && !one_in(r, 4))
            a[0] = 0;  // a reply names no endpoint
        return true;
    case SYS_rpc_register:  // an entry that returns at once, or one that faults
        a[0] = one_in(r, 4) ? any_handle(r) : (uint64_t)pool[below(r, POOL)];
        a[1] = one_in(r, 2)   ? (uint64_t)(uintptr_t)rpc_return
               : one_in(r, 2) ? (uint64_t)(uintptr_t)w->scratch
                              : bad_address(r);
        a[2] = one_in(r, 2) ? SANDBOX_VA : output_address(r);
        a[3] = one_in(r, 4) ? rnd(r) : below(r, SANDBOX_SIZE / RPC_STACK_SIZE + 2);
        return true;
    case SYS_rpc_call:  // a5, a6: the window
        ipc_args(w, a);
        a[5] = one_in(r, 2) ? output_address(r) : 0;
        a[6] = length(r);
        return true;
    case SYS_rpc_return:  // no call to return from: E_PERM
        for (int i = 0; i < 4; i++)
            a[i] = rnd(r);
        return true;
    case SYS_rpc_copy:
        a[0] = length(r);
        a[1] = output_address(r);
        a[2] = length(r);
        a[3] = one_in(r, 3) ? bits(r) : 1 + below(r, 2);
        return true;
    case SYS_notify_signal:
    case SYS_irq_bind:
        a[0] = any_handle(r);
        a[1] = nr == SYS_irq_bind ? any_handle(r) : rnd(r);
        a[2] = rnd(r);
        return true;
    case SYS_yield:
    case SYS_hart_self:
    case SYS_thread_self:
    case SYS_endpoint_create:
    case SYS_notify_create: return true;
    default: return false;  // process_exit, thread_exit: a child ends when it chooses
    }
}

// The calls each phase makes, a call listed twice made twice as often.
static const uint16_t ipc_calls[] = {
    SYS_ipc_call,        SYS_ipc_call,       SYS_ipc_send,       SYS_ipc_recv,    SYS_ipc_recv,
    SYS_ipc_reply,       SYS_ipc_reply_recv, SYS_ipc_reply_recv, SYS_handle_mint, SYS_handle_close,
    SYS_endpoint_create, SYS_handle_dup,     SYS_notify_signal,  SYS_notify_wait, SYS_rpc_register,
    SYS_rpc_call,        SYS_rpc_call,
};
static const uint16_t memory_calls[] = {
    SYS_mem_alloc,     SYS_mem_alloc, SYS_mem_unmap,  SYS_mem_unmap,
    SYS_mem_protect,   SYS_mem_write, SYS_region_map, SYS_region_map,
    SYS_region_create, SYS_ipc_call,  SYS_stats,      SYS_process_create,
};
static const uint16_t process_calls[] = {
    SYS_process_create, SYS_process_create, SYS_handle_give,   SYS_handle_give,
    SYS_process_kill,   SYS_process_wait,   SYS_thread_create, SYS_thread_create,
    SYS_handle_close,   SYS_mem_alloc,      SYS_thread_join,   SYS_thread_set_affinity,
    SYS_handle_dup,
};

static uint64_t choose_call(struct worker *w)
{
    struct rng *r = &w->rng;
    switch (w->phase) {
    case PHASE_IPC: return PICK(r, ipc_calls);
    case PHASE_MEMORY: return PICK(r, memory_calls);
    case PHASE_PROCESS: return PICK(r, process_calls);
    default: return 1 + below(r, SYS_COUNT);  // SYS_COUNT itself is no call
    }
}

static void one_call(struct worker *w)
{
    uint64_t nr = choose_call(w), a[7], handle = 0;
    if (!args_for(w, nr, a) && nr < SYS_COUNT)
        return;
    long ret = ecall(nr, a, &handle);
    if (ret >= 0)
        __atomic_fetch_add(&shared->ok, 1, __ATOMIC_RELAXED);
    bool made_handle = nr == SYS_endpoint_create || nr == SYS_notify_create ||
                       nr == SYS_region_create || nr == SYS_process_create ||
                       nr == SYS_handle_dup || nr == SYS_handle_mint;
    if (made_handle && ret > 0)
        keep_or_close(&w->rng, ret);
    bool received = nr == SYS_ipc_call || nr == SYS_ipc_recv || nr == SYS_ipc_reply_recv;
    if (received && ret >= 0 && handle)
        keep_or_close(&w->rng, (long)handle);
}

// Stores into the sandbox between calls: the pages may go at any moment, and then the
// store kills the child (what the memory phase is for).
static void touch_sandbox(struct worker *w)
{
    volatile uint64_t *p = (volatile uint64_t *)SANDBOX_VA;
    for (int i = 0; i < 64; i++)
        p[below(&w->rng, SANDBOX_SIZE / 8)] = rnd(&w->rng);
}

static long worker_main(void *arg)
{
    struct worker *w = arg;
    sys_thread_set_affinity(H_SELF_THREAD, 1ULL << w->hart);
    bool toucher = w->phase == PHASE_MEMORY && (w->hart & 1);
    for (uint64_t i = 0; i < w->quota; i++) {
        if (toucher)
            touch_sandbox(w);
        one_call(w);
        __atomic_fetch_add(&shared->calls, 1, __ATOMIC_RELAXED);
    }
    return 0;
}

// ---- the janitor ----------------------------------------------------------------------------

static long short_task(void *arg)
{
    sys_sleep((uintptr_t)arg);
    return 0;
}

struct janitor {
    struct rng rng;
    enum phase phase;
    struct uthread ring[RING];  // threads it started, joined when their place is reused
    unsigned next;
    struct uthread thread;
};

static long new_object(struct janitor *j)
{
    struct rng *r = &j->rng;
    uint64_t kind = below(r, 7);
    if (j->phase == PHASE_IPC && one_in(r, 2))
        kind = one_in(r, 2) ? 4 : 6;  // endpoints and minted handles, mostly
    switch (kind) {
    case 0: return sys_notify_create();
    case 1: return sys_region_create((1 + below(r, 4)) * PAGE_SIZE);
    case 2: return sys_process_create("grandchild", 10);
    case 3: {
        struct uthread *t = &j->ring[j->next++ % RING];
        if (t->handle)
            uthread_join(t, NULL);
        if (uthread_start(t, short_task, (void *)(uintptr_t)below(r, 300000), 4096) < 0)
            return 0;
        return sys_handle_dup(t->handle, RIGHT_ALL);  // the workers may close this one
    }
    case 4: {
        long ep = pool[below(r, POOL)];
        return sys_handle_mint((handle_t)ep, 1 + below(r, 64), (uint32_t)bits(r),
                               one_in(r, 2) ? MINT_NOTIFY_CLOSED : 0);
    }
    default: return sys_endpoint_create();
    }
}

static long janitor_main(void *arg)
{
    struct janitor *j = arg;
    struct rng *r = &j->rng;
    while (!__atomic_load_n(&stop_janitor, __ATOMIC_ACQUIRE)) {
        long h = new_object(j);
        long old = __atomic_exchange_n(&pool[below(r, POOL)], h > 0 ? h : 0, __ATOMIC_ACQ_REL);
        if (old) {
            if (one_in(r, 3))
                sys_process_kill((handle_t)old);       // if it is a process
            sys_notify_signal((handle_t)old, rnd(r));  // if it is a notification
            sys_handle_close((handle_t)old);
            stale_push(old);
        }
        sys_notify_signal((handle_t)pool[below(r, POOL)], rnd(r) | 1);
        sys_sleep(below(r, 100000));
    }
    for (int i = 0; i < RING; i++)
        if (j->ring[i].handle)
            uthread_join(&j->ring[i], NULL);
    return 0;
}

// ---- a child --------------------------------------------------------------------------------

static struct worker workers[MAX_WORKERS];
static struct janitor janitor;

static int child_main(enum phase phase, uint64_t seed, uint64_t calls)
{
    if (sys_region_map(startup_handle(STARTUP_H_SPARE), H_SELF, SHARED_VA, 0, PAGE_SIZE,
                       PROT_READ | PROT_WRITE) < 0)
        return 2;
    struct sys_stats s;
    if (sys_stats(&s) == 0 && s.nharts > 0)
        nharts = (int)s.nharts;
    sys_mem_alloc(H_SELF, SANDBOX_VA, SANDBOX_SIZE, PROT_READ | PROT_WRITE);
    janitor.rng.s = mix(seed) | 1;
    janitor.phase = phase;
    for (int i = 0; i < POOL; i++) {
        long h = i == 0 ? (long)startup_handle(STARTUP_H_BOOTFS) : new_object(&janitor);
        pool[i] = h > 0 ? h : 0;  // an error is no handle (and -1 would be H_SELF)
    }
    if (uthread_start(&janitor.thread, janitor_main, &janitor, 16 * 1024) < 0)
        return 3;
    int n = nharts < MAX_WORKERS ? nharts : MAX_WORKERS;
    for (int i = 0; i < n; i++) {
        workers[i] = (struct worker){ .rng = { mix(seed + 1 + (uint64_t)i) | 1 },
                                      .phase = phase,
                                      .hart = i,
                                      .quota = calls / (uint64_t)n + 1 };
        if (uthread_start(&workers[i].thread, worker_main, &workers[i], 16 * 1024) < 0)
            workers[i].thread.handle = 0;
    }
    for (int i = 0; i < n; i++)
        if (workers[i].thread.handle)
            uthread_join(&workers[i].thread, NULL);
    __atomic_store_n(&stop_janitor, 1, __ATOMIC_RELEASE);
    uthread_join(&janitor.thread, NULL);
    return 0;  // whatever it left behind, its end closes
}

// ---- the parent -----------------------------------------------------------------------------

static uint64_t base_seed;
static uint64_t calls_per_phase = FUZZ_CALLS;
static struct shared *parent_shared;
static handle_t shared_region;

struct outcome {
    int children, finished, faulted, killed_itself, killed_early, killed_stuck, other;
    int other_status;  // the last of the others
    uint64_t calls, ok;
};

struct waiter {
    handle_t proc;
    int status;
    volatile int done;
    struct uthread thread;
};

static long waiter_main(void *arg)
{
    struct waiter *w = arg;
    if (sys_process_wait(w->proc, &w->status) < 0)
        w->status = -1;
    __atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
    return 0;
}

static bool wait_until(struct waiter *w, uint64_t deadline)
{
    while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE) && time_now() < deadline)
        sys_sleep(MS);
    return __atomic_load_n(&w->done, __ATOMIC_ACQUIRE);
}

// Runs the child until it ends, is killed at kill_at, or is stuck: it stands still, or runs
// on well past its calls (a call can scribble over a worker's own loop count). False if a
// kill did not end it (a hang: the waiter is left behind).
static bool supervise(struct waiter *w, uint64_t kill_at, uint64_t child_calls, struct outcome *o)
{
    uint64_t last_calls = 0, last_move = time_now();
    bool killed = false;
    while (!__atomic_load_n(&w->done, __ATOMIC_ACQUIRE)) {
        sys_sleep(MS);
        uint64_t calls = __atomic_load_n(&parent_shared->calls, __ATOMIC_RELAXED);
        if (calls != last_calls)
            last_calls = calls, last_move = time_now();
        bool early = time_now() >= kill_at;
        bool stuck =
            time_now() - last_move > time_from_ms(STUCK_MS) || calls > 2 * child_calls + 100;
        if (early || stuck) {
            sys_process_kill(w->proc);
            *(early ? &o->killed_early : &o->killed_stuck) += 1;
            killed = true;
            break;
        }
    }
    if (killed && !wait_until(w, time_now() + time_from_ms(KILL_MS)))
        return false;
    if (killed)
        return true;
    if (w->status == 0)
        o->finished++;
    else if (w->status == EXIT_FAULT)
        o->faulted++;
    else if (w->status == EXIT_KILLED)
        o->killed_itself++;
    else
        o->other++, o->other_status = w->status;
    return true;
}

static bool run_child(enum phase phase, uint64_t seed, uint64_t calls, struct rng *r,
                      struct outcome *o)
{
    char seed_text[24], calls_text[24];
    snprintf(seed_text, sizeof(seed_text), "%lu", (unsigned long)seed);
    snprintf(calls_text, sizeof(calls_text), "%lu", (unsigned long)calls);
    char *argv[] = { "fuzz", "--child", (char *)phase_names[phase], seed_text, calls_text, NULL };
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_BOOTFS] = bootfs_handle();
    give[STARTUP_H_SPARE] = shared_region;
    *parent_shared = (struct shared){ 0 };
    static struct waiter w;
    w = (struct waiter){ .status = -1 };
    // Named apart from us, so that failin=fuzzchild injects allocation failures into the
    // children (and what they create) but never into the parent that counts.
    const void *elf;
    uint64_t size;
    long err = bootfs_find("fuzz", &elf, &size);
    if (err >= 0)
        err = spawn_in(NULL, elf, size, "fuzzchild", argv, give, STARTUP_MAX_HANDLES, &w.proc);
    if (err < 0) {
        test_fail("cannot start a child: %s", abi_strerror(err));
        return false;
    }
    if (uthread_start(&w.thread, waiter_main, &w, UTHREAD_STACK_DEFAULT) < 0) {
        test_fail("cannot start a waiter");
        return false;
    }
    uint64_t kill_at =
        one_in(r, EARLY_KILLS) ? time_now() + time_from_ms(below(r, 30)) : UINT64_MAX;
    o->children++;
    if (!supervise(&w, kill_at, calls, o)) {
        test_fail("hang: a %s child (seed %lu) still runs %d ms after it was killed",
                  phase_names[phase], (unsigned long)seed, KILL_MS);
        return false;
    }
    uthread_join(&w.thread, NULL);
    sys_handle_close(w.proc);
    o->calls += parent_shared->calls;
    o->ok += parent_shared->ok;
    return true;
}

// RPC calls that entered a server, on every hart so far (the kernel's count).
static uint64_t rpcs_entered(void)
{
    struct sys_stats s;
    uint64_t n = 0;
    for (int i = 0; sys_stats(&s) == 0 && (uint64_t)i < s.nharts; i++) {
        struct hart_stats h;
        if (sys_hart_stats(i, &h) == 0)
            n += h.rpc_calls;
    }
    return n;
}

static void run_phase(enum phase phase)
{
    struct rng r = { mix(base_seed ^ ((uint64_t)phase << 56)) | 1 };
    struct outcome o = { 0 };
    run_child(phase, rnd(&r), 50, &r, &o);  // warm-up: our heap and caches grow once
    struct sys_stats before = test_counts_settled();
    uint64_t rpcs_before = rpcs_entered();
    o = (struct outcome){ 0 };
    uint64_t max_children = calls_per_phase / 10 + 20;
    while (o.calls < calls_per_phase && (uint64_t)o.children < max_children && !test_failed()) {
        uint64_t left = calls_per_phase - o.calls;
        if (!run_child(phase, rnd(&r), left < CHILD_CALLS ? left : CHILD_CALLS, &r, &o))
            return;
    }
    printf("fuzz: %s: %lu calls (%lu succeeded) in %d children: %d finished, %d died of a "
           "fault, %d killed themselves, %d were killed at random, %d when stuck; %d other "
           "(status %#x); %lu RPCs entered a server\n",
           phase_names[phase], (unsigned long)o.calls, (unsigned long)o.ok, o.children, o.finished,
           o.faulted, o.killed_itself, o.killed_early, o.killed_stuck, o.other, o.other_status,
           (unsigned long)(rpcs_entered() - rpcs_before));
    if (o.calls < calls_per_phase)
        test_fail("only %lu calls in %d children", (unsigned long)o.calls, o.children);
    test_expect_counts(&before, phase_names[phase]);
}

static void test_random(void)
{
    run_phase(PHASE_RANDOM);
}
static void test_ipc(void)
{
    run_phase(PHASE_IPC);
}
static void test_memory(void)
{
    run_phase(PHASE_MEMORY);
}
static void test_process(void)
{
    run_phase(PHASE_PROCESS);
}

static const struct test_case tests[] = {
    { "random", test_random, TEST_NEEDS_BOOTFS },
    { "ipc", test_ipc, TEST_NEEDS_BOOTFS },
    { "memory", test_memory, TEST_NEEDS_BOOTFS },
    { "process", test_process, TEST_NEEDS_BOOTFS },
};

static const char *precondition(const struct test_case *t)
{
    const void *elf;
    uint64_t size;
    if (bootfs_find("fuzz", &elf, &size) < 0)
        return "no boot archive to start children from";
    if (!parent_shared)
        return "no shared page for the children's counters";
    return NULL;
}

static const struct test_suite suite = {
    .name = "fuzz",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
    .precondition = precondition,
};

static void parent_setup(int argc, char *argv[])
{
    const char *calls = arg_value(argc, argv, "fuzzcalls");
    const char *seed = arg_value(argc, argv, "fuzzseed");
    if (calls)
        calls_per_phase = strtoull(calls, NULL, 0);
    base_seed = seed ? strtoull(seed, NULL, 0) : mix(time_now());
    long region = sys_region_create(PAGE_SIZE);
    if (region > 0 && sys_region_map((handle_t)region, H_SELF, SHARED_VA, 0, PAGE_SIZE,
                                     PROT_READ | PROT_WRITE) == 0) {
        shared_region = (handle_t)region;
        parent_shared = (struct shared *)SHARED_VA;
    }
    struct sys_stats s;
    sys_stats(&s);
    printf("fuzz: seed %lu (boot with fuzzseed=%lu to repeat), %lu calls a phase, %lu hart%s\n",
           (unsigned long)base_seed, (unsigned long)base_seed, (unsigned long)calls_per_phase,
           (unsigned long)s.nharts, s.nharts == 1 ? "" : "s");
}

int main(int argc, char *argv[])
{
    if (argc >= 5 && strcmp(argv[1], "--child") == 0) {
        for (int p = 0; p < NPHASES; p++)
            if (strcmp(argv[2], phase_names[p]) == 0)
                return child_main((enum phase)p, strtoull(argv[3], NULL, 0),
                                  strtoull(argv[4], NULL, 0));
        return 2;
    }
    parent_setup(argc, argv);
    return test_suite_main(&suite, argc, argv);
}
