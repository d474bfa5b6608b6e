#!/bin/sh
# Build sqlite.wasm (SQLite 3 amalgamation + sqlite_main.c, -O2 -g, about
# 1 MB of code and 3 MB of DWARF) for benchmarks/dwarf_load.py.
#
# The amalgamation is not committed: it is taken from the better-sqlite3 npm
# package (deps/sqlite3/sqlite3.c), fetched with `npm pack`.  Needs npm,
# clang-22, lld-22 and wasi-libc.  The .wasm is not committed either.
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-22}
PKG=${PKG:-better-sqlite3@12.11.1}
if [ ! -f sqlite3.c ]; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack --silent "$PKG" >/dev/null && tar xzf ./*.tgz)
    cp "$tmp"/package/deps/sqlite3/sqlite3.c "$tmp"/package/deps/sqlite3/sqlite3.h .
    rm -rf "$tmp"
fi
# shellcheck disable=SC2086
$CC -fdebug-prefix-map="$(pwd)"=. --target=wasm32-wasi -Wno-deprecated -O2 -g \
    -DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL -DSQLITE_OMIT_SHARED_CACHE \
    -D_WASI_EMULATED_MMAN -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID \
    -lwasi-emulated-mman -lwasi-emulated-process-clocks -lwasi-emulated-getpid \
    -o sqlite.wasm sqlite3.c sqlite_main.c
