/*
** test_invariants.c - properties that must hold for every queryset, checked
** on a few hundred random ones per run (fixed seed: the same cases every
** run, on both backends):
**   - filter(a).filter(b) returns the rows of filter(a & b) for
**     single-valued paths, and count() agrees with the rows;
**   - select_related, prefetch_related and lazy loading give the same
**     related objects, in 1, 1 + one query per level, and 1 + N queries;
**   - SQLite and PostgreSQL give the same result for the same random valid
**     queryset (tests/support/qsgen.h) over identical data: the same
**     objects in the same order when the order is total, the same rows,
**     counts and errors (on the PostgreSQL pass, with a SQLite database
**     filled with the same fixture).
*/
#include "test.h"
#include "qsgen.h"

#include <stdlib.h>
#include <string.h>

static corm_db *db;

static uint64_t rnd_state;
static uint32_t rnd(void)
{
    rnd_state = rnd_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rnd_state >> 33);
}

static int setup(void **state)
{
    (void)state;
    db = test_db_open();
    corm_nplusone_mode(db, CORM_NPLUSONE_OFF); /* lazy loading on purpose */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_db_close(db);
    return 0;
}

/* ------------------------------------------------ filter(a).filter(b) */

/* A random lookup on a single-valued path of Book, with a value that
** matches some fixture rows. */
static const char *single_lookup(char *buf, size_t size, corm_value *v, char *text, size_t tsize)
{
    static const struct {
        const char *path;
        char kind; /* s text, i integer, d date, b bool */
    } paths[] = {{"title", 's'},
                 {"isbn", 's'},
                 {"pages", 'i'},
                 {"published_date", 'd'},
                 {"featured", 'b'},
                 {"author__name", 's'},
                 {"author__country__code", 's'},
                 {"author__country__name", 's'},
                 {"author__id", 'i'},
                 {"publisher__name", 's'},
                 {"publisher__country__code", 's'},
                 {"publisher", 'i'}};
    static const char *const texts[] = {"Les Miserables",
                                        "Norwegian Wood",
                                        "France",
                                        "FR",
                                        "JP",
                                        "Victor Hugo",
                                        "Gallimard",
                                        "a",
                                        "o",
                                        "Wood",
                                        "9780000000003",
                                        "N"};
    static const char *const text_lookups[] = {
        "",           "__iexact", "__contains",  "__icontains", "__startswith",
        "__endswith", "__gt",     "__icontains", "__gt",        "__isnull"};
    static const char *const int_lookups[] = {"", "__gt", "__lte", "__in", "__isnull"};
    static const char *const date_lookups[] = {"__gt", "__lt", "__year__gte", "__month",
                                               "__isnull"};
    int p = (int)(rnd() % (sizeof paths / sizeof paths[0]));
    const char *lk = "";
    switch (paths[p].kind) {
    case 's':
        lk = text_lookups[rnd() % (sizeof text_lookups / sizeof text_lookups[0])];
        snprintf(text, tsize, "%s", texts[rnd() % (sizeof texts / sizeof texts[0])]);
        if (lk[0] && !strcmp(lk, "__icontains")) text[0] = (char)(text[0] ^ 0x20); /* case */
        *v = corm_text(text);
        break;
    case 'i': {
        static int64_t ints[2];
        lk = int_lookups[rnd() % 5];
        ints[0] = rnd() % 7;
        ints[1] = 200 + (rnd() % 3) * 300;
        if (!strcmp(lk, "__in")) *v = corm_ints(ints, 2);
        else *v = corm_int(strcmp(paths[p].path, "pages") ? ints[0] : ints[1]);
        break;
    }
    case 'd':
        lk = date_lookups[rnd() % 5];
        if (!strcmp(lk, "__month")) *v = corm_int(1 + rnd() % 12);
        else if (!strcmp(lk, "__year__gte")) *v = corm_int(1800 + rnd() % 250);
        else {
            snprintf(text, tsize, "%04u-06-01", 1800 + rnd() % 250);
            *v = corm_text(text);
        }
        break;
    default: *v = corm_bool(rnd() & 1); break;
    }
    if (!strcmp(lk, "__isnull")) *v = corm_bool(rnd() & 1);
    snprintf(buf, size, "%s%s", paths[p].path, lk);
    return buf;
}

