/*
** test_migrate.c - corm_migrate on a real SQLite file: the exact tables,
** columns, defaults, constraints and indexes it creates (read back with
** the sqlite3 API, independent of corm), that a second run is a no-op, and
** that a failure anywhere rolls the whole migration back.
**
** The main schema is written as static descriptors, the way `corm gen`
** emits them; two more come from the schema parser (src/schema), one of
** them the demo's examples/bookstore.corm (run from the repository root).
*/
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <corm.h>
#include "migrate/migrate_int.h"
#include "db/db_int.h"

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------ schema */

/*
** model Country { name: char(50) unique; code: char(2) db_index }
** model Author  { name: char(100); email: email unique;
**                 country: fk(Country, on_delete=set_null) null;
**                 bio: text null; data: json null }
** model Genre   { name: char(50) unique }
** model Book    { title: char(200); isbn: char(13) unique; published_date: date;
**                 pages: integer default=0; price: decimal(6,2) null;
**                 status: char(10) default="draft"; in_print: bool default=true;
**                 cover: blob null; created: datetime auto_now_add;
**                 author: fk(Author); genres: m2m(Genre)
**                 index book_pub_title_idx (published_date, title)
**                 index book_pub_desc_idx (-published_date)
**                 unique book_title_author_uniq (title, author)
**                 unique book_pages_isbn_uniq (-pages, isbn) }
** model Profile { author: one_to_one(Author); website: char(200) null }
*/
static const corm_schema shop_schema;

#define ID_FIELD                                                                             \
    {                                                                                        \
        .name = "id", .column = "id", .type = CORM_FT_BIGINT, .flags = CORM_FF_PK, .rel = -1 \
    }

static const corm_field country_fields[] = {
    ID_FIELD,
    {.name = "name",
     .column = "name",
     .type = CORM_FT_CHAR,
     .flags = CORM_FF_UNIQUE,
     .max_length = 50,
     .rel = -1},
    {.name = "code",
     .column = "code",
     .type = CORM_FT_CHAR,
     .flags = CORM_FF_DB_INDEX,
     .max_length = 2,
     .rel = -1},
};
static const corm_relation country_rels[] = {
    {.name = "author_set",
     .kind = CORM_REL_REVERSE_FK,
     .target = 1,
     .field = 3,
     .reverse = 0,
     .slot = 0},
};
/* As the schema validator does, the db_index index is listed too: the
** migrator must not create it twice. */
static const char *const ix_code[] = {"code"};
static const corm_index country_indexes[] = {
    {.name = "country_code_idx", .fields = ix_code, .nfields = 1},
};
static const corm_model country_model = {
    .name = "Country",
    .table = "country",
    .schema = &shop_schema,
    .index = 0,
    .fields = country_fields,
    .nfields = 3,
    .rels = country_rels,
    .nrels = 1,
    .indexes = country_indexes,
    .nindexes = 1,
};

static const corm_field author_fields[] = {
    ID_FIELD,
    {.name = "name", .column = "name", .type = CORM_FT_CHAR, .max_length = 100, .rel = -1},
    {.name = "email", .column = "email", .type = CORM_FT_EMAIL, .flags = CORM_FF_UNIQUE, .rel = -1},
    {.name = "country",
     .column = "country_id",
     .type = CORM_FT_FK,
     .flags = CORM_FF_NULL,
     .rel = 0},
    {.name = "bio", .column = "bio", .type = CORM_FT_TEXT, .flags = CORM_FF_NULL, .rel = -1},
    {.name = "data", .column = "data", .type = CORM_FT_JSON, .flags = CORM_FF_NULL, .rel = -1},
};
static const corm_relation author_rels[] = {
    {.name = "country",
     .kind = CORM_REL_FK,
     .target = 0,
     .field = 3,
     .reverse = 0,
     .slot = 0,
     .on_delete = CORM_SET_NULL},
    {.name = "book_set",
     .kind = CORM_REL_REVERSE_FK,
     .target = 3,
     .field = 10,
     .reverse = 0,
     .slot = 1},
    {.name = "profile",
     .kind = CORM_REL_REVERSE_O2O,
     .target = 4,
     .field = 1,
     .reverse = 0,
     .slot = 2},
};
static const corm_model author_model = {
    .name = "Author",
    .table = "author",
    .schema = &shop_schema,
    .index = 1,
    .fields = author_fields,
    .nfields = 6,
    .rels = author_rels,
    .nrels = 3,
};

static const corm_field genre_fields[] = {
    ID_FIELD,
    {.name = "name",
     .column = "name",
     .type = CORM_FT_CHAR,
     .flags = CORM_FF_UNIQUE,
     .max_length = 50,
     .rel = -1},
};
static const corm_relation genre_rels[] = {
    {.name = "book_set",
     .kind = CORM_REL_REVERSE_M2M,
     .target = 3,
     .field = -1,
     .reverse = 1,
     .slot = 0,
     .through = "book_genres",
     .through_src = "genre_id",
     .through_dst = "book_id"},
};
static const corm_model genre_model = {
    .name = "Genre",
    .table = "genre",
    .schema = &shop_schema,
    .index = 2,
    .fields = genre_fields,
    .nfields = 2,
    .rels = genre_rels,
    .nrels = 1,
};

