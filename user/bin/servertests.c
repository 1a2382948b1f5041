// The server test suite: ns, streams, con, pm, and init restarting a server that dies,
// seen from a client. init runs it for the boot argument `run=servertests`, after the
// servers are up; `servertests=NAME,NAME` picks tests. Each test prints
// `TEST <name>: ok <nonce>` or `TEST <name>: FAIL <why> <nonce>` (the nonce from the boot
// argument nonce=...), on stdout, which is a console stream: con itself carries the
// verdicts. The exit status is 0 when all passed. The runner is user/lib/testsuite.c's.
//
// The interactive tests (con_input, ctrl_c) wait for someone to type, so they run only
// when named; grade/test_servers.py types for them.
//
// servertests also serves as the child the pm tests start:
//   servertests --sleep MS   sleeps, then exits 0
//   servertests --exit N     exits with status N at once
//   servertests --cwd DIR    exits 0 when it started in directory DIR, else 1
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "con.h"
#include "fs.h"
#include "initctl.h"
#include "ipc.h"
#include "ns.h"
#include "pm.h"
#include "stream.h"
#include "testsuite.h"
#include "ulib.h"
#include "uthread.h"

#define MS_NS 1000000ULL

// ---- helpers --------------------------------------------------------------------------

// " (E_NOENT)" for an error, "" for a plain number: for failure messages.
static const char *err_note(long v, char *buf, size_t size)
{
    if (v >= 0)
        return "";
    snprintf(buf, size, " (%s)", abi_strerror(v));
    return buf;
}

// Checks that a call returned want; says which call it was when not.
static bool expect(const char *what, long got, long want)
{
    if (got == want)
        return true;
    char g[24], w[24];
    test_fail("%s = %ld%s, want %ld%s", what, got, err_note(got, g, sizeof(g)), want,
              err_note(want, w, sizeof(w)));
    return false;
}

static void sleep_ms(uint64_t ms)
{
    sys_sleep(ms * MS_NS);
}

static uint64_t ms_since(uint64_t start)
{
    return time_ns(time_now() - start) / MS_NS;
}

static handle_t stdio_handle(int slot)
{
    return startup_handle(slot);
}

// ---- a small server of our own, on a thread -------------------------------------------

#define TEST_QUIT 99  // ends a test server's loop

// Answers every call with w[1] = its tag, until TEST_QUIT.
struct tag_server {
    handle_t ep;
    uint64_t tag;
    struct uthread thread;
};

static long tag_server_loop(void *arg)
{
    struct tag_server *s = arg;
    struct ipc_msg m;
    long err = ipc_recv(s->ep, &m, NULL, 0);
    while (err == 0 && m.w[0] != TEST_QUIT) {
        m.w[0] = 0;
        m.w[1] = s->tag;
        err = ipc_reply_recv(s->ep, &m, NULL);
    }
    ipc_reply(&m, NULL);
    return err;
}

static bool tag_server_start(struct tag_server *s, uint64_t tag)
{
    long ep = sys_endpoint_create();
    if (!expect("sys_endpoint_create", ep > 0 ? 0 : ep, 0))
        return false;
    s->ep = (handle_t)ep;
    s->tag = tag;
    long err = uthread_start(&s->thread, tag_server_loop, s, UTHREAD_STACK_DEFAULT);
    if (!expect("uthread_start", err, 0)) {
        sys_handle_close(s->ep);
        return false;
    }
    return true;
}

static void tag_server_stop(struct tag_server *s)
{
    struct ipc_msg m = { .w = { TEST_QUIT } };
    ipc_call(s->ep, &m, NULL);
    uthread_join(&s->thread, NULL);
    sys_handle_close(s->ep);
}

// The tag of the server that h reaches, or a negative E_*.
static long tag_of(handle_t h)
{
    struct ipc_msg m = { .w = { 1 } };
    long err = ipc_call(h, &m, NULL);
    return err < 0 ? err : (long)m.w[1];
}

// Looks name up and asks its server for its tag.
static long lookup_tag(const char *name)
{
    handle_t h;
    long err = ns_lookup(name, &h);
    if (err < 0)
        return err;
    long tag = tag_of(h);
    sys_handle_close(h);
    return tag;
}

// ---- ns_names: register, look up, replace, list, unregister ----------------------------

static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p; p = strchr(p, '\n') + 1)
        if (strncmp(p, name, n) == 0 && p[n] == '\n')
            return true;
    return false;
}

