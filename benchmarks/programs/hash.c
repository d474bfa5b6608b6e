/* hash.c: integer hashing, shifts, rotates and 64-bit multiplies.
 *
 * Fills a 256 KB buffer from a PRNG, then hashes it repeatedly with FNV-1a (32
 * and 64 bit), table-driven CRC-32 and a 64-bit multiply/rotate mixer in the
 * style of xxHash.  Measures byte loads, i32/i64 xor/shift/rotate/mul and table
 * lookups.
 */
#include "common.h"

#define SIZE (256 * 1024)
static uint8_t buf[SIZE];
static uint32_t crc_table[256];
static volatile int rounds = 200;

static void crc_init(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

static uint32_t crc32(const uint8_t *p, int n) {
    uint32_t c = 0xFFFFFFFFu;
    for (int i = 0; i < n; i++) c = crc_table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
    return c ^ 0xFFFFFFFFu;
}

static uint32_t fnv1a32(const uint8_t *p, int n) {
    uint32_t h = 2166136261u;
    for (int i = 0; i < n; i++) h = (h ^ p[i]) * 16777619u;
    return h;
}

static uint64_t fnv1a64(const uint8_t *p, int n) {
    uint64_t h = 14695981039346656037ull;
    for (int i = 0; i < n; i++) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

static inline uint64_t rotl64(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }

static uint64_t mix64(const uint8_t *p, int n, uint64_t seed) {
    const uint64_t P1 = 0x9E3779B185EBCA87ull, P2 = 0xC2B2AE3D27D4EB4Full;
    uint64_t acc = seed + P1;
    for (int i = 0; i + 8 <= n; i += 8) {
        uint64_t w = 0;
        for (int k = 0; k < 8; k++) w |= (uint64_t)p[i + k] << (8 * k);
        acc = rotl64(acc + w * P2, 31) * P1;
    }
    acc ^= acc >> 33;
    acc *= P2;
    acc ^= acc >> 29;
    return acc;
}

EXPORT("run") int run(void) {
    uint32_t st = 0xC0FFEEu;
    for (int i = 0; i < SIZE; i++) buf[i] = (uint8_t)xorshift32(&st);
    crc_init();
    uint64_t acc = 0;
    int n = rounds;
    for (int r = 0; r < n; r++) {
        buf[r] ^= 0x5A;
        acc ^= crc32(buf, SIZE);
        acc = rotl64(acc, 7) ^ fnv1a32(buf, SIZE);
        acc = rotl64(acc, 11) ^ fnv1a64(buf, SIZE);
        acc = rotl64(acc, 13) ^ mix64(buf, SIZE, acc);
    }
    return (int)(acc ^ (acc >> 32));
}
