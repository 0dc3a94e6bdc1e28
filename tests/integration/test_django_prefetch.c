/*
** test_django_prefetch.c - Django's tests/prefetch_related, ported: each
** test names the Django test (class.method) it mirrors, with Django's rows
** and query counts, on both backends.  Schema: django_prefetch.corm
** (Django's models, named Dj*).  The data is Django's fixtures, side by
** side in one database (they share no table):
**   DjBook     1 Poems, 2 Jane Eyre, 3 Wuthering Heights, 4 Sense and Sensibility
**   DjAuthor   1 Charlotte, 2 Anne, 3 Emily (first book 1), 4 Jane (first book 4)
**              books: Poems <- 1,2,3; Jane Eyre <- 1; Wuthering Heights <- 3; Sense <- 4
**   DjReader   1 Amy (Poems, Sense), 2 Belinda (Jane Eyre, Sense)
**   DjAuthorAddress 1 Charlotte "Happy place", 2 Anne "Haunted house",
**              3 Jane "Happy place" (DirectPrefetchedObjectCacheReuseTests')
**   DjPerson   1 Joe (houses 1, 2), 2 Mary (houses 3, 4); each owns those
**   DjHouse    1 "House 1", 2 "House 2", 3 "House 3", 4 "house 4"; rooms
**              3h-2 Dining room (the main room), 3h-1 Lounge, 3h Kitchen
**   DjEmployee 1 Peter, 2 Joe and 3 Angela (boss Peter)
**   DjTeacher  1 Mr Cleese (BA, BSci, MA, PhD), 2 Mr Idle (BA), 3 Mr Chapman
**              (BSci); DjDepartment 1 English (1, 2), 2 Physics (1, 3)
**   DjLessonEntry 1 einfach, 2 schwierig; DjWordEntry 1, 2 of 1; 3, 4 of 2
*/
#include "test.h"

#include "django_prefetch/django_prefetch.h"

#include <stdarg.h>
#include <string.h>

static corm_db *db;

#define OK_DB(call) TEST_OK_DB(db, call)
#define EVAL(qs)                                                                             \
    do {                                                                                     \
        if (corm_eval(qs) != CORM_OK) fail_msg("corm_eval: %s", corm_qs_error(qs)->message); \
    } while (0)

/* ------------------------------------------------------------ output */

static char out[4096];
static size_t at;

static void reset(void)
{
    at = 0;
    out[0] = '\0';
}

static void put(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(out + at, sizeof out - at, fmt, ap);
    va_end(ap);
    if (k > 0) at += (size_t)k;
    if (at >= sizeof out) at = sizeof out - 1;
}

typedef const char *(*name_fn)(const void *);
static const char *author_name(const void *o) { return ((const DjAuthor *)o)->name; }
static const char *book_title(const void *o) { return ((const DjBook *)o)->title; }
static const char *reader_name(const void *o) { return ((const DjReader *)o)->name; }
static const char *house_name(const void *o) { return ((const DjHouse *)o)->name; }
static const char *room_name(const void *o) { return ((const DjRoom *)o)->name; }
static const char *person_name(const void *o) { return ((const DjPerson *)o)->name; }
static const char *address_text(const void *o) { return ((const DjAuthorAddress *)o)->address; }
static const char *employee_name(const void *o) { return ((const DjEmployee *)o)->name; }

/* "[a,b]" of a list (NULL: "-") */
static void put_list(const corm_list *l, name_fn name)
{
    if (!l) {
        put("-");
        return;
    }
    put("[");
    for (size_t i = 0; i < l->n; i++) put("%s%s", i ? "," : "", name(l->items[i]));
    put("]");
}

/* ------------------------------------------------------------ data */

static int64_t create(void *obj)
{
    OK_DB(corm_create(db, obj));
    return *(int64_t *)((char *)obj + ((corm_obj *)obj)->model->fields[0].offset);
}

static void m2m_link(void *obj, int rel, const int64_t *ids, size_t n)
{
    OK_DB(corm_m2m_add_ids(db, obj, rel, ids, n));
}

static void books_and_authors(void)
{
    const char *titles[] = {"Poems", "Jane Eyre", "Wuthering Heights", "Sense and Sensibility"};
    DjBook books[4];
    for (int i = 0; i < 4; i++) {
        books[i] = CORM_NEW(DjBook);
        books[i].title = (char *)titles[i];
        create(&books[i]);
    }
    const char *names[] = {"Charlotte", "Anne", "Emily", "Jane"};
    const int64_t first[] = {1, 1, 1, 4};
    for (int i = 0; i < 4; i++) {
        DjAuthor a = CORM_NEW(DjAuthor);
        a.name = (char *)names[i];
        a.first_book_id = first[i];
        create(&a);
    }
    m2m_link(&books[0], DJ_BOOK_REL_AUTHORS, (const int64_t[]){1, 2, 3}, 3);
    m2m_link(&books[1], DJ_BOOK_REL_AUTHORS, (const int64_t[]){1}, 1);
    m2m_link(&books[2], DJ_BOOK_REL_AUTHORS, (const int64_t[]){3}, 1);
    m2m_link(&books[3], DJ_BOOK_REL_AUTHORS, (const int64_t[]){4}, 1);
    const char *readers[] = {"Amy", "Belinda"};
    const int64_t read[2][2] = {{1, 4}, {2, 4}};
    for (int i = 0; i < 2; i++) {
        DjReader r = CORM_NEW(DjReader);
        r.name = (char *)readers[i];
        create(&r);
        m2m_link(&r, DJ_READER_REL_BOOKS_READ, read[i], 2);
    }
    const char *addresses[] = {"Happy place", "Haunted house", "Happy place"};
    const int64_t of[] = {1, 2, 4};
    for (int i = 0; i < 3; i++) {
        DjAuthorAddress ad = CORM_NEW(DjAuthorAddress);
        ad.author_id = of[i];
        ad.address = (char *)addresses[i];
        create(&ad);
    }
}

static void houses(void)
{
    const char *people[] = {"Joe", "Mary"};
    DjPerson p[2];
    for (int i = 0; i < 2; i++) {
        p[i] = CORM_NEW(DjPerson);
        p[i].name = (char *)people[i];
        create(&p[i]);
    }
    const char *names[] = {"House 1", "House 2", "House 3", "house 4"};
    const char *addresses[] = {"123 Main St", "45 Side St", "6 Downing St", "7 Regents St"};
    const char *rooms[] = {"Dining room", "Lounge", "Kitchen"};
    for (int h = 0; h < 4; h++) {
        DjHouse house = CORM_NEW(DjHouse);
        house.name = (char *)names[h];
        house.address = (char *)addresses[h];
        house.owner_id = h < 2 ? 1 : 2;
        int64_t hid = create(&house);
        int64_t main = 0;
        for (int r = 0; r < 3; r++) {
            DjRoom room = CORM_NEW(DjRoom);
            room.name = (char *)rooms[r];
            room.house_id = hid;
            int64_t rid = create(&room);
            if (!main) main = rid;
        }
        corm_qs *qs = corm_all(db, DjHouse);
        corm_filter(qs, "pk", corm_int(hid));
        assert_int_equal(corm_update(qs, CORM_SET("main_room", corm_int(main))), 1);
        corm_qs_free(qs);
        m2m_link(&p[h < 2 ? 0 : 1], DJ_PERSON_REL_HOUSES, &hid, 1);
    }
}

