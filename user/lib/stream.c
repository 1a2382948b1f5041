// The client side of the stream protocol (see stream.h): one ipc_call per request,
// except writes, which are cut into IPC_BUF_MAX pieces.
#include "stream.h"

#include <stddef.h>
#include <string.h>

#include "ipc.h"
#include "ulib.h"

// ipc.S stores the badge right after the four words.
_Static_assert(offsetof(struct ipc_msg, badge) == 32, "ipc.S writes m->badge at offset 32");

// One request with no bytes either way; the reply words replace m's.
static long stream_call(handle_t h, struct ipc_msg *m)
{
    long err = ipc_call(h, m, NULL);
    return err < 0 ? err : (long)m->w[0];
}

long stream_read(handle_t h, void *buf, size_t n)
{
    if (n > IPC_BUF_MAX)
        n = IPC_BUF_MAX;
    struct ipc_msg m = { .w = { STREAM_READ, n } };
    struct ipc_xfer x = { .recv_buf = (uint64_t)(uintptr_t)buf, .recv_cap = n };
    long err = ipc_call(h, &m, &x);
    if (err == 0)
        err = (long)m.w[0];
    if (x.recv_handle)  // a confused server sent a handle: do not leak it
        sys_handle_close(x.recv_handle);
    if (err < 0)
        return err;
    // Trust the count only as far as the kernel copied bytes.
    return m.w[1] < x.recv_len ? (long)m.w[1] : (long)x.recv_len;
}

long stream_write(handle_t h, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < n) {
        size_t len = n - done < IPC_BUF_MAX ? n - done : IPC_BUF_MAX;
        struct ipc_msg m = { .w = { STREAM_WRITE } };
        struct ipc_xfer x = { .send_buf = (uint64_t)(uintptr_t)(p + done), .send_len = len };
        long err = ipc_call(h, &m, &x);
        if (err == 0)
            err = (long)m.w[0];
        if (err < 0)
            return done ? (long)done : err;  // report what got through, like write(2)
        if (m.w[1] == 0 || m.w[1] > len)
            return done ? (long)done : E_INVAL;  // a server that takes nothing would loop us
        done += m.w[1];
    }
    return (long)done;
}

long stream_seek(handle_t h, int64_t offset, int whence)
{
    struct ipc_msg m = { .w = { STREAM_SEEK, (uint64_t)offset, (uint64_t)whence } };
    long err = stream_call(h, &m);
    return err < 0 ? err : (long)m.w[1];
}

long stream_close(handle_t h)
{
    return sys_handle_close(h);
}

long stream_stat(handle_t h, struct stream_stat *st)
{
    struct ipc_msg m = { .w = { STREAM_STAT } };
    long err = stream_call(h, &m);
    if (err < 0)
        return err;
    st->size = m.w[1];
    st->type = (uint32_t)m.w[2];
    return 0;
}
