/* inline.c: inlined functions and loops.
 *
 *     wasmdbg debug inline.O2.wasm [N]
 *
 * `clamp`, `square` and `smooth` are static inline helpers; at -O2 clang
 * inlines them (`clamp` into `smooth`, `smooth` into `process`), so a
 * breakpoint on a line of `clamp` resolves to several addresses, and a
 * backtrace from there shows the inline chain.  `process` runs a nested loop
 * over an array.  Prints a checksum and exits with status 0.
 */
#include <stdio.h>
#include <stdlib.h>

#define SIZE 16

static inline __attribute__((always_inline)) int clamp(int v, int lo, int hi) {
    if (v < lo) // MARK: clamp-test
        return lo; // MARK: clamp-lo
    if (v > hi)
        return hi; // MARK: clamp-hi
    return v;
}

static inline __attribute__((always_inline)) int square(int v) {
    return v * v; // MARK: square
}

static inline int smooth(const int *data, int i, int n) {
    int left = data[i > 0 ? i - 1 : i];
    int right = data[i + 1 < n ? i + 1 : i];
    int avg = (left + 2 * data[i] + right) / 4; // MARK: smooth-avg
    return clamp(avg, 0, 1000);
}

__attribute__((noinline)) int process(int *data, int n, int rounds) {
    int total = 0;
    for (int r = 0; r < rounds; r++) { // MARK: outer-loop
        for (int i = 0; i < n; i++) {
            int s = smooth(data, i, n); // MARK: inner-loop
            data[i] = s;
            total += square(s % 32);
        }
    }
    return clamp(total, -100000, 100000); // MARK: process-return
}

int main(int argc, char **argv) {
    int rounds = argc > 1 ? atoi(argv[1]) : 3;
    int data[SIZE];
    for (int i = 0; i < SIZE; i++)
        data[i] = (i * 37) % 1200 - 100; // MARK: fill
    int result = process(data, SIZE, rounds);
    printf("checksum %d\n", result); // MARK: main-print
    return 0;
}
