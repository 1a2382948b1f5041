// ipcbench: what the basic operations cost, in guest instructions: a null system call, a
// null IPC round trip (ipc_call to another process, ipc_reply_recv back) with client and
// server on the same hart and on two harts, the same null round trip as a migrating-thread
// RPC (rpc_call into that process, rpc_return back), a one-byte ping-pong through two
// pipes between two processes (through fs), and a timer tick with nothing to wake.
//
//   ipcbench [N] [bench=LIST]     the client: N operations per measurement (default 1000);
//                                 LIST picks measurements (default all): syscall, same,
//                                 cross, rpc, pipe, tick; other words with '=' (init passes
//                                 the boot arguments) are ignored
//   ipcbench server NAME          the IPC server it starts (through pm) for itself
//   ipcbench echo N               the pipe's far end: copies N bytes, one at a time, from
//                                 its stdin to its stdout
//
// The IPC server makes an endpoint and registers it in ns under NAME (new for each run),
// which the client looks up. Each thread pins itself with sys_thread_set_affinity: the
// client itself, the server when the client asks (BENCH_PIN). After WARMUP operations the
// client reads instret, runs N more, reads it again, and prints the difference / N. Each
// measurement is a profiler window too (profile_begin/profile_end, tools/profile.py).
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
//              round trip: the latency of the baseline wakeup, which IPIs (lab 4) remove;
//   RPC:       the client's own thread runs the server's entry: the path of one thread, on
//              one hart, wherever the server's own threads run (measured with them on
//              the client's hart and, with two harts, on the other: the same count says
//              no hart hop happened; the kernel's counters say no IPI and no switch);
//   pipe:      the one-byte round trip of two processes and fs (four requests to fs);
//              boot with one hart for the figure "on one hart";
//   tick:      a busy loop of known length (2 instructions a turn) runs across many
//              ticks; what the clock counted beyond the loop, divided by the ticks every
//              hart took meanwhile, is a tick's cost.
// Without icount, rdinstret reads the host's clock and the numbers mean nothing.
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fs.h"
#include "ipc.h"
#include "ns.h"
#include "pm.h"
#include "rpc.h"
#include "ulib.h"

#define WARMUP     100
#define DEFAULT_N  1000
#define LOOKUP_MS  5000
#define TICK_TURNS 100000000ULL  // the tick loop: 200,000,000 instructions, 20 ticks

enum bench_op { BENCH_NULL, BENCH_PIN, BENCH_EXIT };

// Instructions per operation, rounded, between two instret readings.
static uint64_t per_op(uint64_t before, uint64_t after, uint64_t n)
{
    return (after - before + n / 2) / n;
}

static long pin_self(int hart)
{
    long err = sys_thread_set_affinity(H_SELF_THREAD, 1ULL << hart);
    return err == 0 && sys_hart_self() != hart ? E_INVAL : err;
}

// ---- the IPC server -------------------------------------------------------------------------

static uint64_t serve_one(const struct ipc_msg *m)
{
    switch (m->w[0]) {
    case BENCH_NULL: return 0;
    case BENCH_PIN: return (uint64_t)sys_thread_set_affinity(H_SELF_THREAD, 1ULL << m->w[1]);
    default: return (uint64_t)E_INVAL;
    }
}

// The RPC entry: a null call answers 0, like the message server.
static void rpc_null(uint64_t op, uint64_t a, uint64_t b, uint64_t c, uint64_t badge)
{
    rpc_return(0, 0, 0, 0);
}

