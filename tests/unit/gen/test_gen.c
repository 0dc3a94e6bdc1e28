/*
** test_gen.c - the generator: the bookstore's header and source hold the
** promised declarations; output is deterministic and not rewritten when
** unchanged; hostile strings are escaped; and, compiled with
** `cc -std=c11 -Wall -Wextra -Werror -pedantic` (when a compiler is on the
** PATH), the generated descriptors dump line for line like the parsed ones,
** and every typed accessor type-checks.  Run from the repository root.
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <fcntl.h>

#include <corm.h>
#include "../../../src/gen/gen.h"
#include "../schema/schema_dump.h"

#define BOOKSTORE "examples/bookstore.corm"
#define CFLAGS                                                               \
    "-std=c11 -Wall -Wextra -Werror -pedantic -Wshadow -Wstrict-prototypes " \
    "-Wmissing-prototypes -Wconversion -Wsign-conversion"

static char tmpdir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/corm-gen-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *read_all(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (fread(p, 1, (size_t)n, f) != (size_t)n) n = 0;
    p[n] = '\0';
    fclose(f);
    return p;
}

static corm_schema *load(const char *path)
{
    corm_error err;
    corm_schema *s = corm_schema_parse_file(path, &err);
    if (!s) {
        char buf[2048];
        fail_msg("%s", corm_error_format(&err, buf, sizeof buf));
    }
    return s;
}

static void has(const char *text, const char *want)
{
    if (!strstr(text, want)) fail_msg("generated code lacks:\n%s", want);
}

static bool have_cc(void) { return system("cc --version >/dev/null 2>&1") == 0; }

/* ------------------------------------------------------------ contents */

static void test_bookstore_header(void **state)
{
    (void)state;
    corm_schema *s = load(BOOKSTORE);
    corm_buf h;
    corm__buf_init(&h);
    corm__gen_header(s, &h);
    assert_false(h.oom);
    const char *t = corm__buf_cstr(&h);
    has(t, "#ifndef CORM_GEN_BOOKSTORE_H\n#define CORM_GEN_BOOKSTORE_H\n\n#include <corm.h>\n");
    has(t, "typedef struct Country Country;\n");
    has(t, "typedef struct OrderItem OrderItem;\n");
    /* the typedefs all come before the first struct */
    assert_true(strstr(t, "typedef struct Review Review;") < strstr(t, "struct Country {"));
    has(t, "struct Book {\n"
           "    corm_obj _corm;                  /* private: model, batch, null/deferred bits */\n"
           "    int64_t id;                      /* primary key */\n"
           "    char *title;                     /* char(200) */\n"
           "    int64_t author_id;               /* fk(Author) */\n"
           "    int64_t publisher_id;            /* fk(Publisher), null */\n"
           "    char *published_date;            /* date, ISO 8601, null */\n"
           "    char *isbn;                      /* char(13) */\n"
           "    int32_t pages;                   /* integer */\n"
           "    corm_decimal price;              /* decimal(8,2) */\n"
           "    char *description;               /* text */\n"
           "    bool featured;                   /* bool */\n"
           "    void *_corm_rel[4];              /* private: relation caches, one per slot */\n"
           "};\n");
    has(t, "    char *created_at;                /* datetime, ISO 8601 */\n");
    has(t, "    char *metadata;                  /* json text, null */\n");
    has(t, "    int64_t user_id;                 /* one_to_one(User) */\n");
    has(t, "extern const corm_model Book_model;\n");
    has(t, "extern const corm_schema bookstore_schema;\n");
    has(t,
        "enum {\n    BOOK_F_ID,\n    BOOK_F_TITLE,\n    BOOK_F_AUTHOR,\n    BOOK_F_PUBLISHER,\n");
    has(t, "enum {\n    BOOK_REL_AUTHOR,\n    BOOK_REL_PUBLISHER,\n    BOOK_REL_GENRES,\n    "
           "BOOK_REL_REVIEWS\n};\n");
    has(t, "    ORDER_ITEM_F_QUANTITY,\n");
    has(t, "    USER_REL_MANAGED_USERS,\n");
    /* to-one accessors */
    has(t, "static inline Author *book_author_at(Book *o, corm_site s)\n"
           "{\n    return (Author *)corm_related_at(o, BOOK_REL_AUTHOR, s);\n}\n"
           "#define book_author(o) book_author_at((o), CORM_SITE)\n");
    has(t, "static inline Profile *user_profile_at(User *o, corm_site s)\n"
           "{\n    return (Profile *)corm_related_at(o, USER_REL_PROFILE, s);\n}\n");
    has(t, "static inline Product *order_item_product_at(OrderItem *o, corm_site s)\n");
    /* to-many accessors */
    has(t, "static inline const corm_list *author_books_at(Author *o, corm_site s)\n"
           "{\n    return corm_related_set_at(o, AUTHOR_REL_BOOKS, s);\n}\n"
           "#define author_books(o) author_books_at((o), CORM_SITE)\n"
           "static inline corm_qs *author_books_qs_at(Author *o, corm_site s)\n"
           "{\n    return corm_related_qs_at(o, AUTHOR_REL_BOOKS, s);\n}\n"
           "#define author_books_qs(o) author_books_qs_at((o), CORM_SITE)\n");
    has(t, "static inline const corm_list *genre_books_at(Genre *o, corm_site s)\n");
    has(t, "static inline const corm_list *book_genres_at(Book *o, corm_site s)\n");
    has(t, "#define country_publisher_set(o) country_publisher_set_at((o), CORM_SITE)\n");
    assert_null(strstr(t, "book_author_qs"));
    /* CORM_NEW: nullable fields NULL (bits), defaults as C values */
    has(t, "#define corm__new_Book ((Book){._corm = {.model = &Book_model, .nulls = 0x18ULL}, "
           ".featured = false})\n");
    has(t, "#define corm__new_Order ((Order){._corm = {.model = &Order_model, .nulls = 0xcULL}, "
           ".status = (char *)\"new\", .tenant_id = 1LL})\n");
    has(t, "    char _corm_now[CORM_NOW_BUF];    /* private: auto_now values of a new object */\n");
    corm__buf_free(&h);
    corm_schema_free(s);
}

