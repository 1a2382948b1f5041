// con, the console server (protocol in user/lib/con.h): it owns the UART, echoes and
// edits what is typed, and serves console streams.
//
// init gives con the UART's register page (a region), its interrupt line, ns, and con's
// endpoint (STARTUP_H_SPARE; init keeps it, so a restarted con serves the same console
// streams: con keeps no state per stream, every non-zero badge is simply "the console").
//
// Output is polled: wait for the transmitter to be empty (LSR.THRE), write THR. The
// kernel's own printf writes the same UART the same way, so kernel lines and program
// output may interleave, but nothing is lost.
//
// Input is interrupt-driven, and two kinds of thread share the work:
//   - the UART thread waits on a notification the kernel signals when the UART
//     interrupts, drains the receive register through the line editor (echo, erase,
//     ^U, ^C, ^D), queues each finished line, and signals a second notification;
//   - a pool of request threads (server.h) answers stream requests. A STREAM_READ with
//     no line ready waits on that second notification, holding its thread, while the
//     pool keeps another thread receiving: a blocked reader never stops writers.
// A reader that takes the last queued line leaves the notification alone; one that
// leaves lines behind signals it again, so that every waiting reader is woken for every
// line even though signals of one bit merge. If the reply to a read fails because the
// reader died meanwhile (^C killed it), the line goes back to the front of the queue
// for the next reader.
#include <stdio.h>
#include <string.h>

#include "con.h"
#include "pm.h"
#include "server.h"
#include "ulib.h"
#include "uthread.h"

#define UART_VA                                                                                    \
    0x800000000ULL  // where con maps the registers: below the heap, far above the program

// 16550 registers (byte offsets: reg-shift 0 on QEMU's virt) and the bits used here.
#define UART_RBR         0  // receive buffer (read)
#define UART_THR         0  // transmit holding (write)
#define UART_IER         1  // interrupt enable
#define UART_MCR         4  // modem control
#define UART_LSR         5  // line status
#define IER_RX_AVAILABLE 0x01
#define MCR_OUT2         0x08  // gates the interrupt output on a real 16550
#define LSR_DATA_READY   0x01
#define LSR_THR_EMPTY    0x20

#define BIT_UART 1ULL  // the bit the kernel signals for the UART's interrupt
#define BIT_LINE 1ULL  // the bit the UART thread signals when it queued a line

#define LINE_MAX     256  // bytes of a line, its '\n' included
#define QUEUE_LINES  8    // finished lines waiting for a reader
#define POOL_THREADS 8

#define CTRL(c) ((c)&0x1f)

static volatile uint8_t *uart;
static handle_t uart_irq;
static handle_t uart_notify;  // signalled by the kernel: the UART interrupted
static handle_t line_notify;  // signalled by the UART thread: a line is queued

// ---- output ----------------------------------------------------------------------------

// Lock order: in_lock, then tx_lock (the editor echoes while it holds in_lock).
static struct ulock tx_lock;  // one writer at a time, so lines do not interleave

static void uart_putc(char c)
{
    while (!(uart[UART_LSR] & LSR_THR_EMPTY))
        ;  // a few microseconds on real hardware, never on QEMU
    uart[UART_THR] = (uint8_t)c;
}

// Caller must hold tx_lock.
static void tx_locked(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n')
            uart_putc('\r');  // a terminal needs both
        uart_putc(s[i]);
    }
}

static void tx(const char *s, size_t n)
{
    ulock_acquire(&tx_lock);
    tx_locked(s, n);
    ulock_release(&tx_lock);
}

static void tx_str(const char *s)
{
    tx(s, strlen(s));
}

// ---- the line editor and the queue of finished lines -----------------------------------

struct line {
    char text[LINE_MAX];
    uint16_t len;
    bool eof;  // ^D at the start of a line: a read returns 0
};

static struct ulock in_lock;
// in_lock must be held when using these:
static char edit[LINE_MAX];  // the line being typed
static int edit_len;
static struct line queue[QUEUE_LINES];
static int queue_head, queue_count;

static long foreground;  // whom ^C kills (a pm pid), 0 nobody; atomic accesses only

// Caller must hold in_lock. false when the queue is full.
static bool queue_push(const struct line *l)
{
    if (queue_count == QUEUE_LINES)
        return false;
    queue[(queue_head + queue_count) % QUEUE_LINES] = *l;
    queue_count++;
    return true;
}

// Caller must hold in_lock. Puts l back in front of the others.
static bool queue_push_front(const struct line *l)
{
    if (queue_count == QUEUE_LINES)
        return false;
    queue_head = (queue_head + QUEUE_LINES - 1) % QUEUE_LINES;
    queue[queue_head] = *l;
    queue_count++;
    return true;
}

