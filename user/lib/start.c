// What runs between crt0.S's _start and main: fill the main thread's TLS block, take the
// arguments and the current directory from the struct startup, run constructors, and hand
// main's result to exit().
// exit() runs the atexit handlers and destructors, then _exit (libc_glue.c) flushes
// stdout and ends the process.
#include <picolibc.h>  // defines PICOLIBC_TLS, which picotls.h tests
#include <picotls.h>
#include <stdlib.h>

#include "fs.h"
#include "ulib.h"

int main(int argc, char *argv[]);
void __libc_init_array(void);  // picolibc: runs .preinit_array and .init_array
__attribute__((noreturn)) void start_main(const struct startup *s);

__attribute__((noreturn)) void start_main(const struct startup *s)
{
    void *tls;
    asm("mv %0, tp" : "=r"(tls));
    _init_tls(tls);

    // A process started without a valid block still runs, with no arguments.
    static char *no_args[] = { NULL };
    int argc = 0;
    char **argv = no_args;
    if (s && s->magic == STARTUP_MAGIC) {
        ulib_startup = s;
        argc = (int)s->argc;
        argv = (char **)(uintptr_t)s->argv;
        // The spawner's directory. 0 (or an address outside user space) leaves "/", and
        // so does a path that is not absolute or is too long (fs_cwd_init checks).
        uint64_t cwd = s->cwd;
        if (cwd >= USER_MIN && cwd < USER_MAX)
            fs_cwd_init((const char *)(uintptr_t)cwd);
    }
    __libc_init_array();
    exit(main(argc, argv));
}