static void test_filter_chain_is_and(void **state)
{
    (void)state;
    rnd_state = 1;
    int nonempty = 0;
    for (int i = 0; i < 200; i++) {
        char pa[96], pb[96], ta[64], tb[64];
        corm_value va, vb;
        single_lookup(pa, sizeof pa, &va, ta, sizeof ta);
        single_lookup(pb, sizeof pb, &vb, tb, sizeof tb);
        corm_qs *chained = corm_all(db, Book);
        corm_order_by(chained, "id");
        corm_filter(chained, pa, va);
        corm_filter(chained, pb, vb);
        char want[1024];
        snprintf(want, sizeof want, "%s", test_ids(chained));
        int64_t count = corm_count(chained);

        corm_qs *anded = corm_all(db, Book);
        corm_order_by(anded, "id");
        corm_filter_q(anded,
                      corm_q_and(anded, corm_q_new(anded, pa, va), corm_q_new(anded, pb, vb)));
        const char *got = test_ids(anded);
        if (strcmp(got, want) != 0)
            fail_msg("case %d: filter(%s).filter(%s) = [%s], filter(a & b) = [%s]", i, pa, pb, want,
                     got);
        size_t n = corm_qs_len(chained);
        if (count != (int64_t)n)
            fail_msg("case %d: count() %lld, %zu rows (%s, %s)", i, (long long)count, n, pa, pb);
        nonempty += n > 0;
        corm_qs_free(chained);
        corm_qs_free(anded);
    }
    /* the cases are not all trivially empty */
    printf("filter(a).filter(b) = filter(a & b): 200 cases, %d with rows\n", nonempty);
    assert_true(nonempty >= 20);
}

/* ----------------------------------- select_related = prefetch = lazy */

/* The related objects of each book ("book:author,country,publisher;"), read
** through the accessors: loaded already, or lazily. */
typedef struct related_counts {
    uint64_t books, countries, publishers; /* non-NULL relations read */
} related_counts;

static void describe(corm_qs *qs, char *out, size_t size, related_counts *n)
{
    size_t len = 0;
    out[0] = '\0';
    memset(n, 0, sizeof *n);
    Book *b;
    corm_foreach(b, qs)
    {
        Author *a = book_author(b);
        Country *c = a ? author_country(a) : NULL;
        Publisher *p = book_publisher(b);
        len += (size_t)snprintf(out + len, size - len, "%lld:%lld %s,%lld %s,%lld %s;",
                                (long long)b->id, a ? (long long)a->id : 0LL, a ? a->name : "-",
                                c ? (long long)c->id : 0LL, c ? c->code : "-",
                                p ? (long long)p->id : 0LL, p ? p->name : "-");
        if (len >= size) fail_msg("describe: buffer too small");
        n->books++;
        n->countries += c != NULL;
        n->publishers += p != NULL;
    }
}

