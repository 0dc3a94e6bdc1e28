/*
** paginate.c - Django's Paginator over a queryset (include/corm/paginate.h):
** a copy of the queryset, its COUNT taken once, and pages as slices of
** that copy.
*/
#include "qs_int.h"

#include <stdio.h>
#include <string.h>

struct corm_paginator {
    corm_qs *qs; /* the paginator's copy */
    int64_t per_page, orphans;
    bool allow_empty_first_page;
    int64_t count; /* -1: not counted yet */
    char *warning;
    corm_error err;
};

static bool is_ordered(const corm_qs *qs)
{
    if (qs->q.order_set) return qs->q.norder > 0;
    return qs->q.model && qs->q.model->nordering > 0;
}

corm_paginator *corm_paginator_new(const corm_qs *qs, int64_t per_page, int64_t orphans,
                                   bool allow_empty_first_page)
{
    if (!qs) return NULL;
    corm_db *home = qs->home ? qs->home : qs->db;
    corm__db_enter(home);
    if (per_page < 1 || orphans < 0) {
        corm__err_set(&home->err, CORM_MISUSE, "corm_paginator_new: %s",
                      per_page < 1 ? "per_page must be at least 1"
                                   : "orphans must not be negative");
        return NULL;
    }
    corm_paginator *p = corm__calloc(1, sizeof *p);
    if (p) p->qs = corm_qs_clone(qs);
    if (!p || !p->qs) {
        corm__free(p);
        corm__err_set(&home->err, CORM_NOMEM, "out of memory making a paginator");
        return NULL;
    }
    p->per_page = per_page;
    p->orphans = orphans;
    p->allow_empty_first_page = allow_empty_first_page;
    p->count = -1;
    if (!is_ordered(qs)) {
        char buf[300];
        snprintf(buf, sizeof buf,
                 "Pagination may yield inconsistent results with an unordered object_list: %s "
                 "queryset built at "
                 "%s:%d (add corm_order_by)",
                 qs->q.model ? qs->q.model->name : "?", qs->built.file ? qs->built.file : "?",
                 qs->built.line);
        p->warning = corm__strdup(buf);
        fprintf(stderr, "corm: UnorderedObjectListWarning: %s\n", buf);
    }
    return p;
}

void corm_paginator_free(corm_paginator *p)
{
    if (!p) return;
    corm_qs_free(p->qs);
    corm__free(p->warning);
    corm__free(p);
}

const corm_error *corm_paginator_error(const corm_paginator *p) { return p ? &p->err : NULL; }
const char *corm_paginator_warning(const corm_paginator *p) { return p ? p->warning : NULL; }

int64_t corm_paginator_count_at(corm_paginator *p, corm_site site)
{
    if (!p) return -1;
    corm__err_clear(&p->err);
    if (p->count < 0) {
        int64_t n = corm_count_at(p->qs, site);
        if (n < 0) {
            corm__err_copy(&p->err, corm_qs_error(p->qs));
            return -1;
        }
        p->count = n;
    }
    return p->count;
}

int64_t corm_paginator_num_pages_at(corm_paginator *p, corm_site site)
{
    int64_t n = corm_paginator_count_at(p, site);
    if (n < 0) return -1;
    if (n == 0 && !p->allow_empty_first_page) return 0;
    int64_t hits = n - p->orphans > 1 ? n - p->orphans : 1;
    return (hits + p->per_page - 1) / p->per_page;
}

corm_page *corm_paginator_page_at(corm_paginator *p, int64_t number, corm_site site)
{
    int64_t pages = corm_paginator_num_pages_at(p, site);
    if (pages < 0) return NULL;
    if (number < 1) {
        corm__err_set(&p->err, CORM_NOTFOUND,
                      "EmptyPage: That page number is less than 1 (page %lld)", (long long)number);
        corm__err_hint(&p->err, "pages are numbered from 1");
        return NULL;
    }
    if (number > pages && !(number == 1 && p->allow_empty_first_page)) {
        corm__err_set(&p->err, CORM_NOTFOUND,
                      "EmptyPage: That page contains no results (page %lld of %lld)",
                      (long long)number, (long long)pages);
        corm__err_hint(
            &p->err,
            "ask for a page from 1 to corm_paginator_num_pages, or use corm_paginator_get_page");
        return NULL;
    }
    int64_t bottom = (number - 1) * p->per_page, top = bottom + p->per_page;
    if (top + p->orphans >= p->count) top = p->count;
    corm_page *page = corm__calloc(1, sizeof *page);
    if (page) page->objects = corm_qs_clone(p->qs);
    if (!page || !page->objects) {
        corm__free(page);
        corm__err_set(&p->err, CORM_NOMEM, "out of memory making page %lld", (long long)number);
        return NULL;
    }
    corm_slice(page->objects, bottom, top);
    page->number = number;
    page->has_next = number < pages;
    page->has_previous = number > 1;
    page->start_index = p->count == 0 ? 0 : bottom + 1;
    page->end_index = p->count == 0 ? 0 : top;
    return page;
}

/* Django's validate_number for text, as Python's int() reads it: ASCII
** spaces around, a sign, decimal digits; a number too large for int64 is
** clamped (it is past the last page, or before the first, either way).
** False with p's error when it is not an integer. */
static bool is_space(char ch) { return ch == ' ' || (ch >= '\t' && ch <= '\r'); }

static bool parse_number(corm_paginator *p, const char *s, int64_t *out)
{
    const char *q = s;
    while (q && is_space(*q)) q++;
    bool neg = q && *q == '-';
    if (q && (*q == '-' || *q == '+')) q++;
    bool ok = q && *q >= '0' && *q <= '9';
    int64_t v = 0;
    for (; ok && *q >= '0' && *q <= '9'; q++)
        v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (*q - '0');
    while (ok && is_space(*q)) q++;
    if (!ok || *q) {
        corm__err_set(&p->err, CORM_INVALID,
                      "PageNotAnInteger: That page number is not an integer ('%.40s')",
                      s ? s : "(null)");
        corm__err_hint(&p->err,
                       "pass the page number as decimal digits, or use corm_paginator_get_page");
        return false;
    }
    *out = neg ? -v : v;
    return true;
}

corm_page *corm_paginator_page_str_at(corm_paginator *p, const char *number, corm_site site)
{
    if (!p) return NULL;
    corm__err_clear(&p->err);
    int64_t n;
    if (!parse_number(p, number, &n)) return NULL;
    return corm_paginator_page_at(p, n, site);
}

corm_page *corm_paginator_get_page_at(corm_paginator *p, const char *number, corm_site site)
{
    if (!p) return NULL;
    corm__err_clear(&p->err);
    int64_t n;
    if (!parse_number(p, number, &n)) n = 1;
    corm_page *page = corm_paginator_page_at(p, n, site);
    if (!page && p->err.rc == CORM_NOTFOUND) {
        /* the last page; with no pages at all (no objects and no empty
        ** first page) that is page 0, an EmptyPage, as Django's */
        int64_t pages = corm_paginator_num_pages_at(p, site);
        page = pages < 0 ? NULL : corm_paginator_page_at(p, pages, site);
    }
    return page;
}

void corm_page_free(corm_page *page)
{
    if (!page) return;
    corm_qs_free(page->objects);
    corm__free(page);
}
