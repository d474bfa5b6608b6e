#!/bin/sh
# Rebuild shapes.wasm, the example `wasmdbg debug` runs in the README.
#
# Toolchain (Debian):  apt-get install clang-22 lld-22 wasi-libc libclang-rt-22-dev-wasm32
# Built at -O0 -g: DWARF with every variable in memory.  -fdebug-prefix-map
# keeps the build directory out of DWARF (DW_AT_comp_dir becomes "."), so the
# debugger finds shapes.c next to the .wasm wherever the tree is.
# (hello.wasm and primes.wasm are built by benchmarks/programs/build.sh.)
set -eu
cd "$(dirname "$0")"
CC=${CC:-clang-22}
TARGET=${TARGET:-wasm32-wasi}
# shellcheck disable=SC2086
$CC -fdebug-prefix-map="$(pwd)"=. --target=$TARGET -Wno-deprecated -fno-sanitize=undefined \
    -std=c11 -Wall -Wextra -O0 -g -o shapes.wasm shapes.c