static void test_bookstore_source(void **state)
{
    (void)state;
    corm_schema *s = load(BOOKSTORE);
    corm_buf c;
    corm__buf_init(&c);
    corm__gen_source(s, &c);
    assert_false(c.oom);
    const char *t = corm__buf_cstr(&c);
    has(t, "#include \"bookstore.h\"\n\n#include <stddef.h>\n");
    has(t, "static const corm_field corm__Book_fields[] = {\n"
           "    {.name = \"id\", .column = \"id\", .type = CORM_FT_BIGINT, .flags = CORM_FF_PK,\n"
           "     .max_length = 0, .precision = 0, .scale = 0, .default_sql = NULL,\n"
           "     .offset = offsetof(Book, id), .rel = -1},\n");
    has(t, "    {.name = \"author\", .column = \"author_id\", .type = CORM_FT_FK, .flags = "
           "CORM_FF_DB_INDEX,\n"
           "     .max_length = 0, .precision = 0, .scale = 0, .default_sql = NULL,\n"
           "     .offset = offsetof(Book, author_id), .rel = 0},\n");
    has(t, ".default_sql = \"FALSE\"");
    has(t, ".default_sql = \"'new'\"");
    has(t, "    {.name = \"genres\", .kind = CORM_REL_M2M, .target = 3, .field = -1, .reverse = 0, "
           ".slot = 2,\n"
           "     .on_delete = CORM_CASCADE, .through = \"book_genres\", .through_src = "
           "\"book_id\", .through_dst = \"genre_id\"},\n");
    has(t, "static const char *const corm__Book_index5[] = {\"-published_date\"};\n");
    has(t, "    {.name = \"book_published_date_title_idx\", .fields = corm__Book_index4, .nfields "
           "= 2, .unique = false},\n");
    has(t, "const corm_model Book_model = {\n    .name = \"Book\",\n    .table = \"book\",\n"
           "    .schema = &bookstore_schema,\n    .index = 4,\n    .size = sizeof(Book),\n"
           "    .rel_offset = offsetof(Book, _corm_rel),\n    .fields = corm__Book_fields,\n"
           "    .nfields = 10,\n    .rels = corm__Book_rels,\n    .nrels = 4,\n"
           "    .ordering = NULL,\n    .nordering = 0,\n    .indexes = corm__Book_indexes,\n"
           "    .nindexes = 6\n};\n");
    has(t, "    .table = \"users\",\n");
    /* default scopes: a runtime one and a static bool, typed constants */
    has(t, "static const corm_scope corm__Invoice_scopes[] = {\n"
           "    {.field = 5, .kind = CORM_SCOPE_RUNTIME},\n"
           "    {.field = 6, .kind = CORM_SCOPE_BOOL, .ival = 0LL},\n};\n");
    has(t, "    .nindexes = 3,\n    .scopes = corm__Invoice_scopes,\n    .nscopes = 2,\n"
           "    .now_offset = offsetof(Invoice, _corm_now)\n};\n");
    has(t, "static const char *const corm__m2m_tables[] = {\"book_genres\", \"post_tags\"};\n");
    char hash[64];
    snprintf(hash, sizeof hash, "    .hash = 0x%08lxu\n};\n", (unsigned long)s->hash);
    has(t, hash);
    has(t, "const corm_schema bookstore_schema = {\n    .name = \"bookstore\",\n"
           "    .models = corm__models,\n    .nmodels = 17,\n");
    /* deterministic */
    corm_buf again;
    corm__buf_init(&again);
    corm__gen_source(s, &again);
    assert_string_equal(corm__buf_cstr(&again), t);
    corm__buf_free(&again);
    corm__buf_free(&c);
    corm_schema_free(s);
}