static void check_list(void)
{
    char list[IPC_BUF_MAX + 1];
    int count = 0;
    if (!expect("ns_list", ns_list(list, sizeof(list), &count), 0))
        return;
    const char *want[] = { "con", "pm", "init", "test.ns" };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
        if (!list_has(list, want[i]))
            test_fail("ns_list has no %s", want[i]);
    if (count < 4)
        test_fail("ns_list counts %d names", count);
}

// A looked-up handle may send but not receive: ns hands out NS_RIGHTS only.
static void check_lookup_rights(void)
{
    handle_t h;
    if (!expect("ns_lookup(test.ns)", ns_lookup("test.ns", &h), 0))
        return;
    struct ipc_msg m;
    expect("ipc_recv on a looked-up handle", ipc_recv(h, &m, NULL, IPC_NONBLOCK), E_RIGHTS);
    sys_handle_close(h);
}

static void test_ns_names(void)
{
    struct tag_server a, b;
    if (!tag_server_start(&a, 1))
        return;
    if (!tag_server_start(&b, 2)) {
        tag_server_stop(&a);
        return;
    }
    handle_t h;
    expect("ns_lookup of a missing name", ns_lookup("test.nothing", &h), E_NOENT);
    expect("ns_register(test.ns, a)", ns_register("test.ns", a.ep), 0);
    expect("the server test.ns names (a)", lookup_tag("test.ns"), 1);
    expect("ns_register(test.ns, b)", ns_register("test.ns", b.ep), 0);
    expect("the server test.ns names after replacing (b)", lookup_tag("test.ns"), 2);
    check_list();
    check_lookup_rights();
    expect("ns_register with an empty name", ns_register("", a.ep), E_INVAL);
    expect("ns_register with a space", ns_register("a b", a.ep), E_INVAL);
    expect("ns_unregister(test.ns)", ns_unregister("test.ns"), 0);
    expect("ns_lookup after unregistering", ns_lookup("test.ns", &h), E_NOENT);
    tag_server_stop(&a);
    tag_server_stop(&b);
}

// ---- stream_protocol: the client library against a stream server of our own -----------

#define PATTERN_SIZE 10000

struct stream_server {
    handle_t ep;
    struct uthread thread;
    uint64_t writes;     // STREAM_WRITE messages
    uint64_t bytes;      // bytes they carried
    bool check_pattern;  // the bytes written should be stream_byte's
    bool pattern_ok;     // every byte was what stream_byte says
    bool closed;
    uint64_t badge;  // the badge of the last request
    char text[128];  // the start of what was written, as a string
    uint8_t buf[IPC_BUF_MAX];
};

static uint8_t stream_byte(uint64_t i)
{
    return (uint8_t)(i * 7 + 3);
}

// Caller: the server thread. Answers one stream request in m (and its bytes in buf).
static void stream_answer(struct stream_server *s, struct ipc_msg *m, struct ipc_xfer *x)
{
    uint64_t op = m->w[0];
    uint64_t len = x->recv_len;
    memset(x, 0, sizeof(*x));
    s->badge = m->badge;
    m->w[0] = 0;
    if (op == STREAM_WRITE) {
        for (uint64_t i = 0; i < len && s->check_pattern; i++)
            s->pattern_ok &= s->buf[i] == stream_byte(s->bytes + i);
        for (uint64_t i = 0; i < len && s->bytes + i < sizeof(s->text) - 1; i++)
            s->text[s->bytes + i] = (char)s->buf[i];
        s->writes++;
        s->bytes += len;
        m->w[1] = len;
    } else if (op == STREAM_READ) {
        uint64_t n = m->w[1] < 100 ? m->w[1] : 100;  // short reads, as a pipe may give
        for (uint64_t i = 0; i < n; i++)
            s->buf[i] = stream_byte(i);
        x->send_buf = (uint64_t)(uintptr_t)s->buf;
        x->send_len = n;
        m->w[1] = n;
    } else if (op == STREAM_SEEK) {
        m->w[1] = m->w[1] + 1000 * m->w[2];  // an answer the test can check
    } else if (op == STREAM_STAT) {
        m->w[1] = s->bytes;
        m->w[2] = STREAM_TYPE_FILE;
    } else {
        m->w[0] = (uint64_t)E_INVAL;
    }
}

