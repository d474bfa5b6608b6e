/* fib.c: deep recursion and call overhead.
 *
 * Naive recursive Fibonacci (fib(38): tens of millions of calls, even after
 * LLVM turns one of the two recursive calls into a loop) plus the Ackermann
 * function A(3, 10) (recursion about 8000 frames deep).  Measures function
 * prologues and epilogues, argument passing and stack-limit checks.
 */
#include "common.h"

static volatile int fib_n = 38;
static volatile int ack_m = 3, ack_n = 10;

__attribute__((noinline)) static int fib(int n) {
    return n < 2 ? n : fib(n - 1) + fib(n - 2);
}

__attribute__((noinline)) static int ackermann(int m, int n) {
    if (m == 0) return n + 1;
    if (n == 0) return ackermann(m - 1, 1);
    return ackermann(m - 1, ackermann(m, n - 1));
}

EXPORT("run") int run(void) {
    int r = fib(fib_n);
    r = r * 31 + ackermann(ack_m, ack_n);
    return r;
}