static void test_eager_equals_lazy(void **state)
{
    (void)state;
    rnd_state = 2;
    for (int i = 0; i < 60; i++) {
        char pa[96], ta[64];
        corm_value va;
        single_lookup(pa, sizeof pa, &va, ta, sizeof ta);
        char sel[2048], pre[2048], lazy[2048];
        related_counts n;

        corm_qs *qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        corm_filter(qs, pa, va);
        corm_select_related(qs, "author__country", "publisher");
        uint64_t q0 = corm_query_count(db);
        describe(qs, sel, sizeof sel, &n);
        assert_int_equal(corm_query_count(db) - q0, 1);
        corm_qs_free(qs);

        qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        corm_filter(qs, pa, va);
        corm_prefetch_related(qs, "author__country", "publisher");
        q0 = corm_query_count(db);
        describe(qs, pre, sizeof pre, &n);
        uint64_t prefetch_queries = corm_query_count(db) - q0;
        corm_qs_free(qs);

        qs = corm_all(db, Book);
        corm_order_by(qs, "id");
        corm_filter(qs, pa, va);
        q0 = corm_query_count(db);
        describe(qs, lazy, sizeof lazy, &n);
        /* lazy: one query per non-NULL relation of each object */
        assert_int_equal(corm_query_count(db) - q0, 1 + n.books + n.countries + n.publishers);
        corm_qs_free(qs);

        if (strcmp(sel, pre) != 0 || strcmp(sel, lazy) != 0)
            fail_msg("case %d (%s):\nselect_related %s\nprefetch       %s\nlazy           %s", i,
                     pa, sel, pre, lazy);
        /* prefetch: the books, then one query per level that has keys to
        ** follow (authors, their countries, publishers) */
        assert_int_equal(prefetch_queries,
                         1 + (n.books > 0) + (n.countries > 0) + (n.publishers > 0));
    }
}

/* Reverse fk and m2m: prefetch = lazy, 2 queries against 1 + N. */
static void test_reverse_prefetch_equals_lazy(void **state)
{
    (void)state;
    static const char *const names[] = {"a", "o", "u", "Victor Hugo", "M", "x"};
    for (int i = 0; i < 6; i++) {
        char got[2][512];
        for (int eager = 0; eager < 2; eager++) {
            corm_qs *qs = corm_all(db, Author);
            corm_order_by(qs, "id");
            corm_filter(qs, "name__icontains", corm_text(names[i]));
            if (eager) corm_prefetch_related(qs, "books__genres");
            uint64_t q0 = corm_query_count(db);
            size_t len = 0, nauthors = 0, nbooks = 0;
            got[eager][0] = '\0';
            Author *a;
            corm_foreach(a, qs)
            {
                nauthors++;
                const corm_list *books = author_books(a);
                len += (size_t)snprintf(got[eager] + len, sizeof got[0] - len,
                                        "%lld:", (long long)a->id);
                for (size_t k = 0; books && k < books->n; k++) {
                    Book *b = books->items[k];
                    nbooks++;
                    const corm_list *genres = book_genres(b);
                    len += (size_t)snprintf(got[eager] + len, sizeof got[0] - len, "%lld(%zu)",
                                            (long long)b->id, genres ? genres->n : 0);
                }
                len += (size_t)snprintf(got[eager] + len, sizeof got[0] - len, ";");
            }
            uint64_t queries = corm_query_count(db) - q0;
            if (eager) assert_int_equal(queries, nauthors ? (nbooks ? 3 : 2) : 1);
            else assert_int_equal(queries, 1 + nauthors + nbooks);
            corm_qs_free(qs);
        }
        assert_string_equal(got[0], got[1]);
    }
}

/* ------------------------------------------------- SQLite = PostgreSQL */