static void others(void)
{
    const char *employees[] = {"Peter", "Joe", "Angela"};
    for (int i = 0; i < 3; i++) {
        DjEmployee e = CORM_NEW(DjEmployee);
        e.name = (char *)employees[i];
        if (i) e.boss_id = 1;
        create(&e);
    }
    const char *quals[] = {"BA", "BSci", "MA", "PhD"};
    for (int i = 0; i < 4; i++) {
        DjQualification q = CORM_NEW(DjQualification);
        q.name = (char *)quals[i];
        create(&q);
    }
    const char *teachers[] = {"Mr Cleese", "Mr Idle", "Mr Chapman"};
    const int64_t t1[] = {1, 2, 3, 4}, t2[] = {1}, t3[] = {2};
    const int64_t *tq[] = {t1, t2, t3};
    const size_t ntq[] = {4, 1, 1};
    for (int i = 0; i < 3; i++) {
        DjTeacher t = CORM_NEW(DjTeacher);
        t.name = (char *)teachers[i];
        create(&t);
        m2m_link(&t, DJ_TEACHER_REL_QUALIFICATIONS, tq[i], ntq[i]);
    }
    const char *depts[] = {"English", "Physics"};
    const int64_t dt[2][2] = {{1, 2}, {1, 3}};
    for (int i = 0; i < 2; i++) {
        DjDepartment d = CORM_NEW(DjDepartment);
        d.name = (char *)depts[i];
        create(&d);
        m2m_link(&d, DJ_DEPARTMENT_REL_TEACHERS, dt[i], 2);
    }
    const char *lessons[2][2] = {{"einfach", "simple"}, {"schwierig", "difficult"}};
    for (int i = 0; i < 2; i++) {
        DjLessonEntry l = CORM_NEW(DjLessonEntry);
        l.name1 = (char *)lessons[i][0];
        l.name2 = (char *)lessons[i][1];
        int64_t lid = create(&l);
        for (int k = 0; k < 2; k++) {
            DjWordEntry w = CORM_NEW(DjWordEntry);
            w.lesson_entry_id = lid;
            w.name = (char *)lessons[i][k];
            create(&w);
        }
    }
}

static int setup(void **state)
{
    (void)state;
    corm_error err;
    db = corm_open(test_db_fresh_url(), &django_prefetch_schema, &err);
    if (!db) {
        char buf[2048];
        fail_msg("corm_open: %s", corm_error_format(&err, buf, sizeof buf));
    }
    if (corm_migrate(db) != CORM_OK) fail_msg("corm_migrate: %s", corm_db_error(db)->message);
    books_and_authors();
    houses();
    others();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_close(db);
    return 0;
}

/* ------------------------------------------------------------ PrefetchRelatedTests */

static const char *const BOOK_AUTHORS = "Poems[Charlotte,Anne,Emily];Jane Eyre[Charlotte];"
                                        "Wuthering Heights[Emily];Sense and Sensibility[Jane];";

/* test_m2m_forward, test_m2m_reverse, test_foreignkey_forward,
** test_foreignkey_reverse, test_survives_clone: 2 queries each */
static void test_one_level(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjBook);
    corm_prefetch_related(qs, "authors");
    reset();
    DjBook *b;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(b, qs)
        {
            put("%s", b->title);
            put_list(dj_book_authors(b), author_name);
            put(";");
        }
    }
    assert_string_equal(out, BOOK_AUTHORS);
    corm_qs_free(qs);

    qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "books");
    reset();
    DjAuthor *a;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(a, qs)
        {
            put("%s", a->name);
            put_list(dj_author_books(a), book_title);
            put(";");
        }
    }
    assert_string_equal(out, "Charlotte[Poems,Jane Eyre];Anne[Poems];Emily[Poems,Wuthering "
                             "Heights];Jane[Sense and Sensibility];");
    corm_qs_free(qs);

    qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "first_book");
    reset();
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(a, qs) put("%s;", dj_author_first_book(a)->title);
    }
    assert_string_equal(out, "Poems;Poems;Poems;Sense and Sensibility;");
    corm_qs_free(qs);

    for (int clone = 0; clone < 2; clone++) {
        qs = corm_all(db, DjBook);
        corm_prefetch_related(qs, "first_time_authors");
        if (clone) corm_exclude(qs, "id", corm_int(1000)); /* test_survives_clone */
        reset();
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            corm_foreach(b, qs)
            {
                put("%s", b->title);
                put_list(dj_book_first_time_authors(b), author_name);
                put(";");
            }
        }
        assert_string_equal(out, "Poems[Charlotte,Anne,Emily];Jane Eyre[];Wuthering Heights[];"
                                 "Sense and Sensibility[Jane];");
        corm_qs_free(qs);
    }
}

/* test_len, test_bool, test_count, test_exists: the prefetched set answers
** (2 queries in all) */
static void test_len_bool_count_exists(void **state)
{
    (void)state;
    for (int what = 0; what < 4; what++) {
        corm_qs *qs = corm_all(db, DjBook);
        corm_prefetch_related(qs, "first_time_authors");
        int64_t sum = 0;
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            EVAL(qs); /* len(qs) and bool(qs) evaluate it */
            if (what == 0) assert_int_equal(corm_qs_len(qs), 4);
            if (what == 1) assert_true(corm_qs_len(qs) > 0);
            for (size_t i = 0; i < corm_qs_len(qs); i++) {
                corm_qs *set = dj_book_first_time_authors_qs(corm_qs_at(qs, i));
                sum += what == 3 ? corm_exists(set) : corm_count(set);
                corm_qs_free(set);
            }
        }
        assert_int_equal(sum, what == 3 ? 2 : 4);
        corm_qs_free(qs);
    }
}

/* test_clear: prefetch_related(None) drops the lookup: 1 + 4 */
static void test_clear(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "books");
    corm_prefetch_clear(qs);
    size_t n = 0;
    DjAuthor *a;
    CORM_ASSERT_NUM_QUERIES(db, 5) { corm_foreach(a, qs) n += dj_author_books(a)->n; }
    assert_int_equal(n, 6);
    corm_qs_free(qs);
}

/* "[[Amy],[Belinda]]..." the readers of each author's books */
static const char *readers_of_books(corm_qs *qs)
{
    reset();
    DjAuthor *a;
    corm_foreach(a, qs)
    {
        const corm_list *books = dj_author_books(a);
        put("[");
        for (size_t i = 0; i < books->n; i++)
            put_list(dj_book_read_by(books->items[i]), reader_name);
        put("]");
    }
    return out;
}

static const char *const READERS = "[[Amy][Belinda]][[Amy]][[Amy][]][[Amy,Belinda]]";

/* test_m2m_then_m2m, test_overriding_prefetch (both orders), test_get: 3 */
static void test_m2m_then_m2m(void **state)
{
    (void)state;
    const char *lookups[3][2] = {
        {"books__read_by", NULL}, {"books", "books__read_by"}, {"books__read_by", "books"}};
    for (int i = 0; i < 3; i++) {
        corm_qs *qs = corm_all(db, DjAuthor);
        corm_prefetch_related_v(qs, (const char *const[]){lookups[i][0], lookups[i][1], NULL});
        CORM_ASSERT_NUM_QUERIES(db, 3) { assert_string_equal(readers_of_books(qs), READERS); }
        corm_qs_free(qs);
    }
    corm_qs *qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "books__read_by");
    corm_filter(qs, "name", corm_text("Charlotte"));
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        DjAuthor *a = corm_get(qs);
        assert_non_null(a);
        reset();
        const corm_list *books = dj_author_books(a);
        for (size_t i = 0; i < books->n; i++)
            put_list(dj_book_read_by(books->items[i]), reader_name);
        assert_string_equal(out, "[Amy][Belinda]");
    }
    corm_qs_free(qs);
}

