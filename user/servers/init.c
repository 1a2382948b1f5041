// init: the first user process. The kernel starts it from the boot archive with
// argv = ["init", <each word of the boot arguments>] and the boot archive, the UART's
// register page and the UART's interrupt as startup handles.
//
// What it does depends on the boot arguments:
//   usertests[=NAME,...]   runs the user test suite alone, with no servers (it tests the
//                          kernel), and powers off with its verdict: 0 passed, else 1
//   run=PROGRAM            starts the servers, runs PROGRAM on the console, powers off
//                          the same way (e.g. run=servertests)
//   (neither)              starts the servers, then the shell `sh` on the console,
//                          again whenever it exits
// A program gets every boot word, argv[0] replaced by its name (so the grader's nonce).
// A server gets the one word named after it, if there is one (kvs=rpc: servers/kvs.c).
//
// The servers. init starts ns, con, pm and (when the archive has them) fs and kvs, and
// starts a server that dies again after a back-off: 100 ms, doubling to 2 s, back to
// 100 ms once it ran 10 s. One keeper thread per server spawns it, waits for it and logs
// its end. init makes each server's endpoint and keeps it: a restarted server receives
// on the same endpoint, so clients' handles (and calls queued meanwhile) survive it; only
// a call the server was answering when it died fails, with E_DEAD. ns forgets its table
// when it restarts, so init registers the servers' names again each time.
//
// Each server gets its endpoint as STARTUP_H_SPARE, ns a send-only copy of ns's
// endpoint (STARTUP_H_NS; ns itself gets none) and the boot archive; con also the UART.
// Programs get the boot archive, ns, and a console stream as stdin, stdout and stderr.
//
// init also serves a control endpoint, "init" in ns (user/lib/initctl.h), through which
// a test may kill a server to watch it come back.
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "con.h"
#include "initctl.h"
#include "ns.h"
#include "server.h"
#include "spawn.h"
#include "ulib.h"
#include "uthread.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 2000
#define STABLE_MS      10000  // a server that ran this long backs off from the start again
#define SHELL_PAUSE_MS 1000   // between shells that exit at once
#define IDLE_NS        1000000000ULL
#define MS_NS          1000000ULL

// A server init keeps running ("struct server" is server.h's receive loop).
struct service {
    const char *name;
    bool optional;  // started only when the boot archive has it
    bool uart;      // gets the UART and its interrupt
    bool present;   // in the boot archive (set at start)
    handle_t ep;    // its endpoint, made by init and kept across restarts
    struct uthread keeper;
    // lock must be held when using these:
    handle_t proc;  // the running incarnation, 0 between two
    int restarts;
};

enum { SRV_NS, SRV_CON, SRV_PM, SRV_FS, SRV_KVS, NSERVICES };

static struct service services[NSERVICES] = {
    [SRV_NS] = { .name = "ns" },
    [SRV_CON] = { .name = "con", .uart = true },
    [SRV_PM] = { .name = "pm" },
    [SRV_FS] = { .name = "fs", .optional = true },
    [SRV_KVS] = { .name = "kvs", .optional = true },
};

static struct ulock lock;
static handle_t ns_send;  // the send-only copy of ns's endpoint everyone else gets
static handle_t init_ep;  // init's control endpoint

// What the kernel's own statuses mean, for the exit line: "" for a program's own.
static const char *status_note(int status)
{
    if (status == EXIT_FAULT)
        return " (EXIT_FAULT)";
    if (status == EXIT_KILLED)
        return " (EXIT_KILLED)";
    return "";
}

static bool in_archive(const char *path)
{
    const void *data;
    uint64_t size;
    return bootfs_find(path, &data, &size) == 0;
}

// ---- the servers -----------------------------------------------------------------------

// ns's table holds the servers' endpoints, and init's control endpoint.
static void register_names(void)
{
    for (int i = 0; i < NSERVICES; i++) {
        if (i == SRV_NS || !services[i].present)
            continue;
        long err = ns_register(services[i].name, services[i].ep);
        if (err < 0)
            printf("init: cannot register %s in ns: %s\n", services[i].name, abi_strerror(err));
    }
    long err = ns_register("init", init_ep);
    if (err < 0)
        printf("init: cannot register init in ns: %s\n", abi_strerror(err));
}

static int boot_argc;  // init's own words, for the servers' (service_spawn)
static char **boot_argv;

