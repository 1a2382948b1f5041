// The small helpers of ulib.h: the startup block and the argument words.
#include "ulib.h"

#include <stddef.h>
#include <string.h>

// user/lib/ipc.S stores the received length and handle at these offsets.
_Static_assert(offsetof(struct ipc_xfer, recv_len) == 32, "ipc.S: XFER_RECV_LEN");
_Static_assert(offsetof(struct ipc_xfer, recv_handle) == 48, "ipc.S: XFER_RECV_HANDLE");

const struct startup *ulib_startup;

const struct startup *startup(void)
{
    return ulib_startup;
}

handle_t startup_handle(int i)
{
    if (!ulib_startup || i < 0 || i >= STARTUP_MAX_HANDLES)
        return 0;
    return ulib_startup->handles[i];
}

// The part of word after "key=", or NULL when word is not of that form.
static const char *match_key(const char *word, const char *key)
{
    size_t n = strlen(key);
    if (strncmp(word, key, n) != 0 || word[n] != '=')
        return NULL;
    return word + n + 1;
}

const char *arg_value(int argc, char *const argv[], const char *key)
{
    const char *value = NULL;
    for (int i = 1; i < argc; i++) {
        const char *v = match_key(argv[i], key);
        if (v)
            value = v;
    }
    return value;
}

bool arg_list_has(const char *list, const char *word)
{
    if (!list)
        return true;
    size_t len = strlen(word);
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n == len && strncmp(p, word, n) == 0)
            return true;
        p += n + (p[n] == ',');
    }
    return false;
}

bool arg_flag(int argc, char *const argv[], const char *word)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], word) == 0 || match_key(argv[i], word))
            return true;
    return false;
}

const char *nonce_from_argv(int argc, char *const argv[])
{
    const char *v = arg_value(argc, argv, "nonce");
    return v ? v : "";
}