/* test_foreign_key_then_m2m: the joined first books are the level's
** parents (2 queries) */
static void test_foreign_key_then_m2m(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjAuthor);
    corm_select_related(qs, "first_book");
    corm_prefetch_related(qs, "first_book__read_by");
    reset();
    DjAuthor *a;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(a, qs) put_list(dj_book_read_by(dj_author_first_book(a)), reader_name);
    }
    assert_string_equal(out, "[Amy][Amy][Amy][Amy,Belinda]");
    corm_qs_free(qs);
    /* the joined relation itself prefetched: already there, no level */
    qs = corm_all(db, DjAuthor);
    corm_select_related(qs, "first_book");
    corm_prefetch_related(qs, "first_book");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        EVAL(qs);
        assert_string_equal(dj_author_first_book(corm_qs_at(qs, 3))->title,
                            "Sense and Sensibility");
    }
    corm_qs_free(qs);
}

/* test_reverse_one_to_one_then_m2m: no bio joined, no level (1 query);
** one bio, its books (2); then test_onetoone_reverse_with_to_field_pk:
** prefetch_related("bio") sets each bio's author (2 queries in all) */
static void test_reverse_one_to_one(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "bio__books");
    corm_select_related(qs, "bio");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        EVAL(qs);
        assert_null(dj_author_bio(corm_qs_at(qs, 0)));
    }
    corm_qs_free(qs);
    DjBio bio = CORM_NEW(DjBio);
    bio.author_id = 1;
    create(&bio);
    qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "bio__books");
    corm_select_related(qs, "bio");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        EVAL(qs);
        DjBio *b = dj_author_bio(corm_qs_at(qs, 0));
        assert_non_null(b);
        assert_int_equal(dj_bio_books(b)->n, 0);
        assert_ptr_equal(dj_bio_author(b), corm_qs_at(qs, 0));
    }
    corm_qs_free(qs);

    for (int64_t id = 2; id <= 3; id++) {
        DjBio more = CORM_NEW(DjBio);
        more.author_id = id;
        create(&more);
    }
    qs = corm_all(db, DjAuthor);
    const char *names[] = {"Charlotte", "Anne", "Emily"};
    corm_filter(qs, "name__in", corm_texts(names, 3));
    corm_prefetch_related(qs, "bio");
    size_t n = 0;
    DjAuthor *a;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(a, qs)
        {
            assert_string_equal(dj_bio_author(dj_author_bio(a))->name, a->name);
            n++;
        }
    }
    assert_int_equal(n, 3);
    corm_qs_free(qs);
    qs = corm_all(db, DjBio);
    assert_int_equal(corm_qs_delete(qs), 3);
    corm_qs_free(qs);
}

/* test_attribute_error, test_invalid_final_lookup: a lookup that is no
** relation is an error naming it (corm checks every lookup before the
** first level: docs/differences-from-django.md) */
static void test_bad_lookups(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjReader);
    corm_prefetch_related(qs, "books_read__xyz");
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_SCHEMA); }
    assert_string_equal(corm_qs_error(qs)->message,
                        "prefetch_related('books_read__xyz'): DjBook has no relation 'xyz'");
    corm_qs_free(qs);
    qs = corm_all(db, DjBook);
    corm_prefetch_related(qs, "authors__name");
    assert_int_equal(corm_eval(qs), CORM_SCHEMA);
    assert_string_equal(corm_qs_error(qs)->message,
                        "prefetch_related('authors__name'): DjAuthor has no relation 'name'");
    corm_qs_free(qs);
}

/* test_m2m_prefetching_iterator_with_chunks: one prefetch per chunk, and
** first() of an ordered prefetched set is read from it (3 queries) */
static void test_iterator_chunks_first(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjBook);
    corm_prefetch_related(qs, "authors");
    reset();
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_iter *it = corm_iterator(qs, 2);
        DjBook *b;
        while ((b = corm_iter_next(it))) {
            corm_qs *set = dj_book_authors_qs(b);
            put("%s;", ((DjAuthor *)corm_first(set))->name);
            corm_qs_free(set);
        }
        corm_iter_free(it);
    }
    assert_string_equal(out, "Charlotte;Charlotte;Emily;Jane;");
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ slicing a prefetched set
** Django's related manager returns the prefetched queryset itself, whose
** result cache answers qs[a:b] (QuerySet.__getitem__), and first() when
** the queryset is ordered (its [:1]); first() of an unordered one orders
** by pk and last() reverses: a query each. */

static void test_slice_prefetched(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjBook);
    corm_prefetch_related(qs, "authors");
    EVAL(qs);
    DjBook *poems = corm_qs_at(qs, 0);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        corm_qs *set = dj_book_authors_qs(poems); /* book.authors.all()[:2] */
        corm_slice(set, 0, 2);
        EVAL(set);
        reset();
        for (size_t i = 0; i < corm_qs_len(set); i++)
            put("%s;", ((DjAuthor *)corm_qs_at(set, i))->name);
        assert_string_equal(out, "Charlotte;Anne;");
        corm_qs_free(set);
        set = dj_book_authors_qs(poems); /* [1:], counted */
        corm_slice(set, 1, -1);
        assert_int_equal(corm_count(set), 2);
        assert_true(corm_exists(set));
        corm_qs_free(set);
        set = dj_book_authors_qs(poems); /* [1:3][1:2], composed */
        corm_slice(set, 1, 3);
        corm_slice(set, 1, 2);
        EVAL(set);
        assert_int_equal(corm_qs_len(set), 1);
        assert_string_equal(((DjAuthor *)corm_qs_at(set, 0))->name, "Emily");
        corm_qs_free(set);
        set = dj_book_authors_qs(poems); /* past the end */
        corm_slice(set, 5, 9);
        assert_int_equal(corm_count(set), 0);
        assert_null(corm_first(set));
        corm_qs_free(set);
        set = dj_book_authors_qs(poems); /* first(): ordered (Meta.ordering) */
        assert_string_equal(((DjAuthor *)corm_first(set))->name, "Charlotte");
        corm_slice(set, 1, 3); /* an ordered slice's first row */
        assert_string_equal(((DjAuthor *)corm_first(set))->name, "Anne");
        corm_qs_free(set);
    }
    /* last() reverses the ordering: a query, as Django's */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_book_authors_qs(poems);
        assert_string_equal(((DjAuthor *)corm_last(set))->name, "Emily");
        corm_qs_free(set);
    }
    /* a filter first: a query, then the slice applies to it */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_book_authors_qs(poems);
        corm_filter(set, "name__startswith", corm_text("E"));
        corm_slice(set, 0, 2);
        EVAL(set);
        assert_int_equal(corm_qs_len(set), 1);
        corm_qs_free(set);
    }
    corm_qs_free(qs);

    /* a Prefetch ordered its own way: first() is its first */
    qs = corm_all(db, DjBook);
    corm_qs *by_name = corm_all(db, DjAuthor);
    corm_order_by(by_name, "-name");
    corm_prefetch(qs, "authors", by_name, NULL);
    EVAL(qs);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        corm_qs *set = dj_book_authors_qs(corm_qs_at(qs, 0));
        assert_string_equal(((DjAuthor *)corm_first(set))->name, "Emily");
        corm_qs_free(set);
    }
    corm_qs_free(qs);

    /* an unordered model (no Meta.ordering): first() orders by pk, a query;
    ** the slice is still the cache's */
    qs = corm_all(db, DjLessonEntry);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "wordentry_set");
    EVAL(qs);
    DjLessonEntry *l1 = corm_qs_at(qs, 0);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_lesson_entry_wordentry_set_qs(l1);
        assert_string_equal(((DjWordEntry *)corm_first(set))->name, "einfach");
        corm_qs_free(set);
    }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        corm_qs *set = dj_lesson_entry_wordentry_set_qs(l1);
        corm_slice(set, 0, 1);
        assert_int_equal(corm_count(set), 1);
        /* an unordered slice has no first, as any slice (Django's list has no first()) */
        assert_null(corm_first(set));
        assert_int_equal(corm_qs_error(set)->rc, CORM_INVALID);
        corm_qs_free(set);
    }
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ CustomPrefetchTests */