static long service_spawn(struct service *s, handle_t *proc)
{
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_BOOTFS] = bootfs_handle();
    give[STARTUP_H_SPARE] = s->ep;
    if (s != &services[SRV_NS])
        give[STARTUP_H_NS] = ns_send;
    if (s->uart) {
        give[STARTUP_H_UART] = startup_handle(STARTUP_H_UART);
        give[STARTUP_H_UART_IRQ] = startup_handle(STARTUP_H_UART_IRQ);
    }
    char word[64];
    const char *value = arg_value(boot_argc, boot_argv, s->name);
    snprintf(word, sizeof word, "%s=%s", s->name, value ? value : "");
    char *argv[] = { (char *)s->name, value ? word : NULL, NULL };
    return spawn_from_bootfs(s->name, argv, give, STARTUP_MAX_HANDLES, proc);
}

// Runs one incarnation of s to its end; returns how long it ran, in ms.
static uint64_t service_run_once(struct service *s, uint64_t backoff)
{
    uint64_t start = time_now();
    handle_t proc;
    long err = service_spawn(s, &proc);
    if (err < 0) {
        printf("init: cannot start %s: %s; trying again in %lu ms\n", s->name, abi_strerror(err),
               (unsigned long)backoff);
        return 0;
    }
    ulock_acquire(&lock);
    s->proc = proc;
    bool again = s->restarts > 0;
    ulock_release(&lock);
    if (s == &services[SRV_NS] && again)
        register_names();  // the new ns starts empty
    int status = -1;
    err = sys_process_wait(proc, &status);
    ulock_acquire(&lock);
    s->proc = 0;
    s->restarts++;
    ulock_release(&lock);
    sys_handle_close(proc);
    uint64_t ran = time_ns(time_now() - start) / MS_NS;
    if (err < 0)
        printf("init: waiting for %s: %s\n", s->name, abi_strerror(err));
    else
        printf("init: %s exited with status %d%s; restarting in %lu ms\n", s->name, status,
               status_note(status), (unsigned long)(ran >= STABLE_MS ? BACKOFF_MIN_MS : backoff));
    return ran;
}

// A server's keeper thread: start it, wait for it, back off, start it again.
static long keeper(void *arg)
{
    struct service *s = arg;
    uint64_t backoff = BACKOFF_MIN_MS;
    for (;;) {
        if (service_run_once(s, backoff) >= STABLE_MS)
            backoff = BACKOFF_MIN_MS;
        sys_sleep(backoff * MS_NS);
        backoff = backoff * 2 < BACKOFF_MAX_MS ? backoff * 2 : BACKOFF_MAX_MS;
    }
    return 0;  // not reached
}

static long keeper_start(struct service *s)
{
    long err = uthread_start(&s->keeper, keeper, s, UTHREAD_STACK_DEFAULT);
    if (err < 0)
        printf("init: cannot start a thread for %s: %s\n", s->name, abi_strerror(err));
    return err;
}

// ---- the control endpoint --------------------------------------------------------------

static struct service *service_named(const uint8_t *name, uint64_t len)
{
    for (int i = 0; i < NSERVICES; i++)
        if (services[i].present && strlen(services[i].name) == len &&
            memcmp(services[i].name, name, len) == 0)
            return &services[i];
    return NULL;
}

static long control_request(struct server_req *r)
{
    if (r->req.w[0] == INIT_POWEROFF) {
        int status = (int)r->req.w[1];
        printf("init: powering off as asked (status %d)\n", status);
        console_flush();
        return sys_poweroff(status);  // returns only when refused
    }
    struct service *s = service_named(r->data, r->len);
    if (!s)
        return E_NOENT;
    long err = 0;
    ulock_acquire(&lock);
    if (r->req.w[0] == INIT_KILL) {
        err = s->proc ? sys_process_kill(s->proc) : E_AGAIN;
    } else if (r->req.w[0] == INIT_INFO) {
        r->reply[1] = (uint64_t)s->restarts;
        r->reply[2] = s->proc != 0;
    } else {
        err = E_INVAL;
    }
    ulock_release(&lock);
    return err;
}

static void control_handle(struct server_req *r)
{
    server_status(r, control_request(r));
}

static long control_thread(void *arg)
{
    static struct server ctl = { .name = "init", .handle = control_handle, .max_threads = 1 };
    ctl.ep = init_ep;
    return server_run(&ctl);
}

// ---- start -------------------------------------------------------------------------------