// Caller must hold in_lock. Ends the line being typed (eof: ^D on an empty line).
static void line_finish(bool eof)
{
    struct line l = { .len = (uint16_t)edit_len, .eof = eof };
    memcpy(l.text, edit, (size_t)edit_len);
    if (!eof)
        l.text[l.len++] = '\n';
    edit_len = 0;
    if (!queue_push(&l)) {
        tx_str("\a");  // no reader for a while: the line is lost
        return;
    }
    sys_notify_signal(line_notify, BIT_LINE);
}

// Caller must hold in_lock. Erases the last n characters on the screen and in edit.
static void erase(int n)
{
    for (; n > 0 && edit_len > 0; n--, edit_len--)
        tx_str("\b \b");
}

// ^C: forget the line, kill the foreground program. in_lock is not held: pm_kill is a
// call to pm, which may take a while.
static void interrupt(void)
{
    ulock_acquire(&in_lock);
    edit_len = 0;
    ulock_release(&in_lock);
    tx_str("^C\n");
    long pid = __atomic_load_n(&foreground, __ATOMIC_RELAXED);
    if (pid > 0) {
        long err = pm_kill(pid);
        if (err < 0 && err != E_NOENT)
            printf("con: cannot kill pid %ld: %s\n", pid, abi_strerror(err));
    }
}

// Escape sequences (arrow keys send ESC [ A) are swallowed, not inserted.
static enum { ESC_NONE, ESC_SEEN, ESC_CSI } esc;
static bool last_cr;  // "\r\n" from a terminal is one Enter

// Caller must hold in_lock. true when c belongs to an escape sequence: ESC, then '['
// and parameter bytes up to a final byte in 0x40..0x7e, or ESC and one other byte.
static bool escape_char(char c)
{
    if (esc == ESC_SEEN) {
        esc = c == '[' ? ESC_CSI : ESC_NONE;
        return true;
    }
    if (esc == ESC_CSI) {
        if (c >= 0x40 && c <= 0x7e)
            esc = ESC_NONE;
        return true;
    }
    if (c == 0x1b) {
        esc = ESC_SEEN;
        return true;
    }
    return false;
}

// Caller must hold in_lock.
static void edit_char(char c)
{
    bool cr = last_cr;
    last_cr = c == '\r';
    if (escape_char(c) || (c == '\n' && cr))
        return;
    if (c == '\r' || c == '\n') {
        tx_str("\n");
        line_finish(false);
    } else if (c == 0x7f || c == '\b') {
        erase(1);
    } else if (c == CTRL('U')) {
        erase(edit_len);
    } else if (c == CTRL('D')) {
        if (edit_len == 0)
            line_finish(true);
    } else if ((c >= ' ' && c < 0x7f) || c == '\t') {
        if (edit_len < LINE_MAX - 1) {
            edit[edit_len++] = c;
            tx(&c, 1);
        } else {
            tx_str("\a");  // the line is full
        }
    }
}

static long uart_thread(void *arg)
{
    for (;;) {
        long bits = sys_notify_wait(uart_notify, 0);
        if (bits < 0) {
            printf("con: waiting for the UART: %s\n", abi_strerror(bits));
            return bits;
        }
        while (uart[UART_LSR] & LSR_DATA_READY) {
            char c = (char)uart[UART_RBR];
            if (c == CTRL('C')) {
                interrupt();
                continue;
            }
            ulock_acquire(&in_lock);
            edit_char(c);
            ulock_release(&in_lock);
        }
        sys_irq_ack(uart_irq);  // the kernel masked the line until now
    }
}

// ---- requests ---------------------------------------------------------------------------

// Takes at most max bytes of the first queued line into *chunk; false when none is queued.
static bool take_chunk(uint64_t max, struct line *chunk)
{
    ulock_acquire(&in_lock);
    bool got = queue_count > 0;
    if (got) {
        struct line *l = &queue[queue_head];
        uint64_t n = l->len < max ? l->len : max;
        *chunk = (struct line){ .len = (uint16_t)n, .eof = l->eof };
        memcpy(chunk->text, l->text, n);
        memmove(l->text, l->text + n, l->len - n);
        l->len -= (uint16_t)n;
        if (l->len == 0) {
            queue_head = (queue_head + 1) % QUEUE_LINES;
            queue_count--;
        }
        if (queue_count > 0)
            sys_notify_signal(line_notify, BIT_LINE);  // more for the next reader
    }
    ulock_release(&in_lock);
    return got;
}