/* "Joe[House 1,House 2];Mary[House 3,house 4];" */
static const char *person_houses(corm_qs *qs, const char *to_attr)
{
    reset();
    DjPerson *p;
    corm_foreach(p, qs)
    {
        put("%s", p->name);
        put_list(to_attr ? corm_attr(p, to_attr) : dj_person_houses(p), house_name);
        put(";");
    }
    return out;
}

static const char *const PERSON_HOUSES = "Joe[House 1,House 2];Mary[House 3,house 4];";

/* test_m2m, test_reverse_m2m: a Prefetch without a queryset is the plain
** lookup; with to_attr, a list (2 queries each) */
static void test_custom_m2m(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        corm_qs *qs = corm_all(db, DjPerson);
        if (i == 0) corm_prefetch_related(qs, "houses");
        else corm_prefetch(qs, "houses", NULL, i == 2 ? "houses_lst" : NULL);
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            assert_string_equal(person_houses(qs, i == 2 ? "houses_lst" : NULL), PERSON_HOUSES);
        }
        corm_qs_free(qs);
    }
    for (int i = 0; i < 3; i++) {
        corm_qs *qs = corm_all(db, DjHouse);
        if (i == 0) corm_prefetch_related(qs, "occupants");
        else corm_prefetch(qs, "occupants", NULL, i == 2 ? "occupants_lst" : NULL);
        reset();
        DjHouse *h;
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            corm_foreach(h, qs) put_list(
                i == 2 ? corm_attr(h, "occupants_lst") : dj_house_occupants(h), person_name);
        }
        assert_string_equal(out, "[Joe][Joe][Mary][Mary]");
        corm_qs_free(qs);
    }
}

/* test_m2m_through_fk: rooms -> house -> occupants (3 queries) */
static void test_custom_m2m_through_fk(void **state)
{
    (void)state;
    for (int i = 0; i < 3; i++) {
        corm_qs *qs = corm_all(db, DjRoom);
        if (i == 0) corm_prefetch_related(qs, "house__occupants");
        else corm_prefetch(qs, "house__occupants", NULL, i == 2 ? "occupants_lst" : NULL);
        reset();
        DjRoom *r;
        CORM_ASSERT_NUM_QUERIES(db, 3)
        {
            corm_foreach(r, qs)
            {
                DjHouse *h = dj_room_house(r);
                put_list(i == 2 ? corm_attr(h, "occupants_lst") : dj_house_occupants(h),
                         person_name);
            }
        }
        assert_string_equal(out, "[Joe][Joe][Joe][Joe][Joe][Joe][Mary][Mary][Mary][Mary][Mary]"
                                 "[Mary]");
        corm_qs_free(qs);
    }
}

/* test_o2m_through_m2m: houses then rooms, through the relation or a
** to_attr (3 queries each) */
static void test_custom_o2m_through_m2m(void **state)
{
    (void)state;
    for (int i = 0; i < 5; i++) {
        corm_qs *qs = corm_all(db, DjPerson);
        const char *houses_attr = i >= 3 ? "houses_lst" : NULL;
        const char *rooms_attr = i == 4 ? "rooms_lst" : NULL;
        if (i == 0) corm_prefetch_related(qs, "houses", "houses__rooms");
        if (i == 1) {
            corm_prefetch(qs, "houses", NULL, NULL);
            corm_prefetch_related(qs, "houses__rooms");
        }
        if (i == 2) {
            corm_prefetch(qs, "houses", NULL, NULL);
            corm_prefetch(qs, "houses__rooms", NULL, NULL);
        }
        if (i == 3) {
            corm_prefetch(qs, "houses", NULL, "houses_lst");
            corm_prefetch_related(qs, "houses_lst__rooms");
        }
        if (i == 4) {
            corm_prefetch(qs, "houses", NULL, "houses_lst");
            corm_prefetch(qs, "houses_lst__rooms", NULL, "rooms_lst");
        }
        reset();
        DjPerson *p;
        CORM_ASSERT_NUM_QUERIES(db, 3)
        {
            corm_foreach(p, qs)
            {
                const corm_list *hs = houses_attr ? corm_attr(p, houses_attr) : dj_person_houses(p);
                for (size_t k = 0; k < hs->n; k++)
                    put_list(rooms_attr ? corm_attr(hs->items[k], rooms_attr)
                                        : dj_house_rooms(hs->items[k]),
                             room_name);
                put(";");
            }
        }
        assert_string_equal(out, "[Dining room,Lounge,Kitchen][Dining room,Lounge,Kitchen];"
                                 "[Dining room,Lounge,Kitchen][Dining room,Lounge,Kitchen];");
        corm_qs_free(qs);
    }
}

