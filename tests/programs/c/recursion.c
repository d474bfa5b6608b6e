/* recursion.c: recursive and mutually recursive functions.
 *
 *     wasmdbg debug recursion.O0.wasm [N]
 *
 * Computes factorial(N), fib(N) and the moves of the towers of Hanoi for N
 * discs (default N = 5), checks is_even/is_odd (mutual recursion), prints
 * the results and exits with status 0.  Debugger tests use the marked lines
 * (`// MARK: name`) for breakpoints: `backtrace` inside factorial's base case
 * shows N + 1 frames, `finish` from there prints 1.
 */
#include <stdio.h>
#include <stdlib.h>

static int depth_reached;   /* deepest factorial call seen so far */

long long factorial(int n) {
    if (n > depth_reached)
        depth_reached = n;
    if (n <= 1)
        return 1; // MARK: fact-base
    long long rest = factorial(n - 1); // MARK: fact-recurse
    return n * rest; // MARK: fact-return
}

int fib(int n) {
    if (n < 2)
        return n; // MARK: fib-base
    int a = fib(n - 1);
    int b = fib(n - 2);
    return a + b; // MARK: fib-sum
}

int is_odd(unsigned n);

int is_even(unsigned n) {
    if (n == 0)
        return 1; // MARK: even-base
    return is_odd(n - 1);
}

int is_odd(unsigned n) {
    if (n == 0)
        return 0; // MARK: odd-base
    return is_even(n - 1);
}

static int moves;

void hanoi(int discs, char from, char to, char via) {
    if (discs == 0)
        return;
    hanoi(discs - 1, from, via, to);
    moves++; // MARK: hanoi-move
    hanoi(discs - 1, via, to, from);
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 5; // MARK: main-start
    long long f = factorial(n);
    int fb = fib(n);
    hanoi(n, 'A', 'C', 'B');
    int even = is_even((unsigned)n);
    printf("factorial(%d) = %lld\n", n, f); // MARK: main-print
    printf("fib(%d) = %d\n", n, fb);
    printf("hanoi(%d) = %d moves\n", n, moves);
    printf("%d is %s\n", n, even ? "even" : "odd");
    printf("depth %d\n", depth_reached);
    return 0; // MARK: main-return
}