static const corm_field book_fields[] = {
    ID_FIELD,
    {.name = "title", .column = "title", .type = CORM_FT_CHAR, .max_length = 200, .rel = -1},
    {.name = "isbn",
     .column = "isbn",
     .type = CORM_FT_CHAR,
     .flags = CORM_FF_UNIQUE,
     .max_length = 13,
     .rel = -1},
    {.name = "published_date", .column = "published_date", .type = CORM_FT_DATE, .rel = -1},
    {.name = "pages",
     .column = "pages",
     .type = CORM_FT_INTEGER,
     .flags = CORM_FF_HAS_DEFAULT,
     .default_sql = "0",
     .rel = -1},
    {.name = "price",
     .column = "price",
     .type = CORM_FT_DECIMAL,
     .flags = CORM_FF_NULL,
     .precision = 6,
     .scale = 2,
     .rel = -1},
    {.name = "status",
     .column = "status",
     .type = CORM_FT_CHAR,
     .flags = CORM_FF_HAS_DEFAULT,
     .max_length = 10,
     .default_sql = "'draft'",
     .rel = -1},
    {.name = "in_print",
     .column = "in_print",
     .type = CORM_FT_BOOL,
     .flags = CORM_FF_HAS_DEFAULT,
     .default_sql = "TRUE",
     .rel = -1}, /* as the schema parser writes it */
    {.name = "cover", .column = "cover", .type = CORM_FT_BLOB, .flags = CORM_FF_NULL, .rel = -1},
    {.name = "created",
     .column = "created",
     .type = CORM_FT_DATETIME,
     .flags = CORM_FF_AUTO_NOW_ADD,
     .rel = -1},
    {.name = "author",
     .column = "author_id",
     .type = CORM_FT_FK,
     .flags = CORM_FF_DB_INDEX,
     .rel = 0},
};
static const corm_relation book_rels[] = {
    {.name = "author",
     .kind = CORM_REL_FK,
     .target = 1,
     .field = 10,
     .reverse = 1,
     .slot = 0,
     .on_delete = CORM_CASCADE},
    {.name = "genres",
     .kind = CORM_REL_M2M,
     .target = 2,
     .field = -1,
     .reverse = 0,
     .slot = 1,
     .through = "book_genres",
     .through_src = "book_id",
     .through_dst = "genre_id"},
};
static const char *const ix_author[] = {"author"};
static const char *const ix_pub_title[] = {"published_date", "title"};
static const char *const ix_pub_desc[] = {"-published_date"};
static const char *const ix_title_author[] = {"title", "author"};
static const char *const ix_pages_isbn[] = {"-pages", "isbn"};
static const corm_index book_indexes[] = {
    {.name = "book_author_id_idx", .fields = ix_author, .nfields = 1},
    {.name = "book_pub_title_idx", .fields = ix_pub_title, .nfields = 2},
    {.name = "book_pub_desc_idx", .fields = ix_pub_desc, .nfields = 1},
    {.name = "book_title_author_uniq", .fields = ix_title_author, .nfields = 2, .unique = true},
    {.name = "book_pages_isbn_uniq", .fields = ix_pages_isbn, .nfields = 2, .unique = true},
};
static const corm_model book_model = {
    .name = "Book",
    .table = "book",
    .schema = &shop_schema,
    .index = 3,
    .fields = book_fields,
    .nfields = 11,
    .rels = book_rels,
    .nrels = 2,
    .indexes = book_indexes,
    .nindexes = 5,
};

static const corm_field profile_fields[] = {
    ID_FIELD,
    {.name = "author",
     .column = "author_id",
     .type = CORM_FT_O2O,
     .flags = CORM_FF_UNIQUE,
     .rel = 0},
    {.name = "website",
     .column = "website",
     .type = CORM_FT_CHAR,
     .flags = CORM_FF_NULL,
     .max_length = 200,
     .rel = -1},
};
static const corm_relation profile_rels[] = {
    {.name = "author",
     .kind = CORM_REL_O2O,
     .target = 1,
     .field = 1,
     .reverse = 2,
     .slot = 0,
     .on_delete = CORM_CASCADE},
};
static const corm_model profile_model = {
    .name = "Profile",
    .table = "profile",
    .schema = &shop_schema,
    .index = 4,
    .fields = profile_fields,
    .nfields = 3,
    .rels = profile_rels,
    .nrels = 1,
};

static const corm_model *const shop_models[] = {&country_model, &author_model, &genre_model,
                                                &book_model, &profile_model};
static const char *const shop_m2m[] = {"book_genres"};
static const corm_schema shop_schema = {
    .name = "shop",
    .models = shop_models,
    .nmodels = 5,
    .m2m_tables = shop_m2m,
    .nm2m = 1,
    .hash = 0xdeadbeefu,
};

/* 6 tables + 7 indexes; a first migrate adds BEGIN, the history table,
** the history lookup, the history row and COMMIT. */
#define NDDL 13
#define FIRST_RUN (NDDL + 5)
#define NOOP_RUN 4

/* ------------------------------------------------------------ fixture */