static long stream_server_loop(void *arg)
{
    struct stream_server *s = arg;
    struct ipc_msg m;
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)s->buf, .recv_cap = IPC_BUF_MAX };
    long err = ipc_recv(s->ep, &m, &x, 0);
    while ((err == 0 || err == IPC_NOTICE) && m.w[0] != TEST_QUIT) {
        x.recv_buf = (uint64_t)(uintptr_t)s->buf;
        x.recv_cap = IPC_BUF_MAX;
        if (err == IPC_NOTICE) {  // nobody to reply to
            s->closed |= m.w[0] == IPC_NOTICE_CLOSED && m.badge == s->badge;
            err = ipc_recv(s->ep, &m, &x, 0);
            continue;
        }
        stream_answer(s, &m, &x);
        x.recv_buf = (uint64_t)(uintptr_t)s->buf;
        x.recv_cap = IPC_BUF_MAX;
        err = ipc_reply_recv(s->ep, &m, &x);
    }
    ipc_reply(&m, NULL);
    return err;
}

static void stream_checks(struct stream_server *s, handle_t h)
{
    static uint8_t data[PATTERN_SIZE];
    for (uint64_t i = 0; i < PATTERN_SIZE; i++)
        data[i] = stream_byte(i);
    expect("stream_write of 10000 bytes", stream_write(h, data, PATTERN_SIZE), PATTERN_SIZE);
    expect("STREAM_WRITE messages for 10000 bytes", (long)s->writes,
           (PATTERN_SIZE + IPC_BUF_MAX - 1) / IPC_BUF_MAX);
    if (!s->pattern_ok)
        test_fail("the server received other bytes than were written");
    uint8_t in[300];
    long n = stream_read(h, in, sizeof(in));
    expect("stream_read (a short read)", n, 100);
    for (long i = 0; i < n && i < 100; i++)
        if (in[i] != stream_byte((uint64_t)i)) {
            test_fail("stream_read: byte %ld is %u", i, in[i]);
            break;
        }
    expect("stream_seek(5, SEEK_END)", stream_seek(h, 5, STREAM_SEEK_END), 2005);
    struct stream_stat st = { 0 };
    expect("stream_stat", stream_stat(h, &st), 0);
    expect("stream_stat: size", (long)st.size, PATTERN_SIZE);
    expect("stream_stat: type", (long)st.type, STREAM_TYPE_FILE);
}

static struct stream_server the_stream_server;

// Starts the_stream_server; a handle minted on its endpoint with a badge is its stream.
static struct stream_server *stream_server_start(void)
{
    struct stream_server *s = &the_stream_server;
    memset(s, 0, sizeof(*s));
    s->pattern_ok = true;
    long ep = sys_endpoint_create();
    if (!expect("sys_endpoint_create", ep > 0 ? 0 : ep, 0))
        return NULL;
    s->ep = (handle_t)ep;
    long err = uthread_start(&s->thread, stream_server_loop, s, 32 * 1024);
    if (!expect("uthread_start", err, 0)) {
        sys_handle_close(s->ep);
        return NULL;
    }
    return s;
}

static void stream_server_stop(struct stream_server *s)
{
    struct ipc_msg m = { .w = { TEST_QUIT } };
    ipc_call(s->ep, &m, NULL);
    uthread_join(&s->thread, NULL);
    sys_handle_close(s->ep);
}

static void test_stream_protocol(void)
{
    struct stream_server *s = stream_server_start();
    if (!s)
        return;
    s->check_pattern = true;
    long h = sys_handle_mint(s->ep, 42, RIGHT_SEND, MINT_NOTIFY_CLOSED);
    if (expect("sys_handle_mint", h > 0 ? 0 : h, 0)) {
        stream_checks(s, (handle_t)h);
        expect("the badge the server saw", (long)s->badge, 42);
        expect("stream_close", stream_close((handle_t)h), 0);
        // The notice is queued ahead of any later request: once one is answered, the
        // server has heard it.
        expect("a request after the close", stream_stat(s->ep, &(struct stream_stat){ 0 }), 0);
        if (!s->closed)
            test_fail("the server never heard the stream closed");
        expect("a closed stream's handle", stream_stat((handle_t)h, &(struct stream_stat){ 0 }),
               E_BADHANDLE);
    }
    stream_server_stop(s);
}

// ---- con_stream: a console stream of our own -------------------------------------------

