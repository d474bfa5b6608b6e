/* types.c: the C data a debugger must print.
 *
 *     wasmdbg debug types.O0.wasm
 *
 * Globals and locals of every kind: integers of each width and signedness,
 * chars, floats, enums, typedefs, const/volatile, pointers (to data, to
 * pointers, to functions), arrays (1-D, 2-D, of structs), strings, nested
 * structs, unions, bitfields and a linked list.  Prints a checksum and exits
 * with status 0.  Debugger tests stop at `// MARK: name` lines.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef unsigned int uint;
typedef struct point Point;

enum color { RED, GREEN = 5, BLUE };
typedef enum color Color;

struct point {
    int x;
    int y;
};

struct rect {
    Point top_left;
    Point bottom_right;
    Color color;
    const char *label;
};

union number {
    int32_t i;
    float f;
    unsigned char bytes[4];
};

struct flags {
    unsigned int ready : 1;
    unsigned int mode : 3;
    signed int delta : 4;
    unsigned int count : 8;
};

struct node {
    int value;
    struct node *next;
};

typedef int (*binop)(int, int);

/* Globals: initialised data and zero-initialised data. */
int g_counter = 42;
const double g_pi = 3.14159;
volatile short g_volatile = -7;
char g_message[16] = "hello, wasm";
const char *g_greeting = "greetings";
int g_matrix[2][3] = {{1, 2, 3}, {4, 5, 6}};
struct point g_origin;
Color g_color = BLUE;
struct node g_nodes[3];
int64_t g_big = -1234567890123LL;
uint8_t g_byte = 200;
unsigned long long g_ull = 18446744073709551615ULL;

static int add(int a, int b) { return a + b; }
static int mul(int a, int b) { return a * b; }

int area(const struct rect *r) {
    int w = r->bottom_right.x - r->top_left.x;
    int h = r->bottom_right.y - r->top_left.y;
    return w * h; // MARK: area-return
}

int list_sum(struct node *head) {
    int sum = 0;
    for (struct node *p = head; p; p = p->next)
        sum += p->value; // MARK: list-loop
    return sum;
}

unsigned pack(struct flags *fl, int delta) {
    fl->ready = 1;
    fl->mode = 5;
    fl->delta = delta;
    fl->count++;
    return fl->ready | fl->mode << 1 | (fl->count << 8); // MARK: pack-return
}

int apply(binop op, int a, int b) {
    return op(a, b); // MARK: apply-call
}

int main(void) {
    char c = 'A';
    unsigned char uc = 255;
    short s = -300;
    unsigned short us = 60000;
    int i = -5;
    uint u = 4000000000u;
    long l = -100000L;
    long long ll = 1LL << 40;
    float f = 1.5f;
    double d = -2.25;
    _Bool flag = 1;
    Color col = GREEN;
    int arr[5] = {10, 20, 30, 40, 50};
    char name[8] = "wasm";
    const char *str = "a string";
    int *ip = &arr[2];
    int **ipp = &ip;
    Point pt = {3, 4};
    Point *ppt = &pt;
    struct rect rc = {{1, 2}, {11, 7}, RED, "box"};
    union number num;
    num.f = 1.0f;
    struct flags fl = {0, 0, 0, 0};
    binop ops[2] = {add, mul};
    void *vp = &g_counter;
    Point pts[2] = {{-1, -2}, {5, 6}};

    for (int k = 0; k < 3; k++) {
        g_nodes[k].value = (k + 1) * 100;
        g_nodes[k].next = k < 2 ? &g_nodes[k + 1] : NULL;
    }
    g_origin.x = 0; // MARK: main-locals-ready
    int total = area(&rc);
    total += list_sum(&g_nodes[0]);
    total += (int)pack(&fl, -3);
    total += apply(ops[0], 2, 3) + apply(ops[1], 4, 5);
    total += c + uc + s + us + i + (int)u + (int)l + (int)(ll >> 32);
    total += (int)(f * 2) + (int)d + flag + col + arr[4] + (int)strlen(name);
    total += (int)strlen(str) + **ipp + ppt->y + num.bytes[3] + *(int *)vp;
    total += pts[1].x + g_matrix[1][2] + g_counter + (int)g_pi + g_volatile;
    total += (int)strlen(g_message) + (int)strlen(g_greeting) + g_color + g_byte;
    total += (int)(g_big & 0xff) + (int)(g_ull & 1);
    printf("checksum %d\n", total); // MARK: main-print
    return 0;
}
