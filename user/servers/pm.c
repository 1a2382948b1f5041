// pm, the process manager (protocol in user/lib/pm.h): starts programs from the boot
// archive, keeps a table of its children, waits for them and kills them.
//
// init gives pm its endpoint (STARTUP_H_SPARE; init keeps it, so a restarted pm serves
// the same handles), the boot archive and ns. Every child gets the boot archive, ns and
// the stdio streams its spawner sent (see PM_STDIO), in the usual startup slots, and
// starts in the directory the spawner named (PM_SPAWN_IN; pm has none for anyone).
//
// Waiting. The kernel has no "wait for any child", so each child has a reaper thread
// blocked in sys_process_wait; the reaper records the status and marks the child
// PM_EXITED, which PM_LIST shows. A PM_WAIT must hold its reply until the child exits,
// and the kernel delivers a reply only from the thread that received the call, so the
// receiving pool thread waits itself, by joining the reaper (server.h's pool starts
// another thread to serve the rest meanwhile). At most MAX_BLOCKED_WAITS requests wait
// like this; beyond that PM_WAIT answers E_AGAIN and pm_wait asks again 10 ms later, so
// that waits can never take every thread and stall pm (a waited-for child may itself
// need pm to finish).
//
// Handles are the scarce resource: a process has 64. pm holds 3 of its own, 2 per child
// (the process and its reaper), one per pool thread, at most STASH_MAX stashed stdio
// handles and one received handle per busy thread: 3 + 2 * 16 + 8 + 4 + 8 = 55.
#include <stdio.h>
#include <string.h>

#include "bootfs.h"
#include "fs.h"
#include "pm.h"
#include "server.h"
#include "spawn.h"
#include "ulib.h"
#include "uthread.h"

#define MAX_CHILDREN      16
#define POOL_THREADS      8
#define MAX_BLOCKED_WAITS (POOL_THREADS - 2)  // keep two threads for everything else
#define STASH_MAX         4
#define REAPER_STACK      (8 * 1024)

struct child {
    enum pm_state state;  // 0: the slot is free
    int pid;
    char name[PM_NAME_MAX + 1];
    handle_t proc;
    int status;
    bool waited;  // a PM_WAIT (or reclaiming the slot) owns the reaper
    struct uthread reaper;
};

// A stdio handle received by PM_STDIO, until a PM_SPAWN uses it.
struct stash {
    uint64_t token;  // 0: the slot is free
    handle_t h;
};

static struct ulock lock;
// lock must be held when using these:
static struct child children[MAX_CHILDREN];
static struct stash stash[STASH_MAX];
static uint64_t next_token = 1;
static int blocked_waits;

static struct child *child_find(long pid)
{
    for (int i = 0; i < MAX_CHILDREN; i++)
        if (children[i].state && children[i].pid == pid)
            return &children[i];
    return NULL;
}

// ---- PM_STDIO ------------------------------------------------------------------------

// Caller must hold lock. Stashes h and returns its token; when the stash is full, the
// oldest handle in it makes room.
static uint64_t stash_put(handle_t h)
{
    struct stash *slot = &stash[0];
    for (int i = 0; i < STASH_MAX; i++) {
        if (!stash[i].token) {
            slot = &stash[i];
            break;
        }
        if (stash[i].token < slot->token)
            slot = &stash[i];
    }
    if (slot->token)
        sys_handle_close(slot->h);  // never used: its spawner gave up or died
    slot->token = next_token++;
    slot->h = h;
    return slot->token;
}

// Closes the distinct handles of h (stdout and stderr are often the same one).
static void close_stdio(const handle_t h[3])
{
    for (int i = 0; i < 3; i++)
        if (h[i] && (i == 0 || h[i] != h[i - 1]) && (i < 2 || h[i] != h[0]))
            sys_handle_close(h[i]);
}

// Caller must hold lock. Moves the handles the tokens name out of the stash into h (0
// for a token 0; equal tokens, one handle), so that no PM_STDIO evicts them while the
// child is loaded; they are the caller's to close. E_INVAL for a token not stashed.
static long stash_take(const uint64_t tokens[3], handle_t h[3])
{
    long err = 0;
    for (int t = 0; t < 3; t++) {
        h[t] = 0;
        for (int u = 0; u < t; u++)
            if (tokens[t] && tokens[u] == tokens[t])
                h[t] = h[u];
        for (int i = 0; i < STASH_MAX && tokens[t] && !h[t]; i++)
            if (stash[i].token == tokens[t]) {
                h[t] = stash[i].h;
                stash[i] = (struct stash){ 0, 0 };
            }
        if (tokens[t] && !h[t])
            err = E_INVAL;  // not E_NOENT, which says the program is missing
    }
    if (err < 0) {
        close_stdio(h);
        h[0] = h[1] = h[2] = 0;
    }
    return err;
}

