/*
** fuzz.h - what the fuzz targets of tests/fuzz share: the libFuzzer entry
** points, a reader that turns the input bytes into choices, and the
** failure macro.
**
** Each target is one C file defining LLVMFuzzerTestOneInput (and
** LLVMFuzzerInitialize) and fuzz_name.  It is linked two ways (Makefile):
** with clang's libFuzzer for `make fuzz` (coverage-guided, ASan + UBSan),
** and with replay.c, a small main that runs every committed input of
** tests/fuzz/corpus/<name> and tests/fuzz/crash/<name> once, for `make test`
** (gcc, ASan + UBSan, seconds).  A failure is an abort(): a crash, a
** sanitizer report or a FUZZ_CHECK, in both builds.
*/
#ifndef CORM_FUZZ_H
#define CORM_FUZZ_H

#include <corm.h>
#include "bookstore.h"
#include "qsgen.h" /* fz, the input as choices */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);
/* The target's name: its corpus is tests/fuzz/corpus/<fuzz_name>. */
extern const char fuzz_name[];

/* Abort (the fuzzer's failure) with a message when cond is false. */
#define FUZZ_CHECK(cond, ...)                                                   \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "fuzz %s: %s:%d: ", fuzz_name, __FILE__, __LINE__); \
            fprintf(stderr, __VA_ARGS__);                                       \
            fputc('\n', stderr);                                                \
            abort();                                                            \
        }                                                                       \
    } while (0)

#endif
