"""A stand-in for qemu-system-riscv64, to test the grader without a kernel.

It takes QEMU's arguments, finds `nonce=<hex>` in the -append bootargs, and plays the script
in $FAKE_QEMU_SCRIPT, one line at a time:

    @sleep S        wait S seconds
    @exit N         exit with status N (the end of the script exits with 0)
    @hang           sleep forever
    @echo           print "echo: <line>" for every line typed on the console, forever
    @ignore-term    ignore SIGTERM, SIGINT and SIGHUP (only SIGKILL stops it)
    @pidfile PATH   write the process id to PATH
    anything else   printed, with {nonce} replaced by the boot's nonce
"""

import os
import signal
import sys
import time


def nonce_from(argv):
    bootargs = argv[argv.index("-append") + 1] if "-append" in argv else ""
    words = [w for w in bootargs.split() if w.startswith("nonce=")]
    return words[-1][len("nonce="):] if words else ""


def play(line, nonce):
    command, _, arg = line.partition(" ")
    if command == "@sleep":
        time.sleep(float(arg))
    elif command == "@exit":
        sys.exit(int(arg))
    elif command == "@hang":
        while True:
            time.sleep(60)
    elif command == "@echo":
        for typed in sys.stdin:
            print(f"echo: {typed.rstrip()}", flush=True)
    elif command == "@ignore-term":
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, signal.SIG_IGN)
    elif command == "@pidfile":
        with open(arg, "w") as f:
            f.write(str(os.getpid()))
    else:
        print(line.replace("{nonce}", nonce), flush=True)


def main():
    nonce = nonce_from(sys.argv[1:])
    for line in os.environ.get("FAKE_QEMU_SCRIPT", "").split("\n"):
        play(line, nonce)


if __name__ == "__main__":
    main()
