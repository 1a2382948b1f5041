// expbench: Lab 6's experiment. Does a multi-server system gain from more harts, or does
// cross-hart IPC eat the gain, and does thread migration change the answer? Each cell of
// the experiment is one workload, one mechanism and one placement, on the harts this boot
// has (tools/bench.py boots it once per scheduler, wakeup and hart count):
//
//   work=null    one client, one server process with one thread: the null round trip
//   work=pairs   a client per hart, each with its own server process (sel4bench's "smp"):
//                independent work, the best case for more harts
//   work=shared  a client per hart, all calling one server process with a thread per hart
//                on one endpoint (the Hurd's case: one file server, many clients)
//   work=chain   a client per hart calling a middle server, whose every request calls a
//                leaf server (client -> fs -> kvs, in small): two hops a request
//
//   mech=msg     message IPC: ipc_call to the server's threads (Lab 2, the fast path)
//   mech=rpc     migrating-thread RPC: rpc_call, the client's thread runs the server's
//                code (Lab 5); the servers' own threads wait, unused
//
//   place=same   client i, and the server thread(s) meant for it, pinned to hart i
//   place=cross  client i on hart i, the server threads meant for it from hart i+1 on (a
//                chain's leaf from i+2): a pair's messages cross harts. A shared server's
//                threads cover every hart under same and cross alike, and wait on one
//                endpoint: which of them takes a request is the kernel's choice
//   place=free   nothing pinned: the scheduler places every thread
//
// Every request does a little work on each side (CLIENT_WORK, SERVER_WORK loop turns)
// and counts itself in the server's shared counter (one atomic: the server's state).
// Each client warms up with WARMUP requests, then waits at a start line (an endpoint the
// main thread sends one message per client to), then makes its ops requests. What is
// measured runs from the first client's start to the last one's end:
//
//   expbench: cell work=W mech=M place=P harts=H clients=C ops=N instructions=I ns=T
//             switches=S ipis=I steals=S migrations=M spins=S rpcs=R   (one line)
//
// ops: the requests of all clients; instructions: rdinstret's difference, which under
// ICOUNT=1 is the icount clock (every hart's instructions, plus the time all harts waited
// for a timer), so instructions / ops is the cost of a request, all harts' work counted;
// ns: the same from the time CSR, in nanoseconds (the host's real time without icount:
// ops / ns is the throughput); the rest are the kernel's counters (sys_hart_stats) summed
// over the harts, from the release of the first client to the end of the last: context
// switches, IPIs sent, steals, migrations, run-queue lock spins and RPC calls. A client
// on an idle hart hears of the start only when that hart wakes: under wakeup=tick, at
// its next tick, so there the clients start up to a tick apart, and that is part of the
// cost of the tick as a wakeup (with ops=200 and C clients, up to 10,000,000 / (200 C)
// instructions a request). Per operation is the
// harness's division (tools/bench.py). It ends with `expbench: done (status N)`.
//
//   expbench [work=LIST] [mech=LIST] [place=LIST] [ops=N]   the client (default: all of
//                                  each, ops=200 per client); LISTs are comma-separated
//   expbench server NAME THREADS FIRST NEXT   a server it starts for itself (through pm):
//                                  THREADS threads, thread j pinned to hart FIRST + j
//                                  (mod harts; FIRST -1: none pinned), forwarding each
//                                  request to the server named NEXT ("-": none)
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ns.h"
#include "pm.h"
#include "rpc.h"
#include "ulib.h"
#include "uthread.h"

#define MAX_HARTS   8
#define DEFAULT_OPS 200
#define WARMUP      20
#define CLIENT_WORK 100  // loop turns around each request, client side
#define SERVER_WORK 100  // ... and server side
#define LOOKUP_MS   5000
#define SETTLE_NS   (20 * 1000000ULL)  // two ticks for the policy to place free threads
#define STACK       16384
#define OP_REQUEST  1
#define MIN(a, b)   ((a) < (b) ? (a) : (b))
#define MAX(a, b)   ((a) > (b) ? (a) : (b))

static void work(int turns)
{
    for (volatile int i = 0; i < turns; i++)
        ;
}

static int nharts(void)
{
    struct sys_stats s;
    if (sys_stats(&s) < 0 || s.nharts < 1)
        return 1;
    return s.nharts > MAX_HARTS ? MAX_HARTS : (int)s.nharts;
}

static long pin_self(int hart)
{
    if (hart < 0)
        return 0;
    long err = sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    return err == 0 && sys_hart_self() != hart ? E_INVAL : err;
}