typedef struct fx {
    char dir[64];
    char path[128];
    char url[160];
    corm_db *db;
    sqlite3 *raw; /* a second, independent connection for inspection */
} fx;

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    if (!f) return -1;
    strcpy(f->dir, "/tmp/corm-mig-XXXXXX");
    if (!mkdtemp(f->dir)) return -1;
    snprintf(f->path, sizeof f->path, "%s/shop.db", f->dir);
    snprintf(f->url, sizeof f->url, "sqlite:%s", f->path);
    corm_error err;
    f->db = corm_open(f->url, &shop_schema, &err);
    if (!f->db) return -1;
    if (sqlite3_open(f->path, &f->raw) != SQLITE_OK) return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    corm_close(f->db);
    sqlite3_close(f->raw);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0) return -1;
    free(f);
    return 0;
}

static void raw_exec(fx *f, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(f->raw, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* Every row of sql (one or more columns), "a|b" per row, rows joined by
** ";", into a static buffer. */
static const char *rows(fx *f, const char *sql)
{
    static char out[4096];
    out[0] = '\0';
    size_t len = 0;
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(f->raw, sql, -1, &st, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(f->raw));
    int nrow = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (nrow++) len += (size_t)snprintf(out + len, sizeof out - len, ";");
        for (int i = 0; i < sqlite3_column_count(st); i++) {
            const unsigned char *t = sqlite3_column_text(st, i);
            len += (size_t)snprintf(out + len, sizeof out - len, "%s%s", i ? "|" : "",
                                    t ? (const char *)t : "NULL");
        }
        if (len >= sizeof out) fail_msg("rows: output too long");
    }
    sqlite3_finalize(st);
    return out;
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static const char *tables(fx *f)
{
    return rows(f, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
}

/* Query events, to check what a migration ran. */
typedef struct seen {
    int n;
    int not_migrate;
    int creates; /* CREATE TABLE without IF NOT EXISTS, CREATE INDEX */
} seen;

static void on_query(void *ud, const corm_event *ev)
{
    seen *s = ud;
    s->n++;
    if (!ev->origin || strcmp(ev->origin, "migrate") != 0) s->not_migrate++;
    if ((strncmp(ev->sql, "CREATE", 6) == 0 && !strstr(ev->sql, "IF NOT EXISTS"))) s->creates++;
}

static void migrate_ok(corm_db *db)
{
    if (corm_migrate(db) != CORM_OK) {
        char buf[2048];
        fail_msg("corm_migrate: %s", corm_error_format(corm_db_error(db), buf, sizeof buf));
    }
}

/* ------------------------------------------------------------ tests */

static void test_creates_schema(void **state)
{
    fx *f = *state;
    seen s = {0};
    int h = corm_on_query(f->db, on_query, &s);
    uint64_t before = corm_query_count(f->db);
    migrate_ok(f->db);
    assert_int_equal(corm_query_count(f->db) - before, FIRST_RUN);
    assert_int_equal(s.n, FIRST_RUN);
    assert_int_equal(s.not_migrate, 0);
    assert_int_equal(s.creates, NDDL);
    corm_off_query(f->db, h);

    assert_string_equal(tables(f), "author;book;book_genres;corm_migrations;country;genre;"
                                   "profile;sqlite_sequence");
    /* exactly what Django would write for the same model */
    assert_string_equal(
        rows(f, "SELECT sql FROM sqlite_master WHERE name = 'book'"),
        "CREATE TABLE \"book\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        "\"title\" varchar(200) NOT NULL, \"isbn\" varchar(13) NOT NULL UNIQUE, "
        "\"published_date\" date NOT NULL, \"pages\" integer NOT NULL DEFAULT 0, "
        "\"price\" decimal, \"status\" varchar(10) NOT NULL DEFAULT 'draft', "
        "\"in_print\" bool NOT NULL DEFAULT 1, \"cover\" BLOB, \"created\" datetime NOT NULL, "
        "\"author_id\" bigint NOT NULL REFERENCES \"author\" (\"id\") DEFERRABLE INITIALLY "
        "DEFERRED, CONSTRAINT \"book_title_author_uniq\" UNIQUE (\"title\", \"author_id\"))");
    /* name|type|notnull|default|pk, in field order */
    assert_string_equal(
        rows(f, "SELECT name, type, \"notnull\", dflt_value, pk FROM pragma_table_info('book')"),
        "id|INTEGER|1|NULL|1;title|varchar(200)|1|NULL|0;isbn|varchar(13)|1|NULL|0;"
        "published_date|date|1|NULL|0;pages|INTEGER|1|0|0;price|decimal|0|NULL|0;"
        "status|varchar(10)|1|'draft'|0;in_print|bool|1|1|0;cover|BLOB|0|NULL|0;"
        "created|datetime|1|NULL|0;author_id|bigint|1|NULL|0");
    assert_string_equal(rows(f, "SELECT name, type, \"notnull\" FROM pragma_table_info('author')"),
                        "id|INTEGER|1;name|varchar(100)|1;email|varchar(254)|1;country_id|bigint|0;"
                        "bio|TEXT|0;data|TEXT|0");

    /* indexes of book: name|unique|origin|columns (with DESC marks) */
    assert_string_equal(
        rows(f, "SELECT il.name, il.\"unique\", il.origin, "
                " (SELECT group_concat(x.name || CASE x.desc WHEN 1 THEN ' DESC' ELSE '' END, ',')"
                "  FROM pragma_index_xinfo(il.name) x WHERE x.key = 1) "
                "FROM pragma_index_list('book') il ORDER BY il.name"),
        "book_author_id_idx|0|c|author_id;"
        "book_pages_isbn_uniq|1|c|pages DESC,isbn;"
        "book_pub_desc_idx|0|c|published_date DESC;"
        "book_pub_title_idx|0|c|published_date,title;"
        "sqlite_autoindex_book_1|1|u|isbn;"
        "sqlite_autoindex_book_2|1|u|title,author_id");
    assert_string_equal(rows(f, "SELECT \"table\", \"from\", \"to\", on_delete "
                                "FROM pragma_foreign_key_list('book')"),
                        "author|author_id|id|NO ACTION");
    /* db_index, nullable fk, o2o (unique: no second index) */
    assert_string_equal(rows(f, "SELECT name FROM pragma_index_list('country') ORDER BY name"),
                        "country_code_idx;sqlite_autoindex_country_1");
    assert_string_equal(rows(f, "SELECT name FROM pragma_index_list('author') ORDER BY name"),
                        "author_country_id_idx;sqlite_autoindex_author_1");
    assert_string_equal(rows(f, "SELECT il.name, il.\"unique\", ii.name FROM "
                                "pragma_index_list('profile') il, pragma_index_info(il.name) ii"),
                        "sqlite_autoindex_profile_1|1|author_id");

    /* the join table: id, two fks, UNIQUE (book_id, genre_id), index on genre_id */
    assert_string_equal(
        rows(f, "SELECT sql FROM sqlite_master WHERE name = 'book_genres'"),
        "CREATE TABLE \"book_genres\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        "\"book_id\" bigint NOT NULL REFERENCES \"book\" (\"id\") DEFERRABLE INITIALLY DEFERRED, "
        "\"genre_id\" bigint NOT NULL REFERENCES \"genre\" (\"id\") DEFERRABLE INITIALLY DEFERRED, "
        "UNIQUE (\"book_id\", \"genre_id\"))");
    assert_string_equal(
        rows(f, "SELECT il.name, il.\"unique\", "
                " (SELECT group_concat(name, ',') FROM pragma_index_info(il.name)) "
                "FROM pragma_index_list('book_genres') il ORDER BY il.name"),
        "book_genres_genre_id_idx|0|genre_id;sqlite_autoindex_book_genres_1|1|book_id,genre_id");

    /* the history */
    assert_string_equal(rows(f,
                             "SELECT id, name, schema_hash, applied_at LIKE '____-__-__ __:__:__' "
                             "FROM corm_migrations"),
                        "1|0001_initial|3735928559|1");
}

static void test_second_run_is_noop(void **state)
{
    fx *f = *state;
    migrate_ok(f->db);
    seen s = {0};
    int h = corm_on_query(f->db, on_query, &s);
    uint64_t before = corm_query_count(f->db);
    migrate_ok(f->db);
    assert_int_equal(corm_query_count(f->db) - before, NOOP_RUN);
    assert_int_equal(s.creates, 0);
    assert_int_equal(s.not_migrate, 0);
    corm_off_query(f->db, h);

    /* and from a new connection */
    corm_close(f->db);
    corm_error err;
    f->db = corm_open(f->url, &shop_schema, &err);
    assert_non_null(f->db);
    before = corm_query_count(f->db);
    migrate_ok(f->db);
    assert_int_equal(corm_query_count(f->db) - before, NOOP_RUN);
    assert_string_equal(rows(f, "SELECT count(*) FROM corm_migrations"), "1");
    assert_false(f->db->be->in_transaction(f->db->conn));
}

static void test_failure_rolls_back(void **state)
{
    fx *f = *state;
    /* a table in the way: the third CREATE TABLE fails */
    raw_exec(f, "CREATE TABLE genre (x integer)");
    uint64_t before = corm_query_count(f->db);
    assert_int_equal(corm_migrate(f->db), CORM_DB);
    const corm_error *e = corm_db_error(f->db);
    assert_int_equal(e->rc, CORM_DB);
    assert_non_null(strstr(e->message, "statement 3 of 13"));
    assert_non_null(strstr(e->message, "table \"genre\" already exists"));
    assert_non_null(strstr(e->message, "CREATE TABLE \"genre\""));
    assert_non_null(strstr(e->hint, "rolled back"));
    assert_true(starts_with(e->sql, "CREATE TABLE \"genre\" ("));
    /* BEGIN, history, lookup, 3 CREATEs (the third failed), ROLLBACK */
    assert_int_equal(corm_query_count(f->db) - before, 7);
    assert_string_equal(tables(f), "genre");
    assert_false(f->db->be->in_transaction(f->db->conn));

    /* out of the way, it succeeds: nothing was left half done */
    raw_exec(f, "DROP TABLE genre");
    migrate_ok(f->db);
    assert_string_equal(rows(f, "SELECT count(*) FROM sqlite_master WHERE type = 'index' "
                                "AND name NOT LIKE 'sqlite_%'"),
                        "7");
}

static void test_late_failure_rolls_back(void **state)
{
    fx *f = *state;
    /* index names are global in SQLite: the last-but-one index collides,
    ** after every table and most indexes were created */
    raw_exec(f, "CREATE TABLE other (a integer); CREATE INDEX book_pages_isbn_uniq ON other (a)");
    assert_int_equal(corm_migrate(f->db), CORM_DB);
    const corm_error *e = corm_db_error(f->db);
    assert_non_null(strstr(e->message, "statement 12 of 13"));
    assert_non_null(strstr(e->message, "already exists"));
    assert_true(starts_with(e->sql, "CREATE UNIQUE INDEX \"book_pages_isbn_uniq\" ON"));
    assert_string_equal(tables(f), "other");
    assert_string_equal(rows(f, "SELECT name FROM sqlite_master WHERE type = 'index'"),
                        "book_pages_isbn_uniq");
}

static void test_foreign_history_table(void **state)
{
    fx *f = *state;
    /* something else called corm_migrations is in the way */
    raw_exec(f, "CREATE VIEW corm_migrations AS SELECT 1 AS x");
    assert_int_equal(corm_migrate(f->db), CORM_DB);
    const corm_error *e = corm_db_error(f->db);
    assert_non_null(strstr(e->message, "reading the history table corm_migrations"));
    assert_non_null(strstr(e->message, "no such column"));
    assert_non_null(strstr(e->hint, "rename it"));
    assert_true(starts_with(e->sql, "SELECT 1 FROM \"corm_migrations\""));
    assert_string_equal(tables(f), "");
    assert_false(f->db->be->in_transaction(f->db->conn));
}

static void test_constraints_hold(void **state)
{
    fx *f = *state;
    migrate_ok(f->db);
    corm_db *db = f->db;
    assert_int_equal(corm_exec(db,
                               "INSERT INTO country (name, code) VALUES ('Peru', 'PE');"
                               "INSERT INTO author (name, email, country_id) "
                               "VALUES ('Mario', 'm@x.pe', 1);"
                               "INSERT INTO genre (name) VALUES ('Fiction');"
                               "INSERT INTO book (title, isbn, published_date, created, author_id) "
                               "VALUES ('La ciudad', '1', '1963-01-01', '2024-01-01 00:00:00', 1)"),
                     CORM_OK);
    /* defaults */
    assert_string_equal(rows(f, "SELECT pages, status, in_print, price FROM book"),
                        "0|draft|1|NULL");
    /* unique on a column and the composite table constraint */
    assert_int_equal(corm_exec(db,
                               "INSERT INTO book (title, isbn, published_date, created, author_id) "
                               "VALUES ('Other', '1', '1963-01-01', '2024-01-01', 1)"),
                     CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "book.isbn"));
    assert_int_equal(corm_exec(db,
                               "INSERT INTO book (title, isbn, published_date, created, author_id) "
                               "VALUES ('La ciudad', '2', '1963-01-01', '2024-01-01', 1)"),
                     CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "book.title, book.author_id"));
    /* NOT NULL */
    assert_int_equal(corm_exec(db, "INSERT INTO genre (name) VALUES (NULL)"), CORM_CONSTRAINT);
    /* JSON is checked, as Django does on SQLite */
    assert_int_equal(corm_exec(db, "UPDATE author SET data = '{not json'"), CORM_CONSTRAINT);
    assert_int_equal(corm_exec(db, "UPDATE author SET data = '{\"a\": 1}'"), CORM_OK);
    /* m2m links are unique */
    assert_int_equal(corm_exec(db, "INSERT INTO book_genres (book_id, genre_id) VALUES (1, 1)"),
                     CORM_OK);
    assert_int_equal(corm_exec(db, "INSERT INTO book_genres (book_id, genre_id) VALUES (1, 1)"),
                     CORM_CONSTRAINT);
    /* foreign keys are deferred: checked at COMMIT */
    assert_int_equal(corm_exec(db, "BEGIN; INSERT INTO book (title, isbn, published_date, created, "
                                   "author_id) VALUES ('X', '3', '2000-01-01', '2024-01-01', 99)"),
                     CORM_OK);
    assert_int_equal(corm_exec(db, "COMMIT"), CORM_CONSTRAINT);
    assert_non_null(strstr(corm_db_error(db)->message, "FOREIGN KEY"));
    assert_int_equal(corm_exec(db, "ROLLBACK"), CORM_OK);
    assert_string_equal(rows(f, "SELECT count(*) FROM book"), "1");
}

static void test_misuse(void **state)
{
    fx *f = *state;
    corm_error err;
    assert_int_equal(corm_migrate(NULL), CORM_MISUSE);
    corm_db *bare = corm_open("sqlite::memory:", NULL, &err);
    assert_non_null(bare);
    assert_int_equal(corm_migrate(bare), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(bare)->hint, "corm_open"));
    corm_close(bare);

    assert_int_equal(corm_begin(f->db), CORM_OK);
    uint64_t before = corm_query_count(f->db);
    assert_int_equal(corm_migrate(f->db), CORM_MISUSE);
    assert_non_null(strstr(corm_db_error(f->db)->message, "inside a transaction"));
    assert_int_equal(corm_query_count(f->db), before);
    assert_int_equal(corm_rollback(f->db), CORM_OK);
    assert_string_equal(tables(f), "");
}