static long pm_stdio(struct server_req *r)
{
    if (!r->handle)
        return E_INVAL;
    ulock_acquire(&lock);
    r->reply[1] = stash_put(r->handle);
    ulock_release(&lock);
    r->handle = 0;  // stashed
    return 0;
}

// ---- PM_SPAWN ------------------------------------------------------------------------

static long reaper(void *arg)
{
    struct child *c = arg;
    int status = 0;
    long err = sys_process_wait(c->proc, &status);
    ulock_acquire(&lock);
    c->status = err < 0 ? (int)err : status;
    c->state = PM_EXITED;
    ulock_release(&lock);
    return 0;
}

// Caller must hold lock. Forgets an exited child whose reaper is done or finishing.
static void child_free(struct child *c)
{
    uthread_join(&c->reaper, NULL);  // at most a few instructions left to run
    sys_handle_close(c->proc);
    memset(c, 0, sizeof(*c));
}

// Caller must hold lock. A free slot, marked PM_STARTING; when the table is full, the
// exited child nobody waited for that has the lowest pid makes room.
static struct child *child_alloc(void)
{
    struct child *oldest = NULL;
    for (int i = 0; i < MAX_CHILDREN; i++) {
        struct child *c = &children[i];
        if (!c->state) {
            c->state = PM_STARTING;
            return c;
        }
        if (c->state == PM_EXITED && !c->waited && (!oldest || c->pid < oldest->pid))
            oldest = c;
    }
    if (!oldest)
        return NULL;
    child_free(oldest);
    oldest->state = PM_STARTING;
    return oldest;
}

// Splits "cwd\0path\0argv0\0argv1\0..." (PM_SPAWN_IN) or "path\0argv0\0..." (PM_SPAWN,
// whose *cwd is "/") into cwd, path and argv (NULL-terminated, in r's buffer).
static long unpack_args(struct server_req *r, const char **cwd, const char **path,
                        char *argv[PM_ARGV_MAX + 1])
{
    if (r->len == 0 || r->data[r->len - 1] != '\0')
        return E_INVAL;
    const char *s = (const char *)r->data;
    const char *end = s + r->len;
    *cwd = "/";
    if (r->req.w[0] == PM_SPAWN_IN) {
        *cwd = s;
        s += strlen(s) + 1;
        // spawn normalises it; a relative or oversized one is the client's mistake.
        if (s == end || (*cwd)[0] != '/' || s - *cwd - 1 > FS_PATH_MAX)
            return E_INVAL;
    }
    *path = s;
    s += strlen(s) + 1;
    int argc = 0;
    for (; s < end; s += strlen(s) + 1) {
        if (argc == PM_ARGV_MAX)
            return E_TOOBIG;
        argv[argc++] = (char *)s;
    }
    if (argc == 0)
        argv[argc++] = (char *)*path;
    argv[argc] = NULL;
    return 0;
}

static void child_name(struct child *c, const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    strncpy(c->name, base, PM_NAME_MAX);
    c->name[PM_NAME_MAX] = '\0';
}

// Loads the program into c; lock is not held (loading takes a while). Returns the
// child's pid: the kernel's (sys_process_pid), the one every tool shows.
static long child_start(struct child *c, const char *cwd, const char *path, char *argv[],
                        const handle_t stdio[3])
{
    handle_t give[STARTUP_MAX_HANDLES] = { 0 };
    give[STARTUP_H_BOOTFS] = bootfs_handle();
    give[STARTUP_H_NS] = startup_handle(STARTUP_H_NS);
    give[STARTUP_H_STDIN] = stdio[0];
    give[STARTUP_H_STDOUT] = stdio[1];
    give[STARTUP_H_STDERR] = stdio[2];
    long err = spawn_from_bootfs_in(cwd, path, argv, give, STARTUP_MAX_HANDLES, &c->proc);
    if (err < 0)
        return err;
    long pid = sys_process_pid(c->proc);
    if (pid > 0) {
        ulock_acquire(&lock);
        c->pid = (int)pid;  // before the reaper may mark it exited: no slot is pid 0 then
        ulock_release(&lock);
    }
    err = pid < 0 ? pid : uthread_start(&c->reaper, reaper, c, REAPER_STACK);
    if (err < 0) {
        sys_process_kill(c->proc);
        sys_handle_close(c->proc);
        c->proc = 0;
        return err;
    }
    return pid;
}