// One request to ep, by message or by RPC; 0, or the call's or the server's error.
static long request(handle_t ep, bool rpc)
{
    if (rpc) {
        uint64_t w[4] = { OP_REQUEST };
        long err = rpc_call(ep, w);
        return err < 0 ? err : (long)w[0];
    }
    struct ipc_msg m = { .w = { OP_REQUEST } };
    long err = ipc_call(ep, &m, NULL);
    return err < 0 ? err : (long)m.w[0];
}

// ---- a server -----------------------------------------------------------------------------

static handle_t server_ep;
static handle_t next_ep;  // the next server of a chain, or 0
static uint64_t served;   // the server's shared state: every thread and activation counts

static void serve(void)
{
    work(SERVER_WORK);
    __atomic_fetch_add(&served, 1, __ATOMIC_RELAXED);
}

// LAB 6 exercise 1 (the chain workload): a middle server passes each request on to the
// next server (next_ep) by the mechanism it came by, and answers with that server's
// answer: forward(false) from a message thread, forward(true) from the RPC entry. Then
// start the chain in start_servers() below.
static long forward(bool rpc)
{
#if SOL >= 6
    return next_ep ? request(next_ep, rpc) : 0;
#else
    (void)rpc;
    return next_ep ? E_NOSYS : 0;
#endif
}

static void rpc_entry_point(uint64_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t badge)
{
    serve();
    rpc_return((uint64_t)forward(true), 0, 0, 0);
}

// A message thread: pinned (or not), then answering requests until it is killed.
static long message_thread(void *arg)
{
    long err = pin_self((int)(intptr_t)arg);
    struct ipc_msg m;
    if (err == 0)
        err = ipc_recv(server_ep, &m, NULL, 0);
    while (err == 0) {
        serve();
        m.w[0] = (uint64_t)forward(false);
        err = ipc_reply_recv(server_ep, &m, NULL);
    }
    return err;
}

static int server(const char *name, int threads, int first, const char *next)
{
    int harts = nharts();
    long ep = sys_endpoint_create();
    long err = ep < 0 ? ep : rpc_serve((handle_t)ep, rpc_entry_point, (unsigned)threads);
    if (err == 0 && strcmp(next, "-") != 0)
        err = ns_lookup_wait(next, LOOKUP_MS, &next_ep);
    server_ep = (handle_t)ep;
    static struct uthread others[MAX_HARTS];
    for (int j = 1; err == 0 && j < threads; j++)
        err = uthread_start(&others[j], message_thread,
                            (void *)(intptr_t)(first < 0 ? -1 : (first + j) % harts), STACK);
    if (err == 0)
        err = ns_register(name, server_ep);
    if (err < 0) {
        printf("expbench server %s: cannot start: %s\n", name, abi_strerror(err));
        return 1;
    }
    return message_thread((void *)(intptr_t)(first < 0 ? -1 : first % harts)) < 0;
}

// ---- a cell -------------------------------------------------------------------------------

struct client {
    handle_t ep;
    int hart;  // pinned there, or -1
    bool rpc;
    int ops;
    struct uthread thread;
    uint64_t start, end;        // rdinstret around its measured requests
    uint64_t start_ns, end_ns;  // ... and the time CSR, in nanoseconds
};

// The start line: each client, warmed up, waits in ipc_recv on it until the main thread
// sends one message per client. Blocked, not spinning: under icount a hart that spins
// takes the other harts' turns, and an idle hart then takes its timer interrupts ever
// later in the host's time (the 8-hart cells took minutes with a yield loop here).
static handle_t gate;

static long client_thread(void *arg)
{
    struct client *c = arg;
    long err = pin_self(c->hart);
    for (int i = 0; i < WARMUP && err == 0; i++) {
        work(CLIENT_WORK);
        err = request(c->ep, c->rpc);
    }
    // Every client comes to the start line, one whose warm-up failed too: the main thread
    // sends a message for each client it started, and would wait for a missing one forever.
    // The message's w[0] is 0 to go, or the error that ends the cell before it starts.
    struct ipc_msg m = { .w = { 0 } };
    long at_gate = ipc_recv(gate, &m, NULL, 0);
    if (err == 0)
        err = at_gate < 0 ? at_gate : (long)m.w[0];
    c->start_ns = time_ns(time_now());
    c->start = instret();
    for (int i = 0; i < c->ops && err == 0; i++) {
        work(CLIENT_WORK);
        err = request(c->ep, c->rpc);
    }
    c->end = instret();
    c->end_ns = time_ns(time_now());
    return err;
}

struct counts {
    uint64_t switches, ipis, steals, migrations, spins, rpcs;
};