/* A one-model schema built at run time, for the error cases. */
typedef struct one {
    corm_field fields[3];
    corm_index index;
    const char *ixfields[1];
    corm_model model;
    const corm_model *models[1];
    corm_schema schema;
} one;

static void one_init(one *o, const char *table, const char *default_sql, const char *ixfield)
{
    memset(o, 0, sizeof *o);
    o->fields[0] = (corm_field)ID_FIELD;
    o->fields[1] = (corm_field){
        .name = "name", .column = "na\"me", .type = CORM_FT_CHAR, .max_length = 20, .rel = -1};
    o->fields[2] = (corm_field){.name = "rank",
                                .column = "rank",
                                .type = CORM_FT_INTEGER,
                                .flags = default_sql ? CORM_FF_HAS_DEFAULT : 0,
                                .default_sql = default_sql,
                                .rel = -1};
    o->ixfields[0] = ixfield;
    o->index = (corm_index){.name = NULL, .fields = o->ixfields, .nfields = 1};
    o->model = (corm_model){.name = "Thing",
                            .table = table,
                            .schema = &o->schema,
                            .fields = o->fields,
                            .nfields = 3,
                            .indexes = &o->index,
                            .nindexes = ixfield ? 1 : 0};
    o->models[0] = &o->model;
    o->schema = (corm_schema){.name = "one", .models = o->models, .nmodels = 1, .hash = 7};
}

