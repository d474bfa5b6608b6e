/* sieve.c: memory-bound byte loops.
 *
 * Sieve of Eratosthenes over a 4 MB byte array, repeated several times; the
 * checksum mixes the prime count with the last primes found.  Measures byte
 * loads/stores, bounds checks and tight loop control flow.
 */
#include "common.h"

#define LIMIT (4 * 1024 * 1024)
static unsigned char composite[LIMIT];
static volatile int rounds = 12;

static uint32_t sieve(int limit) {
    for (int i = 0; i < limit; i++) composite[i] = 0;
    uint32_t count = 0, mix = 0;
    for (int i = 2; i < limit; i++) {
        if (!composite[i]) {
            count++;
            mix = mix * 16777619u ^ (uint32_t)i;
            if ((long long)i * i < limit)
                for (int j = i * i; j < limit; j += i) composite[j] = 1;
        }
    }
    return count ^ (mix << 1);
}

EXPORT("run") int run(void) {
    uint32_t acc = 0;
    int n = rounds;
    for (int r = 0; r < n; r++) acc = acc * 3 + sieve(LIMIT - r * 1000);
    return (int)acc;
}