static struct counts counts_now(int harts)
{
    struct counts c = { 0 };
    for (int i = 0; i < harts; i++) {
        struct hart_stats h;
        if (sys_hart_stats(i, &h) < 0)
            continue;
        c.switches += h.context_switches;
        c.ipis += h.ipis_sent;
        c.steals += h.steals;
        c.migrations += h.migrations;
        c.spins += h.rq_spins;
        c.rpcs += h.rpc_calls;
    }
    return c;
}

// The servers of a cell: their pids, and the endpoint each client calls.
struct servers {
    long pid[MAX_HARTS + 1];
    char name[MAX_HARTS + 1][NS_NAME_MAX + 1];  // ns keeps names until told: we tell it
    int n;
};

static int cell_number;

// Starts one server process; its endpoint in *ep, or a negative E_*.
static long start_server(struct servers *s, int threads, int first, const char *next, char *name,
                         handle_t *ep)
{
    snprintf(name, NS_NAME_MAX + 1, "expbench-%d-%d-%lu", cell_number, s->n,
             (unsigned long)(time_now() % 100000));
    char threads_s[8], first_s[8];
    snprintf(threads_s, sizeof threads_s, "%d", threads);
    snprintf(first_s, sizeof first_s, "%d", first);
    char *argv[] = { "expbench", "server", name, threads_s, first_s, (char *)next, NULL };
    long pid = pm_spawn("expbench", argv, 0, startup_handle(STARTUP_H_STDOUT),
                        startup_handle(STARTUP_H_STDERR));
    if (pid < 0)
        return pid;
    strcpy(s->name[s->n], name);
    s->pid[s->n++] = pid;
    return ns_lookup_wait(name, LOOKUP_MS, ep);
}

static void stop_servers(struct servers *s)
{
    for (int i = 0; i < s->n; i++) {
        pm_kill(s->pid[i]);
        pm_wait(s->pid[i], NULL);
        ns_unregister(s->name[i]);
    }
}

// Where placement p puts the server thread(s) serving client i, `hop` servers along (1:
// the first server, 2: a chain's leaf); -1: not pinned.
static int server_hart(const char *place, int i, int hop, int harts)
{
    if (strcmp(place, "free") == 0)
        return -1;
    return strcmp(place, "cross") == 0 ? (i + hop) % harts : i;
}

// Starts the servers work needs and points each client at its server. 0 or E_*.
static long start_servers(const char *work, const char *place, struct client *c, int n, int harts,
                          struct servers *s)
{
    char name[NS_NAME_MAX + 1];
    handle_t ep;
    long err = 0;
    if (strcmp(work, "null") == 0 || strcmp(work, "pairs") == 0) {
        for (int i = 0; i < n && err == 0; i++)
            if ((err = start_server(s, 1, server_hart(place, i, 1, harts), "-", name, &ep)) == 0)
                c[i].ep = ep;
    } else if (strcmp(work, "shared") == 0) {
        err = start_server(s, n, server_hart(place, 0, 1, harts), "-", name, &ep);
        for (int i = 0; i < n && err == 0; i++)
            c[i].ep = ep;
    } else if (strcmp(work, "chain") == 0) {
#if SOL >= 6
        // The leaf first: the middle server looks it up by name before it registers.
        err = start_server(s, n, server_hart(place, 0, 2, harts), "-", name, &ep);
        if (err == 0) {
            sys_handle_close(ep);  // the middle server has its own
            char leaf[NS_NAME_MAX + 1];
            strcpy(leaf, name);
            err = start_server(s, n, server_hart(place, 0, 1, harts), leaf, name, &ep);
        }
        for (int i = 0; i < n && err == 0; i++)
            c[i].ep = ep;
#else
        static bool said;
        if (!said)
            printf("expbench: the chain is not written yet (Lab 6 exercise 1, "
                   "user/bin/expbench.c)\n");
        said = true;
        err = E_NOSYS;
#endif
    } else {
        err = E_INVAL;
    }
    return err;
}

static void print_cell(const char *work, const char *mech, const char *place, int harts, int n,
                       uint64_t ops, uint64_t instr, uint64_t ns, struct counts a, struct counts b)
{
    printf("expbench: cell work=%s mech=%s place=%s harts=%d clients=%d ops=%lu instructions=%lu "
           "ns=%lu switches=%lu ipis=%lu steals=%lu migrations=%lu spins=%lu rpcs=%lu\n",
           work, mech, place, harts, n, (unsigned long)ops, (unsigned long)instr, (unsigned long)ns,
           (unsigned long)(b.switches - a.switches), (unsigned long)(b.ipis - a.ipis),
           (unsigned long)(b.steals - a.steals), (unsigned long)(b.migrations - a.migrations),
           (unsigned long)(b.spins - a.spins), (unsigned long)(b.rpcs - a.rpcs));
}