/* test_custom_qs: Prefetch querysets - all, filtered, flattened, with a
** select_related inside, with a prefetch inside, over a forward fk and a
** reverse one-to-one */
static void test_custom_qs(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjPerson);
    corm_prefetch(qs, "houses", corm_all(db, DjHouse), "houses_lst");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_string_equal(person_houses(qs, "houses_lst"), PERSON_HOUSES);
    }
    corm_qs_free(qs);

    /* filtering */
    qs = corm_all(db, DjPerson);
    corm_qs *some = corm_all(db, DjHouse);
    corm_filter(some, "pk__in", corm_ints((const int64_t[]){1, 3}, 2));
    corm_prefetch(qs, "houses", some, "houses_lst");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_string_equal(person_houses(qs, "houses_lst"), "Joe[House 1];Mary[House 3];");
    }
    corm_qs_free(qs);

    /* flattened: houses__rooms as a to_attr on each house (3) */
    qs = corm_all(db, DjPerson);
    corm_prefetch(qs, "houses__rooms", corm_all(db, DjRoom), "rooms_lst");
    size_t nrooms = 0;
    DjPerson *p;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(p, qs)
        {
            const corm_list *hs = dj_person_houses(p);
            for (size_t k = 0; k < hs->n; k++) nrooms += corm_attr(hs->items[k], "rooms_lst")->n;
        }
    }
    assert_int_equal(nrooms, 12);
    corm_qs_free(qs);

    /* inner select_related: houses__owner is 3, a joined owner 2 */
    for (int i = 0; i < 2; i++) {
        qs = corm_all(db, DjPerson);
        if (i == 0) corm_prefetch_related(qs, "houses__owner");
        else {
            corm_qs *with_owner = corm_all(db, DjHouse);
            corm_select_related(with_owner, "owner");
            corm_prefetch(qs, "houses", with_owner, NULL);
        }
        reset();
        CORM_ASSERT_NUM_QUERIES(db, 3 - i)
        {
            corm_foreach(p, qs)
            {
                const corm_list *hs = dj_person_houses(p);
                for (size_t k = 0; k < hs->n; k++) put("%s;", dj_house_owner(hs->items[k])->name);
            }
        }
        assert_string_equal(out, "Joe;Joe;Mary;Mary;");
        corm_qs_free(qs);
    }

    /* inner prefetch: houses (filtered, to_attr) whose own Prefetch of
    ** rooms (filtered, to_attr) continues to main_room_of (4 queries) */
    qs = corm_all(db, DjPerson);
    corm_qs *inner_rooms = corm_all(db, DjRoom);
    corm_filter(inner_rooms, "pk__in", corm_ints((const int64_t[]){1, 2}, 2));
    corm_qs *houses_prf = corm_all(db, DjHouse);
    corm_prefetch(houses_prf, "rooms", inner_rooms, "rooms_lst");
    corm_filter(houses_prf, "pk", corm_int(1));
    corm_prefetch(qs, "houses", houses_prf, "houses_lst");
    corm_prefetch(qs, "houses_lst__rooms_lst__main_room_of", NULL, NULL);
    CORM_ASSERT_NUM_QUERIES(db, 4) { EVAL(qs); }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        const corm_list *joe = corm_attr(corm_qs_at(qs, 0), "houses_lst");
        assert_int_equal(joe->n, 1);
        const corm_list *rooms = corm_attr(joe->items[0], "rooms_lst");
        reset();
        put_list(rooms, room_name);
        assert_string_equal(out, "[Dining room,Lounge]");
        assert_string_equal(dj_room_main_room_of(rooms->items[0])->name, "House 1");
        assert_null(dj_room_main_room_of(rooms->items[1]));
        assert_int_equal(corm_attr(corm_qs_at(qs, 1), "houses_lst")->n, 0);
    }
    corm_qs_free(qs);

    /* ForwardManyToOneDescriptor: rooms' houses prefetched, each owner
    ** lazily (2 + 4), or joined in the Prefetch queryset (2), also with
    ** to_attr */
    for (int i = 0; i < 3; i++) {
        qs = corm_all(db, DjRoom);
        if (i == 0) corm_prefetch_related(qs, "house");
        else {
            corm_qs *houses = corm_all(db, DjHouse);
            corm_select_related(houses, "owner");
            corm_prefetch(qs, "house", houses, i == 2 ? "house_attr" : NULL);
        }
        reset();
        DjRoom *r;
        CORM_ASSERT_NUM_QUERIES(db, i == 0 ? 6 : 2)
        {
            corm_foreach(r, qs)
            {
                DjHouse *h = i == 2 ? corm_attr(r, "house_attr")->items[0] : dj_room_house(r);
                put("%c", dj_house_owner(h)->name[0]);
            }
        }
        assert_string_equal(out, "JJJJJJMMMMMM");
        corm_qs_free(qs);
    }
    /* a Prefetch queryset that finds no house: NULL (Django's
    ** DoesNotExist), to_attr an empty list, no query on access */
    for (int i = 0; i < 2; i++) {
        qs = corm_all(db, DjRoom);
        corm_qs *none = corm_all(db, DjHouse);
        corm_filter(none, "address", corm_text("DoesNotExist"));
        corm_prefetch(qs, "house", none, i ? "house_attr" : NULL);
        DjRoom *r = corm_first(qs);
        assert_non_null(r);
        CORM_ASSERT_NUM_QUERIES(db, 0)
        {
            if (i) assert_int_equal(corm_attr(r, "house_attr")->n, 0);
            else assert_null(dj_room_house(r));
        }
        corm_qs_free(qs);
    }

    /* ReverseOneToOneDescriptor: main_room_of (2 + 4 owners), joined (2) */
    for (int i = 0; i < 3; i++) {
        qs = corm_all(db, DjRoom);
        if (i == 0) corm_prefetch_related(qs, "main_room_of");
        else {
            corm_qs *houses = corm_all(db, DjHouse);
            corm_select_related(houses, "owner");
            corm_prefetch(qs, "main_room_of", houses, i == 2 ? "main_room_of_attr" : NULL);
        }
        reset();
        DjRoom *r;
        CORM_ASSERT_NUM_QUERIES(db, i == 0 ? 6 : 2)
        {
            corm_foreach(r, qs)
            {
                DjHouse *h = NULL;
                if (i == 2) {
                    const corm_list *l = corm_attr(r, "main_room_of_attr");
                    h = l->n ? l->items[0] : NULL;
                } else {
                    h = dj_room_main_room_of(r);
                }
                put("%c", h ? dj_house_owner(h)->name[0] : '-');
            }
        }
        assert_string_equal(out, "J--J--M--M--");
        corm_qs_free(qs);
    }

    /* the Prefetch's filter is the set the relation answers */
    qs = corm_all(db, DjPerson);
    corm_qs *house1 = corm_all(db, DjHouse);
    corm_filter(house1, "name", corm_text("House 1"));
    corm_prefetch(qs, "houses", house1, NULL);
    corm_filter(qs, "pk", corm_int(1));
    p = corm_get(qs);
    assert_non_null(p);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        reset();
        put_list(dj_person_houses(p), house_name);
        assert_string_equal(out, "[House 1]");
        corm_qs *set = dj_person_houses_qs(p);
        assert_int_equal(corm_count(set), 1);
        corm_qs_free(set);
    }
    corm_qs_free(qs);
}

/* test_nested_prefetch_related_are_not_overwritten: houses -> occupants
** (Prefetch) -> houses (Prefetch) -> rooms */
static void test_nested_not_overwritten(void **state)
{
    (void)state;
    corm_qs *houses_2 = corm_all(db, DjHouse);
    corm_prefetch(houses_2, "rooms", NULL, NULL);
    corm_qs *persons = corm_all(db, DjPerson);
    corm_prefetch(persons, "houses", houses_2, NULL);
    corm_qs *houses = corm_all(db, DjHouse);
    corm_prefetch(houses, "occupants", persons, NULL);
    CORM_ASSERT_NUM_QUERIES(db, 4) { EVAL(houses); }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        DjPerson *joe = dj_house_occupants(corm_qs_at(houses, 0))->items[0];
        DjRoom *room = dj_house_rooms(dj_person_houses(joe)->items[1])->items[0];
        assert_int_equal(room->id, 4); /* room2_1 */
    }
    corm_qs_free(houses);
}

