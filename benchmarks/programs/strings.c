/* strings.c: short-string workload (malloc, memcpy, memset, strcmp).
 *
 * Builds a pool of short random words, duplicates them into malloc'd copies,
 * interns them in a chained hash table (lookups compare with strcmp), sorts an
 * array of pointers with qsort/strcmp, and joins words into small buffers with
 * memcpy and memset.  Current clang lowers the many small memcpy/memset calls
 * to memory.copy / memory.fill, so this measures bulk memory on short lengths.
 */
#include <stdlib.h>
#include <string.h>
#include "common.h"

static volatile int n_words = 6000;
static volatile int rounds = 24;

typedef struct entry { struct entry *next; char *key; uint32_t count; } entry;

#define BUCKETS 4096

static uint32_t hash_str(const char *s) {
    uint32_t h = 2166136261u;
    while (*s) { h ^= (unsigned char)*s++; h *= 16777619u; }
    return h;
}

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    memcpy(d, s, n);
    return d;
}

static int cmp_ptr(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint32_t one_round(char **pool, int n, uint32_t seed) {
    entry **table = calloc(BUCKETS, sizeof *table);
    char **copies = malloc((size_t)n * sizeof *copies);
    uint32_t st = seed, sum = 0;
    for (int i = 0; i < n; i++) {
        /* pick a word, sometimes a repeated one, and intern it */
        const char *w = pool[xorshift32(&st) % (uint32_t)n];
        copies[i] = dup_str(w);
        uint32_t h = hash_str(w) % BUCKETS;
        entry *e = table[h];
        while (e && strcmp(e->key, w) != 0) e = e->next;
        if (!e) {
            e = malloc(sizeof *e);
            e->key = dup_str(w);
            e->count = 0;
            e->next = table[h];
            table[h] = e;
        }
        e->count++;
    }
    qsort(copies, (size_t)n, sizeof *copies, cmp_ptr);
    char buf[96];
    for (int i = 0; i + 2 < n; i += 3) {
        /* join three words with '-' and pad: small memcpy/memset */
        memset(buf, '.', sizeof buf);
        size_t at = 0;
        for (int k = 0; k < 3; k++) {
            size_t len = strlen(copies[i + k]);
            if (at + len + 1 >= sizeof buf) break;
            memcpy(buf + at, copies[i + k], len);
            at += len;
            buf[at++] = '-';
        }
        buf[at] = 0;
        char *joined = dup_str(buf);
        sum = sum * 31 + hash_str(joined) + (uint32_t)at;
        free(joined);
    }
    for (int i = 0; i < n; i++) {
        sum += (unsigned char)copies[i][0];
        free(copies[i]);
    }
    for (int b = 0; b < BUCKETS; b++) {
        entry *e = table[b];
        while (e) {
            entry *next = e->next;
            sum ^= e->count * hash_str(e->key);
            free(e->key);
            free(e);
            e = next;
        }
    }
    free(copies);
    free(table);
    return sum;
}

EXPORT("run")
int run(void) {
    int n = n_words;
    char **pool = malloc((size_t)n * sizeof *pool);
    uint32_t st = 12345;
    for (int i = 0; i < n; i++) {
        /* short words: 3..20 letters from a small alphabet, so strcmp compares prefixes */
        int len = 3 + (int)(xorshift32(&st) % 18);
        char *w = malloc((size_t)len + 1);
        for (int k = 0; k < len; k++) w[k] = (char)('a' + xorshift32(&st) % 6);
        w[len] = 0;
        pool[i] = w;
    }
    uint32_t sum = 0;
    for (int r = 0; r < rounds; r++) sum = sum * 7 + one_round(pool, n, 777u + (uint32_t)r);
    for (int i = 0; i < n; i++) free(pool[i]);
    free(pool);
    return (int)sum;
}