// Runs one cell; 0, or 1 after saying what failed.
static int run_cell(const char *work, const char *mech, const char *place, int harts, int ops)
{
    static struct client c[MAX_HARTS];
    int n = strcmp(work, "null") == 0 ? 1 : harts;
    struct servers s = { .n = 0 };
    cell_number++;
    memset(c, 0, sizeof c);
    long err = start_servers(work, place, c, n, harts, &s);
    int started = 0;
    for (int i = 0; i < n && err == 0; i++) {
        c[i].hart = strcmp(place, "free") == 0 ? -1 : i;
        c[i].rpc = strcmp(mech, "rpc") == 0;
        c[i].ops = ops;
        err = uthread_start(&c[i].thread, client_thread, &c[i], STACK);
        started += err == 0;
    }
    if (err == 0)
        sys_sleep(SETTLE_NS);
    struct counts a = counts_now(harts);
    for (int i = 0; i < started; i++) {  // each send waits for a client at the line
        struct ipc_msg go = { .w = { (uint64_t)err } };
        long sent = ipc_send(gate, &go, NULL, 0);
        if (sent < 0 && err == 0)
            err = sent;
    }
    uint64_t first = UINT64_MAX, last = 0, first_ns = UINT64_MAX, last_ns = 0;
    for (int i = 0; i < started; i++) {
        long v = -1;
        uthread_join(&c[i].thread, &v);
        if (v < 0 && err == 0)
            err = v;
        first = MIN(first, c[i].start);
        last = MAX(last, c[i].end);
        first_ns = MIN(first_ns, c[i].start_ns);
        last_ns = MAX(last_ns, c[i].end_ns);
    }
    struct counts b = counts_now(harts);
    stop_servers(&s);
    for (int i = 0; i < n; i++)
        if (c[i].ep && (i == 0 || c[i].ep != c[i - 1].ep))
            sys_handle_close(c[i].ep);
    if (err < 0) {
        printf("expbench: cell work=%s mech=%s place=%s failed: %s\n", work, mech, place,
               abi_strerror(err));
        return 1;
    }
    print_cell(work, mech, place, harts, n, (uint64_t)n * ops, last - first, last_ns - first_ns, a,
               b);
    return 0;
}

static int client(int argc, char *argv[])
{
    static const char *works[] = { "null", "pairs", "shared", "chain" };
    static const char *mechs[] = { "msg", "rpc" };
    static const char *places[] = { "same", "cross", "free" };
    const char *work_list = arg_value(argc, argv, "work");
    const char *mech_list = arg_value(argc, argv, "mech");
    const char *place_list = arg_value(argc, argv, "place");
    const char *ops_arg = arg_value(argc, argv, "ops");
    int ops = ops_arg ? atoi(ops_arg) : DEFAULT_OPS;
    int harts = nharts(), status = 0;
    if (ops < 1 || ops > 1000000) {
        printf("expbench: ops=%s: it is 1 to 1000000 requests per client\n", ops_arg);
        return 2;
    }
    long ep = sys_endpoint_create();
    if (ep < 0 || pin_self(0) < 0) {
        printf("expbench: cannot set up: %s\n", abi_strerror(ep < 0 ? ep : E_INVAL));
        return 1;
    }
    gate = (handle_t)ep;
    printf("expbench: %d harts, %d requests per client after %d to warm up\n", harts, ops, WARMUP);
    for (size_t w = 0; w < sizeof works / sizeof *works; w++)
        for (size_t m = 0; m < sizeof mechs / sizeof *mechs; m++)
            for (size_t p = 0; p < sizeof places / sizeof *places; p++) {
                // With one hart every placement is the same: run it once, as "same".
                if (!arg_list_has(work_list, works[w]) || !arg_list_has(mech_list, mechs[m]) ||
                    !arg_list_has(place_list, places[p]) || (harts == 1 && p > 0))
                    continue;
                status |= run_cell(works[w], mechs[m], places[p], harts, ops);
            }
    printf("expbench: done (status %d)\n", status);
    return status;
}

int main(int argc, char *argv[])
{
    if (argc == 6 && strcmp(argv[1], "server") == 0) {
        int threads = atoi(argv[3]);
        if (threads < 1 || threads > MAX_HARTS) {
            printf("expbench server: %s threads: it is 1 to %d\n", argv[3], MAX_HARTS);
            return 2;
        }
        return server(argv[2], threads, atoi(argv[4]), argv[5]);
    }
    return client(argc, argv);
}