static void con_read(struct server_req *r)
{
    uint64_t max = r->req.w[1] < IPC_BUF_MAX ? r->req.w[1] : IPC_BUF_MAX;
    struct line chunk;
    bool blocked = false;
    while (!take_chunk(max ? max : 1, &chunk)) {
        if (!blocked)
            server_will_block(r);
        blocked = true;
        sys_notify_wait(line_notify, 0);
    }
    memcpy(r->out, chunk.text, chunk.len);
    r->out_len = chunk.len;
    r->reply[1] = chunk.len;
    if (server_reply(r) == E_DEAD) {  // the reader died waiting: keep the line
        ulock_acquire(&in_lock);
        queue_push_front(&chunk);
        ulock_release(&in_lock);
        sys_notify_signal(line_notify, BIT_LINE);
    }
}

static long con_open_req(struct server_req *r)
{
    static uint64_t next_badge = 1;
    uint64_t badge = __atomic_fetch_add(&next_badge, 1, __ATOMIC_RELAXED);
    long h = sys_handle_mint(r->srv->ep, badge, CON_STREAM_RIGHTS, 0);
    if (h < 0)
        return h;
    r->give = (handle_t)h;
    r->give_rights = CON_STREAM_RIGHTS;
    r->give_close = true;  // the client has its copy
    return 0;
}

static long con_request(struct server_req *r)
{
    switch (r->req.w[0]) {
    case STREAM_WRITE:
        tx((const char *)r->data, r->len);
        r->reply[1] = r->len;
        return 0;
    case STREAM_SEEK: return E_INVAL;  // a console has no position
    case STREAM_STAT:
        r->reply[1] = 0;
        r->reply[2] = STREAM_TYPE_CONSOLE;
        return 0;
    case CON_OPEN: return con_open_req(r);
    case CON_SET_FOREGROUND:
        __atomic_store_n(&foreground, (long)r->req.w[1], __ATOMIC_RELAXED);
        return 0;
    case CON_GET_FOREGROUND:
        r->reply[1] = (uint64_t)__atomic_load_n(&foreground, __ATOMIC_RELAXED);
        return 0;
    default: return E_INVAL;
    }
}

static void con_handle(struct server_req *r)
{
    if (r->req.w[0] == STREAM_READ)
        con_read(r);  // replies itself
    else
        server_status(r, con_request(r));
}

// ---- start -------------------------------------------------------------------------------

// Maps the UART, routes its interrupt to uart_notify, and enables the receive interrupt.
static long uart_setup(void)
{
    handle_t region = startup_handle(STARTUP_H_UART);
    uart_irq = startup_handle(STARTUP_H_UART_IRQ);
    if (!region || !uart_irq)
        return E_BADHANDLE;
    long err = sys_region_map(region, H_SELF, UART_VA, 0, PAGE_SIZE, PROT_READ | PROT_WRITE);
    if (err < 0)
        return err;
    uart = (volatile uint8_t *)(uintptr_t)UART_VA;
    long n = sys_notify_create();
    if (n < 0)
        return n;
    uart_notify = (handle_t)n;
    n = sys_notify_create();
    if (n < 0)
        return n;
    line_notify = (handle_t)n;
    err = sys_irq_bind(uart_irq, uart_notify, BIT_UART);
    if (err < 0)
        return err;
    uart[UART_IER] = IER_RX_AVAILABLE;
    uart[UART_MCR] |= MCR_OUT2;
    sys_irq_ack(uart_irq);  // a con that died before acknowledging left the line masked
    // Whatever was typed before con ran: the UART thread's first pass reads it.
    return sys_notify_signal(uart_notify, BIT_UART);
}

int main(void)
{
    handle_t ep = startup_handle(STARTUP_H_SPARE);
    if (!ep) {
        printf("con: started without an endpoint (startup handle %d)\n", STARTUP_H_SPARE);
        return 1;
    }
    long err = uart_setup();
    if (err < 0) {
        printf("con: cannot set up the UART: %s\n", abi_strerror(err));
        return 1;
    }
    static struct uthread uart_worker;
    err = uthread_start(&uart_worker, uart_thread, NULL, UTHREAD_STACK_DEFAULT);
    if (err < 0) {
        printf("con: cannot start the UART thread: %s\n", abi_strerror(err));
        return 1;
    }
    static struct server srv = { .name = "con", .handle = con_handle, .max_threads = POOL_THREADS };
    srv.ep = ep;
    err = server_run(&srv);
    printf("con: stopped: %s\n", abi_strerror(err));
    return 1;
}