static int server(const char *name)
{
    long ep = sys_endpoint_create();
    long err = ep < 0 ? ep : rpc_serve((handle_t)ep, rpc_null, 2);
    if (err == 0)
        err = ns_register(name, (handle_t)ep);
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

// ---- the pipe's far end -----------------------------------------------------------------------

static int echo(long n)
{
    handle_t in = startup_handle(STARTUP_H_STDIN), out = startup_handle(STARTUP_H_STDOUT);
    long err = pin_self(0);
    for (long i = 0; i < n && err >= 0; i++) {
        char c;
        err = stream_read(in, &c, 1);
        if (err == 1)
            err = stream_write(out, &c, 1);
        else if (err == 0)
            err = E_CLOSED;
    }
    return err < 0 ? 1 : 0;
}

// ---- the measurements -----------------------------------------------------------------------

// One request; 0, or an error from the call or the server.
static long request(handle_t ep, uint64_t op, uint64_t arg)
{
    struct ipc_msg m = { .w = { op, arg } };
    long err = ipc_call(ep, &m, NULL);
    return err < 0 ? err : (long)m.w[0];
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

// Instructions per round trip, client pinned to hart c and server to hart s.
static long measure_ipc(handle_t ep, int c, int s, int n, uint64_t *per_trip)
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
    *per_trip = per_op(before, after, (uint64_t)n);
    return err;
}

// n null RPC round trips; 0 or the first error.
static long rpc_round_trips(handle_t ep, int n)
{
    uint64_t w[4] = { 0 };
    for (int i = 0; i < n; i++) {
        long err = rpc_call(ep, w);
        if (err < 0)
            return err;
    }
    return 0;
}

static struct hart_stats hart_stats_of(int hart)
{
    struct hart_stats st;
    memset(&st, 0, sizeof st);
    sys_hart_stats(hart, &st);
    return st;
}

// Instructions per RPC round trip, client pinned to hart 0 and the server's own thread
// to hart s; the client's hart's context switches and IPIs meanwhile in *switches, *ipis.
static long measure_rpc(handle_t ep, int s, int n, uint64_t *per_trip, uint64_t *switches,
                        uint64_t *ipis)
{
    long err = pin_self(0);
    if (err == 0)
        err = request(ep, BENCH_PIN, (uint64_t)s);
    if (err == 0)
        err = rpc_round_trips(ep, WARMUP);
    struct hart_stats a = hart_stats_of(0);
    uint64_t before = instret();
    profile_begin();
    if (err == 0)
        err = rpc_round_trips(ep, n);
    profile_end();
    uint64_t after = instret();
    struct hart_stats b = hart_stats_of(0);
    *per_trip = per_op(before, after, (uint64_t)n);
    *switches = b.context_switches - a.context_switches;
    *ipis = b.ipis_sent - a.ipis_sent;
    return err;
}

static int print_rpc(handle_t ep, int s, int n)
{
    uint64_t per_trip, switches, ipis;
    long err = measure_rpc(ep, s, n, &per_trip, &switches, &ipis);
    if (err < 0) {
        printf("ipcbench: RPC measurement failed: %s\n", abi_strerror(err));
        return 1;
    }
    printf("ipcbench: %s RPC round trip: %lu instructions (client on hart 0, the server's "
           "thread on hart %d; %lu context switches, %lu IPIs)\n",
           s == 0 ? "same-hart" : "cross-hart", (unsigned long)per_trip, s, (unsigned long)switches,
           (unsigned long)ipis);
    return 0;
}

// The null system call: one that does nothing but return a number.
static void measure_syscall(int n)
{
    for (int i = 0; i < WARMUP; i++)
        sys_thread_self();
    uint64_t before = instret();
    profile_begin();
    for (int i = 0; i < n; i++)
        sys_thread_self();
    profile_end();
    uint64_t after = instret();
    printf("ipcbench: null system call round trip: %lu instructions\n",
           (unsigned long)per_op(before, after, (uint64_t)n));
}

// n one-byte round trips through the pipes: out to the echo process, back in.
static long ping_pong(handle_t out, handle_t in, int n)
{
    for (int i = 0; i < n; i++) {
        char c = (char)i, back = 0;
        long err = stream_write(out, &c, 1);
        if (err == 1)
            err = stream_read(in, &back, 1);
        if (err != 1)
            return err < 0 ? err : E_CLOSED;
        if (back != c)
            return E_INVAL;
    }
    return 0;
}

static int measure_pipe(int n)
{
    handle_t to_r, to_w, from_r, from_w;
    long err = pin_self(0);
    if (err == 0)
        err = fs_pipe(&to_r, &to_w);
    if (err == 0 && (err = fs_pipe(&from_r, &from_w)) < 0)
        stream_close(to_r), stream_close(to_w);
    if (err < 0) {
        printf("ipcbench: pipe: cannot make the pipes: %s\n", abi_strerror(err));
        return 1;
    }
    char count[24];
    snprintf(count, sizeof(count), "%d", WARMUP + n);
    char *argv[] = { "ipcbench", "echo", count, NULL };
    long pid = pm_spawn("ipcbench", argv, to_r, from_w, startup_handle(STARTUP_H_STDERR));
    uint64_t before = 0, after = 0;
    if (pid >= 0)
        err = ping_pong(to_w, from_r, WARMUP);
    if (pid >= 0 && err == 0) {
        before = instret();
        profile_begin();
        err = ping_pong(to_w, from_r, n);
        profile_end();
        after = instret();
    }
    int status = -1;
    if (pid >= 0)
        pm_wait(pid, &status);
    stream_close(to_r);
    stream_close(to_w);
    stream_close(from_r);
    stream_close(from_w);
    if (pid < 0 || err < 0 || status != 0) {
        printf("ipcbench: pipe measurement failed: %s\n", abi_strerror(pid < 0   ? pid
                                                                       : err < 0 ? err
                                                                                 : E_INVAL));
        return 1;
    }
    printf("ipcbench: pipe round trip: %lu instructions (one byte each way, "
           "two processes and fs)\n",
           (unsigned long)per_op(before, after, (uint64_t)n));
    return 0;
}

// Counts down from turns, two instructions a turn.
static void busy_loop(uint64_t turns)
{
    asm volatile("1: addi %0, %0, -1\n"
                 "   bnez %0, 1b\n"
                 : "+r"(turns));
}

static int measure_tick(void)
{
    struct sys_stats a, b;
    sys_stats(&a);
    uint64_t before = instret();
    busy_loop(TICK_TURNS);
    uint64_t after = instret();
    sys_stats(&b);
    uint64_t ticks = b.ticks - a.ticks;
    // The loop, and the second rdinstret, are not the ticks'.
    uint64_t rest = after - before - 2 * TICK_TURNS - 1;
    if (ticks == 0) {
        printf("ipcbench: tick: no tick during the loop\n");
        return 1;
    }
    printf("ipcbench: timer tick, nothing to wake: %lu instructions (%lu ticks on %lu harts)\n",
           (unsigned long)((rest + ticks / 2) / ticks), (unsigned long)ticks,
           (unsigned long)a.nharts);
    return 0;
}

// ---- the client ---------------------------------------------------------------------------

// Starts the IPC server; its endpoint in *ep, its pid returned (or a negative E_*).
static long start_server(handle_t *ep)
{
    char name[NS_NAME_MAX + 1];
    snprintf(name, sizeof(name), "ipcbench-%lu", (unsigned long)(time_now() % 1000000));
    char *argv[] = { "ipcbench", "server", name, NULL };
    long pid = pm_spawn("ipcbench", argv, 0, startup_handle(STARTUP_H_STDOUT),
                        startup_handle(STARTUP_H_STDERR));
    if (pid < 0) {
        printf("ipcbench: cannot start the server: %s\n", abi_strerror(pid));
        return pid;
    }
    long err = ns_lookup_wait(name, LOOKUP_MS, ep);
    if (err < 0) {
        printf("ipcbench: the server did not register %s: %s\n", name, abi_strerror(err));
        pm_kill(pid);
        return err;
    }
    return pid;
}

static int measure_ipcs(int n, int harts, bool same, bool cross, bool rpc)
{
    handle_t ep;
    long pid = start_server(&ep);
    if (pid < 0)
        return 1;
    int status = 0;
    uint64_t per_trip;
    if (same) {
        long err = measure_ipc(ep, 0, 0, n, &per_trip);
        if (err < 0) {
            printf("ipcbench: same-hart measurement failed: %s\n", abi_strerror(err));
            status = 1;
        } else {
            printf("ipcbench: same-hart round trip: %lu instructions (harts 0 and 0)\n",
                   (unsigned long)per_trip);
        }
    }
    if (cross && harts < 2) {
        printf("ipcbench: cross-hart round trip: skipped (one hart)\n");
    } else if (cross && status == 0) {
        long err = measure_ipc(ep, 0, 1, n, &per_trip);
        if (err < 0) {
            printf("ipcbench: cross-hart measurement failed: %s\n", abi_strerror(err));
            status = 1;
        } else {
            printf("ipcbench: cross-hart round trip: %lu instructions (harts 0 and 1)\n",
                   (unsigned long)per_trip);
        }
    }
    if (rpc && status == 0)
        status |= print_rpc(ep, 0, n);
    if (rpc && status == 0 && harts >= 2)
        status |= print_rpc(ep, 1, n);
    int server_status = -1;
    if (request(ep, BENCH_EXIT, 0) < 0)
        pm_kill(pid);
    pm_wait(pid, &server_status);
    sys_handle_close(ep);
    return status;
}

static int client(int n, const char *list)
{
    struct sys_stats st;
    if (sys_stats(&st) < 0 || st.nharts < 1) {
        printf("ipcbench: sys_stats failed\n");
        return 1;
    }
    printf("ipcbench: %d operations after %d to warm up; the counts repeat under ICOUNT=1\n", n,
           WARMUP);
    int status = 0;
    if (arg_list_has(list, "syscall"))
        measure_syscall(n);
    if (arg_list_has(list, "same") || arg_list_has(list, "cross") || arg_list_has(list, "rpc"))
        status |= measure_ipcs(n, (int)st.nharts, arg_list_has(list, "same"),
                               arg_list_has(list, "cross"), arg_list_has(list, "rpc"));
    if (arg_list_has(list, "pipe"))
        status |= measure_pipe(n);
    if (arg_list_has(list, "tick"))
        status |= measure_tick();
    return status;
}

// The first argument that is a number, else DEFAULT_N.
static int operations_wanted(int argc, char *argv[])
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
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return echo(strtol(argv[2], NULL, 10));
    return client(operations_wanted(argc, argv), arg_value(argc, argv, "bench"));
}
