/*
** eager_check.c - Django's rule that a relation select_related traverses
** cannot be deferred (its select_related_descend): only() that leaves the
** key out of a level it restricts, or defer() of the key, at any depth of
** the path, is an error before any SQL is sent.
**
** The levels follow Django's select mask: the base model is restricted by
** every only() name; a joined model by the names under its path
** ("author__name" restricts Author to name); a joined model no name
** reaches is not restricted.  only("title", "author__name") keeps the key
** author (a name under a relation keeps its key).
*/
#include "fetch_int.h"

#include <string.h>

/* Whether name (an only/defer entry) is, below prefix (a path of len
** bytes, "" for the base), the field f itself (exact) or something under
** it ("f__..."), or, with first, whose first segment is f. */
static bool names_field(const char *name, const char *prefix, size_t len, const corm_field *f,
                        bool exact)
{
    if (len) {
        if (strncmp(name, prefix, len) != 0 || strncmp(name + len, "__", 2) != 0) return false;
        name += len + 2;
    }
    const char *end = strstr(name, "__");
    size_t n = end ? (size_t)(end - name) : strlen(name);
    if (exact && end) return false;
    return (strlen(f->name) == n && strncmp(name, f->name, n) == 0) ||
           (strlen(f->column) == n && strncmp(name, f->column, n) == 0);
}

/* Whether some only() name reaches below prefix (restricts that level). */
static bool level_restricted(const corm__query *q, const char *prefix, size_t len)
{
    for (int i = 0; i < q->nonly; i++)
        if (!len ||
            (strncmp(q->only[i], prefix, len) == 0 && strncmp(q->only[i] + len, "__", 2) == 0))
            return true;
    return false;
}

static corm_rc refuse(corm_error *err, const corm_model *m, const corm_field *f, const char *path,
                      size_t len, bool defer)
{
    corm__err_set(err, CORM_INVALID,
                  "%s.%s cannot be both deferred and traversed using select_related (\"%s\")",
                  m->name, f->name, path);
    if (defer)
        corm__err_hint(err, "remove \"%.*s%s%s\" from corm_defer, or the select_related", (int)len,
                       path, len ? "__" : "", f->name);
    else
        corm__err_hint(err,
                       "add \"%.*s%s%s\" to corm_only (or a field under it), or drop the "
                       "select_related",
                       (int)len, path, len ? "__" : "", f->name);
    return CORM_INVALID;
}

corm_rc corm__check_deferred_traversal(const corm__query *q, corm_error *err)
{
    if (!q->nonly || !q->nrelated || !q->model) return CORM_OK;
    for (int k = 0; k < q->nrelated; k++) {
        const char *path = q->related[k];
        const corm_model *m = q->model;
        const char *seg = path;
        while (m && *seg) {
            const char *end = strstr(seg, "__");
            size_t n = end ? (size_t)(end - seg) : strlen(seg);
            const corm_relation *r = corm__model_rel(m, seg, n);
            if (!r) break; /* the compiler names the unknown relation */
            size_t len = seg == path ? 0 : (size_t)(seg - path) - 2; /* the prefix */
            if (r->kind == CORM_REL_FK || r->kind == CORM_REL_O2O) {
                const corm_field *f = &m->fields[r->field];
                bool bad = false;
                for (int i = 0; q->defer && i < q->nonly && !bad; i++)
                    bad = names_field(q->only[i], path, len, f, true);
                if (!q->defer && level_restricted(q, path, len)) {
                    bad = true;
                    for (int i = 0; i < q->nonly && bad; i++)
                        bad = !names_field(q->only[i], path, len, f, false);
                }
                if (bad) return refuse(err, m, f, path, len, q->defer);
            }
            m = corm__rel_target(m, r);
            seg = end ? end + 2 : seg + n;
        }
    }
    return CORM_OK;
}
