// poweroff: asks init to power the machine off. Only init may call sys_poweroff, so this
// goes through init's control endpoint ("init" in ns, user/lib/initctl.h) with the
// request INIT_POWEROFF, w[1] = the exit status QEMU should end with (default 0).
#include <stdio.h>
#include <stdlib.h>

#include "initctl.h"
#include "ipc.h"
#include "ns.h"
#include "ulib.h"

int main(int argc, char *argv[])
{
    int status = argc > 1 ? atoi(argv[1]) : 0;
    handle_t init;
    long err = ns_lookup("init", &init);
    if (err < 0) {
        fprintf(stderr, "poweroff: cannot find init in ns: %s\n", abi_strerror(err));
        return 1;
    }
    printf("poweroff: asking init to power off\n");
    console_flush();
    struct ipc_msg m = { .w = { INIT_POWEROFF, (uint64_t)status } };
    err = ipc_call(init, &m, NULL);
    if (err == 0)
        err = (long)m.w[0];
    // When it works, the machine is off before the reply could come.
    fprintf(stderr, "poweroff: init refused: %s\n", abi_strerror(err));
    return 1;
}