/* One outcome as text: the error code, or the count, or the objects' ids
** (sorted unless the order is total), or the rows (sorted, so that ties
** of a partial order do not matter). */
static int by_string(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void cell_text(const corm_value *v, char *out, size_t size)
{
    if (!v || v->type == CORM_V_NULL) snprintf(out, size, "NULL");
    else if (v->type == CORM_V_INT) snprintf(out, size, "%.6g", (double)v->u.i);
    else if (v->type == CORM_V_FLOAT) snprintf(out, size, "%.6g", v->u.f);
    else if (v->type == CORM_V_DECIMAL) snprintf(out, size, "%.6g", corm_dec_to_double(v->u.d));
    else if (v->type == CORM_V_BOOL) snprintf(out, size, "%d", v->u.b);
    else if (v->type == CORM_V_TEXT) snprintf(out, size, "'%s'", v->u.s.p);
    else snprintf(out, size, "<%d>", (int)v->type);
}

static void outcome(const uint8_t *bytes, size_t n, corm_db *on, char *out, size_t size)
{
    static qsgen g;
    memset(&g, 0, sizeof g);
    g.in = (fz){bytes, n};
    g.total_order = true;
    corm_qs *qs = qsgen_build(&g, on);
    size_t len = 0;
    out[0] = '\0';
    if (g.how == 1) {
        int64_t c = corm_count(qs);
        len += (size_t)snprintf(out, size, "count %lld", (long long)c);
    } else if (g.how == 2) {
        len += (size_t)snprintf(out, size, "exists %d", corm_exists(qs));
    } else if (corm_eval(qs) == CORM_OK) {
        size_t rows = corm_qs_len(qs), ncols = corm_qs_ncols(qs);
        char **lines = calloc(rows ? rows : 1, sizeof *lines);
        assert_non_null(lines);
        for (size_t r = 0; r < rows; r++) {
            char line[512] = "";
            size_t l = 0;
            if (!ncols) {
                const corm_obj *o = corm_qs_at(qs, r);
                assert_non_null(o);
                snprintf(
                    line, sizeof line, "%lld",
                    (long long)*(const int64_t *)((const char *)o + o->model->fields[0].offset));
            }
            for (size_t c = 0; c < ncols && l < sizeof line; c++) {
                char cell[128];
                cell_text(corm_qs_cell(qs, r, c), cell, sizeof cell);
                l += (size_t)snprintf(line + l, sizeof line - l, "%s%s", c ? "|" : "", cell);
            }
            lines[r] = strdup(line);
        }
        /* objects in a total order keep it; a sliced partial order is
        ** only compared by size */
        bool keep_order = !ncols && !g.ordered;
        if (!keep_order) qsort(lines, rows, sizeof *lines, by_string);
        len += (size_t)snprintf(out, size, "%zu %s:", rows, ncols ? "rows" : "objects");
        for (size_t r = 0; r < rows; r++) {
            if (len < size && !(g.sliced && !keep_order))
                len += (size_t)snprintf(out + len, size - len, " [%s]", lines[r]);
            free(lines[r]);
        }
        free(lines);
    }
    const corm_error *e = corm_qs_error(qs);
    if (e->rc != CORM_OK) snprintf(out, size, "error %s", corm_rc_name(e->rc));
    if (e->rc == CORM_DB) {
        char b[2048];
        fail_msg("%s refused corm's SQL: %s", corm_db_vendor(on),
                 corm_error_format(e, b, sizeof b));
    }
    corm_qs_free(qs);
}

static void test_sqlite_equals_postgresql(void **state)
{
    (void)state;
    if (!test_db_is_pg()) {
        printf("sqlite = postgresql: runs on the PostgreSQL pass (it compares both)\n");
        return;
    }
    char url[1024];
    snprintf(url, sizeof url, "%s", getenv("CORM_TEST_DB"));
    unsetenv("CORM_TEST_DB");
    corm_db *lite = test_db_open();
    setenv("CORM_TEST_DB", url, 1);
    corm_nplusone_mode(lite, CORM_NPLUSONE_OFF);
    rnd_state = 3;
    int ok = 0;
    static char a[16384], b[16384];
    for (int i = 0; i < 300; i++) {
        uint8_t bytes[48];
        size_t n = 8 + rnd() % 40;
        for (size_t k = 0; k < n; k++) bytes[k] = (uint8_t)rnd();
        outcome(bytes, n, lite, a, sizeof a);
        outcome(bytes, n, db, b, sizeof b);
        if (strcmp(a, b) != 0) fail_msg("case %d:\nSQLite     %s\nPostgreSQL %s", i, a, b);
        ok += strncmp(a, "error", 5) != 0;
    }
    printf("sqlite = postgresql: 300 random querysets, %d evaluated without error\n", ok);
    assert_true(ok >= 150);
    corm_close(lite);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_filter_chain_is_and),
        cmocka_unit_test(test_eager_equals_lazy),
        cmocka_unit_test(test_reverse_prefetch_equals_lazy),
        cmocka_unit_test(test_sqlite_equals_postgresql),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
