// kv: the key-value server from the shell, through kvs's client (user/lib/kvs.h).
//
//   kv put KEY VALUE    stores VALUE under KEY (quote VALUE to keep spaces: 'a b')
//   kv get KEY          prints KEY's value and a newline
//   kv del KEY          deletes KEY
//   kv list             prints every key, one per line, in order
//
// Errors go to stderr, one line saying what went wrong, and the exit status is 1
// (2 for a command line kv does not understand).
#include <stdio.h>
#include <string.h>

#include "ipc.h"
#include "kvs.h"

// Says why op on key failed; returns the exit status. vlen: the value's length (put).
__attribute__((unused)) static int complain(const char *op, const char *key, long err, size_t vlen)
{
    size_t klen = strlen(key);
    if (err == E_TOOBIG && klen > KVS_KEY_MAX)
        fprintf(stderr, "kv: %s: the key is %zu bytes, at most %d\n", op, klen, KVS_KEY_MAX);
    else if (err == E_TOOBIG && vlen > KVS_VALUE_MAX)
        fprintf(stderr, "kv: %s %s: the value is %zu bytes, at most %d\n", op, key, vlen,
                KVS_VALUE_MAX);
    else if (err == E_INVAL && klen == 0)
        fprintf(stderr, "kv: %s: the key is empty\n", op);
    else
        fprintf(stderr, "kv: %s %s: %s\n", op, key, kvs_strerror(err));
    return 1;
}

// What a stub does: say which part is missing, and fail.
__attribute__((unused)) static int lab2_not_done(const char *function)
{
    fprintf(stderr, "lab2: exercise 3 is not done (user/bin/kv.c: %s)\n", function);
    return 1;
}

static int cmd_put(const char *key, const char *value)
{
    // LAB 2 exercise 3: kvs_put; on an error complain()
#if SOL >= 2
    long err = kvs_put(key, value, strlen(value));
    return err < 0 ? complain("put", key, err, strlen(value)) : 0;
#else
    return lab2_not_done("cmd_put");
#endif
}

static int cmd_get(const char *key)
{
    // LAB 2 exercise 3: kvs_get, then print the value (it may hold any byte) and a newline
#if SOL >= 2
    char value[KVS_VALUE_MAX];
    long len = kvs_get(key, value, sizeof(value));
    if (len < 0)
        return complain("get", key, len, 0);
    fwrite(value, 1, (size_t)len, stdout);
    putchar('\n');
    return 0;
#else
    return lab2_not_done("cmd_get");
#endif
}

static int cmd_del(const char *key)
{
    // LAB 2 exercise 3: kvs_delete
#if SOL >= 2
    long err = kvs_delete(key);
    return err < 0 ? complain("del", key, err, 0) : 0;
#else
    return lab2_not_done("cmd_del");
#endif
}

static int cmd_list(void)
{
    // LAB 2 exercise 3: kvs_list from index 0, again from where it stopped, until every key is
    // printed
#if SOL >= 2
    static char keys[IPC_BUF_MAX + 1];
    uint64_t start = 0;
    for (;;) {
        int n = 0, total = 0;
        long err = kvs_list(start, keys, sizeof(keys), &n, &total);
        if (err < 0) {
            fprintf(stderr, "kv: list: %s\n", kvs_strerror(err));
            return 1;
        }
        fputs(keys, stdout);
        start += (uint64_t)n;
        if (n == 0 || start >= (uint64_t)total)
            return 0;
    }
#else
    return lab2_not_done("cmd_list");
#endif
}

static int usage(void)
{
    fprintf(stderr, "usage: kv put KEY VALUE | kv get KEY | kv del KEY | kv list\n");
    return 2;
}

int main(int argc, char *argv[])
{
    if (argc < 2)
        return usage();
    const char *cmd = argv[1];
    if (strcmp(cmd, "put") == 0 && argc == 4)
        return cmd_put(argv[2], argv[3]);
    if (strcmp(cmd, "get") == 0 && argc == 3)
        return cmd_get(argv[2]);
    if ((strcmp(cmd, "del") == 0 || strcmp(cmd, "delete") == 0) && argc == 3)
        return cmd_del(argv[2]);
    if (strcmp(cmd, "list") == 0 && argc == 2)
        return cmd_list();
    return usage();
}