static void test_bad_descriptors(void **state)
{
    fx *f = *state;
    corm_error err;
    one o;
    static const char *const bad_defaults[] = {
        "1); DROP TABLE x; --",
        "'open",
        "'a' || 'b'",
        "abs(1)",
        "1 2",
        "--",
        "",
        "X'0'",
        "\"ident\"",
    };
    for (size_t i = 0; i < sizeof bad_defaults / sizeof *bad_defaults; i++) {
        one_init(&o, "thing", bad_defaults[i], NULL);
        corm_db *db = corm_open(f->url, &o.schema, &err);
        assert_non_null(db);
        uint64_t before = corm_query_count(db);
        assert_int_equal(corm_migrate(db), CORM_SCHEMA);
        assert_int_equal(corm_query_count(db), before); /* checked before any SQL */
        assert_non_null(strstr(corm_db_error(db)->message, "Thing.rank"));
        assert_non_null(strstr(corm_db_error(db)->hint, "quoted strings"));
        corm_close(db);
    }
    one_init(&o, "thing", NULL, "-nope");
    corm_db *db = corm_open(f->url, &o.schema, &err);
    assert_int_equal(corm_migrate(db), CORM_SCHEMA);
    assert_non_null(strstr(corm_db_error(db)->message, "unknown field 'nope'"));
    assert_non_null(strstr(corm_db_error(db)->hint, "id, name, rank"));
    corm_close(db);
    assert_string_equal(tables(f), "");
}

