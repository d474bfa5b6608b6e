/* primes.c: a WASI program bundled with wasmdbg (the README's first command).
 *
 *     wasmdbg run primes.wasm [N]
 *
 * Prints the primes below N (default 50) and their count, then exits with
 * status 0.  Uses wasi-libc's printf and malloc, so it imports a few
 * wasi_snapshot_preview1 functions.  Rebuild with benchmarks/programs/build.sh.
 */
#include <stdio.h>
#include <stdlib.h>

/* Fills is_prime[0..n) by the sieve of Eratosthenes; returns the count. */
static int sieve(unsigned char *is_prime, int n) {
    int count = 0;
    for (int i = 0; i < n; i++)
        is_prime[i] = i >= 2;
    for (int i = 2; i < n; i++) {
        if (!is_prime[i])
            continue;
        count++;
        for (long long j = (long long)i * i; j < n; j += i)
            is_prime[j] = 0;
    }
    return count;
}

int main(int argc, char **argv) {
    int n = argc > 1 ? atoi(argv[1]) : 50;
    if (n < 0 || n > 100000000) {
        fprintf(stderr, "primes: N must be between 0 and 100000000\n");
        return 2;
    }
    unsigned char *is_prime = malloc(n > 0 ? (size_t)n : 1);
    if (!is_prime) {
        fprintf(stderr, "primes: out of memory\n");
        return 1;
    }
    int count = sieve(is_prime, n);
    printf("primes below %d:", n);
    for (int i = 0; i < n; i++)
        if (is_prime[i])
            printf(" %d", i);
    printf("\n%d primes\n", count);
    free(is_prime);
    return 0;
}
