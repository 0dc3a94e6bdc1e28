/*
** api.c - a small JSON API over the bookstore, built on the installed corm
** (examples/api/README.md):
**
**   GET  /books?page=N        a page of books, with author, publisher, genres
**   GET  /books/ID            one book, with its review count and average rating
**   POST /books               a new book from a JSON body, every field checked
**   GET  /stats/top-authors   the five authors with the most books
**
** Every response carries X-Corm-Queries: the statements it ran (make test
** checks each endpoint's exact count).
**
**   api --db sqlite:books.db [--seed] [--port N]    (port 0: any free one)
*/
#include <corm.h>
#include <corm/json.h>
#include <microhttpd.h>

#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bookstore.h"

#define PER_PAGE 3

/* A response: an HTTP status and a JSON body (owned). */
typedef struct reply {
    unsigned status;
    json_t *body;
} reply;

static reply fail(unsigned status, const corm_error *err, json_t *fields)
{
    json_t *body = json_pack("{s:s}", "error", err->message);
    if (fields) json_object_set_new(body, "fields", fields);
    return (reply){status, body};
}

/* GET /books?page=N: one COUNT, the page, its genres - 3 queries. */
static reply list_books(corm_db *db, const char *page_number)
{
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author", "publisher");
    corm_prefetch_related(qs, "genres");
    corm_order_by(qs, "title", "id");
    corm_paginator *p = corm_paginator_new(qs, PER_PAGE, 0, true);
    corm_qs_free(qs);
    corm_page *page = corm_paginator_page_str(p, page_number ? page_number : "1");
    reply r;
    corm_error err;
    if (!page) {
        /* Django's PageNotAnInteger (CORM_INVALID): 400; EmptyPage: 404 */
        const corm_error *e = corm_paginator_error(p);
        r = fail(e->rc == CORM_INVALID ? 400 : 404, e, NULL);
    } else if (corm_eval(page->objects) != CORM_OK) {
        r = fail(500, corm_qs_error(page->objects), NULL);
    } else {
        json_t *books = corm_json_qs(page->objects,
                                     corm_json_fields("id", "title", "price", "published_date",
                                                      "author", "publisher", "genres"),
                                     &err);
        r = books ? (reply){200, json_pack("{s:I, s:I, s:I, s:o}", "count",
                                           (json_int_t)corm_paginator_count(p), "num_pages",
                                           (json_int_t)corm_paginator_num_pages(p), "page",
                                           (json_int_t)page->number, "results", books)}
                  : fail(500, &err, NULL);
    }
    corm_page_free(page);
    corm_paginator_free(p);
    return r;
}

/* GET /books/ID: the book with its aggregates, and its genres - 2 queries. */
static reply book_detail(corm_db *db, long long id)
{
    corm_qs *qs = corm_all(db, Book);
    corm_select_related(qs, "author", "publisher");
    corm_prefetch_related(qs, "genres");
    corm_annotate(qs, "review_count", corm_Count(qs, "reviews", false));
    corm_annotate(qs, "rating_sum", corm_Sum(qs, "reviews__rating"));
    corm_filter(qs, "pk", corm_int(id));
    Book *b = corm_get(qs);
    reply r;
    corm_error err;
    if (!b) {
        r = fail(corm_qs_error(qs)->rc == CORM_NOTFOUND ? 404 : 500, corm_qs_error(qs), NULL);
    } else {
        json_t *o = corm_json_obj(b, NULL, &err);
        if (o) {
            /* the average from the two aggregates: the same on every database */
            int64_t n = corm_annotation(b, "review_count")->u.i;
            const corm_value *sum = corm_annotation(b, "rating_sum");
            json_object_set_new(o, "rating_avg",
                                n ? json_real((double)sum->u.i / (double)n) : json_null());
            json_object_del(o, "rating_sum");
        }
        r = o ? (reply){200, o} : fail(500, &err, NULL);
    }
    corm_qs_free(qs);
    return r;
}

