// ns, the name server: a table from names to endpoint handles (protocol in
// user/lib/ns.h). init makes ns's endpoint, keeps it, and gives it to ns as startup
// handle STARTUP_H_SPARE; every other process reaches ns with a send-only copy. Because
// the endpoint outlives ns, a restarted ns serves the same handles its clients hold, but
// starts with an empty table: init registers the system servers again, and a program
// that registered a name of its own must do so again.
//
// Nothing here waits for anything but the next request, so one thread serves all.
// Anyone may register or replace any name: Shuttle's ns trusts its clients.
#include <stdio.h>
#include <string.h>

#include "ns.h"
#include "server.h"
#include "ulib.h"

// Each name costs a handle, and a process has NHANDLE (64) of them in the kernel.
#define NS_MAX_NAMES 48

struct name {
    char name[NS_NAME_MAX + 1];  // "" when the slot is free
    handle_t ep;
};

static struct name names[NS_MAX_NAMES];

// The request's bytes as a name, or E_INVAL when they cannot be one.
static long name_from(const struct server_req *r, char out[NS_NAME_MAX + 1])
{
    if (r->len == 0 || r->len > NS_NAME_MAX)
        return E_INVAL;
    for (uint64_t i = 0; i < r->len; i++)
        if (r->data[i] <= ' ' || r->data[i] > '~')
            return E_INVAL;
    memcpy(out, r->data, r->len);
    out[r->len] = '\0';
    return 0;
}

static struct name *name_find(const char *name)
{
    for (int i = 0; i < NS_MAX_NAMES; i++)
        if (strcmp(names[i].name, name) == 0)
            return &names[i];
    return NULL;
}

// Each request's function returns 0 or the E_* to reply with.
static long ns_register_req(struct server_req *r, const char *name)
{
    if (!r->handle)
        return E_INVAL;
    struct name *n = name_find(name);
    if (n) {
        sys_handle_close(n->ep);  // replaced: a restarted server took its name back
    } else {
        n = name_find("");
        if (!n)
            return E_LIMIT;
        strcpy(n->name, name);
    }
    n->ep = r->handle;
    r->handle = 0;  // the table keeps it
    return 0;
}

static long ns_lookup_req(struct server_req *r, const char *name)
{
    struct name *n = name_find(name);
    if (!n)
        return E_NOENT;
    r->give = n->ep;  // the kernel passes a copy; ours stays in the table
    r->give_rights = NS_RIGHTS;
    return 0;
}

static long ns_unregister_req(const char *name)
{
    struct name *n = name_find(name);
    if (!n)
        return E_NOENT;
    sys_handle_close(n->ep);
    n->name[0] = '\0';
    n->ep = 0;
    return 0;
}

static long ns_list_req(struct server_req *r)
{
    uint64_t count = 0;
    for (int i = 0; i < NS_MAX_NAMES; i++) {
        size_t len = strlen(names[i].name);
        if (len == 0 || r->out_len + len + 1 > IPC_BUF_MAX)
            continue;
        memcpy(r->out + r->out_len, names[i].name, len);
        r->out[r->out_len + len] = '\n';
        r->out_len += len + 1;
        count++;
    }
    r->reply[1] = count;
    return 0;
}

static long ns_request(struct server_req *r)
{
    char name[NS_NAME_MAX + 1];
    uint64_t op = r->req.w[0];
    if (op == NS_LIST)
        return ns_list_req(r);
    if (op != NS_REGISTER && op != NS_LOOKUP && op != NS_UNREGISTER)
        return E_INVAL;
    long err = name_from(r, name);
    if (err < 0)
        return err;
    if (op == NS_REGISTER)
        return ns_register_req(r, name);
    if (op == NS_LOOKUP)
        return ns_lookup_req(r, name);
    return ns_unregister_req(name);
}

static void ns_handle(struct server_req *r)
{
    server_status(r, ns_request(r));
}

int main(void)
{
    handle_t ep = startup_handle(STARTUP_H_SPARE);
    if (!ep) {
        printf("ns: started without an endpoint (startup handle %d)\n", STARTUP_H_SPARE);
        return 1;
    }
    static struct server srv = { .name = "ns", .handle = ns_handle, .max_threads = 1 };
    srv.ep = ep;
    long err = server_run(&srv);
    printf("ns: stopped: %s\n", abi_strerror(err));
    return 1;
}
