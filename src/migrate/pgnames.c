/*
** pgnames.c - the names PostgreSQL gives the objects corm does not name,
** and their renames.
**
** CREATE TABLE on PostgreSQL names some objects itself, from the table and
** column names as they are at that moment:
**   "<table>_pkey"               the primary key constraint (and its index)
**   "<table>_<pk>_seq"           the identity sequence of the pk column
**   "<table>_<column>_key"       a column's UNIQUE (and its index)
**   "<table>_<c1>_<c2>_key"      a join table's UNIQUE (src, dst)
**   "<table>_<column>_fkey"      a join table's inline REFERENCES
** ALTER TABLE ... RENAME (TO | COLUMN) keeps those names, so after a rename
** a database would differ from one created directly with the new names, and
** a later migration that names one of them (alter_field dropping a UNIQUE)
** would not find it.  The rename operations therefore rename them too
** (ALTER TABLE ... RENAME CONSTRAINT, ALTER SEQUENCE ... RENAME TO).
**
** The names are made as PostgreSQL's makeObjectName makes them: at most 63
** bytes, the longer of the two parts cut first.  (PostgreSQL adds a number
** when the name is taken; corm's own names never take these.)
*/
#include "mig_int.h"

#include <string.h>

void corm__pg_name(corm_buf *out, const char *n1, const char *n2, const char *label)
{
    size_t c1 = strlen(n1), c2 = n2 ? strlen(n2) : 0;
    size_t overhead = (n2 ? 1 : 0) + strlen(label) + 1;
    size_t avail = CORM__DDL_NAME_MAX - overhead;
    while (c1 + c2 > avail) {
        if (c1 > c2) c1--;
        else c2--;
    }
    corm__buf_add(out, n1, c1);
    if (n2) {
        corm__buf_addc(out, '_');
        corm__buf_add(out, n2, c2);
    }
    corm__buf_addc(out, '_');
    corm__buf_adds(out, label);
}

corm_rc corm__pg_rename(const corm__dialect *d, const char *table, const char *label,
                        const char *n1b, const char *n2b, const char *n1a, const char *n2a,
                        corm__ddl *out, corm_error *err)
{
    if (strcmp(d->vendor, "postgresql") != 0) return CORM_OK;
    corm_buf nb, na, s;
    corm__buf_init(&nb);
    corm__buf_init(&na);
    corm__buf_init(&s);
    corm__pg_name(&nb, n1b, n2b, label);
    corm__pg_name(&na, n1a, n2a, label);
    const char *b = corm__buf_cstr(&nb), *a = corm__buf_cstr(&na);
    if (strcmp(b, a) != 0) {
        if (strcmp(label, "seq") == 0) {
            corm__buf_adds(&s, "ALTER SEQUENCE ");
            corm__sql_ident(&s, b);
        } else {
            corm__buf_adds(&s, "ALTER TABLE ");
            corm__sql_ident(&s, table);
            corm__buf_adds(&s, " RENAME CONSTRAINT ");
            corm__sql_ident(&s, b);
        }
        corm__buf_adds(&s, strcmp(label, "seq") == 0 ? " RENAME TO " : " TO ");
        corm__sql_ident(&s, a);
        if (nb.oom || na.oom) s.oom = true;
        corm__ddl_push(out, &s);
    }
    corm__buf_free(&nb);
    corm__buf_free(&na);
    corm__buf_free(&s);
    if (!out->oom) return CORM_OK;
    corm__err_set(err, CORM_NOMEM, "out of memory writing migration SQL");
    return CORM_NOMEM;
}

corm_rc corm__pg_rename_table(const corm__dialect *d, const char *tb, const char *pkb,
                              const char *ta, const char *pka, corm__ddl *out, corm_error *err)
{
    corm_rc rc = corm__pg_rename(d, ta, "pkey", tb, NULL, ta, NULL, out, err);
    if (rc == CORM_OK) rc = corm__pg_rename(d, ta, "seq", tb, pkb, ta, pka, out, err);
    return rc;
}

/* "<c1>_<c2>" into b. */
static const char *pair(corm_buf *b, const char *c1, const char *c2)
{
    corm__buf_reset(b);
    corm__buf_addf(b, "%s_%s", c1, c2);
    return corm__buf_cstr(b);
}

corm_rc corm__pg_rename_join(const corm__dialect *d, const char *tb, const char *b1, const char *b2,
                             const char *ta, const char *a1, const char *a2, corm__ddl *out,
                             corm_error *err)
{
    corm_rc rc = corm__pg_rename_table(d, tb, "id", ta, "id", out, err);
    corm_buf pb, pa;
    corm__buf_init(&pb);
    corm__buf_init(&pa);
    if (rc == CORM_OK)
        rc = corm__pg_rename(d, ta, "key", tb, pair(&pb, b1, b2), ta, pair(&pa, a1, a2), out, err);
    if (rc == CORM_OK && (pb.oom || pa.oom)) {
        corm__err_set(err, CORM_NOMEM, "out of memory writing migration SQL");
        rc = CORM_NOMEM;
    }
    corm__buf_free(&pb);
    corm__buf_free(&pa);
    if (rc == CORM_OK) rc = corm__pg_rename(d, ta, "fkey", tb, b1, ta, a1, out, err);
    if (rc == CORM_OK) rc = corm__pg_rename(d, ta, "fkey", tb, b2, ta, a2, out, err);
    return rc;
}
