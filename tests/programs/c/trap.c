/* trap.c: a program that traps, for stop-on-trap tests.
 *
 *     wasmdbg debug trap.O0.wasm [div|oob|unreachable|ok]
 *
 * main calls compute -> average, and average divides by a count that is
 * zero when the mode is "div" (the default): an integer division by zero
 * trap two frames below main, with locals that are still readable.  "oob"
 * stores far outside linear memory, "unreachable" calls __builtin_trap(),
 * "ok" runs to the end and exits with status 0.
 */
#include <stdio.h>
#include <string.h>

struct stats {
    int sum;
    int count;
};

static volatile int far_offset = 0x7ff00000;

__attribute__((noinline)) int average(const struct stats *st) {
    int sum = st->sum;
    int count = st->count;
    return sum / count; // MARK: divide
}

__attribute__((noinline)) int compute(const int *values, int n) {
    struct stats st = {0, 0};
    for (int i = 0; i < n; i++) {
        st.sum += values[i];
        if (values[i] > 0)
            st.count++;
    }
    return average(&st); // MARK: compute-call
}

__attribute__((noinline)) void poke(int value) {
    int *p = (int *)far_offset;
    *p = value; // MARK: oob-store
}

int main(int argc, char **argv) {
    const char *mode = argc > 1 ? argv[1] : "div";
    int values[4] = {-1, -2, -3, -4};
    if (strcmp(mode, "ok") == 0)
        values[0] = 10;
    if (strcmp(mode, "oob") == 0)
        poke(99);
    if (strcmp(mode, "unreachable") == 0)
        __builtin_trap(); // MARK: unreachable
    int avg = compute(values, 4); // MARK: main-compute
    printf("average %d\n", avg);
    return 0;
}