static void test_escaping(void **state)
{
    (void)state;
    corm_schema *s = load("tests/schema/valid/hostile_strings/input.corm");
    corm_buf c, h;
    corm__buf_init(&c);
    corm__buf_init(&h);
    corm__gen_source(s, &c);
    corm__gen_header(s, &h);
    const char *t = corm__buf_cstr(&c);
    has(t, ".table = \"we\\\"ird \\052/ ta\\\\ble \\?\\?/ \\303\\251\",\n");
    has(t, ".default_sql = \"'it''s \\\"quoted\\\" \\052/ /\\052 \\?\\?= \\\\ \\012\\011 end'\"");
    has(corm__buf_cstr(&h), "/* Odd: table \"we\\\"ird \\052/ ta\\\\ble \\?\\?/ \\303\\251\" */\n");
    assert_null(strstr(corm__buf_cstr(&h), "*/ ta"));
    /* the default as a C string: quotes undone, every byte escaped */
    has(corm__buf_cstr(&h),
        "(char *)\"it's \\\"quoted\\\" \\052/ /\\052 \\?\\?= \\\\ \\012\\011 end\"");
    corm__buf_free(&c);
    corm__buf_free(&h);
    corm_schema_free(s);
}

/* ---------------------------------------------------------------- files */

static void test_files(void **state)
{
    (void)state;
    corm_schema *s = load(BOOKSTORE);
    corm_error err;
    char dir[400], hpath[500], cpath[500];
    snprintf(dir, sizeof dir, "%s/out", tmpdir);
    snprintf(hpath, sizeof hpath, "%s/bookstore.h", dir);
    snprintf(cpath, sizeof cpath, "%s/bookstore.c", dir);
    assert_int_equal(corm__gen(s, dir, &err), CORM_OK); /* creates dir */
    char *h = read_all(hpath), *c = read_all(cpath);
    assert_non_null(h);
    assert_non_null(c);
    corm_buf want;
    corm__buf_init(&want);
    corm__gen_header(s, &want);
    assert_string_equal(h, corm__buf_cstr(&want));
    free(h);
    free(c);
    corm__buf_free(&want);

    /* unchanged files are left alone: mtime stays in the past */
    struct timespec old[2] = {{1000000, 0}, {1000000, 0}};
    assert_int_equal(utimensat(AT_FDCWD, hpath, old, 0), 0);
    assert_int_equal(corm__gen(s, dir, &err), CORM_OK);
    struct stat st;
    assert_int_equal(stat(hpath, &st), 0);
    assert_int_equal(st.st_mtime, 1000000);
    /* a changed one is replaced */
    FILE *f = fopen(cpath, "w");
    fputs("stale", f);
    fclose(f);
    assert_int_equal(corm__gen(s, dir, &err), CORM_OK);
    c = read_all(cpath);
    assert_non_null(strstr(c, "bookstore_schema"));
    free(c);
    char tmp[600];
    snprintf(tmp, sizeof tmp, "%s.tmp", cpath);
    assert_int_equal(access(tmp, F_OK), -1);

    /* I/O errors name the path */
    assert_int_equal(corm__gen(s, "/nonexistent-corm/dir", &err), CORM_IO);
    assert_non_null(strstr(err.message, "/nonexistent-corm/dir"));
    assert_int_equal(corm__gen(s, hpath, &err), CORM_IO); /* a file, not a dir */
    assert_non_null(strstr(err.message, hpath));
    assert_int_equal(corm__gen(NULL, dir, &err), CORM_MISUSE);
    corm_schema_free(s);
}

