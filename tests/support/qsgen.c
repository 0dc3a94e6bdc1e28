/*
** qsgen.c - random valid querysets from bytes (qsgen.h).
*/
#include "qsgen.h"
#include "bookstore.h"

#include <stdio.h>
#include <string.h>

/* The models the fixture fills. */
static const corm_model *const models[] = {&Book_model, &Author_model, &Country_model,
                                           &Publisher_model, &Genre_model};
#define NMODELS (sizeof models / sizeof models[0])

static char *next_buf(qsgen *d) { return d->buf[d->nbuf++ % 96]; }

static const corm_model *target(const corm_relation *r)
{
    return bookstore_schema.models[r->target];
}

/* A path of up to depth relations from m into out (with a trailing "__"
** when not empty); forward_only: fk and one-to-one only.  Returns the
** model reached. */
static const corm_model *walk(qsgen *d, const corm_model *m, int depth, bool forward_only,
                              char *out, size_t size)
{
    size_t len = strlen(out);
    int n = (int)fz_pick(&d->in, (unsigned)depth + 1);
    for (int i = 0; i < n && m->nrels; i++) {
        const corm_relation *r = &m->rels[fz_pick(&d->in, (unsigned)m->nrels)];
        if (forward_only && r->kind != CORM_REL_FK && r->kind != CORM_REL_O2O) break;
        int w = snprintf(out + len, size - len, "%s__", r->name);
        if (w < 0 || (size_t)w >= size - len) break;
        len += (size_t)w;
        m = target(r);
    }
    return m;
}

/* path__lookup with a value of the field's type, as filter() takes it. */
static const char *leaf(qsgen *d, const corm_model *m, corm_value *v)
{
    char *out = next_buf(d);
    out[0] = '\0';
    m = walk(d, m, 2, false, out, 96);
    const corm_field *f = &m->fields[fz_pick(&d->in, (unsigned)m->nfields)];
    size_t len = strlen(out);
    snprintf(out + len, 96 - len, "%s", f->name);
    len = strlen(out);
    const char *lk = "";
    unsigned k = fz_pick(&d->in, 12);
    if (k == 0) {
        *v = corm_bool(fz_byte(&d->in) & 1);
        lk = "__isnull";
    } else switch (f->type) {
        case CORM_FT_INTEGER:
        case CORM_FT_BIGINT:
        case CORM_FT_FK:
        case CORM_FT_O2O:
        case CORM_FT_FLOAT:
        case CORM_FT_DECIMAL: {
            static const char *const lks[] = {"",      "__gt", "__gte",  "__lt",
                                              "__lte", "__in", "__range"};
            lk = lks[k % 7];
            if (k % 7 == 5) {
                size_t n = fz_pick(&d->in, 5);
                for (size_t i = 0; i < n; i++) d->ilist[i] = fz_int(&d->in);
                *v = corm_ints(d->ilist, n);
            } else if (k % 7 == 6) {
                d->vlist[0] = corm_int(fz_int(&d->in));
                d->vlist[1] = corm_int(fz_int(&d->in));
                *v = corm_vlist(d->vlist, 2);
            } else if (f->type == CORM_FT_FLOAT || f->type == CORM_FT_DECIMAL) {
                *v = corm_float((double)fz_int(&d->in) / 2.0);
            } else *v = corm_int(fz_int(&d->in) * (fz_byte(&d->in) & 1 ? 10 : 1));
            break;
        }
        case CORM_FT_CHAR:
        case CORM_FT_TEXT:
        case CORM_FT_EMAIL: {
            static const char *const lks[] = {"",
                                              "__iexact",
                                              "__contains",
                                              "__icontains",
                                              "__startswith",
                                              "__istartswith",
                                              "__endswith",
                                              "__iendswith",
                                              "__in",
                                              "__gt",
                                              "__lte"};
            lk = lks[k % 11];
            if (k % 11 == 8) {
                size_t n = fz_pick(&d->in, 4);
                for (size_t i = 0; i < n; i++) {
                    char *t = next_buf(d);
                    fz_text(&d->in, t, 12, true);
                    d->tlist[i] = t;
                }
                *v = corm_texts(d->tlist, n);
            } else {
                char *t = next_buf(d);
                fz_text(&d->in, t, 12, true);
                *v = corm_text(t);
            }
            break;
        }
        case CORM_FT_BOOL: *v = corm_bool(fz_byte(&d->in) & 1); break;
        case CORM_FT_DATE:
        case CORM_FT_DATETIME: {
            static const char *const lks[] = {"",       "__gt",    "__lte", "__range",
                                              "__year", "__month", "__day", "__year__gte"};
            lk = lks[k % 8];
            if (k % 8 >= 4) {
                *v = corm_int(k % 8 == 5 ? 1 + fz_pick(&d->in, 12)
                                         : 1000 + fz_pick(&d->in, 255) * 4);
                break;
            }
            char *t[2] = {next_buf(d), next_buf(d)};
            for (int i = 0; i < 2; i++)
                snprintf(t[i], 96,
                         f->type == CORM_FT_DATE ? "%04u-%02u-%02u" : "%04u-%02u-%02u 12:00:00",
                         1000 + fz_pick(&d->in, 255) * 4, 1 + fz_pick(&d->in, 12),
                         1 + fz_pick(&d->in, 28));
            if (k % 8 == 3) {
                d->vlist[0] = corm_text(t[0]);
                d->vlist[1] = corm_text(t[1]);
                *v = corm_vlist(d->vlist, 2);
            } else *v = corm_text(t[0]);
            break;
        }
        default:
            *v = corm_bool(fz_byte(&d->in) & 1);
            lk = "__isnull";
            break;
        }
    snprintf(out + len, 96 - len, "%s", lk);
    return out;
}

