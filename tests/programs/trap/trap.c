/* trap.c: a WASI program that traps, for comparing wasmdbg's trap reports with wasmtime's.
 *
 *     trap [MODE [N]]
 *
 * Every mode prints one line to stdout (flushed) and then traps:
 *
 *     recurse N   recurse N calls deep, then execute `unreachable`   (default, N = 1000)
 *     oob         store through a pointer far beyond linear memory   (out of bounds memory access)
 *     divzero     divide by a zero the compiler cannot see           (integer divide by zero)
 *     nullcall    call through a null function pointer               (uninitialized element)
 *     overflow    recurse without end                                (call stack exhausted)
 *     abort       call abort()                                       (unreachable, from wasi-libc)
 *
 * An unknown mode prints a usage line to stderr and exits with status 2.
 * Rebuild with build.sh (clang-22, wasm32-wasi, -O0 and -O2).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Volatile so that no optimisation folds the trapping operation away. */
static volatile int zero = 0;
static volatile unsigned far_away = 0xfffffff0u;
static volatile int sink;
typedef int (*callback)(int);
static volatile callback no_callback = 0;

/* Not a tail call: the store after the recursive call keeps every frame. */
__attribute__((noinline)) static int recurse(int depth) {
    if (depth <= 0)
        __builtin_trap();
    int below = recurse(depth - 1);
    sink = depth;
    return below + depth;
}

__attribute__((noinline)) static int recurse_forever(int depth) {
    int below = recurse_forever(depth + 1);
    sink = depth;
    return below + 1;
}

__attribute__((noinline)) static void store_out_of_bounds(void) {
    *(volatile int *)(unsigned long)far_away = 1;
}

__attribute__((noinline)) static int divide(int a) {
    return a / zero;
}

__attribute__((noinline)) static int call_null(int a) {
    return no_callback(a);
}

static void say(const char *what) {
    printf("trap: %s\n", what);
    fflush(stdout);
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "recurse";
    int n = argc > 2 ? atoi(argv[2]) : 1000;
    if (strcmp(mode, "recurse") == 0) {
        printf("trap: recursing %d calls deep\n", n);
        fflush(stdout);
        return recurse(n);
    }
    if (strcmp(mode, "oob") == 0) {
        say("storing out of bounds");
        store_out_of_bounds();
    } else if (strcmp(mode, "divzero") == 0) {
        say("dividing by zero");
        return divide(n);
    } else if (strcmp(mode, "nullcall") == 0) {
        say("calling a null function pointer");
        return call_null(n);
    } else if (strcmp(mode, "overflow") == 0) {
        say("recursing without end");
        return recurse_forever(0);
    } else if (strcmp(mode, "abort") == 0) {
        say("calling abort");
        abort();
    }
    fprintf(stderr, "usage: trap [recurse|oob|divzero|nullcall|overflow|abort] [N]\n");
    return 2;
}
