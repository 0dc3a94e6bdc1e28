/* corm lint: field paths checked against the schema (tests/lint/check.sh
** compares the output with lookups.expected). */
#include "bookstore.h"

void typos(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "titel__icontains", corm_text("war"));
    corm_filter(qs, "title__icontain", corm_text("war"));
    corm_exclude(qs, "author__nme", corm_text("Hugo"));
    corm_order_by(qs, "-titl", "id");
    corm_select_related(qs, "genres");
    corm_prefetch_related(qs, "genre");
    corm_only(qs, "title", "pagez");
    corm_annotate(qs, "n", corm_Count(qs, "reviewz", false));
    corm_filter(qs, "published_date__year", corm_int(2001));
    corm_filter(qs, "title__year", corm_int(2001));
    corm_qs_free(qs);
}

void fine(corm_db *db)
{
    corm_qs *qs = corm_all(db, Book);
    corm_filter(qs, "title__icontains", corm_text("war"));
    corm_filter(qs, "author__name", corm_text("Hugo"));
    corm_select_related(qs, "author", "publisher");
    corm_prefetch_related(qs, "genres", "author__books");
    corm_annotate(qs, "nreviews", corm_Count(qs, "reviews", false));
    corm_order_by(qs, "-nreviews", "title");
    corm_filter(qs, "titel", corm_text("x")); /* corm-lint: ignore */
    corm_qs_free(qs);
}

/* what the linter cannot follow stays silent */
void unknown(corm_db *db, corm_qs *given, const char *path, int which)
{
    corm_filter(given, "titel", corm_text("x"));
    corm_qs *qs = which ? corm_all(db, Book) : corm_all(db, Author);
    corm_filter(qs, "titel", corm_text("x"));
    corm_qs *q2 = corm_all(db, Book);
    corm_filter(q2, path, corm_text("x"));
    corm_qs_free(qs);
    corm_qs_free(q2);
}

/* OuterRef paths are the outer queryset's */
void outer_refs(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_qs *latest = corm_all(db, Book);
    corm_filter_expr(latest, "author", corm_OuterRef(latest, "pk"));
    corm_filter_expr(latest, "pages__gt", corm_OuterRef(latest, "nmae")); /* Author's */
    corm_annotate(qs, "latest", corm_Subquery(qs, latest, "title"));
    corm_qs *has = corm_all(db, Book);
    corm_filter_expr(has, "author", corm_OuterRef(has, "title")); /* a Book field, not Author's */
    corm_annotate(qs, "has_books", corm_Exists(qs, has));
    corm_qs_free(qs);
}

/* a variable given a new queryset has only the annotations given after */
void rebound(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "n", corm_Count(qs, "books", false));
    corm_filter(qs, "n__gt", corm_int(1));
    corm_qs_free(qs);
    qs = corm_all(db, Author);
    corm_annotate(qs, "avg_pages", corm_Avg(qs, "books__pages"));
    corm_order_by(qs, "-avg_pages");
    corm_filter(qs, "n__gt", corm_int(1)); /* this queryset has no n */
    corm_qs_free(qs);
}
