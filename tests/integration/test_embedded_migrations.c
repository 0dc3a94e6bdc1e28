/*
** test_embedded_migrations.c - a program compiled with its migrations
** (`corm gen shop.corm --migrations DIR`, the shop schema of
** tests/migrations/embedded): corm_open refuses a database that is not at
** the program's last migration, with the names, unless the caller opts out;
** corm_migrate(db) applies what is pending; the program then works on it.
** On SQLite and PostgreSQL.
*/
#include "test.h"
#include "shop/shop.h"

#include <string.h>

#define LAST "0002_shelf_alter_item_name_item_price"

static corm_db *open_unchecked(const char *url)
{
    corm_error err;
    corm_db *db = corm_open_flags(url, &shop_schema, CORM_OPEN_NO_MIGRATION_CHECK, &err);
    if (!db) fail_msg("open: %s", err.message);
    return db;
}

static void test_compiled_in(void **state)
{
    (void)state;
    assert_int_equal(shop_schema.nmigrations, 2);
    assert_string_equal(shop_schema.migration_names[0], "0001_initial");
    assert_string_equal(shop_schema.migration_names[1], LAST);
    assert_non_null(strstr(shop_schema.migration_texts[1], "add_field Item\n    price: integer"));
}

static void test_open_refuses_drift_and_migrate_applies(void **state)
{
    (void)state;
    const char *url = test_db_fresh_url();
    corm_error err;

    /* a new database: nothing applied */
    assert_null(corm_open(url, &shop_schema, &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_string_equal(err.message, "database at zero (no migrations applied), this program "
                                     "expects " LAST ": run corm migrate");
    assert_non_null(strstr(err.hint, "CORM_OPEN_NO_MIGRATION_CHECK"));

    /* the device's start-up: open without the check, migrate itself */
    corm_db *db = open_unchecked(url);
    assert_int_equal(corm_migrate(db), CORM_OK);
    char *show = NULL;
    corm_error e2;
    corm_migrations *ms = corm_migrations_from_texts(shop_schema.migration_names,
                                                     shop_schema.migration_texts, 2, &e2);
    assert_non_null(ms);
    assert_int_equal(corm_showmigrations(db, ms, &show), CORM_OK);
    assert_string_equal(show, "[X] 0001_initial\n[X] " LAST "\n");
    corm_free_string(show);
    /* again: nothing to do, the history unchanged */
    assert_int_equal(corm_migrate(db), CORM_OK);
    assert_int_equal(corm_showmigrations(db, ms, &show), CORM_OK);
    assert_string_equal(show, "[X] 0001_initial\n[X] " LAST "\n");
    corm_free_string(show);
    corm_close(db);

    /* now corm_open accepts it and the program works */
    db = corm_open(url, &shop_schema, &err);
    if (!db) fail_msg("open: %s", err.message);
    Item it = CORM_NEW(Item);
    it.name = "lamp";
    it.price = 12;
    assert_int_equal(corm_save(db, &it), CORM_OK);
    corm_qs *qs = corm_all(db, Item);
    assert_int_equal(corm_count(qs), 1);
    corm_qs_free(qs);
    corm_close(db);

    /* an older database (migrated back to 0001): refused with both names */
    db = open_unchecked(url);
    assert_int_equal(corm_migrate_to(db, ms, "0001_initial", CORM_MIGRATE_ALLOW_DATA_LOSS),
                     CORM_OK);
    corm_close(db);
    assert_null(corm_open(url, &shop_schema, &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_string_equal(err.message, "database at 0001_initial, this program expects " LAST
                                     ": run corm migrate");
    assert_null(corm_open(url, &shop_schema, NULL)); /* err may be NULL */

    /* a database migrated by another (newer) program: refused, said so */
    db = open_unchecked(url);
    assert_int_equal(corm_migrate(db), CORM_OK);
    assert_int_equal(corm_exec(db, "INSERT INTO corm_migrations (name, schema_hash, applied_at) "
                                   "VALUES ('0003_future', 0, CURRENT_TIMESTAMP)"),
                     CORM_OK);
    corm_close(db);
    assert_null(corm_open(url, &shop_schema, &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_non_null(strstr(err.message, "database at 0003_future, this program expects " LAST
                                        ": the database's migrations are not this program's"));

    /* a schema without compiled migrations is never checked */
    db = corm_open(url, NULL, &err);
    assert_non_null(db);
    corm_close(db);
    corm_migrations_free(ms);
    test_db_close(NULL);
}

/* A pool's connections are checked as corm_open's are, unless the pool's
** open_flags opt out. */
static void test_pool_drift_check(void **state)
{
    (void)state;
    corm_pool_config cfg = {.url = test_db_fresh_url(), .schema = &shop_schema, .size = 2};
    corm_error err;
    assert_null(corm_pool_open(&cfg, &err));
    assert_int_equal(err.rc, CORM_SCHEMA);
    assert_string_equal(
        err.message,
        "pool connection 1 of 2: database at zero (no migrations applied), this program "
        "expects " LAST ": run corm migrate");
    cfg.open_flags = CORM_OPEN_NO_MIGRATION_CHECK;
    corm_pool *pool = corm_pool_open(&cfg, &err);
    if (!pool) fail_msg("pool: %s", err.message);
    corm_db *db = corm_pool_acquire(pool, 1000, &err);
    assert_non_null(db);
    assert_int_equal(corm_migrate(db), CORM_OK);
    corm_pool_release(pool, db);
    corm_pool_close(pool);
    /* migrated: the checked pool opens */
    cfg.open_flags = 0;
    pool = corm_pool_open(&cfg, &err);
    if (!pool) fail_msg("pool: %s", err.message);
    corm_pool_close(pool);
    test_db_close(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compiled_in),
        cmocka_unit_test(test_open_refuses_drift_and_migrate_applies),
        cmocka_unit_test(test_pool_drift_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