/* -------------------------------------------------------------- compile */

/* Generates schema at `in` into tmpdir/<case>, compiles it with a driver
** that dumps the static descriptors, and compares with the parsed dump. */
static void compile_and_compare(const char *in, const char *name, const char *extra_c)
{
    corm_schema *s = load(in);
    corm_error err;
    char dir[400], path[600], cmd[4000];
    snprintf(dir, sizeof dir, "%s/%s", tmpdir, name);
    assert_int_equal(corm__gen(s, dir, &err), CORM_OK);

    snprintf(path, sizeof path, "%s/main.c", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "#include \"%s.h\"\n#include \"schema_dump.h\"\n\n", s->name);
    fprintf(f,
            "int main(void)\n{\n"
            "    const corm_schema *s = &%s_schema;\n"
            "    for (int i = 0; i < s->nmodels; i++) {\n"
            "        const corm_model *m = s->models[i];\n"
            "        if (m->index != i || m->schema != s) return 2;\n"
            "        if (m->rel_offset + sizeof(void *) * (size_t)(m->nrels ? m->nrels : 1) > "
            "m->size) return 3;\n"
            "        for (int j = 0; j < m->nfields; j++)\n"
            "            if (m->fields[j].offset < sizeof(corm_obj) || m->fields[j].offset >= "
            "m->rel_offset) return 4;\n"
            "    }\n"
            "    dump_schema(stdout, s);\n"
            "    return 0;\n}\n",
            s->name);
    if (extra_c) fputs(extra_c, f);
    fclose(f);
    snprintf(
        cmd, sizeof cmd,
        "cc " CFLAGS
        " -Iinclude -Itests/unit/schema -I'%s' '%s/%s.c' '%s/main.c' -o '%s/prog' 2>'%s/cc.log'"
        " && '%s/prog' > '%s/dump.txt'",
        dir, dir, s->name, dir, dir, dir, dir, dir);
    int rc = system(cmd);
    if (rc != 0) {
        snprintf(path, sizeof path, "%s/cc.log", dir);
        char *log = read_all(path);
        fail_msg("compiling or running generated code failed (%d):\n%s", rc, log ? log : "");
    }
    char *got = NULL;
    size_t glen = 0;
    FILE *mem = open_memstream(&got, &glen);
    dump_schema(mem, s);
    fclose(mem);
    snprintf(path, sizeof path, "%s/dump.txt", dir);
    char *want = read_all(path);
    assert_non_null(want);
    assert_string_equal(want, got);
    free(want);
    free(got);
    corm_schema_free(s);
}

/* Every accessor kind, called with the right type: compiled, not linked. */
static const char *const bookstore_calls =
    "void use(Book *b, Author *a, Genre *g, User *u, Profile *p, OrderItem *oi);\n"
    "void use(Book *b, Author *a, Genre *g, User *u, Profile *p, OrderItem *oi)\n"
    "{\n"
    "    Author *x = book_author(b);\n"
    "    const corm_list *l1 = author_books(a), *l2 = book_genres(b), *l3 = genre_books(g);\n"
    "    corm_qs *q1 = author_books_qs(a), *q2 = genre_books_qs(g), *q3 = user_orders_qs(u);\n"
    "    Profile *pr = user_profile(u);\n"
    "    User *us = profile_user(p);\n"
    "    Product *pd = order_item_product(oi);\n"
    "    Book nb = CORM_NEW(Book);\n"
    "    (void)x; (void)l1; (void)l2; (void)l3; (void)q1; (void)q2; (void)q3;\n"
    "    (void)pr; (void)us; (void)pd; (void)nb;\n"
    "    (void)BOOK_F_TITLE; (void)BOOK_REL_GENRES; (void)ORDER_ITEM_REL_PRODUCT;\n"
    "}\n";