/* test_nested_prefetch_related_with_duplicate_prefetcher: a to_attr and a
** Prefetch with a queryset of one relation, nested (5 queries) */
static void test_nested_duplicate_prefetcher(void **state)
{
    (void)state;
    corm_qs *occupants = corm_all(db, DjPerson);
    corm_prefetch(occupants, "houses", NULL, "some_attr_name");
    corm_qs *with_main = corm_all(db, DjHouse);
    corm_prefetch_related(with_main, "main_room");
    corm_prefetch(occupants, "houses", with_main, NULL);
    corm_qs *houses = corm_all(db, DjHouse);
    corm_prefetch(houses, "occupants", occupants, NULL);
    reset();
    DjHouse *h;
    CORM_ASSERT_NUM_QUERIES(db, 5)
    {
        corm_foreach(h, houses)
        {
            const corm_list *ps = dj_house_occupants(h);
            for (size_t i = 0; i < ps->n; i++) {
                const corm_list *hs = dj_person_houses(ps->items[i]);
                for (size_t k = 0; k < hs->n; k++)
                    put("%lld;", (long long)dj_house_main_room(hs->items[k])->id);
            }
        }
    }
    assert_string_equal(out, "1;4;1;4;7;10;7;10;");
    corm_qs_free(houses);
}

/* test_nested_prefetch_related_with_duplicate_prefetch_and_depth: people[0]
** with houses__main_room and a filtered Prefetch of it to_attr, in either
** order (4 queries) */
static void test_nested_duplicate_depth(void **state)
{
    (void)state;
    for (int order = 0; order < 2; order++) {
        corm_qs *people = corm_all(db, DjPerson);
        corm_qs *dining = corm_all(db, DjRoom);
        corm_filter(dining, "name", corm_text("Dining room"));
        if (order) corm_prefetch_related(people, "houses__main_room");
        corm_prefetch(people, "houses__main_room", dining, "dining_room");
        if (!order) corm_prefetch_related(people, "houses__main_room");
        corm_slice(people, 0, 1);
        DjHouse *house = NULL;
        CORM_ASSERT_NUM_QUERIES(db, 4)
        {
            EVAL(people);
            house = dj_person_houses(corm_qs_at(people, 0))->items[0];
        }
        CORM_ASSERT_NUM_QUERIES(db, 0)
        {
            assert_int_equal(dj_house_main_room(house)->id, 1);
            assert_int_equal(corm_attr(house, "dining_room")->n, 1);
        }
        corm_qs_free(people);
    }
}

/* test_to_attr_doesnt_cache_through_attr_as_list: a to_attr leaves the
** relation itself alone (its queryset queries) */
static void test_to_attr_leaves_relation(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjHouse);
    corm_prefetch(qs, "rooms", corm_all(db, DjRoom), "to_rooms");
    corm_filter(qs, "pk", corm_int(3));
    DjHouse *h = corm_get(qs);
    assert_non_null(h);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *rooms = dj_house_rooms_qs(h);
        assert_int_equal(corm_count(rooms), 3);
        corm_qs_free(rooms);
    }
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ other classes */

/* DefaultManagerTests.test_m2m_then_m2m: the teachers' level applies
** Teacher's manager (prefetch qualifications): 3 queries, not 2 + 1 per
** teacher */
static void test_default_manager(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjDepartment);
    corm_prefetch_related(qs, "teachers");
    reset();
    DjDepartment *d;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(d, qs)
        {
            put("%s department: ", d->name);
            const corm_list *ts = dj_department_teachers(d);
            for (size_t i = 0; i < ts->n; i++) {
                DjTeacher *t = ts->items[i];
                put("%s%s (", i ? ", " : "", t->name);
                const corm_list *qs2 = dj_teacher_qualifications(t);
                for (size_t k = 0; k < qs2->n; k++)
                    put("%s%s", k ? ", " : "", ((DjQualification *)qs2->items[k])->name);
                put(")");
            }
            put("\n");
        }
    }
    assert_string_equal(out, "English department: Mr Cleese (BA, BSci, MA, PhD), Mr Idle (BA)\n"
                             "Physics department: Mr Cleese (BA, BSci, MA, PhD), Mr Chapman "
                             "(BSci)\n");
    corm_qs_free(qs);
}

/* NullableTest: test_traverse_nullable (a joined boss, its serfs: 2),
** test_prefetch_nullable (3), test_in_bulk (2) */
static void test_nullable(void **state)
{
    (void)state;
    for (int joined = 1; joined >= 0; joined--) {
        corm_qs *qs = corm_all(db, DjEmployee);
        if (joined) corm_select_related(qs, "boss");
        corm_prefetch_related(qs, "boss__serfs");
        reset();
        DjEmployee *e;
        CORM_ASSERT_NUM_QUERIES(db, joined ? 2 : 3)
        {
            corm_foreach(e, qs)
            {
                DjEmployee *boss = dj_employee_boss(e);
                put_list(boss ? dj_employee_serfs(boss) : &(corm_list){0, NULL}, employee_name);
            }
        }
        assert_string_equal(out, "[][Joe,Angela][Joe,Angela]");
        corm_qs_free(qs);
    }
    corm_qs *qs = corm_all(db, DjEmployee);
    corm_prefetch_related(qs, "serfs");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_int_equal(corm_in_bulk(qs, ((const int64_t[]){1, 2}), 2), CORM_OK);
        assert_int_equal(dj_employee_serfs(corm_in_bulk_get(qs, corm_int(1)))->n, 2);
        assert_int_equal(dj_employee_serfs(corm_in_bulk_get(qs, corm_int(2)))->n, 0);
    }
    corm_qs_free(qs);
}

/* ForeignKeyToFieldTest.test_foreignkey: authors' addresses (2) */
static void test_fk_addresses(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjAuthor);
    corm_prefetch_related(qs, "addresses");
    reset();
    DjAuthor *a;
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        corm_foreach(a, qs) put_list(dj_author_addresses(a), address_text);
    }
    assert_string_equal(out, "[Happy place][Haunted house][][Happy place]");
    corm_qs_free(qs);
}

/* DirectPrefetchedObjectCacheReuseTests: test_detect_is_fetched and
** test_detect_is_fetched_with_to_attr (3, then nothing), and
** test_prefetch_reverse_foreign_key (prefetching again: 0) */
static void test_detect_is_fetched(void **state)
{
    (void)state;
    for (int to_attr = 0; to_attr < 2; to_attr++) {
        corm_qs *qs = corm_all(db, DjBook);
        const char *titles[] = {"Poems", "Sense and Sensibility"};
        corm_filter(qs, "title__in", corm_texts(titles, 2));
        corm_qs *happy = corm_all(db, DjAuthorAddress);
        corm_filter(happy, "address", corm_text("Happy place"));
        corm_qs *authors = corm_all(db, DjAuthor);
        corm_prefetch(authors, "addresses", happy, to_attr ? "happy_place" : NULL);
        corm_prefetch(qs, "first_time_authors", authors, to_attr ? "first_authors" : NULL);
        CORM_ASSERT_NUM_QUERIES(db, 3) { EVAL(qs); }
        reset();
        CORM_ASSERT_NUM_QUERIES(db, 0)
        {
            for (size_t i = 0; i < corm_qs_len(qs); i++) {
                DjBook *b = corm_qs_at(qs, i);
                const corm_list *as =
                    to_attr ? corm_attr(b, "first_authors") : dj_book_first_time_authors(b);
                for (size_t k = 0; k < as->n; k++) {
                    put("%s", author_name(as->items[k]));
                    put_list(to_attr ? corm_attr(as->items[k], "happy_place")
                                     : dj_author_addresses(as->items[k]),
                             address_text);
                }
                put(";");
            }
        }
        assert_string_equal(out, "Charlotte[Happy place]Anne[]Emily[];Jane[Happy place];");
        if (!to_attr) {
            void *objs[] = {corm_qs_at(qs, 0), corm_qs_at(qs, 1)};
            CORM_ASSERT_NUM_QUERIES(db, 0)
            {
                OK_DB(corm_prefetch_objects(db, objs, 2, "first_time_authors"));
            }
        }
        corm_qs_free(qs);
    }
}

