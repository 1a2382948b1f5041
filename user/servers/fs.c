// fs: the file server (protocol in user/lib/fs.h). It serves one tree from its memory:
// /bin holds the boot archive's files, read-only and never copied (they point into the
// archive, mapped read-only); every other directory (/, /tmp, what mkdir makes) is
// writable, and its files are malloc'ed buffers, lost at power-off.
//
// What fs expects from whoever starts it (init, see user/servers/init.c):
//   STARTUP_H_BOOTFS   the boot archive (a region), for /bin
//   STARTUP_H_SPARE    its endpoint, with RIGHT_RECV and RIGHT_DUP (to mint stream
//                      handles): init makes it, registers it in ns as "fs" and keeps it,
//                      so that clients' handles reach a restarted fs. Without one, fs
//                      makes its own and registers it itself (STARTUP_H_NS is then needed).
// A restarted fs starts with an empty writable tree and forgets the old open files:
// their handles are answered E_BADHANDLE.
//
// Pipes live here too. A pipe is a ring buffer with a count of open read and write ends:
// that is all a pipe is, and a server that already hands out stream handles and answers
// reads and writes needs nothing more from the kernel to offer one. The kernel stays
// free of buffers, and a pipe's bytes cost a copy through fs (writer -> fs -> reader),
// the price of the microkernel design.
//
// Concurrency. Requests are served by server.h's pool of threads, and one lock (fs_lock)
// guards the whole tree, the open-file table and the pipes: every request is short except
// a pipe read that finds no data and a pipe write that finds no room. Such a request must
// wait, and the reply can only come from the thread that received it (the kernel answers
// the call a thread last received), so that thread waits: it drops the lock, sleeps on a
// notification of its own, and is signalled by whoever changes the pipe. Before it
// sleeps, server_will_block starts another pool thread if none is left receiving. With
// FS_THREADS threads in all, a waiter that would take the last free thread gets E_LIMIT
// instead: the writer it waits for must still find a thread to serve it.
//
// Stream handles: an open file or pipe end is a handle to fs's endpoint minted with a
// badge, its open-file id, and MINT_NOTIFY_CLOSED: when the last copy of the handle is
// closed, by whoever held it (a child it was passed to, a process that died), the kernel
// tells fs (fs_notice), and the open file goes. So a pipe's reader sees end of file once
// every copy of the write end is closed, as in POSIX. Ids are never reused (a sequence
// number above the table slot, which starts from the clock, so a restarted fs does not
// take the ids of the old one's handles still open), so a stale request is answered
// E_BADHANDLE instead of reaching some later open file.
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bootfs.h"
#include "fs.h"
#include "ipc.h"
#include "lib/cpio.h"
#include "ns.h"
#include "server.h"
#include "ulib.h"

#define FS_THREADS 16          // server threads at most
#define OPEN_MAX   256         // open files and pipe ends at once
#define SLOT_BITS  8           // badge = sequence << SLOT_BITS | slot
#define PIPE_SIZE  4096        // bytes a pipe buffers
#define FILE_MAX   (8u << 20)  // bytes in one file

_Static_assert(OPEN_MAX == 1 << SLOT_BITS, "a badge's low bits are its slot");

// ---- the tree -------------------------------------------------------------------------

struct node {
    char name[FS_NAME_MAX + 1];
    uint32_t type;          // STREAM_TYPE_FILE or STREAM_TYPE_DIR
    bool readonly;          // in /bin: from the boot archive
    struct node *parent;    // NULL for the root
    struct node *children;  // a directory's entries, sorted by name
    struct node *next;      // the next entry of the parent
    uint8_t *data;          // a file's bytes: malloc'ed, or in the archive when readonly
    uint64_t size, cap;
    int opens;  // open files on it: an unlinked file is freed at the last close
    bool unlinked;
};

// A thread sleeping until a pipe changes.
struct waiter {
    struct waiter *next;
    handle_t notify;
};

struct pipe {
    uint8_t buf[PIPE_SIZE];
    uint64_t rpos, wpos;     // bytes ever read and written: wpos - rpos are buffered
    int readers, writers;    // open ends (the write end counts from FS_PIPE on: see pipe_new)
    bool peer_given;         // FS_PIPE_PEER has handed out the write end
    struct waiter *waiters;  // asleep until it changes (pipe_wake empties the list)
    int sleepers;            // threads in pipe_wait, listed or not: they still use it
};

