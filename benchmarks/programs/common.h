/* Shared helpers for the wasmdbg benchmark programs.
 *
 * Every program exports `int run(void)` returning a checksum.  Problem sizes are
 * read from volatile globals so the optimiser cannot constant-fold the work away.
 */
#ifndef WASMDBG_BENCH_COMMON_H
#define WASMDBG_BENCH_COMMON_H

#include <stdint.h>

#define EXPORT(name) __attribute__((export_name(name)))

/* xorshift32: small deterministic PRNG shared by the programs. */
static inline uint32_t xorshift32(uint32_t *state) {
    uint32_t x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

#endif
