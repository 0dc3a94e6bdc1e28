/*
** qsgen.h - random valid querysets over the test schema, decoded from
** bytes: what the queryset fuzz target (tests/fuzz) and the property suite
** (tests/invariants, bytes from a fixed-seed generator) evaluate on both
** databases.  A byte stream is read as a sequence of choices (fz); the
** same bytes give the same calls on any db.
**
** The calls: filter / exclude / Q (or, and-not) / order_by /
** select_related / prefetch_related / annotate (Count, Sum, Min, Max) /
** values / slice / distinct on one of the models the fixture fills, with
** paths that follow any relation, and values of the field's type:
** printable ASCII text and valid dates, which both databases read the same
** way (invalid UTF-8 and case-folding outside ASCII differ, and that is
** not corm's to change).
*/
#ifndef CORM_QSGEN_H
#define CORM_QSGEN_H

#include <corm.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The input as a stream of choices; past its end every choice is 0. */
typedef struct fz {
    const uint8_t *p;
    size_t n;
} fz;

static inline unsigned fz_byte(fz *f)
{
    if (!f->n) return 0;
    f->n--;
    return *f->p++;
}
/* A choice among n (n > 0). */
static inline unsigned fz_pick(fz *f, unsigned n) { return n ? fz_byte(f) % n : 0; }
static inline bool fz_more(const fz *f) { return f->n > 0; }
/* A small signed integer: -64..191, or a 32-bit one now and then. */
static inline int64_t fz_int(fz *f)
{
    unsigned b = fz_byte(f);
    if (b != 0xff) return (int64_t)b - 64;
    int64_t v = 0;
    for (int i = 0; i < 4; i++) v = (v << 8) | fz_byte(f);
    return (int32_t)v;
}
/* Up to max bytes (length from the input) into out, NUL-terminated; with
** printable, only printable ASCII (the differential target's values: the
** databases do not agree on invalid UTF-8 or case-folding outside ASCII,
** and that is not a corm bug).  Returns the length. */
static inline size_t fz_text(fz *f, char *out, size_t max, bool printable)
{
    size_t len = fz_byte(f) % (max + 1);
    size_t i = 0;
    for (; i < len && fz_more(f); i++) {
        unsigned c = fz_byte(f);
        if (printable) c = 32 + c % 95;
        else if (!c) c = 1; /* corm_text is NUL-terminated */
        out[i] = (char)c;
    }
    out[i] = '\0';
    return i;
}

/* What qsgen_build made, besides the queryset. */
typedef struct qsgen {
    fz in;
    /* with total_order, the queryset starts ordered by "id" and every
    ** order_by gets "id" last: the order of objects is then the same on
    ** every database unless `ordered` (a field that may be NULL or tie
    ** sorts first on SQLite, last on PostgreSQL) */
    bool total_order;
    bool ordered; /* order_by on a field was called */
    bool sliced;
    bool values;
    int how; /* the evaluation asked for: 0 eval, 1 count, 2 exists */
    /* storage for the texts handed to the builder */
    char buf[96][96];
    int nbuf;
    const char *tlist[4];
    int64_t ilist[4];
    corm_value vlist[2];
    const char *cols[5];
} qsgen;

/* Decode g->in into a new queryset on db (never NULL unless out of
** memory; builder errors are the queryset's). */
corm_qs *qsgen_build(qsgen *g, corm_db *db);

#endif