static void test_con_stream(void)
{
    handle_t h;
    if (!expect("con_open", con_open(&h), 0))
        return;
    struct stream_stat st = { 0 };
    expect("stream_stat on a console stream", stream_stat(h, &st), 0);
    expect("its type", (long)st.type, STREAM_TYPE_CONSOLE);
    expect("stream_seek on the console", stream_seek(h, 0, STREAM_SEEK_SET), E_INVAL);
    const char *line = "servertests: this line went through con_open's stream\n";
    expect("stream_write to the console", stream_write(h, line, strlen(line)), (long)strlen(line));
    expect("stream_close", stream_close(h), 0);

    // Our stdout is a console stream too, handed to us by init.
    st.type = 0;
    expect("stream_stat(stdout)", stream_stat(stdio_handle(STARTUP_H_STDOUT), &st), 0);
    expect("stdout's type", (long)st.type, STREAM_TYPE_CONSOLE);

    long before = con_foreground();
    expect("con_set_foreground(12345)", con_set_foreground(12345), 0);
    expect("con_foreground()", con_foreground(), 12345);
    con_set_foreground(before > 0 ? before : 0);
}

// ---- pm_programs: spawn, wait, kill, list ----------------------------------------------

static long spawn_self(const char *mode, const char *value)
{
    char *argv[] = { "servertests", (char *)mode, (char *)value, NULL };
    handle_t out = stdio_handle(STARTUP_H_STDOUT);
    return pm_spawn("servertests", argv, stdio_handle(STARTUP_H_STDIN), out, out);
}

// The entry pm_list has for pid, or NULL.
static bool find_proc(long pid, struct pm_proc *out)
{
    struct pm_proc procs[32];
    long n = pm_list(procs, 32);
    if (n < 0) {
        test_fail("pm_list: %s", abi_strerror(n));
        return false;
    }
    for (long i = 0; i < n; i++)
        if (procs[i].pid == pid) {
            *out = procs[i];
            return true;
        }
    return false;
}

static void check_hello(void)
{
    char *argv[] = { "hello", "from", "pm", NULL };
    handle_t out = stdio_handle(STARTUP_H_STDOUT);
    long pid = pm_spawn("hello", argv, 0, out, out);
    if (!expect("pm_spawn(hello)", pid > 0 ? 0 : pid, 0))
        return;
    int status = -1;
    expect("pm_wait(hello)", pm_wait(pid, &status), 0);
    expect("hello's exit status", status, 0);
    expect("pm_wait for a pid already collected", pm_wait(pid, &status), E_NOENT);
}

static void check_exit_status(void)
{
    long pid = spawn_self("--exit", "7");
    if (!expect("pm_spawn(servertests --exit 7)", pid > 0 ? 0 : pid, 0))
        return;
    int status = -1;
    expect("pm_wait", pm_wait(pid, &status), 0);
    expect("the exit status", status, 7);
}

static void check_kill(void)
{
    long pid = spawn_self("--sleep", "20000");
    if (!expect("pm_spawn(servertests --sleep 20000)", pid > 0 ? 0 : pid, 0))
        return;
    struct pm_proc p;
    if (!find_proc(pid, &p))
        test_fail("pm_list does not show pid %ld", pid);
    else if (strcmp(p.name, "servertests") != 0 || p.state != PM_RUNNING)
        test_fail("pm_list shows pid %ld as %s in state %d", pid, p.name, p.state);
    // pm's pid is the kernel's: the kernel lists that process under that pid.
    static struct proc_info procs[64];
    long n = sys_proc_list(procs, 64, 0), found = 0;
    for (long i = 0; i < n; i++)
        found += procs[i].pid == pid && strcmp(procs[i].name, "servertests") == 0 &&
                 procs[i].state != PROC_ZOMBIE && procs[i].pid != sys_process_pid(H_SELF);
    if (found != 1)
        test_fail("the kernel does not list pm's pid %ld as a live servertests", pid);
    expect("pm_kill", pm_kill(pid), 0);
    int status = -1;
    expect("pm_wait after pm_kill", pm_wait(pid, &status), 0);
    expect("the killed child's status", status, EXIT_KILLED);
}

static void test_pm_programs(void)
{
    check_hello();
    check_exit_status();
    check_kill();
    long err = pm_spawn("no-such-program", NULL, 0, 0, 0);
    expect("pm_spawn of a missing program", err, E_NOENT);
    expect("pm_kill of a pid pm never gave", pm_kill(999999), E_NOENT);
}

// ---- pm_stdio: a child's stdout is the very stream its spawner named ------------------