enum open_kind { OPEN_FREE, OPEN_FILE, OPEN_PIPE_READ, OPEN_PIPE_WRITE };

struct open_file {
    uint64_t badge;  // its id; 0 when the slot is free
    enum open_kind kind;
    int flags;  // a file's O_* flags
    struct node *node;
    struct pipe *pipe;
    uint64_t offset;  // a file's position
};

static struct ulock fs_lock;
// fs_lock must be held when using these (and every node, open file and pipe):
static struct node *root;
static struct open_file opens[OPEN_MAX];
static uint64_t open_seq;  // set from the clock at start (see above)
static int waiting;        // threads asleep on a pipe

static handle_t fs_ep;  // our endpoint: stream handles are minted from it
static struct server fs_server;

// A per-thread notification, to sleep on while a pipe is empty or full; made on first need.
static __thread handle_t my_notify;

static struct node *node_new(struct node *parent, const char *name, size_t len, uint32_t type)
{
    if (len == 0 || len > FS_NAME_MAX)
        return NULL;
    struct node *n = calloc(1, sizeof(*n));
    if (!n)
        return NULL;
    memcpy(n->name, name, len);
    n->type = type;
    n->parent = parent;
    if (parent) {
        n->readonly = parent->readonly;
        struct node **link = &parent->children;
        while (*link && strcmp((*link)->name, n->name) < 0)
            link = &(*link)->next;
        n->next = *link;
        *link = n;
    }
    return n;
}

static void node_detach(struct node *n)
{
    for (struct node **link = &n->parent->children; *link; link = &(*link)->next) {
        if (*link == n) {
            *link = n->next;
            break;
        }
    }
    n->next = NULL;
}

static void node_free(struct node *n)
{
    if (!n->readonly)
        free(n->data);
    free(n);
}

static struct node *dir_find(struct node *dir, const char *name, size_t len)
{
    for (struct node *c = dir->children; c; c = c->next)
        if (strlen(c->name) == len && memcmp(c->name, name, len) == 0)
            return c;
    return NULL;
}

