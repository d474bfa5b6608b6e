/* alloc.c: malloc-heavy workload using wasi-libc's malloc/free (dlmalloc).
 *
 * Builds and frees binary trees of varying depth (as in the Benchmarks Game
 * "binary-trees"), and maintains a linked list with interleaved inserts and
 * deletes of variable-size nodes.  Measures malloc/free paths, pointer chasing
 * and memory.grow.
 */
#include <stdlib.h>
#include "common.h"

typedef struct tree { struct tree *left, *right; } tree;
typedef struct node { struct node *next; uint32_t len; uint32_t data[]; } node;

static volatile int max_depth = 16;
static volatile int list_ops = 12000;

static tree *make_tree(int depth) {
    tree *t = malloc(sizeof *t);
    if (depth > 0) { t->left = make_tree(depth - 1); t->right = make_tree(depth - 1); }
    else t->left = t->right = 0;
    return t;
}

static int check_tree(const tree *t) {
    return t->left ? 1 + check_tree(t->left) + check_tree(t->right) : 1;
}

static void free_tree(tree *t) {
    if (t->left) { free_tree(t->left); free_tree(t->right); }
    free(t);
}

static uint32_t list_churn(int ops) {
    uint32_t st = 42, sum = 0;
    node *head = 0;
    int len = 0;
    for (int i = 0; i < ops; i++) {
        uint32_t r = xorshift32(&st);
        if (len > 0 && (r & 3) == 0) {
            /* delete the node at position r % len */
            int pos = (int)((r >> 2) % (uint32_t)len);
            node **pp = &head;
            while (pos-- > 0) pp = &(*pp)->next;
            node *dead = *pp;
            *pp = dead->next;
            sum += dead->data[dead->len - 1];
            free(dead);
            len--;
        } else {
            uint32_t n = 1 + (r >> 24) % 32;
            node *nd = malloc(sizeof *nd + n * sizeof(uint32_t));
            nd->len = n;
            for (uint32_t k = 0; k < n; k++) nd->data[k] = r + k;
            nd->next = head;
            head = nd;
            len++;
        }
    }
    while (head) { node *next = head->next; sum += head->len; free(head); head = next; }
    return sum;
}

EXPORT("run") int run(void) {
    int maxd = max_depth;
    uint32_t acc = 0;
    tree *long_lived = make_tree(maxd);
    for (int d = 4; d <= maxd; d += 2) {
        int iterations = 1 << (maxd - d + 4);
        int check = 0;
        for (int i = 0; i < iterations; i++) {
            tree *t = make_tree(d);
            check += check_tree(t);
            free_tree(t);
        }
        acc = acc * 31 + (uint32_t)check;
    }
    acc = acc * 31 + (uint32_t)check_tree(long_lived);
    free_tree(long_lived);
    acc = acc * 31 + list_churn(list_ops);
    return (int)acc;
}