// The badge names the open object, so it must survive the trip through pm into the
// child: hello's output must reach our server under badge 77.
static void test_pm_stdio(void)
{
    struct stream_server *s = stream_server_start();
    if (!s)
        return;
    long h = sys_handle_mint(s->ep, 77, RIGHT_SEND | RIGHT_TRANSFER, 0);
    if (expect("sys_handle_mint", h > 0 ? 0 : h, 0)) {
        char *argv[] = { "hello", "to", "a", "stream", NULL };
        long pid = pm_spawn("hello", argv, 0, (handle_t)h, (handle_t)h);
        int status = -1;
        if (expect("pm_spawn(hello)", pid > 0 ? 0 : pid, 0))
            expect("pm_wait(hello)", pm_wait(pid, &status), 0);
        expect("hello's status", status, 0);
        if (strcmp(s->text, "hello from hello to a stream\n") != 0)
            test_fail("the stream server received \"%s\"", s->text);
        expect("the badge hello's writes came with", (long)s->badge, 77);
        sys_handle_close((handle_t)h);
    }
    stream_server_stop(s);
}

// ---- pm_waits: pm keeps serving while callers wait -------------------------------------

#define WAITERS 3

struct waiter {
    long pid;
    int status;
    long err;
    struct uthread thread;
};

static long waiter_loop(void *arg)
{
    struct waiter *w = arg;
    w->err = pm_wait(w->pid, &w->status);
    return 0;
}

static void test_pm_waits(void)
{
    struct waiter w[WAITERS];
    int started = 0;
    for (int i = 0; i < WAITERS; i++) {
        char ms[16];
        snprintf(ms, sizeof(ms), "%d", 300 + 100 * i);
        w[i] = (struct waiter){ .pid = spawn_self("--sleep", ms), .status = -1 };
        if (!expect("pm_spawn(servertests --sleep)", w[i].pid > 0 ? 0 : w[i].pid, 0))
            break;
        if (!expect("uthread_start",
                    uthread_start(&w[i].thread, waiter_loop, &w[i], UTHREAD_STACK_DEFAULT), 0))
            break;
        started++;
    }
    sleep_ms(50);  // the waiters are in pm now
    uint64_t start = time_now();
    struct pm_proc procs[32];
    long n = pm_list(procs, 32);
    if (n < WAITERS)
        test_fail("pm_list while %d waits are pending: %ld", WAITERS, n);
    if (ms_since(start) > 200)
        test_fail("pm_list took %lu ms while waits were pending", (unsigned long)ms_since(start));
    for (int i = 0; i < started; i++) {
        uthread_join(&w[i].thread, NULL);
        expect("pm_wait in a waiter thread", w[i].err, 0);
        expect("the sleeper's status", w[i].status, 0);
    }
}

// ---- pm_cwd: a child starts in its spawner's directory ---------------------------------

// One PM_SPAWN or PM_SPAWN_IN made by hand with buf (len bytes, '\0' included) and no
// stdio; returns the reply's status and sets *pid.
static long pm_spawn_raw(uint64_t op, const char *buf, size_t len, long *pid)
{
    handle_t pm;
    long err = ns_lookup("pm", &pm);
    if (err < 0)
        return err;
    struct ipc_msg m = { .w = { op } };
    struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)buf, .send_len = len };
    err = ipc_call(pm, &m, &x);
    sys_handle_close(pm);
    *pid = (long)m.w[1];
    return err < 0 ? err : (long)m.w[0];
}

// Waits for a `servertests --cwd` child, which exits 0 when its directory was right.
static void check_cwd_child(const char *what, long err, long pid)
{
    if (!expect(what, err, 0))
        return;
    int status = -1;
    expect("pm_wait", pm_wait(pid, &status), 0);
    if (status != 0)
        test_fail("%s: the child did not start in the expected directory", what);
}

static void test_pm_cwd(void)
{
    if (!expect("fs_chdir(/tmp)", fs_chdir("/tmp"), 0))
        return;
    long pid = spawn_self("--cwd", "/tmp");
    check_cwd_child("pm_spawn(servertests --cwd /tmp) from /tmp", pid > 0 ? 0 : pid, pid);
    // The directory is normalised; the old format, without one, means "/".
    static const char messy[] = "/tmp/./../tmp/\0servertests\0servertests\0--cwd\0/tmp";
    long err = pm_spawn_raw(PM_SPAWN_IN, messy, sizeof(messy), &pid);
    check_cwd_child("PM_SPAWN_IN in /tmp/./../tmp/", err, pid);
    static const char plain[] = "servertests\0servertests\0--cwd\0/";
    err = pm_spawn_raw(PM_SPAWN, plain, sizeof(plain), &pid);
    check_cwd_child("PM_SPAWN (no directory)", err, pid);
    static const char relative[] = "tmp\0servertests\0servertests\0--cwd\0/tmp";
    expect("PM_SPAWN_IN with a relative directory",
           pm_spawn_raw(PM_SPAWN_IN, relative, sizeof(relative), &pid), E_INVAL);
    expect("fs_chdir(/)", fs_chdir("/"), 0);
}

