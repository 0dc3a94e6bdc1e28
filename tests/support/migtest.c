/*
** migtest.c - helpers for the migration tests (migtest.h).
*/
#include "migtest.h"

#include <stdlib.h>
#include <string.h>

static char *names[16], *texts[16];
static int nmig;

void mt_reset(void)
{
    for (int i = 0; i < nmig; i++) {
        corm_free_string(names[i]);
        corm_free_string(texts[i]);
    }
    nmig = 0;
}

const char *mt_text(int i) { return i >= 0 && i < nmig ? texts[i] : NULL; }
const char *mt_name(int i) { return i >= 0 && i < nmig ? names[i] : NULL; }

corm_migrations *mt_chain(void)
{
    corm_error err;
    corm_migrations *ms = corm_migrations_from_texts((const char *const *)names,
                                                     (const char *const *)texts, nmig, &err);
    if (!ms) fail_msg("chain: %s (%s)", err.message, err.hint);
    return ms;
}

corm_schema *mt_parse(const char *v)
{
    corm_error err;
    corm_schema *s = corm_schema_parse(v, strlen(v), "v.corm", &err);
    if (!s) fail_msg("schema: %s (%s)", err.message, err.hint);
    return s;
}

const char *mt_make(const char *v)
{
    if (nmig == (int)(sizeof names / sizeof names[0])) fail_msg("mt_make: chain too long");
    corm_migrations *ms = mt_chain();
    corm_error err;
    corm_schema *s = mt_parse(v);
    char *fn = NULL, *text = NULL;
    if (corm_makemigrations(ms, s, NULL, 0, NULL, &fn, &text, &err) != CORM_OK)
        fail_msg("makemigrations: %s (%s)", err.message, err.hint);
    if (!fn) fail_msg("makemigrations: no changes for %s", v);
    *strstr(fn, ".corm-migration") = '\0';
    names[nmig] = fn;
    texts[nmig++] = text;
    corm_migrations_free(ms);
    corm_schema_free(s);
    return text;
}

corm_db *mt_open_fresh(const corm_schema *s)
{
    corm_error err;
    corm_db *db = corm_open(test_db_fresh_url(), s, &err);
    if (!db) fail_msg("open: %s", err.message);
    return db;
}

void mt_migrate(corm_db *db, const corm_migrations *ms, const char *to, unsigned flags)
{
    TEST_OK_DB(db, corm_migrate_to(db, ms, to, flags));
}

/* Columns by name, not position: a field removed and added back (or added
** to a table with rows) comes last, on both backends, as with Django. */
const char *mt_catalog(corm_db *db)
{
    return test_sql_rows(
        db,
        TEST_SQL(
            "SELECT 'col ' || m.name || '.' || p.name || ' ' || p.type || ' ' || "
            "p.\"notnull\" || ' ' || coalesce(p.dflt_value, '') || ' ' || p.pk FROM sqlite_master "
            "m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT IN "
            "('corm_migrations', 'sqlite_sequence') "
            "UNION ALL SELECT 'idx ' || m.name || ' ' || i.name || ' ' || i.\"unique\" || ' ' || "
            "i.origin || ' ' || i.partial || ' ' || (SELECT group_concat(x.name || ' ' || x.desc, "
            "',') FROM pragma_index_xinfo(i.name) x WHERE x.key) FROM sqlite_master m, "
            "pragma_index_list(m.name) i WHERE m.type = 'table' AND m.name NOT IN "
            "('corm_migrations', 'sqlite_sequence') "
            "UNION ALL SELECT 'fk ' || m.name || '.' || f.\"from\" || ' -> ' || f.\"table\" || "
            "'.' || f.\"to\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f WHERE "
            "m.type = 'table' "
            "UNION ALL SELECT type || ' ' || name || ' on ' || tbl_name || ' ' || CASE WHEN type "
            "IN ('trigger', 'index') OR sql LIKE 'CREATE VIRTUAL%' THEN sql ELSE '' END FROM "
            "sqlite_master WHERE name NOT IN ('corm_migrations', 'sqlite_sequence') AND name "
            "NOT LIKE 'sqlite_autoindex%' ORDER BY 1",
            "SELECT 'col ' || table_name || '.' || column_name || ' ' "
            "|| data_type || coalesce('(' || character_maximum_length || ')', '') || ' ' || "
            "is_nullable || ' ' || coalesce(column_default, '') || ' ' || is_identity FROM "
            "information_schema.columns WHERE table_schema = current_schema() AND table_name <> "
            "'corm_migrations' "
            "UNION ALL SELECT 'con ' || conrelid::regclass::text || ' ' || conname || ' ' || "
            "pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = "
            "current_schema()::regnamespace AND conrelid::regclass::text <> 'corm_migrations' "
            "UNION ALL SELECT 'rel ' || relkind::text || ' ' || relname FROM pg_class WHERE "
            "relnamespace = current_schema()::regnamespace AND relname NOT LIKE "
            "'corm_migrations%' "
            "UNION ALL SELECT 'idx ' || replace(indexdef, current_schema() || '.', '') FROM "
            "pg_indexes WHERE schemaname = current_schema() AND tablename <> 'corm_migrations' "
            "ORDER BY 1"));
}

void mt_same_as_direct(corm_db *db, const char *v)
{
    corm_schema *s = mt_parse(v);
    corm_db *direct = mt_open_fresh(s);
    TEST_OK_DB(direct, corm_migrate(direct));
    char *want = strdup(mt_catalog(direct));
    corm_close(direct);
    corm_schema_free(s);
    assert_string_equal(mt_catalog(db), want);
    free(want);
}
