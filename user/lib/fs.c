// The file server's client (see fs.h): path resolution against this process's current
// directory, and one ipc_call per request. The current directory lives here, in the
// client, because fs keeps no state per process: the shell's `cd` is fs_chdir.
#include "fs.h"

#include <string.h>

#include "ipc.h"
#include "ns.h"
#include "ulib.h"

#define FS_LOOKUP_MS 5000  // fs starts beside its first clients: wait for its name this long

static char cwd[FS_PATH_MAX + 1] = "/";
static handle_t fs_handle;  // 0 until looked up (or set with fs_use)

void fs_use(handle_t fs)
{
    fs_handle = fs;
}

// The endpoint, looked up in ns on first use. Two threads racing here may both look it
// up; the loser closes its copy, so none leaks.
static long fs_endpoint(handle_t *out)
{
    handle_t h = __atomic_load_n(&fs_handle, __ATOMIC_ACQUIRE);
    if (h == 0) {
        long err = ns_lookup_wait("fs", FS_LOOKUP_MS, &h);
        if (err < 0)
            return err;
        handle_t none = 0;
        if (!__atomic_compare_exchange_n(&fs_handle, &none, h, false, __ATOMIC_ACQ_REL,
                                         __ATOMIC_ACQUIRE)) {
            sys_handle_close(h);
            h = none;
        }
    }
    *out = h;
    return 0;
}

