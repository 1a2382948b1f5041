// ipcbench: the cost of a null IPC round trip (ipc_call to another process, ipc_reply_recv
// back), in guest instructions, with client and server on the same hart and on two harts.
//
//   ipcbench [N]                  the client: N round trips per measurement (default 1000);
//                                 words with '=' (init passes the boot arguments) are ignored
//   ipcbench server NAME          the server it starts (through pm) for itself
//
// The server makes an endpoint and registers it in ns under NAME (new for each run), which
// the client looks up. Each thread pins itself with sys_thread_set_affinity: the client
// itself, the server when the client asks (BENCH_PIN). After WARMUP round trips the client
// reads instret, makes N calls, reads it again, and prints the difference / N.
//
// What the number means. Run under ICOUNT=1 (-icount shift=0), QEMU executes the harts in
// turn on one emulator thread and its virtual clock counts instructions: every instruction
// any hart executes advances it by one, and when every hart waits in wfi the clock jumps
// to the next timer interrupt. rdinstret reads that clock, the same on every hart (a
// reading on the server's hart right after one on the client's hart differs only by the
// instructions between them). So the counts repeat exactly from boot to boot, and:
//   same hart: the whole round trip's path: both user sides, four kernel entries and
//              exits, the switches between the two address spaces (the other harts are
//              idle and add only their timer ticks);
//   two harts: both harts' instructions, plus the virtual time every hart spent waiting
//              for a wakeup. With wakeup=tick a thread made runnable for an idle hart runs
//              at that hart's next tick, so this is about a tick (10 ms, 10,000,000) per
//              round trip: the latency of the baseline wakeup, which IPIs (lab 4) remove.
// Without icount, rdinstret reads the host's clock and the numbers mean nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"
#include "ns.h"
#include "pm.h"
#include "ulib.h"

#define WARMUP      100
#define DEFAULT_N   1000
#define LOOKUP_MS   5000

enum bench_op { BENCH_NULL, BENCH_PIN, BENCH_EXIT };

static inline uint64_t instret(void)
{
    uint64_t n;
    asm volatile("rdinstret %0" : "=r"(n));
    return n;
}

// ---- the server -------------------------------------------------------------------------

static uint64_t serve_one(const struct ipc_msg *m)
{
    switch (m->w[0]) {
    case BENCH_NULL:
        return 0;
    case BENCH_PIN:
        return (uint64_t)sys_thread_set_affinity(H_SELF_THREAD, 1ULL << m->w[1]);
    default:
        return (uint64_t)E_INVAL;
    }
}

static int server(const char *name)
{
    long ep = sys_endpoint_create();
    long err = ep < 0 ? ep : ns_register(name, (handle_t)ep);
    if (err < 0) {
        printf("ipcbench server: cannot offer %s: %s\n", name, abi_strerror(err));
        return 1;
    }
    struct ipc_msg m;
    err = ipc_recv((handle_t)ep, &m, NULL, 0);
    while (err == 0 && m.w[0] != BENCH_EXIT) {
        m.w[0] = serve_one(&m);
        err = ipc_reply_recv((handle_t)ep, &m, NULL);
    }
    if (err == 0)
        ipc_reply(&m, NULL);
    ns_unregister(name);
    return err < 0 ? 1 : 0;
}

// ---- the client -------------------------------------------------------------------------

// One request; 0, or an error from the call or the server.
static long request(handle_t ep, uint64_t op, uint64_t arg)
{
    struct ipc_msg m = { .w = { op, arg } };
    long err = ipc_call(ep, &m, NULL);
    return err < 0 ? err : (long)m.w[0];
}

static long pin_self(int hart)
{
    long err = sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    return err == 0 && sys_hart_self() != hart ? E_INVAL : err;
}

// n null round trips; 0 or the first error. The server's reply to BENCH_NULL is 0,
// which is BENCH_NULL again: m needs filling in only once.
static long round_trips(handle_t ep, int n)
{
    struct ipc_msg m = { .w = { BENCH_NULL } };
    for (int i = 0; i < n; i++) {
        long err = ipc_call(ep, &m, NULL);
        if (err < 0)
            return err;
    }
    return 0;
}

// Instructions per round trip (rounded), client pinned to hart c and server to hart s.
static long measure(handle_t ep, int c, int s, int n, uint64_t *per_trip)
{
    long err = pin_self(c);
    if (err == 0)
        err = request(ep, BENCH_PIN, (uint64_t)s);
    if (err == 0)
        err = round_trips(ep, WARMUP);
    uint64_t before = instret();
    profile_begin();
    if (err == 0)
        err = round_trips(ep, n);
    profile_end();
    uint64_t after = instret();
    *per_trip = (after - before + (uint64_t)n / 2) / (uint64_t)n;
    return err;
}

static int run(handle_t ep, int n, int harts)
{
    uint64_t same, cross;
    long err = measure(ep, 0, 0, n, &same);
    if (err < 0) {
        printf("ipcbench: same-hart measurement failed: %s\n", abi_strerror(err));
        return 1;
    }
    printf("ipcbench: same-hart round trip: %lu instructions (harts 0 and 0)\n",
           (unsigned long)same);
    if (harts < 2) {
        printf("ipcbench: cross-hart round trip: skipped (one hart)\n");
        return 0;
    }
    err = measure(ep, 0, 1, n, &cross);
    if (err < 0) {
        printf("ipcbench: cross-hart measurement failed: %s\n", abi_strerror(err));
        return 1;
    }
    printf("ipcbench: cross-hart round trip: %lu instructions (harts 0 and 1)\n",
           (unsigned long)cross);
    return 0;
}

static int client(int n)
{
    struct sys_stats st;
    if (sys_stats(&st) < 0 || st.nharts < 1) {
        printf("ipcbench: sys_stats failed\n");
        return 1;
    }
    char name[NS_NAME_MAX + 1];
    snprintf(name, sizeof(name), "ipcbench-%lu", (unsigned long)(time_now() % 1000000));
    char *argv[] = { "ipcbench", "server", name, NULL };
    long pid = pm_spawn("ipcbench", argv, 0, startup_handle(STARTUP_H_STDOUT),
                        startup_handle(STARTUP_H_STDERR));
    if (pid < 0) {
        printf("ipcbench: cannot start the server: %s\n", abi_strerror(pid));
        return 1;
    }
    handle_t ep;
    long err = ns_lookup_wait(name, LOOKUP_MS, &ep);
    if (err < 0) {
        printf("ipcbench: the server did not register %s: %s\n", name, abi_strerror(err));
        pm_kill(pid);
        return 1;
    }
    printf("ipcbench: %d round trips after %d to warm up; the counts repeat under ICOUNT=1\n",
           n, WARMUP);
    int status = run(ep, n, (int)st.nharts);
    int server_status = -1;
    if (request(ep, BENCH_EXIT, 0) < 0)
        pm_kill(pid);
    pm_wait(pid, &server_status);
    sys_handle_close(ep);
    return status;
}

// The first argument that is a number, else DEFAULT_N.
static int round_trips_wanted(int argc, char *argv[])
{
    for (int i = 1; i < argc; i++) {
        char *end;
        long n = strtol(argv[i], &end, 10);
        if (*argv[i] && *end == '\0' && n > 0 && n < 10000000)
            return (int)n;
    }
    return DEFAULT_N;
}

int main(int argc, char *argv[])
{
    if (argc == 3 && strcmp(argv[1], "server") == 0)
        return server(argv[2]);
    return client(round_trips_wanted(argc, argv));
}
