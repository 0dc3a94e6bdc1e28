/*
** router.c - several databases behind one corm_db: attached databases by
** name (a read replica) and the router hook that picks one per statement.
**
** Invariants: an attached database belongs to the db it is attached to and
** is closed with it; attached databases have no aliases or router of their
** own (routing is one level: the primary decides).  While db is in a
** transaction the router is not asked about reads: the transaction's
** statements all go to db, so it reads what it wrote.  An explicit
** corm_using always wins.  The model pointer is passed through to the
** application's router unread (this layer knows no models).
*/
#include "db_int.h"

#include <string.h>

typedef struct corm__alias {
    char *name;
    corm_db *db;
    struct corm__alias *next;
} corm__alias;

static bool is_default(const char *alias) { return !alias || strcmp(alias, "default") == 0; }

static corm__alias *find(corm_db *db, const char *alias)
{
    for (corm__alias *a = db->aliases; a; a = a->next)
        if (strcmp(a->name, alias) == 0) return a;
    return NULL;
}

corm_db *corm_db_alias(corm_db *db, const char *alias)
{
    if (!db) return NULL;
    if (is_default(alias)) return db;
    corm__alias *a = find(db, alias);
    return a ? a->db : NULL;
}

corm_rc corm_db_attach(corm_db *db, const char *alias, const char *url)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    if (!alias || !url) {
        corm__err_set(&db->err, CORM_MISUSE, "corm_db_attach needs an alias and a url");
        corm__err_hint(&db->err, "corm_db_attach(db, \"replica\", \"postgresql://...\")");
        return CORM_MISUSE;
    }
    if (is_default(alias) || !alias[0] || find(db, alias)) {
        corm__err_set(&db->err, CORM_INVALID, "cannot attach a database as '%s': %s", alias,
                      alias[0] ? "the name is taken" : "the name is empty");
        corm__err_hint(&db->err, "\"default\" is the database itself; give each attached "
                                 "database its own name, e.g. \"replica\"");
        return CORM_INVALID;
    }
    corm__alias *a = corm__calloc(1, sizeof *a);
    char *name = corm__strdup(alias);
    if (!a || !name) {
        corm__free(a);
        corm__free(name);
        corm__err_set(&db->err, CORM_NOMEM, "out of memory attaching '%s'", alias);
        return CORM_NOMEM;
    }
    corm_error err;
    corm_db *other = corm_open(url, db->schema, &err);
    if (!other) {
        corm__free(a);
        corm__free(name);
        corm__err_copy(&db->err, &err);
        return err.rc ? err.rc : CORM_CONN;
    }
    a->name = name;
    a->db = other;
    a->next = db->aliases;
    db->aliases = a;
    return CORM_OK;
}

void corm__db_aliases_free(corm_db *db)
{
    corm__alias *a = db->aliases;
    db->aliases = NULL;
    while (a) {
        corm__alias *next = a->next;
        corm_close(a->db);
        corm__free(a->name);
        corm__free(a);
        a = next;
    }
}

void corm_set_router(corm_db *db, corm_router_fn fn, void *ud)
{
    CORM__DB_ENTER(db, );
    db->router = fn;
    db->router_ud = ud;
}

const char *corm_router_replica(void *ud, const corm_model *model, corm_route route)
{
    (void)model;
    return route == CORM_ROUTE_READ ? (const char *)ud : NULL;
}

static corm_db *unknown(corm_db *db, const char *alias, bool from_router, corm_error *err)
{
    corm_buf names;
    corm__buf_init(&names);
    corm__buf_adds(&names, "default");
    for (corm__alias *a = db->aliases; a; a = a->next) corm__buf_addf(&names, ", %s", a->name);
    corm__err_set(err, CORM_INVALID, "%s database '%s' is not attached",
                  from_router ? "the router chose" : "corm_using:", alias);
    corm__err_hint(err, "attach it first with corm_db_attach(db, \"%s\", url); attached: %s", alias,
                   corm__buf_cstr(&names));
    corm__buf_free(&names);
    return NULL;
}

corm_db *corm__db_route(corm_db *db, const corm_model *model, const char *using, bool write,
                        corm_error *err)
{
    if (using) {
        corm_db *d = corm_db_alias(db, using);
        return d ? d : unknown(db, using, false, err);
    }
    if (!db->router) return db;
    /* a transaction's statements all go to db: it reads its own writes */
    if (!write && (db->tx_depth > 0 || db->be->in_transaction(db->conn))) return db;
    const char *alias =
        db->router(db->router_ud, model, write ? CORM_ROUTE_WRITE : CORM_ROUTE_READ);
    if (is_default(alias)) return db;
    corm_db *d = corm_db_alias(db, alias);
    return d ? d : unknown(db, alias, true, err);
}

corm_rc corm_ping(corm_db *db)
{
    CORM__DB_ENTER(db, CORM_MISUSE);
    return db->be->ping ? db->be->ping(db->conn, &db->err) : CORM_OK;
}