/* NestedPrefetchTests.test_nested_prefetch_is_not_overwritten_by_related_object:
** the rooms' own Prefetch of their house is fetched (3 queries), not
** replaced by the house they were loaded from; house.rooms.first() is
** read from the prefetched, ordered set (0) */
static void test_nested_not_overwritten_by_related(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjHouse);
    corm_only(qs, "name");
    corm_qs *addr = corm_all(db, DjHouse);
    corm_only(addr, "address");
    corm_qs *rooms = corm_all(db, DjRoom);
    corm_prefetch(rooms, "house", addr, NULL);
    corm_prefetch(qs, "rooms", rooms, NULL);
    DjHouse *house = NULL;
    CORM_ASSERT_NUM_QUERIES(db, 3) { house = corm_first(qs); }
    assert_non_null(house);
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        corm_qs *set = dj_house_rooms_qs(house);
        DjRoom *room = corm_first(set);
        DjHouse *back = dj_room_house(room);
        assert_ptr_not_equal(back, house);
        assert_string_equal(back->address, "123 Main St");
        corm_qs_free(set);
    }
    corm_qs_free(qs);
}

/* PrefetchLimitTests: a sliced Prefetch queryset is per parent (3 each) */
static void test_prefetch_limit(void **state)
{
    (void)state;
    /* test_m2m_forward: authors[1:] to_attr == list(book.authors.all())[1:] */
    corm_qs *qs = corm_all(db, DjBook);
    corm_prefetch(qs, "authors", corm_all(db, DjAuthor), NULL);
    corm_qs *sliced = corm_all(db, DjAuthor);
    corm_slice(sliced, 1, -1);
    corm_prefetch(qs, "authors", sliced, "authors_sliced");
    CORM_ASSERT_NUM_QUERIES(db, 3) { EVAL(qs); }
    reset();
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        for (size_t i = 0; i < corm_qs_len(qs); i++) {
            DjBook *b = corm_qs_at(qs, i);
            put_list(corm_attr(b, "authors_sliced"), author_name);
            corm_qs *all = dj_book_authors_qs(b); /* list(book.authors.all())[1:] */
            corm_slice(all, 1, -1);
            EVAL(all);
            for (size_t k = 0; k < corm_qs_len(all); k++)
                put("%s%s", k ? "," : "=", author_name(corm_qs_at(all, k)));
            put(";");
            corm_qs_free(all);
        }
    }
    assert_string_equal(out, "[Anne,Emily]=Anne,Emily;[];[];[];");
    corm_qs_free(qs);

    /* test_m2m_reverse: books by title, [1:2] */
    qs = corm_all(db, DjAuthor);
    corm_qs *books = corm_all(db, DjBook);
    corm_order_by(books, "title");
    corm_prefetch(qs, "books", books, NULL);
    books = corm_all(db, DjBook);
    corm_order_by(books, "title");
    corm_slice(books, 1, 2);
    corm_prefetch(qs, "books", books, "books_sliced");
    CORM_ASSERT_NUM_QUERIES(db, 3) { EVAL(qs); }
    reset();
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        put_list(corm_attr(corm_qs_at(qs, i), "books_sliced"), book_title);
        put_list(dj_author_books(corm_qs_at(qs, i)), book_title);
        put(";");
    }
    assert_string_equal(out, "[Poems][Jane Eyre,Poems];[][Poems];[Wuthering Heights][Poems,"
                             "Wuthering Heights];[][Sense and Sensibility];");
    corm_qs_free(qs);

    /* test_foreignkey_reverse: authors by -name, [1:] */
    qs = corm_all(db, DjBook);
    corm_qs *authors = corm_all(db, DjAuthor);
    corm_order_by(authors, "-name");
    corm_prefetch(qs, "first_time_authors", authors, NULL);
    authors = corm_all(db, DjAuthor);
    corm_order_by(authors, "-name");
    corm_slice(authors, 1, -1);
    corm_prefetch(qs, "first_time_authors", authors, "first_time_authors_sliced");
    CORM_ASSERT_NUM_QUERIES(db, 3) { EVAL(qs); }
    reset();
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        put_list(corm_attr(corm_qs_at(qs, i), "first_time_authors_sliced"), author_name);
        put_list(dj_book_first_time_authors(corm_qs_at(qs, i)), author_name);
        put(";");
    }
    assert_string_equal(out, "[Charlotte,Anne][Emily,Charlotte,Anne];[][];[][];[][Jane];");
    corm_qs_free(qs);
}

/* CustomPrefetchTests.test_ambiguous: a plain lookup through a relation,
** then a Prefetch of it with a queryset, is refused (corm: before the first
** level, docs/differences-from-django.md); a to_attr used before the
** Prefetch that makes it is no relation; the orders Django accepts work */
static void test_ambiguous(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjPerson);
    corm_prefetch_related(qs, "houses__rooms");
    corm_prefetch(qs, "houses", corm_all(db, DjHouse), NULL);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_eval(qs), CORM_INVALID); }
    assert_string_equal(corm_qs_error(qs)->message,
                        "prefetch_related: 'houses' was already seen with a different queryset");
    corm_qs_free(qs);
    qs = corm_all(db, DjPerson);
    corm_prefetch_related(qs, "houses_lst__rooms");
    corm_prefetch(qs, "houses", corm_all(db, DjHouse), "houses_lst");
    assert_int_equal(corm_eval(qs), CORM_SCHEMA);
    assert_string_equal(corm_qs_error(qs)->message,
                        "prefetch_related('houses_lst__rooms'): DjPerson has no relation "
                        "'houses_lst'");
    corm_qs_free(qs);
    for (int to_attr = 0; to_attr < 2; to_attr++) {
        qs = corm_all(db, DjPerson);
        corm_prefetch_related(qs, "houses__rooms");
        if (to_attr) corm_prefetch(qs, "houses", corm_all(db, DjHouse), "houses_lst");
        else corm_prefetch_related(qs, "houses");
        size_t n = 0;
        DjPerson *p;
        CORM_ASSERT_NUM_QUERIES(db, 3 + to_attr)
        {
            corm_foreach(p, qs)
            {
                const corm_list *hs = dj_person_houses(p);
                for (size_t k = 0; k < hs->n; k++) n += dj_house_rooms(hs->items[k])->n;
                if (to_attr) assert_int_equal(corm_attr(p, "houses_lst")->n, 2);
            }
        }
        assert_int_equal(n, 12);
        corm_qs_free(qs);
    }
}

/* CustomPrefetchTests.test_values_queryset, test_raw_queryset: refused
** when the Prefetch is given, no query */
static void test_prefetch_of_rows_refused(void **state)
{
    (void)state;
    for (int raw = 0; raw < 2; raw++) {
        corm_qs *qs = corm_all(db, DjPerson);
        corm_qs *inner =
            raw ? corm_raw(db, DjHouse, "SELECT * FROM dj_house", NULL, 0) : corm_all(db, DjHouse);
        if (!raw) corm_values(inner, "id");
        corm_prefetch(qs, "houses", inner, NULL);
        CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(corm_eval(qs), CORM_INVALID); }
        assert_string_equal(corm_qs_error(qs)->message,
                            "Prefetch('houses'): Prefetch querysets cannot use corm_raw() or "
                            "values (corm_values, corm_values_list, corm_values_flat)");
        corm_qs_free(qs);
    }
}