// ---- posix_files: open, read, write, lseek, close and fopen over fs's streams ------------

static void check_fopen(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        test_fail("fopen(%s, \"w\"): errno %d", path, errno);
        return;
    }
    fprintf(f, "line one\nline %d\n", 2);
    expect("fclose after writing", fclose(f), 0);
    f = fopen(path, "r");
    if (!f) {
        test_fail("fopen(%s, \"r\"): errno %d", path, errno);
        return;
    }
    char line[32];
    if (!fgets(line, sizeof(line), f) || strcmp(line, "line one\n") != 0)
        test_fail("fgets: the first line is not \"line one\"");
    if (!fgets(line, sizeof(line), f) || strcmp(line, "line 2\n") != 0)
        test_fail("fgets: the second line is not \"line 2\"");
    if (fgets(line, sizeof(line), f))
        test_fail("fgets read \"%s\" past the end", line);
    expect("fclose after reading", fclose(f), 0);
}

static void check_fds(const char *path)
{
    int fd = open(path, O_RDONLY);
    if (fd < 3) {
        test_fail("open(%s) = %d, errno %d", path, fd, errno);
        return;
    }
    char buf[8] = { 0 };
    expect("lseek(fd, 5, SEEK_SET)", (long)lseek(fd, 5, SEEK_SET), 5);
    expect("read(fd, 3)", (long)read(fd, buf, 3), 3);
    if (strcmp(buf, "one") != 0)
        test_fail("read after lseek got \"%s\"", buf);
    expect("close(fd)", close(fd), 0);
    errno = 0;
    expect("read on a closed fd", (long)read(fd, buf, 1), -1);
    expect("its errno (EBADF)", errno, EBADF);
    errno = 0;
    expect("open of a missing file", open("/tmp/no/such/file", O_RDONLY), -1);
    expect("its errno (ENOENT)", errno, ENOENT);
    const char *line = "servertests: this line went through write(1)\n";
    expect("write(1)", (long)write(1, line, strlen(line)), (long)strlen(line));
}

static void test_posix_files(void)
{
    handle_t fs;
    if (ns_lookup("fs", &fs) < 0) {
        test_fail("no fs registered in ns");
        return;
    }
    sys_handle_close(fs);
    const char *path = "/tmp/servertests.txt";
    check_fopen(path);
    check_fds(path);
    expect("fs_unlink", fs_unlink(path), 0);
}

// ---- pipe_sharing: a pipe end lives while any copy of it does -----------------------------

// Reads r to its end of file into buf (NUL-terminated); the byte count, or an E_*.
static long read_to_eof(handle_t r, char *buf, size_t size)
{
    size_t got = 0;
    for (;;) {
        long n = stream_read(r, buf + got, size - 1 - got);
        if (n <= 0) {
            buf[got] = 0;
            return n < 0 ? n : (long)got;
        }
        got += (size_t)n;
    }
}

// A child is given the write end and the parent closes its own, as a POSIX shell does:
// the reader gets the child's output, then end of file when the child exits.
static void pipe_to_child(void)
{
    handle_t r, w;
    if (!expect("fs_pipe", fs_pipe(&r, &w), 0))
        return;
    char *argv[] = { "hello", "through", "a", "pipe", NULL };
    long pid = pm_spawn("hello", argv, 0, w, w);
    expect("closing the parent's write end", stream_close(w), 0);
    if (expect("pm_spawn(hello)", pid > 0 ? 0 : pid, 0)) {
        char buf[128];
        expect("reading to end of file", read_to_eof(r, buf, sizeof(buf)) >= 0 ? 0 : -1, 0);
        if (strcmp(buf, "hello from hello through a pipe\n") != 0)
            test_fail("the pipe carried \"%s\"", buf);
        int status = -1;
        expect("pm_wait(hello)", pm_wait(pid, &status), 0);
        expect("hello's status", status, 0);
    }
    stream_close(r);
}