/* Migrations compiled in (corm gen --migrations): a short text as
** literals, one a line; a long one (past C's 4095-character literal) as a
** byte array; both compile with -pedantic and read back byte for byte. */
static void test_migrations_compiled_in(void **state)
{
    (void)state;
    corm_schema *s = load(BOOKSTORE);
    static char big[6000];
    for (size_t i = 0; i + 1 < sizeof big; i++) big[i] = (char)(i % 60 == 59 ? '\n' : 'a' + i % 26);
    big[sizeof big - 1] = '\0';
    const char *names[] = {"0001_initial", "0002_big"};
    const char *texts[] = {"create_model X\n    t: char(1) default='*/ \"?\"'\n", big};
    s->migration_names = names;
    s->migration_texts = texts;
    s->nmigrations = 2;
    corm_buf c;
    corm__buf_init(&c);
    corm__gen_source(s, &c);
    const char *t = corm__buf_cstr(&c);
    has(t, "static const char corm__migration_0[] =\n    \"create_model X\\012\"\n");
    has(t, "static const char corm__migration_1[] = {\n    97, 98, 99,");
    has(t, "    .migration_names = corm__migration_names,\n"
           "    .migration_texts = corm__migration_texts,\n    .nmigrations = 2\n};\n");
    corm__buf_free(&c);

    corm_error err;
    char dir[400], path[600], cmd[4000];
    snprintf(dir, sizeof dir, "%s/migs", tmpdir);
    assert_int_equal(corm__gen(s, dir, &err), CORM_OK);
    snprintf(path, sizeof path, "%s/main.c", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("#include \"bookstore.h\"\n#include <stdio.h>\n"
          "int main(void)\n{\n"
          "    for (int i = 0; i < bookstore_schema.nmigrations; i++)\n"
          "        printf(\"%s\\n%s\", bookstore_schema.migration_names[i],\n"
          "               bookstore_schema.migration_texts[i]);\n"
          "    return 0;\n}\n",
          f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cc " CFLAGS " -Iinclude -I'%s' '%s/bookstore.c' '%s/main.c' -o '%s/prog' "
             "2>'%s/cc.log' && '%s/prog' > '%s/out.txt'",
             dir, dir, dir, dir, dir, dir, dir);
    if (system(cmd) != 0) {
        snprintf(path, sizeof path, "%s/cc.log", dir);
        char *log = read_all(path);
        fail_msg("compiling generated migrations failed:\n%s", log ? log : "");
    }
    snprintf(path, sizeof path, "%s/out.txt", dir);
    char *got = read_all(path);
    assert_non_null(got);
    char *want = malloc(strlen(big) + 200);
    sprintf(want, "0001_initial\n%s0002_big\n%s", texts[0], big);
    assert_string_equal(got, want);
    free(got);
    free(want);
    s->nmigrations = 0;
    corm_schema_free(s);
}

static void test_compile_bookstore(void **state)
{
    (void)state;
    if (!have_cc()) skip();
    compile_and_compare(BOOKSTORE, "bookstore", NULL);
    /* accessors type-check (compile only: they call into libcorm) */
    char cmd[2000], path[600];
    snprintf(path, sizeof path, "%s/calls.c", tmpdir);
    FILE *f = fopen(path, "w");
    fprintf(f, "#include \"bookstore.h\"\n%s", bookstore_calls);
    fclose(f);
    snprintf(cmd, sizeof cmd, "cc " CFLAGS " -Iinclude -I'%s/bookstore' -c '%s' -o '%s/calls.o'",
             tmpdir, path, tmpdir);
    assert_int_equal(system(cmd), 0);
}

static void test_compile_valid_goldens(void **state)
{
    (void)state;
    if (!have_cc()) skip();
    static const char *const cases[] = {"hostile_strings",     "keywords_as_names",
                                        "layout_and_comments", "reverse_defaults",
                                        "self_relations",      "partial_indexes"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char in[300];
        snprintf(in, sizeof in, "tests/schema/valid/%s/input.corm", cases[i]);
        compile_and_compare(in, cases[i], NULL);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bookstore_header),
        cmocka_unit_test(test_bookstore_source),
        cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_files),
        cmocka_unit_test(test_compile_bookstore),
        cmocka_unit_test(test_compile_valid_goldens),
        cmocka_unit_test(test_migrations_compiled_in),
    };
    return cmocka_run_group_tests_name("gen", tests, setup, teardown);
}
