/*
** test_schema.c - the .corm language: descriptors of valid schemas asserted
** exactly, golden directories (tests/schema/valid/<case>/{input.corm,
** expected} dumps and tests/schema/invalid/<case>/{input.corm,error}
** messages), and robustness: every prefix of the bookstore schema and
** thousands of deterministic mutations parse to a schema or to an error
** with a position, never a crash or a leak (ASan/LSan check that).
**
** Run from the repository root.  CORM_UPDATE_GOLDEN=1 rewrites the golden
** files from the current output (review the diff before committing).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <corm.h>
#include "../../../src/schema/schema_int.h"
#include "schema_dump.h"

#define BOOKSTORE "examples/bookstore.corm"
#define GOLDEN "tests/schema"

/* ------------------------------------------------------------ helpers */

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *p = malloc(cap);
    size_t k;
    while (p && (k = fread(p + n, 1, cap - n, f)) > 0) {
        n += k;
        if (n == cap) p = realloc(p, cap *= 2);
    }
    fclose(f);
    if (!p) return NULL;
    p[n] = '\0';
    if (len) *len = n;
    return p;
}

static void write_all(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* The one format golden error files use. */
static const char *format_error(const corm_error *err, char *buf, size_t size)
{
    return corm_error_format(err, buf, size);
}

static corm_schema *parse(const char *text, corm_error *err)
{
    return corm_schema_parse(text, strlen(text), "test.corm", err);
}

/* Parses text, expecting success; fails the test with the error. */
static corm_schema *parse_ok(const char *text)
{
    corm_error err;
    corm_schema *s = parse(text, &err);
    if (!s) {
        char buf[2048];
        fail_msg("unexpected error: %s", format_error(&err, buf, sizeof buf));
    }
    return s;
}

/* Parses text, expecting an error; returns the formatted message. */
static const char *parse_err(const char *text, char *buf, size_t size)
{
    corm_error err;
    corm_schema *s = parse(text, &err);
    if (s) {
        corm_schema_free(s);
        fail_msg("expected an error for:\n%s", text);
    }
    assert_int_equal(err.rc, CORM_SCHEMA);
    return format_error(&err, buf, size);
}

static const corm_field *field(const corm_model *m, const char *name)
{
    const corm_field *f = corm__model_field(m, name, strlen(name));
    if (!f) fail_msg("no field %s.%s", m->name, name);
    return f;
}

static const corm_relation *rel(const corm_model *m, const char *name)
{
    const corm_relation *r = corm__model_rel(m, name, strlen(name));
    if (!r) fail_msg("no relation %s.%s", m->name, name);
    return r;
}

static const corm_model *model(const corm_schema *s, const char *name)
{
    const corm_model *m = corm_schema_model(s, name);
    if (!m) fail_msg("no model %s", name);
    return m;
}

/* ------------------------------------------------------------ bookstore */

static void test_bookstore(void **state)
{
    (void)state;
    corm_error err;
    corm_schema *s = corm_schema_parse_file(BOOKSTORE, &err);
    if (!s) {
        char buf[2048];
        fail_msg("%s", format_error(&err, buf, sizeof buf));
    }
    assert_string_equal(s->name, "bookstore");
    assert_int_equal(s->nmodels, 17);
    assert_int_equal(s->nm2m, 2);
    assert_string_equal(s->m2m_tables[0], "book_genres");
    assert_string_equal(s->m2m_tables[1], "post_tags");

    const corm_model *book = model(s, "Book");
    assert_string_equal(book->table, "book");
    assert_ptr_equal(book->schema, s);
    assert_ptr_equal(s->models[book->index], book);
    assert_int_equal(book->size, 0);
    assert_int_equal(book->rel_offset, 0);
    assert_int_equal(book->nfields, 10);
    assert_string_equal(book->fields[0].name, "id");
    assert_int_equal(book->fields[0].flags, CORM_FF_PK);
    assert_int_equal(book->fields[0].type, CORM_FT_BIGINT);
    const corm_field *title = field(book, "title");
    assert_int_equal(title->type, CORM_FT_CHAR);
    assert_int_equal(title->max_length, 200);
    assert_int_equal(title->flags, CORM_FF_DB_INDEX);
    const corm_field *author = field(book, "author");
    assert_string_equal(author->column, "author_id");
    assert_int_equal(author->type, CORM_FT_FK);
    assert_int_equal(author->flags, CORM_FF_DB_INDEX);
    assert_ptr_equal(field(book, "author_id"), author);
    assert_ptr_equal(field(book, "pk"), &book->fields[0]);
    assert_int_equal(field(book, "publisher")->flags, CORM_FF_NULL | CORM_FF_DB_INDEX);
    assert_int_equal(field(book, "isbn")->flags, CORM_FF_UNIQUE);
    const corm_field *price = field(book, "price");
    assert_int_equal(price->precision, 8);
    assert_int_equal(price->scale, 2);
    assert_string_equal(field(book, "featured")->default_sql, "FALSE");
    assert_null(corm__model_field(book, "genres", 6)); /* m2m: no column */

    assert_int_equal(book->nrels, 4);
    const corm_relation *ra = rel(book, "author");
    assert_int_equal(ra->kind, CORM_REL_FK);
    assert_int_equal(ra->slot, 0);
    assert_int_equal(ra->field, 2);
    assert_int_equal(ra->on_delete, CORM_CASCADE);
    assert_int_equal(author->rel, 0);
    const corm_model *am = corm__rel_target(book, ra);
    assert_string_equal(am->name, "Author");
    const corm_relation *back = &am->rels[ra->reverse];
    assert_string_equal(back->name, "books");
    assert_int_equal(back->kind, CORM_REL_REVERSE_FK);
    assert_int_equal(back->field, 2);
    assert_int_equal(back->reverse, 0);
    assert_ptr_equal(corm__rel_target(am, back), book);

    const corm_relation *rg = rel(book, "genres");
    assert_int_equal(rg->kind, CORM_REL_M2M);
    assert_int_equal(rg->field, -1);
    assert_int_equal(rg->slot, 2);
    assert_string_equal(rg->through, "book_genres");
    assert_string_equal(rg->through_src, "book_id");
    assert_string_equal(rg->through_dst, "genre_id");
    const corm_model *genre = corm__rel_target(book, rg);
    const corm_relation *gb = &genre->rels[rg->reverse];
    assert_int_equal(gb->kind, CORM_REL_REVERSE_M2M);
    assert_string_equal(gb->name, "books");
    assert_string_equal(gb->through_src, "genre_id");
    assert_string_equal(gb->through_dst, "book_id");
    assert_string_equal(rel(book, "reviews")->name, "reviews");
    assert_int_equal(rel(book, "reviews")->kind, CORM_REL_REVERSE_FK);

    /* indexes: db_index fields (fk ones included), then declared ones */
    assert_int_equal(book->nindexes, 6);
    assert_string_equal(book->indexes[0].name, "book_title_idx");
    assert_string_equal(book->indexes[1].name, "book_author_id_idx");
    assert_string_equal(book->indexes[1].fields[0], "author");
    assert_string_equal(book->indexes[4].name, "book_published_date_title_idx");
    assert_int_equal(book->indexes[4].nfields, 2);
    assert_string_equal(book->indexes[4].fields[1], "title");
    assert_string_equal(book->indexes[5].name, "book_published_date_desc_idx");
    assert_string_equal(book->indexes[5].fields[0], "-published_date");
    assert_false(book->indexes[5].unique);
    assert_int_equal(book->nordering, 0);

    const corm_model *user = model(s, "User");
    assert_string_equal(user->table, "users");
    assert_string_equal(model(s, "Order")->table, "orders");
    assert_string_equal(model(s, "OrderItem")->table, "order_item");
    assert_string_equal(model(s, "PaymentMethod")->table, "payment_method");
    /* self fk: forward first, its reverse among the reverses */
    assert_int_equal(rel(user, "account_manager")->slot, 0);
    const corm_relation *mu = rel(user, "managed_users");
    assert_int_equal(mu->kind, CORM_REL_REVERSE_FK);
    assert_int_equal(mu->target, user->index);
    assert_int_equal(mu->reverse, 0);
    assert_int_equal(rel(user, "profile")->kind, CORM_REL_REVERSE_O2O);
    assert_string_equal(rel(user, "comment_set")->name, "comment_set"); /* default */
    assert_string_equal(field(user, "is_active")->default_sql, "TRUE");
    assert_string_equal(field(user, "tenant_id")->default_sql, "1");
    const corm_field *pu = field(model(s, "Profile"), "user");
    assert_int_equal(pu->type, CORM_FT_O2O);
    assert_int_equal(pu->flags, CORM_FF_UNIQUE); /* unique, so no extra index */
    assert_int_equal(model(s, "Profile")->nindexes, 0);
    assert_string_equal(field(model(s, "Order"), "status")->default_sql, "'new'");
    assert_int_equal(field(model(s, "Comment"), "created_at")->flags, CORM_FF_AUTO_NOW_ADD);
    assert_string_equal(rel(model(s, "PaymentMethod"), "order_set")->name, "order_set");

    /* slots are 0..nrels-1 and every reverse points back */
    for (int i = 0; i < s->nmodels; i++) {
        const corm_model *m = s->models[i];
        for (int r = 0; r < m->nrels; r++) {
            const corm_relation *x = &m->rels[r];
            assert_int_equal(x->slot, r);
            const corm_model *t = corm__rel_target(m, x);
            assert_non_null(t);
            assert_true(x->reverse >= 0 && x->reverse < t->nrels);
            assert_int_equal(t->rels[x->reverse].reverse, r);
            assert_int_equal(t->rels[x->reverse].target, m->index);
        }
        for (int f = 0; f < m->nfields; f++)
            if (m->fields[f].rel >= 0) assert_int_equal(m->rels[m->fields[f].rel].field, f);
    }

    corm_buf names;
    corm__buf_init(&names);
    corm__model_names(book, &names);
    assert_string_equal(corm__buf_cstr(&names),
                        "id, title, author, publisher, published_date, isbn, pages, price, "
                        "description, featured, genres, reviews");
    corm__buf_free(&names);
    assert_null(corm_schema_model(s, "Nope"));
    assert_null(corm_schema_model(NULL, "Book"));
    corm_schema_free(s);
    corm_schema_free(NULL);
}

/* ------------------------------------------------------- types, options */

static void test_all_types(void **state)
{
    (void)state;
    corm_schema *s =
        parse_ok("// every type and option\n"
                 "model Target { name: text }\n"
                 "model Thing {\n"
                 "  a: integer default=-42\n"
                 "  b: bigint null default=9223372036854775807\n"
                 "  c: float default=1.5e3\n"
                 "  d: decimal(10, 2) default=-12345678.99\n"
                 "  e: bool default=true\n"
                 "  f: char(5) unique default=\"it's\"\n"
                 "  g: text null default=null\n"
                 "  h: email default=\"a@b.c\"\n"
                 "  i: date db_index default=\"2024-02-29\"\n"
                 "  j: datetime auto_now\n"
                 "  k: datetime auto_now_add\n"
                 "  l: json default=\"{\\\"a\\\": [1, 2.5e-1, true, null, \\\"\\\\u00e9\\\"]}\"\n"
                 "  m: blob null\n"
                 "  n: fk(Target, on_delete=protect, db_index) default=7\n"
                 "  o: one_to_one(Target, on_delete=restrict, related_name=thing_o, null)\n"
                 "  p: m2m(Target, related_name=things)\n"
                 "  q: char(3) default=\"\xc3\xa9t\xc3\xa9\"\n"
                 "  r: integer default=-2147483648\n"
                 "  s: bigint default=-9223372036854775808\n"
                 "}\n");
    const corm_model *m = model(s, "Thing");
    assert_int_equal(m->nfields, 19); /* id + a..s without p */
    struct {
        const char *name;
        corm_ftype type;
        unsigned flags;
        const char *def;
    } want[] = {
        {"a", CORM_FT_INTEGER, CORM_FF_HAS_DEFAULT, "-42"},
        {"b", CORM_FT_BIGINT, CORM_FF_NULL | CORM_FF_HAS_DEFAULT, "9223372036854775807"},
        {"c", CORM_FT_FLOAT, CORM_FF_HAS_DEFAULT, "1.5e3"},
        {"d", CORM_FT_DECIMAL, CORM_FF_HAS_DEFAULT, "-12345678.99"},
        {"e", CORM_FT_BOOL, CORM_FF_HAS_DEFAULT, "TRUE"},
        {"f", CORM_FT_CHAR, CORM_FF_UNIQUE | CORM_FF_HAS_DEFAULT, "'it''s'"},
        {"g", CORM_FT_TEXT, CORM_FF_NULL | CORM_FF_HAS_DEFAULT, "NULL"},
        {"h", CORM_FT_EMAIL, CORM_FF_HAS_DEFAULT, "'a@b.c'"},
        {"i", CORM_FT_DATE, CORM_FF_DB_INDEX | CORM_FF_HAS_DEFAULT, "'2024-02-29'"},
        {"j", CORM_FT_DATETIME, CORM_FF_AUTO_NOW, NULL},
        {"k", CORM_FT_DATETIME, CORM_FF_AUTO_NOW_ADD, NULL},
        {"l", CORM_FT_JSON, CORM_FF_HAS_DEFAULT, "'{\"a\": [1, 2.5e-1, true, null, \"\\u00e9\"]}'"},
        {"m", CORM_FT_BLOB, CORM_FF_NULL, NULL},
        {"n", CORM_FT_FK, CORM_FF_DB_INDEX | CORM_FF_HAS_DEFAULT, "7"},
        {"o", CORM_FT_O2O, CORM_FF_NULL | CORM_FF_UNIQUE, NULL},
        {"q", CORM_FT_CHAR, CORM_FF_HAS_DEFAULT, "'\xc3\xa9t\xc3\xa9'"},
        {"r", CORM_FT_INTEGER, CORM_FF_HAS_DEFAULT, "-2147483648"},
        {"s", CORM_FT_BIGINT, CORM_FF_HAS_DEFAULT, "-9223372036854775808"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        const corm_field *f = &m->fields[i + 1];
        assert_string_equal(f->name, want[i].name);
        assert_int_equal(f->type, want[i].type);
        assert_int_equal(f->flags, want[i].flags);
        if (want[i].def) assert_string_equal(f->default_sql, want[i].def);
        else assert_null(f->default_sql);
        assert_int_equal(f->offset, 0);
    }
    assert_int_equal(field(m, "f")->max_length, 5);
    assert_int_equal(field(m, "d")->precision, 10);
    assert_int_equal(field(m, "d")->scale, 2);
    assert_string_equal(field(m, "n")->column, "n_id");
    assert_ptr_equal(field(m, "o_id"), field(m, "o"));
    assert_int_equal(rel(m, "n")->on_delete, CORM_PROTECT);
    assert_int_equal(rel(m, "o")->on_delete, CORM_RESTRICT);
    assert_int_equal(rel(m, "p")->kind, CORM_REL_M2M);
    assert_string_equal(rel(m, "p")->through, "thing_p");
    /* reverse defaults as Django: thing_set (fk), custom (o2o), thing_set (m2m) */
    const corm_model *t = model(s, "Target");
    assert_int_equal(t->nrels, 3);
    assert_string_equal(t->rels[0].name, "thing_set");
    assert_int_equal(t->rels[0].kind, CORM_REL_REVERSE_FK);
    assert_string_equal(t->rels[1].name, "thing_o");
    assert_int_equal(t->rels[1].kind, CORM_REL_REVERSE_O2O);
    assert_int_equal(t->rels[2].kind, CORM_REL_REVERSE_M2M);
    assert_string_equal(t->rels[2].name, "things");
    corm_schema_free(s);
}

static void test_relations(void **state)
{
    (void)state;
    corm_schema *s = parse_ok("model User { name: text }\n"
                              "model Profile { owner: one_to_one(User, on_delete=cascade) }\n"
                              "model OrderItem {\n"
                              "  buyer: fk(User, on_delete=cascade)\n"
                              "  friends: m2m(OrderItem)\n"
                              "  tags: m2m(User, related_name=tagged_items)\n"
                              "}\n");
    const corm_model *u = model(s, "User");
    assert_int_equal(u->nrels, 3);
    assert_string_equal(u->rels[0].name, "profile"); /* reverse o2o: lowercase model */
    assert_int_equal(u->rels[0].kind, CORM_REL_REVERSE_O2O);
    assert_int_equal(u->rels[0].field, 1);
    assert_string_equal(u->rels[1].name, "orderitem_set"); /* Django: model_name + _set */
    assert_string_equal(u->rels[2].name, "tagged_items");
    assert_string_equal(u->rels[2].through, "order_item_tags");
    assert_string_equal(u->rels[2].through_src, "user_id");
    assert_string_equal(u->rels[2].through_dst, "orderitem_id");
    const corm_model *oi = model(s, "OrderItem");
    assert_string_equal(oi->table, "order_item");
    /* self m2m: from_/to_ columns, reverse swaps them */
    const corm_relation *fr = rel(oi, "friends");
    assert_string_equal(fr->through, "order_item_friends");
    assert_string_equal(fr->through_src, "from_orderitem_id");
    assert_string_equal(fr->through_dst, "to_orderitem_id");
    const corm_relation *rf = &oi->rels[fr->reverse];
    assert_string_equal(rf->name, "orderitem_set");
    assert_int_equal(rf->kind, CORM_REL_REVERSE_M2M);
    assert_string_equal(rf->through_src, "to_orderitem_id");
    assert_string_equal(rf->through_dst, "from_orderitem_id");
    assert_int_equal(oi->nrels, 4);
    assert_int_equal(s->nm2m, 2);
    assert_int_equal(model(s, "Profile")->nindexes, 0);
    corm_schema_free(s);
}

static void test_indexes_ordering(void **state)
{
    (void)state;
    corm_schema *s = parse_ok("model A { name: text }\n"
                              "model Event {\n"
                              "  table \"my events\"\n"
                              "  ordering -start, pk\n"
                              "  start: datetime\n"
                              "  owner: fk(A, on_delete=cascade)\n"
                              "  code: char(10)\n"
                              "  index (owner_id, -start)\n"
                              "  unique index by_code (code)\n"
                              "  unique (owner, code)\n"
                              "  index recent (-start, id)\n"
                              "  unique: bool\n"        /* a field called unique */
                              "  index: integer null\n" /* and one called index */
                              "  table2: text\n"
                              "}\n");
    const corm_model *m = model(s, "Event");
    assert_string_equal(m->table, "my events");
    assert_int_equal(m->nordering, 2);
    assert_string_equal(m->ordering[0], "-start");
    assert_string_equal(m->ordering[1], "id");
    assert_int_equal(m->nindexes, 5);
    assert_string_equal(m->indexes[0].name, "my events_owner_id_idx");
    assert_string_equal(m->indexes[1].name, "my events_owner_id_start_desc_idx");
    assert_string_equal(m->indexes[1].fields[0], "owner");
    assert_string_equal(m->indexes[1].fields[1], "-start");
    assert_string_equal(m->indexes[2].name, "by_code");
    assert_true(m->indexes[2].unique);
    assert_string_equal(m->indexes[3].name, "my events_owner_id_code_uniq");
    assert_true(m->indexes[3].unique);
    assert_int_equal(m->indexes[3].nfields, 2);
    assert_string_equal(m->indexes[4].name, "recent");
    assert_string_equal(m->indexes[4].fields[1], "id");
    assert_int_equal(field(m, "unique")->type, CORM_FT_BOOL);
    assert_int_equal(field(m, "index")->flags, CORM_FF_NULL);
    corm_schema_free(s);
}

static void test_long_names(void **state)
{
    (void)state;
    char text[1024];
    const char *name63 = "abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabc";
    snprintf(text, sizeof text,
             "model Tag { name: text }\n"
             "model Article { %s: m2m(Tag)\n "
             "db_indexed_field_with_a_rather_long_name_for_a_column: text db_index }\n",
             name63);
    corm_schema *s = parse_ok(text);
    const corm_model *m = model(s, "Article");
    const char *through = m->rels[0].through;
    assert_int_equal(strlen(through), 63);
    assert_memory_equal(through, "article_abcdefghij", 18);
    assert_int_equal(through[54], '_');
    assert_int_equal(strlen(m->indexes[0].name), 63);
    corm_schema_free(s);
}

static void test_schema_names(void **state)
{
    (void)state;
    struct {
        const char *path, *name;
    } cases[] = {{"-", "schema"},
                 {NULL, "schema"},
                 {"x/y/bookstore.corm", "bookstore"},
                 {"book-store.v2.corm", "book_store_v2"},
                 {"2shop.corm", "s_2shop"},
                 {"dir.d/.corm", "_corm"},
                 {"plain", "plain"}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_error err;
        const char *text = "model A {}";
        corm_schema *s = corm_schema_parse(text, strlen(text), cases[i].path, &err);
        assert_non_null(s);
        assert_string_equal(s->name, cases[i].name);
        assert_int_equal(s->hash, corm__hash_str(text, strlen(text)));
        assert_int_equal(s->models[0]->nfields, 1);
        assert_int_equal(s->models[0]->nrels, 0);
        assert_null(s->models[0]->rels);
        corm_schema_free(s);
    }
    corm_error err;
    assert_null(corm_schema_parse("model A {}", 10, "corm.corm", &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_null(corm_schema_parse(NULL, 3, "-", &err));
    assert_int_equal(err.rc, CORM_MISUSE);
    assert_null(corm_schema_parse(NULL, 0, "-", &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.col, 1);
    /* NULL err is allowed */
    assert_null(corm_schema_parse("x", 1, "-", NULL));
}

static void test_naming_helpers(void **state)
{
    (void)state;
    corm_arena a;
    corm__arena_init(&a, 0);
    assert_string_equal(corm__lower_snake(&a, "OrderItem"), "order_item");
    assert_string_equal(corm__lower_snake(&a, "HTTPRequest"), "http_request");
    assert_string_equal(corm__lower_snake(&a, "Book2Author"), "book2_author");
    assert_string_equal(corm__lower_snake(&a, "Already_Snake"), "already_snake");
    assert_string_equal(corm__lower_snake(&a, "URL"), "url");
    assert_string_equal(corm__lower(&a, "OrderItem"), "orderitem");
    corm__arena_free(&a);
    assert_string_equal(corm__ftype_name(CORM_FT_O2O), "one_to_one");
    assert_string_equal(corm__ftype_name(CORM_FT_DECIMAL), "decimal");
    assert_string_equal(corm__ftype_ctype(CORM_FT_INTEGER), "int32_t");
    assert_string_equal(corm__ftype_ctype(CORM_FT_FK), "int64_t");
    assert_string_equal(corm__ftype_ctype(CORM_FT_DATE), "char *");
    assert_string_equal(corm__ftype_ctype(CORM_FT_BLOB), "corm_blob");
    assert_string_equal(corm__ftype_ctype(CORM_FT_BOOL), "bool");
    assert_null(corm__model_field(NULL, "x", 1));
    assert_null(corm__model_rel(NULL, "x", 1));
    assert_null(corm__rel_target(NULL, NULL));
}

static void test_file_errors(void **state)
{
    (void)state;
    corm_error err;
    assert_null(corm_schema_parse_file("tests/schema/no/such/file.corm", &err));
    assert_int_equal(err.rc, CORM_IO);
    assert_string_equal(err.file, "tests/schema/no/such/file.corm");
    assert_non_null(strstr(err.message, "cannot open"));
    assert_null(corm_schema_parse_file("tests/schema", &err)); /* a directory */
    assert_int_equal(err.rc, CORM_IO);
    assert_null(corm_schema_parse_file(NULL, &err));
    assert_int_equal(err.rc, CORM_MISUSE);
}

static void test_messages(void **state)
{
    (void)state;
    char buf[2048];
    /* quoted tokens are escaped; positions count bytes from 1 */
    assert_string_equal(parse_err("model A {\n\tx: integer default=\"a\\nb\"\n}", buf, sizeof buf),
                        "test.corm:2:21: default \"a\\nb\" does not fit integer field 'x'\n"
                        "hint: write a whole number: default=0");
    assert_string_equal(
        parse_err("\xff", buf, sizeof buf),
        "test.corm:1:1: unexpected character '\\xFF'\n"
        "hint: schema files are text: names use letters, digits and _, other bytes go in strings");
    assert_string_equal(parse_err("model A { b: fk(Athor, on_delete=cascade) }", buf, sizeof buf),
                        "test.corm:1:17: unknown model 'Athor' in fk field 'A.b'\n"
                        "hint: the models are: A");
    assert_string_equal(
        parse_err("model Author {}\nmodel A { b: fk(Athor, on_delete=cascade) }", buf, sizeof buf),
        "test.corm:2:17: unknown model 'Athor' in fk field 'A.b'\n"
        "hint: did you mean 'Author'? the models are: Author, A");
}

/* --------------------------------------------------------------- goldens */

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted case directories of GOLDEN/<kind>. */
static int list_cases(const char *kind, char ***out)
{
    char dir[512];
    snprintf(dir, sizeof dir, "%s/%s", GOLDEN, kind);
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot open %s (run from the repository root)", dir);
    char **names = NULL;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        names = realloc(names, (size_t)(n + 1) * sizeof *names);
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n) qsort(names, (size_t)n, sizeof *names, cmp_str);
    *out = names;
    return n;
}

static bool updating(void) { return getenv("CORM_UPDATE_GOLDEN") != NULL; }

static void strip_nl(char *s)
{
    size_t n = strlen(s);
    while (n && s[n - 1] == '\n') s[--n] = '\0';
}

static void test_invalid_goldens(void **state)
{
    (void)state;
    char **cases;
    int n = list_cases("invalid", &cases), failed = 0;
    assert_true(n >= 25);
    for (int i = 0; i < n; i++) {
        char path[600], epath[600], got[2048];
        snprintf(path, sizeof path, "%s/invalid/%s/input.corm", GOLDEN, cases[i]);
        snprintf(epath, sizeof epath, "%s/invalid/%s/error", GOLDEN, cases[i]);
        size_t len;
        char *text = read_all(path, &len);
        if (!text) fail_msg("cannot read %s", path);
        corm_error err;
        corm_schema *s = corm_schema_parse(text, len, "input.corm", &err);
        if (s) {
            fprintf(stderr, "%s: parsed, but an error was expected\n", cases[i]);
            corm_schema_free(s);
            failed++;
        } else {
            format_error(&err, got, sizeof got);
            if (err.line <= 0 || err.col <= 0 || err.rc != CORM_SCHEMA) {
                fprintf(stderr, "%s: no position or wrong rc: %s\n", cases[i], got);
                failed++;
            }
            if (updating()) {
                char line[2100];
                snprintf(line, sizeof line, "%s\n", got);
                write_all(epath, line);
            }
            char *want = read_all(epath, NULL);
            if (!want) {
                fprintf(stderr, "%s: no error file; got:\n%s\n", cases[i], got);
                failed++;
            } else {
                strip_nl(want);
                if (strcmp(want, got) != 0) {
                    fprintf(stderr, "%s:\n--- expected\n%s\n+++ got\n%s\n", cases[i], want, got);
                    failed++;
                }
                free(want);
            }
        }
        free(text);
        free(cases[i]);
    }
    free(cases);
    assert_int_equal(failed, 0);
}

static void test_valid_goldens(void **state)
{
    (void)state;
    char **cases;
    int n = list_cases("valid", &cases), failed = 0;
    for (int i = 0; i < n; i++) {
        char path[600], epath[600];
        snprintf(path, sizeof path, "%s/valid/%s/input.corm", GOLDEN, cases[i]);
        snprintf(epath, sizeof epath, "%s/valid/%s/expected", GOLDEN, cases[i]);
        corm_error err;
        corm_schema *s = corm_schema_parse_file(path, &err);
        if (!s) {
            char buf[2048];
            fprintf(stderr, "%s: %s\n", cases[i], format_error(&err, buf, sizeof buf));
            failed++;
        } else {
            char *got = NULL;
            size_t glen = 0;
            FILE *mem = open_memstream(&got, &glen);
            dump_schema(mem, s);
            fclose(mem);
            if (updating()) write_all(epath, got);
            char *want = read_all(epath, NULL);
            if (!want || strcmp(want, got) != 0) {
                fprintf(stderr, "%s:\n--- expected\n%s\n+++ got\n%s\n", cases[i],
                        want ? want : "(none)", got);
                failed++;
            }
            free(want);
            free(got);
            corm_schema_free(s);
        }
        free(cases[i]);
    }
    free(cases);
    assert_int_equal(failed, 0);
}

/* ------------------------------------------------------------ robustness */

/* Either a schema or an error with a position, a message and rc SCHEMA. */
static void check_outcome(const char *text, size_t len)
{
    corm_error err;
    corm_schema *s = corm_schema_parse(text, len, "fuzz.corm", &err);
    if (s) {
        assert_int_equal(err.rc, CORM_OK);
        assert_true(s->nmodels > 0);
        corm_schema_free(s);
        return;
    }
    if (err.rc != CORM_SCHEMA || err.line <= 0 || err.col <= 0 || !err.message[0]) {
        fprintf(stderr, "bad outcome rc=%d line=%d col=%d msg=%s for input:\n%.*s\n", err.rc,
                err.line, err.col, err.message, (int)len, text);
        fail();
    }
    /* the position is inside the text (or just past its end) */
    int lines = 1;
    for (size_t i = 0; i < len; i++) lines += text[i] == '\n';
    assert_true(err.line <= lines);
}

static void test_prefixes(void **state)
{
    (void)state;
    size_t len;
    char *text = read_all(BOOKSTORE, &len);
    assert_non_null(text);
    for (size_t n = 0; n <= len; n++) {
        char *copy = malloc(n ? n : 1); /* exact size: ASan sees any overread */
        memcpy(copy, text, n);
        check_outcome(copy, n);
        free(copy);
    }
    free(text);
}

static uint64_t rng_state;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}

static void test_mutations(void **state)
{
    (void)state;
    static const char *const tokens[] = {"model",
                                         "{",
                                         "}",
                                         "(",
                                         ")",
                                         ":",
                                         ",",
                                         "=",
                                         "-",
                                         "\"",
                                         "\\",
                                         "fk",
                                         "m2m",
                                         "one_to_one",
                                         "null",
                                         "unique",
                                         "index",
                                         "table",
                                         "ordering",
                                         "default",
                                         "on_delete",
                                         "related_name",
                                         "cascade",
                                         "set_null",
                                         "99999999999999999999999",
                                         "1.5e",
                                         "#",
                                         "//",
                                         "\n",
                                         "\xc3",
                                         "\x00",
                                         "id",
                                         "pk",
                                         "Book",
                                         "char(",
                                         "decimal(1,",
                                         "\"\xff\"",
                                         "int",
                                         "__"};
    size_t len;
    char *base = read_all(BOOKSTORE, &len);
    assert_non_null(base);
    rng_state = 20240531;
    for (int iter = 0; iter < 4000; iter++) {
        size_t cap = len + 512;
        char *buf = malloc(cap);
        memcpy(buf, base, len);
        size_t n = len;
        int edits = 1 + (int)(rnd() % 4);
        for (int e = 0; e < edits; e++) {
            size_t at = n ? rnd() % n : 0;
            switch (rnd() % 5) {
            case 0: /* flip a byte to anything */
                if (n) buf[at] = (char)(rnd() & 0xFF);
                break;
            case 1: /* delete a run */
                if (n) {
                    size_t k = 1 + rnd() % 16;
                    if (at + k > n) k = n - at;
                    memmove(buf + at, buf + at + k, n - at - k);
                    n -= k;
                }
                break;
            case 2: { /* insert a token */
                const char *t = tokens[rnd() % (sizeof tokens / sizeof tokens[0])];
                size_t k = strlen(t) ? strlen(t) : 1;
                if (n + k <= cap) {
                    memmove(buf + at + k, buf + at, n - at);
                    memcpy(buf + at, t, k);
                    n += k;
                }
                break;
            }
            case 3: /* duplicate a chunk */
                if (n) {
                    size_t k = 1 + rnd() % 64;
                    if (at + k > n) k = n - at;
                    if (n + k <= cap) {
                        memmove(buf + at + k, buf + at, n - at);
                        n += k;
                    }
                }
                break;
            default: /* truncate */ n = at; break;
            }
        }
        char *exact = malloc(n ? n : 1);
        memcpy(exact, buf, n);
        check_outcome(exact, n);
        free(exact);
        free(buf);
    }
    /* pure noise, all byte values */
    for (int iter = 0; iter < 1000; iter++) {
        size_t n = rnd() % 200;
        char *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++) buf[i] = (char)(rnd() & 0xFF);
        check_outcome(buf, n);
        free(buf);
    }
    free(base);
}

static void test_deep_and_huge(void **state)
{
    (void)state;
    /* long lines of garbage, many models, huge numbers and strings */
    size_t n = 200000;
    char *buf = malloc(n + 1);
    memset(buf, '(', n);
    check_outcome(buf, n);
    memset(buf, '9', n);
    check_outcome(buf, n);
    buf[0] = '"';
    memset(buf + 1, 'a', n - 1);
    check_outcome(buf, n);
    free(buf);
    corm_buf b;
    corm__buf_init(&b);
    for (int i = 0; i < 5000; i++)
        corm__buf_addf(&b, "model M%d { f: fk(M%d, on_delete=cascade) }\n", i, i ? i - 1 : 0);
    corm_error err;
    corm_schema *s = corm_schema_parse(b.p, b.len, "-", &err);
    assert_null(s);
    assert_non_null(strstr(err.message, "more than 4096 models"));
    corm__buf_reset(&b);
    for (int i = 0; i < 2000; i++)
        corm__buf_addf(&b, "model M%d { f: fk(M%d, on_delete=cascade) }\n", i, i ? i - 1 : 0);
    s = corm_schema_parse(b.p, b.len, "-", &err);
    assert_non_null(s);
    assert_int_equal(s->nmodels, 2000);
    corm_schema_free(s);
    corm__buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bookstore),      cmocka_unit_test(test_all_types),
        cmocka_unit_test(test_relations),      cmocka_unit_test(test_indexes_ordering),
        cmocka_unit_test(test_long_names),     cmocka_unit_test(test_schema_names),
        cmocka_unit_test(test_naming_helpers), cmocka_unit_test(test_file_errors),
        cmocka_unit_test(test_messages),       cmocka_unit_test(test_invalid_goldens),
        cmocka_unit_test(test_valid_goldens),  cmocka_unit_test(test_prefixes),
        cmocka_unit_test(test_mutations),      cmocka_unit_test(test_deep_and_huge),
    };
    return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