/* POST /books: checked by the JSON layer (no query when it is wrong), then
** one INSERT. */
static reply create_book(corm_db *db, const char *data, size_t len)
{
    json_error_t jerr;
    json_t *in = json_loadb(data, len, 0, &jerr);
    if (!in) {
        corm_error err = {.rc = CORM_INVALID};
        snprintf(err.message, sizeof err.message, "the body is not JSON: %s", jerr.text);
        return fail(400, &err, NULL);
    }
    corm_error err;
    json_t *fields = json_object();
    Book *b = corm_json_new(Book, in, fields, &err);
    json_decref(in);
    if (!b) return fail(400, &err, fields);
    json_decref(fields);
    reply r;
    if (corm_save(db, b) != CORM_OK) r = fail(400, corm_db_error(db), NULL);
    else r = (reply){201, corm_json_obj(b, NULL, &err)};
    corm_json_free(b);
    return r;
}

/* GET /stats/top-authors: one query. */
static reply top_authors(corm_db *db)
{
    corm_qs *qs = corm_all(db, Author);
    corm_annotate(qs, "book_count", corm_Count(qs, "books", false));
    corm_values(qs, "id", "name", "book_count");
    corm_order_by(qs, "-book_count", "name");
    corm_slice(qs, 0, 5);
    corm_error err;
    json_t *rows = corm_eval(qs) == CORM_OK ? corm_json_qs(qs, NULL, &err) : NULL;
    reply r = rows ? (reply){200, rows} : fail(500, corm_qs_error(qs), NULL);
    corm_qs_free(qs);
    return r;
}

static reply route(corm_db *db, struct MHD_Connection *c, const char *method, const char *url,
                   const char *data, size_t len)
{
    long long id;
    char end;
    bool get = strcmp(method, "GET") == 0;
    if (get && strcmp(url, "/books") == 0)
        return list_books(db, MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "page"));
    if (strcmp(method, "POST") == 0 && strcmp(url, "/books") == 0)
        return create_book(db, data, len);
    if (get && sscanf(url, "/books/%lld%c", &id, &end) == 1) return book_detail(db, id);
    if (get && strcmp(url, "/stats/top-authors") == 0) return top_authors(db);
    return (reply){404, json_pack("{s:s}", "error", "no such endpoint")};
}

/* ------------------------------------------------ HTTP (libmicrohttpd) */

typedef struct upload {
    char *data;
    size_t len;
} upload;

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload_data,
                               size_t *upload_size, void **con_cls)
{
    corm_db *db = cls;
    (void)version;
    upload *up = *con_cls;
    if (!up) { /* the headers: the body (if any) comes in the next calls */
        *con_cls = calloc(1, sizeof *up);
        return *con_cls ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *more = realloc(up->data, up->len + *upload_size);
        if (!more) return MHD_NO;
        memcpy(more + up->len, upload_data, *upload_size);
        up->data = more;
        up->len += *upload_size;
        *upload_size = 0;
        return MHD_YES;
    }
    uint64_t before = corm_query_count(db);
    reply r = route(db, c, method, url, up->data, up->len);
    char *text = r.body ? json_dumps(r.body, JSON_COMPACT) : NULL;
    json_decref(r.body);
    if (!text) return MHD_NO;
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    char queries[32];
    snprintf(queries, sizeof queries, "%llu", (unsigned long long)(corm_query_count(db) - before));
    MHD_add_response_header(resp, "Content-Type", "application/json");
    MHD_add_response_header(resp, "X-Corm-Queries", queries);
    enum MHD_Result ret = MHD_queue_response(c, r.status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)c, (void)toe;
    upload *up = *con_cls;
    if (up) free(up->data);
    free(up);
}

/* ------------------------------------------------------------ the data */