// After E_DEAD: fs died (init restarts it), so forget the old endpoint.
static void fs_forget(handle_t h)
{
    if (__atomic_compare_exchange_n(&fs_handle, &h, 0, false, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
        sys_handle_close(h);
}

// ---- paths --------------------------------------------------------------------------

// Appends "/name" (n bytes of name) to out, which holds len bytes; returns the new length,
// or -1 when it does not fit.
static long path_push(char *out, size_t len, size_t size, const char *name, size_t n)
{
    if (len + 1 + n + 1 > size)
        return -1;
    out[len++] = '/';
    memcpy(out + len, name, n);
    len += n;
    out[len] = '\0';
    return (long)len;
}

// Drops out's last component ("/a/b" -> "/a"; "/" stays "/"); returns the new length.
static size_t path_pop(char *out, size_t len)
{
    while (len > 0 && out[len - 1] != '/')
        len--;
    if (len > 0)
        len--;  // the '/' before it
    out[len] = '\0';
    return len;
}

// Applies the components of path (split at '/') to out, which holds len bytes.
static long path_apply(char *out, size_t len, size_t size, const char *path)
{
    const char *p = path;
    while (*p) {
        size_t n = strcspn(p, "/");
        if (n == 0 || (n == 1 && p[0] == '.')) {
            // "//" and "." change nothing
        } else if (n == 2 && p[0] == '.' && p[1] == '.') {
            len = path_pop(out, len);
        } else {
            long r = path_push(out, len, size, p, n);
            if (r < 0)
                return E_TOOBIG;
            len = (size_t)r;
        }
        p += n;
        if (*p == '/')
            p++;
    }
    return (long)len;
}

long fs_path_join(const char *dir, const char *path, char *out, size_t size)
{
    if (!path || !*path || !dir || dir[0] != '/' || size < 2)
        return E_INVAL;
    // Work on a copy: out may be one of the inputs.
    char buf[FS_PATH_MAX + 2];
    size_t len = 0;
    buf[0] = '\0';
    long r = 0;
    if (path[0] != '/')
        r = path_apply(buf, len, sizeof(buf), dir);
    if (r >= 0)
        r = path_apply(buf, (size_t)r, sizeof(buf), path);
    if (r < 0)
        return r;
    if (r == 0) {  // the root: every component popped, or none given
        buf[0] = '/';
        buf[1] = '\0';
        r = 1;
    }
    if ((size_t)r + 1 > size || r > FS_PATH_MAX)
        return E_TOOBIG;
    memcpy(out, buf, (size_t)r + 1);
    return 0;
}

long fs_resolve(const char *path, char *out, size_t size)
{
    return fs_path_join(cwd, path, out, size);
}

const char *fs_cwd(void)
{
    return cwd;
}

long fs_cwd_init(const char *path)
{
    // No fs_stat: this runs before main, and a directory removed meanwhile is the same
    // as one removed after a cd.
    if (!path)
        path = "/";
    if (path[0] != '/' || strnlen(path, FS_PATH_MAX + 1) > FS_PATH_MAX ||
        fs_path_join("/", path, cwd, sizeof(cwd)) < 0) {
        strcpy(cwd, "/");
        return E_INVAL;
    }
    return 0;
}

long fs_chdir(const char *path)
{
    char abs[FS_PATH_MAX + 1];
    long err = fs_resolve(path, abs, sizeof(abs));
    struct stream_stat st;
    if (err == 0)
        err = fs_stat(abs, &st);
    if (err == 0 && st.type != STREAM_TYPE_DIR)
        err = E_INVAL;
    if (err == 0)
        strcpy(cwd, abs);
    return err;
}

// ---- requests -------------------------------------------------------------------------

// One request about path: resolves it, sends it in the buffer, and returns the reply's
// w[0] (or the call's error). x may ask for a reply buffer or a handle; an E_DEAD call
// (fs restarted) is made once more on a freshly looked-up endpoint.
static long fs_call(uint64_t op, const char *path, struct ipc_msg *m, struct ipc_xfer *x)
{
    char abs[FS_PATH_MAX + 1];
    uint64_t words[IPC_WORDS];
    memcpy(words, m->w, sizeof(words));
    words[0] = op;
    if (path) {
        long err = fs_resolve(path, abs, sizeof(abs));
        if (err < 0)
            return err;
        x->send_buf = (uint64_t)(uintptr_t)abs;
        x->send_len = strlen(abs);
    }
    long err = E_DEAD;
    for (int attempt = 0; attempt < 2 && err == E_DEAD; attempt++) {
        handle_t fs;
        err = fs_endpoint(&fs);
        if (err < 0)
            return err;
        memcpy(m->w, words, sizeof(words));
        x->recv_handle = 0;
        err = ipc_call(fs, m, x);
        if (err == E_DEAD)
            fs_forget(fs);
    }
    if (err == 0)
        err = (long)m->w[0];
    return err;
}

// A request whose reply transfers a handle: *out gets it.
static long fs_call_handle(uint64_t op, const char *path, uint64_t arg, handle_t *out)
{
    struct ipc_msg m = { .w = { op, arg } };
    struct ipc_xfer x = { 0 };
    long err = fs_call(op, path, &m, &x);
    if (err == 0 && x.recv_handle == 0)
        err = E_BADHANDLE;  // a reply without the handle it promised
    if (err < 0) {
        if (x.recv_handle)
            sys_handle_close(x.recv_handle);
        return err;
    }
    *out = x.recv_handle;
    return 0;
}

long fs_open(const char *path, int flags, handle_t *out)
{
    return fs_call_handle(FS_OPEN, path, (uint64_t)flags, out);
}

long fs_stat(const char *path, struct stream_stat *st)
{
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { 0 };
    long err = fs_call(FS_STAT, path, &m, &x);
    if (err < 0)
        return err;
    st->size = m.w[1];
    st->type = (uint32_t)m.w[2];
    return 0;
}

long fs_readdir(const char *path, uint64_t index, struct fs_dirent *ent)
{
    struct ipc_msg m = { .w = { 0, index } };
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)ent->name, .recv_cap = FS_NAME_MAX };
    long err = fs_call(FS_READDIR, path, &m, &x);
    if (err < 0)
        return err;
    if (m.w[2] == 0)
        return 0;  // past the last entry
    ent->name[x.recv_len] = '\0';
    ent->size = m.w[1];
    ent->type = (uint32_t)m.w[2];
    return 1;
}

long fs_mkdir(const char *path)
{
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { 0 };
    return fs_call(FS_MKDIR, path, &m, &x);
}

long fs_unlink(const char *path)
{
    struct ipc_msg m = { 0 };
    struct ipc_xfer x = { 0 };
    return fs_call(FS_UNLINK, path, &m, &x);
}

long fs_pipe(handle_t *read_end, handle_t *write_end)
{
    handle_t r;
    long err = fs_call_handle(FS_PIPE, NULL, 0, &r);
    if (err < 0)
        return err;
    // The write end comes from the read end: only who holds a pipe can write into it.
    struct ipc_msg m = { .w = { FS_PIPE_PEER } };
    struct ipc_xfer x = { 0 };
    err = ipc_call(r, &m, &x);
    if (err == 0)
        err = (long)m.w[0];
    if (err == 0 && x.recv_handle == 0)
        err = E_BADHANDLE;
    if (err < 0) {
        if (x.recv_handle)
            sys_handle_close(x.recv_handle);
        stream_close(r);
        return err;
    }
    *read_end = r;
    *write_end = x.recv_handle;
    return 0;
}