/* A field path for order_by / values / aggregates: numeric when asked. */
static const char *field_path(qsgen *d, const corm_model *m, bool numeric, int depth)
{
    char *out = next_buf(d);
    out[0] = '\0';
    m = walk(d, m, depth, false, out, 96);
    const corm_field *f = &m->fields[fz_pick(&d->in, (unsigned)m->nfields)];
    if (numeric && f->type != CORM_FT_INTEGER && f->type != CORM_FT_BIGINT &&
        f->type != CORM_FT_FLOAT && f->type != CORM_FT_DECIMAL)
        f = &m->fields[0];
    size_t len = strlen(out);
    snprintf(out + len, 96 - len, "%s", f->name);
    return out;
}

corm_qs *qsgen_build(qsgen *d, corm_db *db)
{
    const corm_model *m = models[fz_pick(&d->in, NMODELS)];
    corm_qs *qs = corm_qs_new_at(db, m, CORM_SITE);
    if (d->total_order) corm_order_by(qs, "id");
    int nops = 1 + (int)fz_pick(&d->in, 6);
    int nannots = 0;
    for (int i = 0; i < nops; i++) {
        corm_value v, w;
        switch (fz_pick(&d->in, 10)) {
        case 0: {
            const char *p = leaf(d, m, &v);
            corm_filter(qs, p, v);
            break;
        }
        case 1: {
            const char *p = leaf(d, m, &v);
            corm_exclude(qs, p, v);
            break;
        }
        case 2: {
            const char *p = leaf(d, m, &v);
            corm_q *a = corm_q_new(qs, p, v);
            p = leaf(d, m, &w);
            corm_q *b = corm_q_new(qs, p, w);
            corm_filter_q(qs, fz_byte(&d->in) & 1 ? corm_q_or(qs, a, b)
                                                  : corm_q_and(qs, a, corm_q_not(qs, b)));
            break;
        }
        case 3: {
            const char *p = field_path(d, m, false, 1);
            if (fz_byte(&d->in) & 1) {
                char *desc = next_buf(d);
                snprintf(desc, 96, "-%s", p);
                p = desc;
            }
            if (d->total_order) corm_order_by(qs, p, "id");
            else corm_order_by(qs, p);
            d->ordered = true;
            break;
        }
        case 4: {
            char *p = next_buf(d);
            p[0] = '\0';
            walk(d, m, 2, true, p, 96);
            size_t len = strlen(p);
            if (len < 2) break;
            p[len - 2] = '\0';
            corm_select_related(qs, p);
            break;
        }
        case 5: {
            char *p = next_buf(d);
            p[0] = '\0';
            walk(d, m, 2, false, p, 96);
            size_t len = strlen(p);
            if (len < 2) break;
            p[len - 2] = '\0';
            corm_prefetch_related(qs, p);
            break;
        }
        case 6: {
            char *name = next_buf(d);
            snprintf(name, 96, "a%d", nannots++);
            corm_expr *e;
            switch (fz_pick(&d->in, 4)) {
            case 0: e = corm_Count(qs, field_path(d, m, false, 2), fz_byte(&d->in) & 1); break;
            case 1: e = corm_Sum(qs, field_path(d, m, true, 2)); break;
            case 2: e = corm_Min(qs, field_path(d, m, true, 2)); break;
            default: e = corm_Max(qs, field_path(d, m, true, 2)); break;
            }
            corm_annotate(qs, name, e);
            break;
        }
        case 7: {
            int n = 1 + (int)fz_pick(&d->in, 3);
            for (int k = 0; k < n; k++) d->cols[k] = field_path(d, m, false, 1);
            d->cols[n] = NULL;
            corm_values_v(qs, d->cols);
            d->values = true;
            break;
        }
        case 8: {
            int64_t start = fz_pick(&d->in, 5);
            corm_slice(qs, start, start + fz_pick(&d->in, 6));
            d->sliced = true;
            break;
        }
        default: corm_distinct(qs); break;
        }
    }
    d->how = (int)fz_pick(&d->in, 3);
    return qs;
}