// A child killed while it holds the only write end: its death closes it.
static void pipe_writer_killed(void)
{
    handle_t r, w;
    if (!expect("fs_pipe", fs_pipe(&r, &w), 0))
        return;
    char *argv[] = { "servertests", "--sleep", "20000", NULL };
    long pid = pm_spawn("servertests", argv, 0, w, w);
    stream_close(w);
    if (expect("pm_spawn(servertests --sleep)", pid > 0 ? 0 : pid, 0)) {
        expect("pm_kill", pm_kill(pid), 0);
        char buf[16];
        expect("a read after the writer was killed", read_to_eof(r, buf, sizeof(buf)), 0);
        int status;
        pm_wait(pid, &status);
    }
    stream_close(r);
}

// Copies in one process: each end lasts until its last copy closes.
static void pipe_copies(void)
{
    handle_t r, w;
    if (!expect("fs_pipe", fs_pipe(&r, &w), 0))
        return;
    long w2 = sys_handle_dup(w, RIGHT_SEND);
    long r2 = sys_handle_dup(r, RIGHT_SEND);
    if (expect("duplicating both ends", w2 > 0 && r2 > 0 ? 0 : E_INVAL, 0)) {
        stream_close(w);
        expect("a write through the copy of a closed write end", stream_write((handle_t)w2, "x", 1),
               1);
        char c = 0;
        expect("reading it", stream_read(r, &c, 1), 1);
        stream_close(r);
        expect("a write while a copy of the read end is open", stream_write((handle_t)w2, "y", 1),
               1);
        expect("reading it through the copy", stream_read((handle_t)r2, &c, 1), 1);
        stream_close((handle_t)r2);
        // fs hears of the last close a moment later (a notice is not a reply), so a
        // write or two may still go into the pipe; far fewer than it holds.
        long err = 1;
        for (int i = 0; i < 100 && err == 1; i++) {
            err = stream_write((handle_t)w2, "z", 1);
            if (err == 1)
                sleep_ms(1);
        }
        expect("a write once every read end is closed", err, E_CLOSED);
    }
    stream_close((handle_t)w2);
}

static void test_pipe_sharing(void)
{
    pipe_to_child();
    pipe_writer_killed();
    pipe_copies();
}

// ---- restarts: init brings a killed server back; its clients go on ----------------------

// Asks init to kill server and waits until init says it runs again; false on failure.
static bool kill_and_wait(const char *server)
{
    int before = 0, after = 0;
    bool running = false;
    if (!expect("init_info", init_info(server, &before, &running), 0))
        return false;
    if (!expect("init_kill", init_kill(server), 0))
        return false;
    uint64_t start = time_now();
    while (ms_since(start) < 5000) {
        if (init_info(server, &after, &running) == 0 && after > before && running)
            return true;
        sleep_ms(20);
    }
    test_fail("%s did not come back within 5 s (restarts %d -> %d)", server, before, after);
    return false;
}

static void test_restart_pm(void)
{
    struct waiter w = { .pid = spawn_self("--sleep", "2000"), .status = -1 };
    if (!expect("pm_spawn(servertests --sleep 2000)", w.pid > 0 ? 0 : w.pid, 0))
        return;
    if (!expect("uthread_start", uthread_start(&w.thread, waiter_loop, &w, UTHREAD_STACK_DEFAULT),
                0))
        return;
    sleep_ms(100);  // the waiter's PM_WAIT is in pm now
    kill_and_wait("pm");
    uthread_join(&w.thread, NULL);
    expect("pm_wait when pm died answering it", w.err, E_DEAD);
    // The client looks "pm" up again and goes on with the new pm.
    check_hello();
    expect("pm_wait for a pid of the old pm", pm_wait(w.pid, &w.status), E_NOENT);
}

static void test_restart_con(void)
{
    if (!kill_and_wait("con"))
        return;
    // Our stdout is a console stream from before: con keeps no state per stream, so
    // it works with the new con (this test's verdict goes through it too).
    const char *line = "servertests: writing to the restarted con\n";
    expect("stream_write(stdout) after con restarted",
           stream_write(stdio_handle(STARTUP_H_STDOUT), line, strlen(line)), (long)strlen(line));
    handle_t h;
    if (expect("con_open from the restarted con", con_open(&h), 0))
        stream_close(h);
}