static void test_hostile_identifiers(void **state)
{
    fx *f = *state;
    corm_error err;
    one o;
    one_init(&o, "t\"; DROP TABLE x; --", "-12.5e3", "-name");
    corm_db *db = corm_open(f->url, &o.schema, &err);
    assert_non_null(db);
    migrate_ok(db);
    corm_close(db);
    assert_string_equal(tables(f), "corm_migrations;sqlite_sequence;t\"; DROP TABLE x; --");
    assert_string_equal(
        rows(f, "SELECT name, dflt_value FROM pragma_table_info('t\"; DROP TABLE x; --')"),
        "id|NULL;na\"me|NULL;rank|-12.5e3");
}

/* ------------------------------------------------- from the schema parser */

static const char shelf_corm[] = "model Shelf {\n"
                                 "    code: char(10) db_index\n"
                                 "    label: char(50)\n"
                                 "    floor: integer default=-1\n"
                                 "    unique (label, floor)\n"
                                 "    unique index shelf_code_floor_desc (code, -floor)\n"
                                 "}\n"
                                 "model Item {\n"
                                 "    shelf: fk(Shelf, on_delete=cascade)\n"
                                 "    name: char(20) default=\"it's\"\n"
                                 "    active: bool default=true\n"
                                 "    tags: m2m(Shelf, related_name=tagged_items)\n"
                                 "}\n";

static void test_parsed_schema(void **state)
{
    fx *f = *state;
    corm_error err;
    corm_schema *schema = corm_schema_parse(shelf_corm, strlen(shelf_corm), "shelf.corm", &err);
    if (!schema) {
        char buf[2048];
        fail_msg("parse: %s", corm_error_format(&err, buf, sizeof buf));
    }
    corm_db *db = corm_open(f->url, schema, &err);
    assert_non_null(db);
    uint64_t before = corm_query_count(db);
    migrate_ok(db);
    /* 3 tables + 4 indexes (the listed db_index index is not made twice,
    ** unique (label, floor) is a table constraint) */
    assert_int_equal(corm_query_count(db) - before, 7 + 5);
    corm_close(db);
    assert_string_equal(
        rows(f, "SELECT sql FROM sqlite_master WHERE type IN ('table', 'index') AND "
                "name NOT IN ('corm_migrations', 'sqlite_sequence') AND sql IS NOT NULL "
                "ORDER BY rowid"),
        "CREATE TABLE \"shelf\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        "\"code\" varchar(10) NOT NULL, \"label\" varchar(50) NOT NULL, "
        "\"floor\" integer NOT NULL DEFAULT -1, "
        "CONSTRAINT \"shelf_label_floor_uniq\" UNIQUE (\"label\", \"floor\"));"
        "CREATE TABLE \"item\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        "\"shelf_id\" bigint NOT NULL REFERENCES \"shelf\" (\"id\") DEFERRABLE INITIALLY DEFERRED, "
        "\"name\" varchar(20) NOT NULL DEFAULT 'it''s', \"active\" bool NOT NULL DEFAULT 1);"
        "CREATE TABLE \"item_tags\" (\"id\" integer NOT NULL PRIMARY KEY AUTOINCREMENT, "
        "\"item_id\" bigint NOT NULL REFERENCES \"item\" (\"id\") DEFERRABLE INITIALLY DEFERRED, "
        "\"shelf_id\" bigint NOT NULL REFERENCES \"shelf\" (\"id\") DEFERRABLE INITIALLY DEFERRED, "
        "UNIQUE (\"item_id\", \"shelf_id\"));"
        "CREATE INDEX \"shelf_code_idx\" ON \"shelf\" (\"code\");"
        "CREATE UNIQUE INDEX \"shelf_code_floor_desc\" ON \"shelf\" (\"code\", \"floor\" DESC);"
        "CREATE INDEX \"item_shelf_id_idx\" ON \"item\" (\"shelf_id\");"
        "CREATE INDEX \"item_tags_shelf_id_idx\" ON \"item_tags\" (\"shelf_id\")");
    corm_schema_free(schema);
}