// Checks a path as fs.h defines it: '/' then components of 1..FS_NAME_MAX bytes, none
// "." or "..", separated by single '/'s. Copies it to out, '\0'-terminated.
static long path_take(const uint8_t *data, uint64_t len, char *out)
{
    if (len == 0 || len > FS_PATH_MAX || data[0] != '/')
        return E_INVAL;
    memcpy(out, data, len);
    out[len] = '\0';
    if (strlen(out) != len)
        return E_INVAL;  // a '\0' inside
    if (len == 1)
        return 0;  // the root
    for (const char *p = out + 1;;) {
        size_t n = strcspn(p, "/");
        if (n == 0 || n > FS_NAME_MAX || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.'))
            return E_INVAL;
        p += n;
        if (*p == '\0')
            return 0;
        p++;
    }
}

// The node at path, or with parent_out: the directory that would hold the last
// component, and that component in *last (then the node itself may be NULL).
static long walk(const char *path, struct node **out, struct node **parent_out, const char **last)
{
    struct node *n = root, *parent = NULL;
    const char *p = path + 1, *name = path;
    while (*p) {
        if (n->type != STREAM_TYPE_DIR)
            return E_NOENT;
        size_t len = strcspn(p, "/");
        parent = n;
        name = p;
        n = dir_find(n, p, len);
        p += len + (p[len] == '/');
        if (!n && *p)
            return E_NOENT;  // a missing directory on the way
        if (!n)
            break;
    }
    if (parent_out) {
        *parent_out = parent;
        *last = name;
    } else if (!n) {
        return E_NOENT;
    }
    *out = n;
    return 0;
}

// ---- the boot archive under /bin --------------------------------------------------------

// One node per regular file at the archive's root, pointing into the mapped archive.
static long load_bootfs(struct node *bin)
{
    const void *any;
    uint64_t size;
    long err = bootfs_find("init", &any, &size);  // maps the archive at BOOTFS_VA
    if (err < 0)
        return err;
    long archive_size = sys_region_size(bootfs_handle());
    if (archive_size < 0)
        return archive_size;
    const void *archive = (const void *)(uintptr_t)BOOTFS_VA;
    uint64_t offset = 0;
    struct cpio_file f;
    int r;
    while ((r = cpio_next(archive, (uint64_t)archive_size, &offset, &f)) == 1) {
        const char *name = f.name;
        uint64_t len = f.name_len;
        if (len >= 2 && name[0] == '.' && name[1] == '/') {
            name += 2;
            len -= 2;
        }
        if ((f.mode & 0170000) != 0100000 || memchr(name, '/', len) || len == 0)
            continue;  // not a regular file at the root
        struct node *n = node_new(bin, name, len, STREAM_TYPE_FILE);
        if (!n)
            return E_NOMEM;
        n->data = (uint8_t *)f.data;
        n->size = f.size;
    }
    return r < 0 ? E_INVAL : 0;
}

static long build_tree(void)
{
    root = node_new(NULL, "/", 1, STREAM_TYPE_DIR);
    struct node *bin = root ? node_new(root, "bin", 3, STREAM_TYPE_DIR) : NULL;
    struct node *tmp = root ? node_new(root, "tmp", 3, STREAM_TYPE_DIR) : NULL;
    if (!bin || !tmp)
        return E_NOMEM;
    bin->readonly = true;
    return load_bootfs(bin);
}

// ---- open files ---------------------------------------------------------------------------

// A free slot with a fresh badge, or NULL when the table is full.
static struct open_file *open_alloc(enum open_kind kind)
{
    for (int i = 0; i < OPEN_MAX; i++) {
        if (opens[i].kind != OPEN_FREE)
            continue;
        struct open_file *o = &opens[i];
        memset(o, 0, sizeof(*o));
        o->kind = kind;
        o->badge = open_seq++ << SLOT_BITS | (uint64_t)i;
        return o;
    }
    return NULL;
}

static struct open_file *open_find(uint64_t badge)
{
    struct open_file *o = &opens[badge & (OPEN_MAX - 1)];
    return o->kind != OPEN_FREE && o->badge == badge ? o : NULL;
}

// Wakes every thread asleep on p: each looks again at what it waits for.
static void pipe_wake(struct pipe *p)
{
    for (struct waiter *w = p->waiters; w; w = w->next)
        sys_notify_signal(w->notify, 1);
    p->waiters = NULL;
}

// Frees p once nothing refers to it.
static void pipe_put(struct pipe *p)
{
    if (p->readers == 0 && p->writers == 0 && p->sleepers == 0)
        free(p);
}

static void open_release(struct open_file *o)
{
    if (o->kind == OPEN_FILE) {
        struct node *n = o->node;
        if (--n->opens == 0 && n->unlinked)
            node_free(n);
    } else {
        struct pipe *p = o->pipe;
        if (o->kind == OPEN_PIPE_READ) {
            p->readers--;
            if (!p->peer_given)
                p->writers--;  // the write end nobody asked for will never be
        } else {
            p->writers--;
        }
        pipe_wake(p);
        pipe_put(p);
    }
    o->kind = OPEN_FREE;
    o->badge = 0;
}

// Sends a stream handle for o with r's reply. The handle is minted so that the kernel
// tells us when the last copy of it closes (MINT_NOTIFY_CLOSED): that, and only that,
// releases o (fs_notice), however many processes were given copies, and whether the
// caller lives to receive it or not. Returns 0, or an error for the caller to reply (and
// o is released).
static long reply_with_stream(struct server_req *r, struct open_file *o)
{
    long h = sys_handle_mint(fs_ep, o->badge, FS_STREAM_RIGHTS, MINT_NOTIFY_CLOSED);
    if (h < 0) {
        open_release(o);
        return h;
    }
    r->give = (handle_t)h;
    r->give_rights = FS_STREAM_RIGHTS;
    r->give_close = true;  // our copy goes once the caller has its own
    return 0;
}

// ---- pipes ------------------------------------------------------------------------------

// Sleeps until o's pipe changes. Called with fs_lock held; returns with it held: 0 to
// look at the pipe again, E_BADHANDLE when o was closed meanwhile (its pipe may be gone),
// or E_LIMIT at once when this thread is the last one free to serve the change we wait
// for.
static long pipe_wait(struct server_req *r, struct open_file *o)
{
    struct pipe *p = o->pipe;
    uint64_t badge = o->badge;
    if (waiting + 1 >= FS_THREADS)
        return E_LIMIT;
    if (!my_notify) {
        long n = sys_notify_create();
        if (n < 0)
            return n;
        my_notify = (handle_t)n;
    }
    struct waiter w = { .next = p->waiters, .notify = my_notify };
    p->waiters = &w;
    p->sleepers++;
    waiting++;
    ulock_release(&fs_lock);
    server_will_block(r);
    // A signal sent after we dropped the lock is kept in the notification's word.
    long err = sys_notify_wait(my_notify, 0);
    ulock_acquire(&fs_lock);
    waiting--;
    p->sleepers--;
    // Still listed if woken for another reason: unlist before w goes out of scope.
    for (struct waiter **link = &p->waiters; *link; link = &(*link)->next) {
        if (*link == &w) {
            *link = w.next;
            break;
        }
    }
    if (open_find(badge) != o) {
        pipe_put(p);
        return E_BADHANDLE;
    }
    return err < 0 ? err : 0;
}

static struct pipe *pipe_new(void)
{
    struct pipe *p = calloc(1, sizeof(*p));
    if (p) {
        // The write end exists from the start, though handed out by FS_PIPE_PEER: a read
        // before that must wait, not see end of file.
        p->readers = 1;
        p->writers = 1;
    }
    return p;
}

// The ring's n bytes from rpos into out, in at most two pieces (it may wrap).
static void ring_copy_out(const struct pipe *p, uint8_t *out, uint64_t n)
{
    uint64_t at = p->rpos % PIPE_SIZE, first = n < PIPE_SIZE - at ? n : PIPE_SIZE - at;
    memcpy(out, p->buf + at, first);
    memcpy(out + first, p->buf, n - first);
}

// n bytes from in into the ring at wpos, in at most two pieces.
static void ring_copy_in(struct pipe *p, const uint8_t *in, uint64_t n)
{
    uint64_t at = p->wpos % PIPE_SIZE, first = n < PIPE_SIZE - at ? n : PIPE_SIZE - at;
    memcpy(p->buf + at, in, first);
    memcpy(p->buf, in + first, n - first);
}

static long pipe_read(struct server_req *r, struct open_file *o, uint64_t want)
{
    struct pipe *p = o->pipe;
    while (p->wpos == p->rpos && p->writers > 0) {
        long err = pipe_wait(r, o);
        if (err < 0)
            return err;
    }
    uint64_t n = p->wpos - p->rpos;
    if (n > want)
        n = want;
    ring_copy_out(p, r->out, n);
    p->rpos += n;
    r->out_len = n;
    r->reply[1] = n;
    if (n)
        pipe_wake(p);  // writers waiting for room
    return 0;
}

static long pipe_write(struct server_req *r, struct open_file *o)
{
    struct pipe *p = o->pipe;
    while (p->readers > 0 && p->wpos - p->rpos == PIPE_SIZE) {
        long err = pipe_wait(r, o);
        if (err < 0)
            return err;
    }
    if (p->readers == 0)
        return E_CLOSED;  // nobody will ever read it
    uint64_t room = PIPE_SIZE - (p->wpos - p->rpos);
    uint64_t n = r->len < room ? r->len : room;
    ring_copy_in(p, r->data, n);
    p->wpos += n;
    r->reply[1] = n;
    if (n)
        pipe_wake(p);  // readers waiting for data
    return 0;
}

// ---- files ------------------------------------------------------------------------------

static bool can_read(const struct open_file *o)
{
    return (o->flags & O_ACCMODE) != O_WRONLY;
}

static bool can_write(const struct open_file *o)
{
    return (o->flags & O_ACCMODE) != O_RDONLY;
}

// Makes room for size bytes in n's buffer, the new bytes zero.
static long file_grow(struct node *n, uint64_t size)
{
    if (size > FILE_MAX)
        return E_TOOBIG;
    if (size > n->cap) {
        uint64_t cap = n->cap ? n->cap : 256;
        while (cap < size)
            cap *= 2;
        uint8_t *data = realloc(n->data, cap);
        if (!data)
            return E_NOMEM;
        memset(data + n->cap, 0, cap - n->cap);
        n->data = data;
        n->cap = cap;
    }
    return 0;
}

static long file_read(struct server_req *r, struct open_file *o, uint64_t want)
{
    if (!can_read(o))
        return E_RIGHTS;
    struct node *n = o->node;
    uint64_t left = o->offset < n->size ? n->size - o->offset : 0;
    uint64_t count = want < left ? want : left;
    memcpy(r->out, n->data + o->offset, count);
    o->offset += count;
    r->out_len = count;
    r->reply[1] = count;
    return 0;
}

static long file_write(struct server_req *r, struct open_file *o)
{
    if (!can_write(o))
        return E_RIGHTS;
    struct node *n = o->node;
    if (n->readonly)
        return E_PERM;
    if (o->flags & O_APPEND)
        o->offset = n->size;
    uint64_t end = o->offset + r->len;
    long err = file_grow(n, end);
    if (err < 0)
        return err;
    memcpy(n->data + o->offset, r->data, r->len);
    o->offset = end;
    if (end > n->size)
        n->size = end;
    r->reply[1] = r->len;
    return 0;
}

static long file_seek(struct server_req *r, struct open_file *o)
{
    int64_t offset = (int64_t)r->req.w[1], base;
    switch (r->req.w[2]) {
    case STREAM_SEEK_SET: base = 0; break;
    case STREAM_SEEK_CUR: base = (int64_t)o->offset; break;
    case STREAM_SEEK_END: base = (int64_t)o->node->size; break;
    default: return E_INVAL;
    }
    int64_t pos = base + offset;
    if (pos < 0 || pos > (int64_t)FILE_MAX)
        return E_INVAL;
    o->offset = (uint64_t)pos;
    r->reply[1] = o->offset;
    return 0;
}

// ---- requests on a stream (badge != 0) ------------------------------------------------------

static long stream_request(struct server_req *r, struct open_file *o)
{
    uint64_t want = r->req.w[1] < IPC_BUF_MAX ? r->req.w[1] : IPC_BUF_MAX;
    bool file = o->kind == OPEN_FILE;
    switch (r->req.w[0]) {
    case STREAM_READ:
        if (o->kind == OPEN_PIPE_WRITE)
            return E_RIGHTS;
        return file ? file_read(r, o, want) : pipe_read(r, o, want);
    case STREAM_WRITE:
        if (o->kind == OPEN_PIPE_READ)
            return E_RIGHTS;
        return file ? file_write(r, o) : pipe_write(r, o);
    case STREAM_SEEK: return file ? file_seek(r, o) : E_INVAL;
    case STREAM_STAT:
        r->reply[1] = file ? o->node->size : o->pipe->wpos - o->pipe->rpos;
        r->reply[2] = file ? STREAM_TYPE_FILE : STREAM_TYPE_PIPE;
        return 0;
    case FS_PIPE_PEER: {
        if (o->kind != OPEN_PIPE_READ || o->pipe->peer_given)
            return E_PERM;
        struct open_file *w = open_alloc(OPEN_PIPE_WRITE);
        if (!w)
            return E_LIMIT;
        w->pipe = o->pipe;
        o->pipe->peer_given = true;  // the write end counted since FS_PIPE is this one
        return reply_with_stream(r, w);
    }
    default: return E_INVAL;
    }
}

// ---- requests on the fs handle (badge 0) --------------------------------------------------

static long do_open(struct server_req *r, const char *path)
{
    int flags = (int)r->req.w[1];
    struct node *n, *parent;
    const char *last;
    long err = walk(path, &n, &parent, &last);
    if (err < 0)
        return err;
    if (!n && !(flags & O_CREAT))
        return E_NOENT;
    if (!n) {
        if (!parent || parent->readonly)
            return E_PERM;
        n = node_new(parent, last, strlen(last), STREAM_TYPE_FILE);
        if (!n)
            return E_NOMEM;
    }
    if (n->type != STREAM_TYPE_FILE)
        return E_INVAL;  // a directory: list it with FS_READDIR
    bool writes = (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
    if (writes && n->readonly)
        return E_PERM;
    struct open_file *o = open_alloc(OPEN_FILE);
    if (!o)
        return E_LIMIT;
    if (flags & O_TRUNC)
        n->size = 0;
    o->flags = flags;
    o->node = n;
    n->opens++;
    return reply_with_stream(r, o);
}

static long do_readdir(struct server_req *r, struct node *dir)
{
    if (dir->type != STREAM_TYPE_DIR)
        return E_INVAL;
    struct node *c = dir->children;
    for (uint64_t i = 0; c && i < r->req.w[1]; i++)
        c = c->next;
    if (!c)
        return 0;  // w[2] = 0: past the end
    r->out_len = strlen(c->name);
    memcpy(r->out, c->name, r->out_len);
    r->reply[1] = c->size;
    r->reply[2] = c->type;
    return 0;
}

static long do_mkdir(const char *path)
{
    struct node *n, *parent;
    const char *last;
    long err = walk(path, &n, &parent, &last);
    if (err < 0)
        return err;
    if (n)
        return E_EXIST;
    if (parent->readonly)
        return E_PERM;
    return node_new(parent, last, strlen(last), STREAM_TYPE_DIR) ? 0 : E_NOMEM;
}

static long do_unlink(struct node *n)
{
    if (n == root || n->readonly)
        return E_PERM;
    if (n->type == STREAM_TYPE_DIR && n->children)
        return E_BUSY;
    node_detach(n);
    n->unlinked = true;
    if (n->opens == 0)
        node_free(n);
    return 0;
}

static long do_pipe(struct server_req *r)
{
    struct pipe *p = pipe_new();
    struct open_file *o = p ? open_alloc(OPEN_PIPE_READ) : NULL;
    if (!o) {
        free(p);
        return p ? E_LIMIT : E_NOMEM;
    }
    o->pipe = p;
    return reply_with_stream(r, o);
}

static long fs_request(struct server_req *r)
{
    uint64_t op = r->req.w[0];
    if (op == FS_PIPE)
        return do_pipe(r);
    char path[FS_PATH_MAX + 1];
    long err = path_take(r->data, r->len, path);
    if (err < 0)
        return err;
    if (op == FS_OPEN)
        return do_open(r, path);
    if (op == FS_MKDIR)
        return do_mkdir(path);
    struct node *n;
    err = walk(path, &n, NULL, NULL);
    if (err < 0)
        return err;
    switch (op) {
    case FS_STAT:
        r->reply[1] = n->size;
        r->reply[2] = n->type;
        return 0;
    case FS_READDIR: return do_readdir(r, n);
    case FS_UNLINK: return do_unlink(n);
    default: return E_INVAL;
    }
}

// The kernel's notice that the last handle of an open file or pipe end closed.
static void fs_notice(struct server *s, uint64_t what, uint64_t badge)
{
    if (what != IPC_NOTICE_CLOSED)
        return;
    ulock_acquire(&fs_lock);
    struct open_file *o = open_find(badge);
    if (o)
        open_release(o);
    ulock_release(&fs_lock);
}

static void fs_serve(struct server_req *r)
{
    ulock_acquire(&fs_lock);
    long err;
    if (r->req.badge == 0) {
        err = fs_request(r);
    } else {
        struct open_file *o = open_find(r->req.badge);
        err = o ? stream_request(r, o) : E_BADHANDLE;
    }
    if (!r->replied)
        server_status(r, err);
    ulock_release(&fs_lock);
}

// The endpoint init made for us, or one of our own, registered in ns.
static long fs_endpoint_get(handle_t *ep)
{
    *ep = startup_handle(STARTUP_H_SPARE);
    if (*ep)
        return 0;
    long h = sys_endpoint_create();
    if (h < 0)
        return h;
    *ep = (handle_t)h;
    return ns_register("fs", *ep);
}

int main(int argc, char *argv[])
{
    open_seq = time_now() | 1;
    long err = build_tree();
    if (err < 0) {
        printf("fs: cannot read the boot archive: %s\n", abi_strerror(err));
        return 1;
    }
    err = fs_endpoint_get(&fs_ep);
    if (err < 0) {
        printf("fs: no endpoint to serve: %s\n", abi_strerror(err));
        return 1;
    }
    fs_server = (struct server){ .ep = fs_ep,
                                 .name = "fs",
                                 .handle = fs_serve,
                                 .notice = fs_notice,
                                 .max_threads = FS_THREADS };
    err = server_run(&fs_server);
    printf("fs: stopped: %s\n", abi_strerror(err));
    return 1;
}