static long make_endpoints(void)
{
    for (int i = 0; i < NSERVICES; i++) {
        struct service *s = &services[i];
        s->present = !s->optional || in_archive(s->name);
        long ep = s->present ? sys_endpoint_create() : 0;
        if (ep < 0)
            return ep;
        s->ep = (handle_t)ep;
    }
    long h = sys_handle_dup(services[SRV_NS].ep, RIGHT_SEND | RIGHT_TRANSFER);
    if (h < 0)
        return h;
    ns_send = (handle_t)h;
    h = sys_endpoint_create();
    if (h < 0)
        return h;
    init_ep = (handle_t)h;
    ns_use(ns_send);
    con_use(services[SRV_CON].ep);
    return 0;
}

// ns first and its names registered (which waits for ns to answer), then the others:
// whatever starts later finds every name in place.
static long start_servers(void)
{
    long err = make_endpoints();
    if (err < 0) {
        printf("init: cannot make the servers' endpoints: %s\n", abi_strerror(err));
        return err;
    }
    printf("init: starting ns, con, pm%s%s\n", services[SRV_FS].present ? ", fs" : " (no fs)",
           services[SRV_KVS].present ? ", kvs" : "");
    err = keeper_start(&services[SRV_NS]);
    if (err < 0)
        return err;
    register_names();
    for (int i = SRV_NS + 1; i < NSERVICES && err == 0; i++)
        if (services[i].present)
            err = keeper_start(&services[i]);
    static struct uthread control;
    if (err == 0)
        err = uthread_start(&control, control_thread, NULL, UTHREAD_STACK_DEFAULT);
    return err;
}

// ---- programs ----------------------------------------------------------------------------

// Spawns path on the console with argv, waits for it; returns its exit status, or -1
// when it could not be started or waited for. console: give it a console stream
// (otherwise it writes through the kernel's debug console, as usertests does).
static int run_and_wait(const char *path, char *argv[], bool console)
{
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_BOOTFS] = bootfs_handle();
    handle_t stream = 0;
    if (console) {
        give[STARTUP_H_NS] = ns_send;
        long err = con_open(&stream);
        if (err < 0) {
            printf("init: cannot open the console for %s: %s\n", path, abi_strerror(err));
            return -1;
        }
        give[STARTUP_H_STDIN] = give[STARTUP_H_STDOUT] = give[STARTUP_H_STDERR] = stream;
    }
    handle_t proc;
    long r = spawn_from_bootfs(path, argv, give, STARTUP_MAX_HANDLES, &proc);
    if (stream)
        sys_handle_close(stream);  // the child has its own copies
    if (r < 0) {
        printf("init: cannot start %s: %s\n", path, abi_strerror(r));
        return -1;
    }
    int status = -1;
    r = sys_process_wait(proc, &status);
    sys_handle_close(proc);
    if (r < 0) {
        printf("init: waiting for %s: %s\n", path, abi_strerror(r));
        return -1;
    }
    return status;
}

// Runs a program with init's words, argv[0] replaced; powers off with its verdict.
__attribute__((noreturn)) static void run_and_power_off(const char *path, char *argv[],
                                                        bool console)
{
    argv[0] = (char *)path;
    int status = run_and_wait(path, argv, console);
    if (status != -1)
        printf("init: %s exited with status %d%s\n", path, status, status_note(status));
    console_flush();
    sys_poweroff(status == 0 ? 0 : 1);
    for (;;)
        sys_sleep(IDLE_NS);  // not reached: only a process other than init is refused
}

// The shell on the console, started again whenever it exits.
__attribute__((noreturn)) static void run_shell(void)
{
    if (!in_archive("sh")) {
        printf("init: no sh in the boot archive; idling\n");
        for (;;)
            sys_sleep(IDLE_NS);
    }
    for (;;) {
        char *argv[] = { "sh", NULL };
        uint64_t start = time_now();
        int status = run_and_wait("sh", argv, true);
        printf("init: sh exited with status %d%s; starting another\n", status, status_note(status));
        if (time_ns(time_now() - start) < SHELL_PAUSE_MS * MS_NS)
            sys_sleep(SHELL_PAUSE_MS * MS_NS);  // one that dies at once must not spin
    }
}

int main(int argc, char *argv[])
{
    printf("init: starting\n");
    boot_argc = argc;
    boot_argv = argv;
    if (arg_flag(argc, argv, "usertests"))
        run_and_power_off("usertests", argv, false);  // the kernel alone: no servers
    const char *run = arg_value(argc, argv, "run");
    long err = start_servers();
    if (run)
        run_and_power_off(run, argv, err == 0);
    if (err < 0) {
        printf("init: the servers did not start; idling\n");
        for (;;)
            sys_sleep(IDLE_NS);
    }
    run_shell();
}