static long pm_spawn_req(struct server_req *r)
{
    const char *cwd, *path;
    char *argv[PM_ARGV_MAX + 1];
    long err = unpack_args(r, &cwd, &path, argv);
    if (err < 0)
        return err;
    uint64_t tokens[3] = { r->req.w[1], r->req.w[2], r->req.w[3] };
    handle_t stdio[3];
    ulock_acquire(&lock);
    err = stash_take(tokens, stdio);
    struct child *c = err == 0 ? child_alloc() : NULL;  // the slot is ours while PM_STARTING
    if (err == 0 && !c)
        err = E_LIMIT;
    if (c)
        child_name(c, path);  // pid 0 until child_start knows it (PM_STARTING anyway)
    ulock_release(&lock);
    if (err == 0)
        err = child_start(c, cwd, path, argv, stdio);  // the pid
    close_stdio(stdio);                                // the child has its own copies now
    long pid = err > 0 ? err : 0;
    err = err > 0 ? 0 : err;
    ulock_acquire(&lock);
    if (c && err < 0)
        memset(c, 0, sizeof(*c));
    else if (c && c->state == PM_STARTING)  // the reaper may already say PM_EXITED
        c->state = PM_RUNNING;
    ulock_release(&lock);
    r->reply[1] = (uint64_t)pid;
    return err;
}

// ---- PM_WAIT, PM_KILL, PM_LIST ---------------------------------------------------------

static long pm_wait_req(struct server_req *r)
{
    ulock_acquire(&lock);
    struct child *c = child_find((long)r->req.w[1]);
    long err = !c || c->state == PM_STARTING ? E_NOENT : c->waited ? E_BUSY : 0;
    bool block = err == 0 && c->state != PM_EXITED;
    if (block && blocked_waits >= MAX_BLOCKED_WAITS)
        err = E_AGAIN;  // pm_wait will ask again
    if (err == 0) {
        c->waited = true;
        blocked_waits += block;
    }
    ulock_release(&lock);
    if (err < 0)
        return err;
    if (block)
        server_will_block(r);
    uthread_join(&c->reaper, NULL);  // returns once the child has exited
    ulock_acquire(&lock);
    blocked_waits -= block;
    r->reply[1] = (uint64_t)(int64_t)c->status;
    sys_handle_close(c->proc);
    memset(c, 0, sizeof(*c));
    ulock_release(&lock);
    return 0;
}

static long pm_kill_req(struct server_req *r)
{
    ulock_acquire(&lock);
    struct child *c = child_find((long)r->req.w[1]);
    long err = !c || c->state == PM_STARTING ? E_NOENT : 0;
    if (err == 0 && c->state == PM_RUNNING)
        err = sys_process_kill(c->proc);
    ulock_release(&lock);
    return err;
}

static long pm_list_req(struct server_req *r)
{
    struct pm_proc *out = (struct pm_proc *)r->out;
    uint64_t n = 0;
    ulock_acquire(&lock);
    for (int i = 0; i < MAX_CHILDREN; i++) {
        struct child *c = &children[i];
        if (!c->state)
            continue;
        out[n] = (struct pm_proc){ .pid = c->pid, .state = (int32_t)c->state, .status = c->status };
        memcpy(out[n].name, c->name, sizeof(out[n].name));
        n++;
    }
    ulock_release(&lock);
    r->out_len = n * sizeof(struct pm_proc);
    r->reply[1] = n;
    return 0;
}

static void pm_handle(struct server_req *r)
{
    long err;
    switch (r->req.w[0]) {
    case PM_STDIO: err = pm_stdio(r); break;
    case PM_SPAWN:
    case PM_SPAWN_IN: err = pm_spawn_req(r); break;
    case PM_WAIT: err = pm_wait_req(r); break;
    case PM_KILL: err = pm_kill_req(r); break;
    case PM_LIST: err = pm_list_req(r); break;
    default: err = E_INVAL; break;
    }
    server_status(r, err);
}

int main(void)
{
    handle_t ep = startup_handle(STARTUP_H_SPARE);
    if (!ep || !bootfs_handle()) {
        printf("pm: started without its endpoint (startup handle %d) or the boot archive\n",
               STARTUP_H_SPARE);
        return 1;
    }
    static struct server srv = { .name = "pm", .handle = pm_handle, .max_threads = POOL_THREADS };
    srv.ep = ep;
    long err = server_run(&srv);
    printf("pm: stopped: %s\n", abi_strerror(err));
    return 1;
}
