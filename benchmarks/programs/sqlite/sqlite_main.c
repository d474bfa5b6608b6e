/* sqlite_main.c: a small driver for the SQLite amalgamation, so that the
 * DWARF benchmark has a realistic 1 MB-code module (benchmarks/dwarf_load.py).
 * Runs a few statements on an in-memory database and prints the rows. */
#include <stdio.h>

#include "sqlite3.h"

static int print_row(void *unused, int n, char **values, char **columns) {
    (void)unused;
    for (int i = 0; i < n; i++)
        printf("%s=%s ", columns[i], values[i] ? values[i] : "NULL");
    printf("\n");
    return 0;
}

int main(void) {
    sqlite3 *db;
    char *err = NULL;
    if (sqlite3_open(":memory:", &db) != SQLITE_OK)
        return 1;
    sqlite3_exec(db,
                 "create table t(a, b);"
                 "insert into t values (1, 'x'), (2, 'y'), (3, 'z');"
                 "select a, b, a * 10 from t order by a desc;",
                 print_row, NULL, &err);
    if (err) {
        printf("error: %s\n", err);
        return 2;
    }
    sqlite3_close(db);
    return 0;
}