/* The demo's schema: every table, no index twice. */
static void test_bookstore_schema(void **state)
{
    fx *f = *state;
    corm_error err;
    corm_schema *schema = corm_schema_parse_file("examples/bookstore.corm", &err);
    if (!schema) {
        char buf[2048];
        fail_msg("run from the repository root: %s", corm_error_format(&err, buf, sizeof buf));
    }
    corm_db *db = corm_open(f->url, schema, &err);
    assert_non_null(db);
    migrate_ok(db);
    migrate_ok(db);
    corm_close(db);
    char want[16];
    snprintf(want, sizeof want, "%d", schema->nmodels + schema->nm2m);
    assert_string_equal(rows(f, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND "
                                "name NOT IN ('corm_migrations', 'sqlite_sequence')"),
                        want);
    /* no two indexes of a table cover the same columns in the same order */
    assert_string_equal(
        rows(f, "WITH ix AS (SELECT m.name AS tbl, il.name AS idx, "
                "  (SELECT group_concat(ii.name || '/' || ii.desc, ',') "
                "   FROM pragma_index_xinfo(il.name) ii WHERE ii.key = 1) AS cols "
                "  FROM sqlite_master m, pragma_index_list(m.name) il WHERE m.type = 'table') "
                "SELECT tbl, cols, count(*) FROM ix GROUP BY tbl, cols HAVING count(*) > 1"),
        "");
    /* every foreign key column is indexed (as the leading column) */
    assert_string_equal(
        rows(f,
             "SELECT m.name, fk.\"from\" FROM sqlite_master m, pragma_foreign_key_list(m.name) fk "
             "WHERE m.type = 'table' AND NOT EXISTS (SELECT 1 FROM pragma_index_list(m.name) il, "
             "pragma_index_info(il.name) ii WHERE ii.seqno = 0 AND ii.name = fk.\"from\")"),
        "");
    assert_string_equal(rows(f, "SELECT count(*) FROM corm_migrations"), "1");
    corm_schema_free(schema);
}

static void test_ddl_helpers(void **state)
{
    (void)state;
    static const char *const good[] = {"0",
                                       "-1",
                                       "+2",
                                       "3.25",
                                       ".5",
                                       "1e10",
                                       "-2.5E-3",
                                       "'x'",
                                       "''",
                                       "'it''s'",
                                       "'; DROP TABLE x; --'",
                                       "X'00ff'",
                                       "x''",
                                       "NULL",
                                       "true",
                                       "FALSE",
                                       "CURRENT_TIMESTAMP",
                                       "current_date",
                                       "CURRENT_TIME"};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++)
        if (!corm__ddl_is_literal(good[i])) fail_msg("should be a literal: %s", good[i]);
    static const char *const bad[] = {NULL,    "",     "-",     ".",    "1e",    "1.2.3",
                                      "'x''",  "'x' ", "'a'b'", "X'0'", "X'zz'", "NULLX",
                                      "now()", "1;",   "0x10",  " 1"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (corm__ddl_is_literal(bad[i])) fail_msg("should not be a literal: %s", bad[i]);

    /* generated names: the schema validator's convention, at most 63 bytes */
    corm_buf a, b;
    corm__buf_init(&a);
    corm__buf_init(&b);
    const char *c1[] = {"published_date", "title"};
    const bool d1[] = {true, false};
    corm__ddl_index_name(&a, "book", c1, d1, 2, false);
    assert_string_equal(corm__buf_cstr(&a), "book_published_date_desc_title_idx");
    corm__buf_reset(&a);
    corm__ddl_index_name(&a, "book", c1, NULL, 2, true);
    assert_string_equal(corm__buf_cstr(&a), "book_published_date_title_uniq");
    char longname[200];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    const char *c3[] = {longname, "a"}, *c4[] = {longname, "b"};
    corm__buf_reset(&a);
    corm__ddl_index_name(&a, "t", c3, NULL, 2, true);
    corm__ddl_index_name(&b, "t", c4, NULL, 2, true);
    assert_int_equal(a.len, 63);
    assert_int_equal(b.len, 63);
    assert_string_not_equal(a.p, b.p);
    assert_int_equal(strncmp(a.p, b.p, 54), 0);
    corm__buf_reset(&b);
    corm__ddl_index_name(&b, "t", c3, NULL, 2, true);
    assert_string_equal(a.p, b.p);
    corm__buf_free(&a);
    corm__buf_free(&b);

    /* one statement per object, in dependency order */
    corm__ddl l;
    corm__ddl_init(&l);
    corm_error err;
    assert_int_equal(corm__ddl_schema(&corm__sqlite_dialect, &shop_schema, &l, &err), CORM_OK);
    assert_int_equal(corm__ddl_count(&l), NDDL);
    static const char *const heads[NDDL] = {
        "CREATE TABLE \"country\"",
        "CREATE TABLE \"author\"",
        "CREATE TABLE \"genre\"",
        "CREATE TABLE \"book\"",
        "CREATE TABLE \"profile\"",
        "CREATE TABLE \"book_genres\"",
        "CREATE INDEX \"country_code_idx\" ON \"country\" (\"code\")",
        "CREATE INDEX \"author_country_id_idx\" ON \"author\" (\"country_id\")",
        "CREATE INDEX \"book_author_id_idx\" ON \"book\" (\"author_id\")",
        "CREATE INDEX \"book_pub_title_idx\" ON \"book\" "
        "(\"published_date\", \"title\")",
        "CREATE INDEX \"book_pub_desc_idx\" ON \"book\" (\"published_date\" DESC)",
        "CREATE UNIQUE INDEX \"book_pages_isbn_uniq\" ON \"book\" (\"pages\" DESC, \"isbn\")",
        "CREATE INDEX \"book_genres_genre_id_idx\" ON \"book_genres\" (\"genre_id\")"};
    for (size_t i = 0; i < NDDL; i++)
        if (strncmp(corm__ddl_at(&l, i), heads[i], strlen(heads[i])) != 0)
            fail_msg("statement %zu: %s", i, corm__ddl_at(&l, i));
    assert_null(corm__ddl_at(&l, NDDL));
    corm__ddl_free(&l);
}