static corm_rc seed(corm_db *db, void *ud)
{
    (void)ud;
    static const char *const authors[] = {"Ursula K. Le Guin", "Frank Herbert",
                                          "Octavia E. Butler"};
    static const struct {
        const char *title, *date, *price;
        int author, publisher, genre, pages;
    } books[] = {
        {"A Wizard of Earthsea", "1968-11-01", "8.99", 0, 1, 1, 183},
        {"The Left Hand of Darkness", "1969-03-01", "9.99", 0, 1, 0, 304},
        {"The Dispossessed", "1974-05-01", "10.50", 0, 2, 0, 387},
        {"Dune", "1965-08-01", "12.00", 1, 1, 0, 412},
        {"Dune Messiah", "1969-10-15", "11.00", 1, 1, 0, 256},
        {"Kindred", "1979-06-01", "9.50", 2, 0, 0, 264},
        {"Parable of the Sower", NULL, "10.00", 2, 2, 0, 345},
    };
    Author a[3];
    for (int i = 0; i < 3; i++) {
        a[i] = CORM_NEW(Author);
        a[i].name = (char *)authors[i];
        a[i].email = "author@example.com";
        if (corm_save(db, &a[i]) != CORM_OK) return corm_db_error(db)->rc;
    }
    Publisher p[2] = {CORM_NEW(Publisher), CORM_NEW(Publisher)};
    p[0].name = "Ace";
    p[1].name = "Harper";
    Genre g[2] = {CORM_NEW(Genre), CORM_NEW(Genre)};
    g[0].name = "Science Fiction";
    g[1].name = "Fantasy";
    User u = CORM_NEW(User);
    u.email = "reader@example.com";
    u.name = "Reader";
    for (int i = 0; i < 2; i++)
        if (corm_save(db, &p[i]) != CORM_OK || corm_save(db, &g[i]) != CORM_OK)
            return corm_db_error(db)->rc;
    if (corm_save(db, &u) != CORM_OK) return corm_db_error(db)->rc;
    for (int i = 0; i < 7; i++) {
        /* the same path as POST /books: JSON in, checked, saved */
        char isbn[16];
        snprintf(isbn, sizeof isbn, "978000000000%d", i);
        json_t *in = json_pack("{s:s, s:I, s:s, s:i, s:s, s:s}", "title", books[i].title,
                               "author_id", (json_int_t)a[books[i].author].id, "isbn", isbn,
                               "pages", books[i].pages, "price", books[i].price, "description", "");
        json_object_set_new(in, "published_date",
                            books[i].date ? json_string(books[i].date) : json_null());
        if (books[i].publisher)
            json_object_set_new(in, "publisher_id", json_integer(p[books[i].publisher - 1].id));
        corm_error err;
        Book *b = corm_json_new(Book, in, NULL, &err);
        json_decref(in);
        if (!b) {
            fprintf(stderr, "seed: %s\n", err.message);
            return err.rc;
        }
        corm_rc rc = corm_save(db, b);
        if (rc == CORM_OK) rc = corm_m2m_add(db, b, BOOK_REL_GENRES, &g[books[i].genre]);
        for (int k = 0; rc == CORM_OK && k < i % 3; k++) { /* 0, 1 or 2 reviews */
            Review r = CORM_NEW(Review);
            r.book_id = b->id;
            r.user_id = u.id;
            r.rating = 3 + k;
            r.body = "";
            r.created_at = "2024-05-01 10:00:00";
            rc = corm_save(db, &r);
        }
        corm_json_free(b);
        if (rc != CORM_OK) return rc;
    }
    return CORM_OK;
}

int main(int argc, char **argv)
{
    const char *url = "sqlite:books.db";
    int port = 8000;
    bool seeding = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) url = argv[++i];
        else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) port = atoi(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0) seeding = true;
        else {
            fprintf(stderr, "usage: api [--db URL] [--port N] [--seed]\n");
            return 2;
        }
    }
    corm_error err;
    corm_db *db = corm_open(url, &bookstore_schema, &err);
    char buf[2048];
    if (!db) {
        fprintf(stderr, "api: %s\n", corm_error_format(&err, buf, sizeof buf));
        return 1;
    }
    if (corm_migrate(db) != CORM_OK || (seeding && corm_atomic(db, seed, NULL) != CORM_OK)) {
        fprintf(stderr, "api: %s\n", corm_error_format(corm_db_error(db), buf, sizeof buf));
        corm_close(db);
        return 1;
    }
    /* SIGINT / SIGTERM are waited for below, not delivered to MHD's thread */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    /* one thread serves every request: it alone uses db */
    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, (uint16_t)port, NULL,
                         NULL, handler, db, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                         MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "api: cannot listen on 127.0.0.1:%d\n", port);
        corm_close(db);
        return 1;
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("api: listening on http://127.0.0.1:%d/\n", di ? di->port : port);
    fflush(stdout);
    int sig;
    sigwait(&set, &sig);
    MHD_stop_daemon(d);
    corm_close(db);
    return 0;
}