/* RawQuerySetTests.test_basic (2, then 0) and test_clear (1 + 4) */
static void test_raw(void **state)
{
    (void)state;
    corm_value one = corm_int(1);
    corm_qs *qs = corm_raw(db, DjBook, "SELECT * FROM dj_book WHERE id = %s", &one, 1);
    corm_prefetch_related(qs, "authors");
    CORM_ASSERT_NUM_QUERIES(db, 2) { EVAL(qs); }
    reset();
    CORM_ASSERT_NUM_QUERIES(db, 0) { put_list(dj_book_authors(corm_qs_at(qs, 0)), author_name); }
    assert_string_equal(out, "[Charlotte,Anne,Emily]");
    corm_qs_free(qs);
    qs = corm_raw(db, DjAuthor, "SELECT * FROM dj_author ORDER BY id", NULL, 0);
    corm_prefetch_related(qs, "books");
    corm_prefetch_clear(qs);
    size_t n = 0;
    DjAuthor *a;
    CORM_ASSERT_NUM_QUERIES(db, 5) { corm_foreach(a, qs) n += dj_author_books(a)->n; }
    assert_int_equal(n, 6);
    corm_qs_free(qs);
}

/* Ticket19607Tests.test_bug: a forward fk, then the reverse fk back from it
** (3 queries) */
static void test_ticket_19607(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjWordEntry);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "lesson_entry", "lesson_entry__wordentry_set");
    reset();
    DjWordEntry *w;
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        corm_foreach(w, qs)
        {
            const corm_list *words = dj_lesson_entry_wordentry_set(dj_word_entry_lesson_entry(w));
            put("%s:%zu;", w->name, words->n);
        }
    }
    assert_string_equal(out, "einfach:2;simple:2;schwierig:2;difficult:2;");
    corm_qs_free(qs);
}

/* test_prefetch_related_objects.py (PrefetchRelatedObjectsTests):
** test_m2m_forward, test_m2m_reverse, test_foreignkey_forward,
** test_foreignkey_reverse, test_one_to_one_forward, test_one_to_one_reverse,
** test_m2m_then_m2m: one query per level, then nothing */
static void test_prefetch_related_objects(void **state)
{
    (void)state;
    static const struct {
        const corm_model *model;
        const char *path;
        int rel; /* the path's first relation */
        bool many;
        int queries;
        const char *want; /* per object: the set's size, or the object's id (0: none) */
    } cases[] = {
        {&DjBook_model, "authors", DJ_BOOK_REL_AUTHORS, true, 1, "3,1,1,1,"},
        {&DjAuthor_model, "books", DJ_AUTHOR_REL_BOOKS, true, 1, "2,1,2,1,"},
        {&DjAuthor_model, "first_book", DJ_AUTHOR_REL_FIRST_BOOK, false, 1, "1,1,1,4,"},
        {&DjBook_model, "first_time_authors", DJ_BOOK_REL_FIRST_TIME_AUTHORS, true, 1, "3,0,0,1,"},
        {&DjHouse_model, "main_room", DJ_HOUSE_REL_MAIN_ROOM, false, 1, "1,4,7,10,"},
        {&DjRoom_model, "main_room_of", DJ_ROOM_REL_MAIN_ROOM_OF, false, 1,
         "1,0,0,2,0,0,3,0,0,4,0,0,"},
        {&DjAuthor_model, "books__read_by", DJ_AUTHOR_REL_BOOKS, true, 2, "2,1,2,1,"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        corm_qs *qs = corm_qs_new_at(db, cases[c].model, CORM_SITE);
        EVAL(qs);
        void *objs[16];
        size_t n = corm_qs_len(qs);
        for (size_t i = 0; i < n; i++) objs[i] = corm_qs_at(qs, i);
        CORM_ASSERT_NUM_QUERIES(db, cases[c].queries)
        {
            OK_DB(corm_prefetch_objects(db, objs, n, cases[c].path));
        }
        reset();
        size_t readers = 0;
        CORM_ASSERT_NUM_QUERIES(db, 0)
        {
            for (size_t i = 0; i < n; i++) {
                if (cases[c].many) {
                    const corm_list *l = corm_related_set_at(objs[i], cases[c].rel, CORM_SITE);
                    put("%zu,", l->n);
                    for (size_t k = 0; c == 6 && k < l->n; k++)
                        readers += dj_book_read_by(l->items[k])->n;
                } else {
                    const corm_obj *o = corm_related_at(objs[i], cases[c].rel, CORM_SITE);
                    put("%lld,", o ? (long long)*(const int64_t *)((const char *)o +
                                                                   o->model->fields[0].offset)
                                   : 0LL);
                }
            }
        }
        assert_string_equal(out, cases[c].want);
        if (c == 6) assert_int_equal(readers, 6);
        corm_qs_free(qs);
    }
}

/* test_prefetch_object_twice: objects that have it are skipped (1, then 1
** for the other one only), test_unknown: an error */
static void test_prefetch_related_objects_twice(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjBook);
    EVAL(qs);
    void *book1 = corm_qs_at(qs, 0), *book2 = corm_qs_at(qs, 1);
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_prefetch_objects(db, &book1, 1, "authors")); }
    void *both[] = {book1, book2};
    CORM_ASSERT_NUM_QUERIES(db, 1) { OK_DB(corm_prefetch_objects(db, both, 2, "authors")); }
    reset();
    CORM_ASSERT_NUM_QUERIES(db, 0) { put_list(dj_book_authors(book2), author_name); }
    assert_string_equal(out, "[Charlotte]");
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_int_equal(corm_prefetch_objects(db, &book1, 1, "unknown_attribute"), CORM_SCHEMA);
    }
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_level),
        cmocka_unit_test(test_len_bool_count_exists),
        cmocka_unit_test(test_clear),
        cmocka_unit_test(test_m2m_then_m2m),
        cmocka_unit_test(test_foreign_key_then_m2m),
        cmocka_unit_test(test_reverse_one_to_one),
        cmocka_unit_test(test_bad_lookups),
        cmocka_unit_test(test_iterator_chunks_first),
        cmocka_unit_test(test_slice_prefetched),
        cmocka_unit_test(test_custom_m2m),
        cmocka_unit_test(test_custom_m2m_through_fk),
        cmocka_unit_test(test_custom_o2m_through_m2m),
        cmocka_unit_test(test_custom_qs),
        cmocka_unit_test(test_nested_not_overwritten),
        cmocka_unit_test(test_nested_duplicate_prefetcher),
        cmocka_unit_test(test_nested_duplicate_depth),
        cmocka_unit_test(test_to_attr_leaves_relation),
        cmocka_unit_test(test_default_manager),
        cmocka_unit_test(test_nullable),
        cmocka_unit_test(test_fk_addresses),
        cmocka_unit_test(test_detect_is_fetched),
        cmocka_unit_test(test_nested_not_overwritten_by_related),
        cmocka_unit_test(test_prefetch_limit),
        cmocka_unit_test(test_ambiguous),
        cmocka_unit_test(test_prefetch_of_rows_refused),
        cmocka_unit_test(test_raw),
        cmocka_unit_test(test_ticket_19607),
        cmocka_unit_test(test_prefetch_related_objects),
        cmocka_unit_test(test_prefetch_related_objects_twice),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