static void test_dialect(void **state)
{
    (void)state;
    const corm__dialect *d = corm__dialect_for("sqlite");
    assert_ptr_equal(d, &corm__sqlite_dialect);
    assert_ptr_equal(corm__dialect_for("postgresql"), &corm__pg_dialect); /* test_ddl_pg.c */
    assert_null(corm__dialect_for(NULL));
    assert_null(corm__dialect_for("oracle"));
    assert_int_equal(d->max_params, 32766);
    assert_false(d->numbered_params);
    corm_buf b;
    corm__buf_init(&b);
    corm__sql_ident(&b, "plain");
    corm__buf_addc(&b, ' ');
    corm__sql_ident(&b, "a\"b\"\"c");
    corm__buf_addc(&b, ' ');
    corm__sql_ident(&b, "");
    corm__buf_addc(&b, ' ');
    corm__sql_param(&b, d, 1);
    corm__sql_param(&b, d, 2);
    assert_string_equal(corm__buf_cstr(&b), "\"plain\" \"a\"\"b\"\"\"\"c\" \"\" ??");
    corm__buf_reset(&b);
    d->date_part(&b, "year", "\"book\".\"published_date\"");
    assert_string_equal(corm__buf_cstr(&b),
                        "CAST(strftime('%Y', \"book\".\"published_date\") AS INTEGER)");
    corm__buf_reset(&b);
    d->date_part(&b, "month", "c");
    corm__buf_adds(&b, " ");
    d->date_part(&b, "day", "c");
    assert_string_equal(corm__buf_cstr(&b), "CAST(strftime('%m', c) AS INTEGER) "
                                            "CAST(strftime('%d', c) AS INTEGER)");
    corm__buf_free(&b);

    char buf[32];
    corm_field fl = {.type = CORM_FT_CHAR, .max_length = 13};
    assert_string_equal(d->column_type(&fl, buf, sizeof buf), "varchar(13)");
    fl = (corm_field){.type = CORM_FT_EMAIL};
    assert_string_equal(d->column_type(&fl, buf, sizeof buf), "varchar(254)");
    static const struct {
        corm_ftype t;
        const char *s;
    } types[] = {
        {CORM_FT_INTEGER, "integer"}, {CORM_FT_BIGINT, "bigint"},     {CORM_FT_FLOAT, "real"},
        {CORM_FT_DECIMAL, "decimal"}, {CORM_FT_BOOL, "bool"},         {CORM_FT_TEXT, "text"},
        {CORM_FT_DATE, "date"},       {CORM_FT_DATETIME, "datetime"}, {CORM_FT_JSON, "text"},
        {CORM_FT_BLOB, "BLOB"},       {CORM_FT_FK, "bigint"},         {CORM_FT_O2O, "bigint"}};
    for (size_t i = 0; i < sizeof types / sizeof *types; i++) {
        fl = (corm_field){.type = types[i].t};
        assert_string_equal(d->column_type(&fl, buf, sizeof buf), types[i].s);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_creates_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_second_run_is_noop, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_failure_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_foreign_history_table, setup, teardown),
        cmocka_unit_test_setup_teardown(test_constraints_hold, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misuse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_descriptors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_identifiers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parsed_schema, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bookstore_schema, setup, teardown),
        cmocka_unit_test(test_ddl_helpers),
        cmocka_unit_test(test_dialect),
    };
    return cmocka_run_group_tests_name("migrate", tests, NULL, NULL);
}