static void test_restart_ns(void)
{
    struct tag_server a;
    if (!tag_server_start(&a, 3))
        return;
    expect("ns_register(test.mine)", ns_register("test.mine", a.ep), 0);
    if (kill_and_wait("ns")) {
        // init registers its servers' names again; names others registered are gone.
        handle_t h;
        if (expect("ns_lookup_wait(pm) after ns restarted", ns_lookup_wait("pm", 3000, &h), 0))
            sys_handle_close(h);
        expect("ns_lookup(test.mine) after ns restarted", ns_lookup("test.mine", &h), E_NOENT);
        expect("ns_register(test.mine) again", ns_register("test.mine", a.ep), 0);
        expect("the server test.mine names", lookup_tag("test.mine"), 3);
        ns_unregister("test.mine");
        check_hello();  // pm, found through the new ns
    }
    tag_server_stop(&a);
}

// ---- interactive: con's line editor and ^C (only when named) ----------------------------

// The grader types "abc", DEL, "d", Enter; then "xyz", ^U, "hello", Enter; then ^D.
static void test_con_input(void)
{
    char line[64];
    printf("servertests: type a line\n");
    if (!fgets(line, sizeof(line), stdin)) {
        test_fail("end of input instead of a line");
        return;
    }
    if (strcmp(line, "abd\n") != 0)
        test_fail("after erasing, read \"%s\"", line);
    printf("servertests: type another line\n");
    if (!fgets(line, sizeof(line), stdin)) {
        test_fail("end of input instead of a second line");
        return;
    }
    if (strcmp(line, "hello\n") != 0)
        test_fail("after ^U, read \"%s\"", line);
    printf("servertests: type ^D\n");
    if (fgets(line, sizeof(line), stdin))
        test_fail("read \"%s\" instead of end of input", line);
    clearerr(stdin);
}

// The grader types ^C once it sees the prompt.
static void test_ctrl_c(void)
{
    long pid = spawn_self("--sleep", "30000");
    if (!expect("pm_spawn(servertests --sleep 30000)", pid > 0 ? 0 : pid, 0))
        return;
    expect("con_set_foreground", con_set_foreground(pid), 0);
    printf("servertests: press ^C\n");
    int status = -1;
    expect("pm_wait for the foreground child", pm_wait(pid, &status), 0);
    expect("its status after ^C", status, EXIT_KILLED);
    con_set_foreground(0);
}

// ---- main --------------------------------------------------------------------------------

static const struct test_case tests[] = {
    { "ns_names", test_ns_names, 0 },
    { "stream_protocol", test_stream_protocol, 0 },
    { "con_stream", test_con_stream, 0 },
    { "pm_programs", test_pm_programs, 0 },
    { "pm_stdio", test_pm_stdio, 0 },
    { "pm_waits", test_pm_waits, 0 },
    { "pm_cwd", test_pm_cwd, 0 },
    { "posix_files", test_posix_files, 0 },
    { "pipe_sharing", test_pipe_sharing, 0 },
    { "restart_pm", test_restart_pm, 0 },
    { "restart_con", test_restart_con, 0 },
    { "restart_ns", test_restart_ns, 0 },
    { "con_input", test_con_input, TEST_INTERACTIVE },
    { "ctrl_c", test_ctrl_c, TEST_INTERACTIVE },
};
// Every test needs the servers init starts for run=servertests.
static const char *precondition(const struct test_case *t)
{
    (void)t;
    if (!startup_handle(STARTUP_H_NS) || !startup_handle(STARTUP_H_STDOUT))
        return "started without ns or a console: run it with the boot argument run=servertests";
    return NULL;
}

static const struct test_suite suite = {
    .name = "servertests",
    .tests = tests,
    .ntests = (int)(sizeof(tests) / sizeof(tests[0])),
    .precondition = precondition,
};

// The child modes the pm tests use; -1 when argv asks for none.
static int child_mode(int argc, char *argv[])
{
    if (argc < 3)
        return -1;
    if (strcmp(argv[1], "--sleep") == 0) {
        sleep_ms(strtoul(argv[2], NULL, 10));
        return 0;
    }
    if (strcmp(argv[1], "--exit") == 0)
        return (int)strtol(argv[2], NULL, 10);
    if (strcmp(argv[1], "--cwd") == 0)
        return strcmp(fs_cwd(), argv[2]) == 0 ? 0 : 1;
    return -1;
}

int main(int argc, char *argv[])
{
    int child = child_mode(argc, argv);
    if (child >= 0)
        return child;
    return test_suite_main(&suite, argc, argv);
}
