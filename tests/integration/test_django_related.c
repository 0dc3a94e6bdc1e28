/*
** test_django_related.c - Django's tests/known_related_objects,
** tests/select_related_onetoone and the prefetch cases of
** tests/many_to_many, ported: each test names the Django test it mirrors,
** with Django's rows and query counts, on both backends.  Schema:
** django_prefetch.corm (Django's models, named Dj*).  Data, Django's:
**   DjTournament 1 Tourney 1, 2 Tourney 2; DjOrganiser 1 Organiser 1
**   DjPool       1 T1 Pool 1, 2 T1 Pool 2 (tournament 1), 3 T2 Pool 1,
**                4 T2 Pool 2 (tournament 2); organiser 1
**   DjPoolStyle  1 "T1 Pool 2 Style" (pool 2), 2 "T2 Pool 1 Style" (pool 3),
**                3 "T1 Pool 1/3 Style" (pool 1, another_pool 3)
**   DjUser       1 test (profile KS Lawrence; stat 150 posts, "first
**                results", 259 comments), 2 bob (stat 200, "moar results",
**                250 comments; no profile)
**   DjLinkedList 1 item1, 2 item2 (previous item1)
**   DjPublication 1 The Python Journal, 2 Science News, 3 Science Weekly
**   DjArticle    1 "Oxygen-free diet works wonders" (Science News)
*/
#include "test.h"

#include "django_prefetch/django_prefetch.h"

#include <string.h>

static corm_db *db;

#define OK_DB(call) TEST_OK_DB(db, call)

static int64_t make(void *obj)
{
    OK_DB(corm_create(db, obj));
    return *(int64_t *)((char *)obj + ((corm_obj *)obj)->model->fields[0].offset);
}

static void pools(void)
{
    const char *ts[] = {"Tourney 1", "Tourney 2"};
    for (int i = 0; i < 2; i++) {
        DjTournament t = CORM_NEW(DjTournament);
        t.name = (char *)ts[i];
        make(&t);
    }
    DjOrganiser o = CORM_NEW(DjOrganiser);
    o.name = "Organiser 1";
    make(&o);
    const char *ps[] = {"T1 Pool 1", "T1 Pool 2", "T2 Pool 1", "T2 Pool 2"};
    for (int i = 0; i < 4; i++) {
        DjPool p = CORM_NEW(DjPool);
        p.name = (char *)ps[i];
        p.tournament_id = i < 2 ? 1 : 2;
        p.organiser_id = 1;
        make(&p);
    }
    const char *styles[] = {"T1 Pool 2 Style", "T2 Pool 1 Style", "T1 Pool 1/3 Style"};
    const int64_t pool[] = {2, 3, 1};
    for (int i = 0; i < 3; i++) {
        DjPoolStyle s = CORM_NEW(DjPoolStyle);
        s.name = (char *)styles[i];
        s.pool_id = pool[i];
        if (i == 2) s.another_pool_id = 3;
        make(&s);
    }
}

static void users(void)
{
    const char *names[] = {"test", "bob"};
    const char *results[] = {"first results", "moar results"};
    const int posts[] = {150, 200}, comments[] = {259, 250};
    for (int i = 0; i < 2; i++) {
        DjUser u = CORM_NEW(DjUser);
        u.username = (char *)names[i];
        int64_t uid = make(&u);
        if (i == 0) {
            DjUserProfile p = CORM_NEW(DjUserProfile);
            p.user_id = uid;
            p.state = "KS";
            p.city = "Lawrence";
            make(&p);
        }
        DjUserStatResult r = CORM_NEW(DjUserStatResult);
        r.results = (char *)results[i];
        DjUserStat s = CORM_NEW(DjUserStat);
        s.user_id = uid;
        s.posts = posts[i];
        s.results_id = make(&r);
        DjStatDetails d = CORM_NEW(DjStatDetails);
        d.base_stats_id = make(&s);
        d.comments = comments[i];
        make(&d);
    }
    DjLinkedList item1 = CORM_NEW(DjLinkedList);
    item1.name = "item1";
    DjLinkedList item2 = CORM_NEW(DjLinkedList);
    item2.name = "item2";
    item2.previous_item_id = make(&item1);
    make(&item2);
}

static void articles(void)
{
    const char *titles[] = {"The Python Journal", "Science News", "Science Weekly"};
    for (int i = 0; i < 3; i++) {
        DjPublication p = CORM_NEW(DjPublication);
        p.title = (char *)titles[i];
        make(&p);
    }
    DjArticle a = CORM_NEW(DjArticle);
    a.headline = "Oxygen-free diet works wonders";
    make(&a);
    OK_DB(corm_m2m_add_ids(db, &a, DJ_ARTICLE_REL_PUBLICATIONS, (const int64_t[]){2}, 1));
}

/* SelectRelatedTests.create_tree: each name of a level made once */
static void tree(const char *line)
{
    static const corm_model *const models[] = {
        &DjDomain_model, &DjKingdom_model, &DjPhylum_model, &DjKlass_model,
        &DjOrder_model,  &DjFamily_model,  &DjGenus_model,  &DjSpecies_model,
    };
    char buf[256];
    snprintf(buf, sizeof buf, "%s", line);
    int64_t parent = 0;
    char *save = NULL;
    char *name = strtok_r(buf, " ", &save);
    for (int level = 0; level < 8 && name; level++, name = strtok_r(NULL, " ", &save)) {
        corm_qs *qs = corm_qs_new_at(db, models[level], CORM_SITE);
        corm_filter(qs, "name", corm_text(name));
        corm_obj *found = corm_first(qs);
        if (found) {
            parent = *(int64_t *)((char *)found + models[level]->fields[0].offset);
            corm_qs_free(qs);
            continue;
        }
#define LEVEL(T, set_fk)   \
    do {                   \
        T o = CORM_NEW(T); \
        o.name = name;     \
        set_fk;            \
        parent = make(&o); \
    } while (0)
        switch (level) {
        case 0: LEVEL(DjDomain, (void)0); break;
        case 1: LEVEL(DjKingdom, o.domain_id = parent); break;
        case 2: LEVEL(DjPhylum, o.kingdom_id = parent); break;
        case 3: LEVEL(DjKlass, o.phylum_id = parent); break;
        case 4: LEVEL(DjOrder, o.klass_id = parent); break;
        case 5: LEVEL(DjFamily, o.order_id = parent); break;
        case 6: LEVEL(DjGenus, o.family_id = parent); break;
        default: LEVEL(DjSpecies, o.genus_id = parent); break;
        }
#undef LEVEL
        corm_qs_free(qs);
    }
}

static void taxonomy(void)
{
    tree("Eukaryota Animalia Anthropoda Insecta Diptera Drosophilidae Drosophila melanogaster");
    tree("Eukaryota Animalia Chordata Mammalia Primates Hominidae Homo sapiens");
    tree("Eukaryota Plantae Magnoliophyta Magnoliopsida Fabales Fabaceae Pisum sativum");
    tree("Eukaryota Fungi Basidiomycota Homobasidiomycatae Agaricales Amanitacae Amanita "
         "muscaria");
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
    pools();
    users();
    articles();
    taxonomy();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_close(db);
    return 0;
}

/* corm_get of model with one filter, failing the test when there is none */
static void *get_by(corm_qs *qs, const char *lookup, corm_value v)
{
    corm_filter(qs, lookup, v);
    void *o = corm_get(qs);
    if (!o) fail_msg("corm_get: %s", corm_qs_error(qs)->message);
    return o;
}

/* ------------------------------------------------------------ known_related_objects */

/* ExistingRelatedInstancesTests.test_foreign_key: tournament.pool_set.all()[0]
** knows its tournament (2 queries), through the lazy set or its queryset */
static void test_foreign_key(void **state)
{
    (void)state;
    for (int via_qs = 0; via_qs < 2; via_qs++) {
        corm_qs *qs = corm_all(db, DjTournament);
        CORM_ASSERT_NUM_QUERIES(db, 2)
        {
            DjTournament *t = get_by(qs, "pk", corm_int(1));
            DjPool *pool;
            corm_qs *set = NULL;
            if (via_qs) {
                set = dj_tournament_pool_set_qs(t);
                corm_slice(set, 0, 1);
                assert_int_equal(corm_eval(set), CORM_OK);
                pool = corm_qs_at(set, 0);
            } else {
                pool = dj_tournament_pool_set(t)->items[0];
            }
            assert_ptr_equal(dj_pool_tournament(pool), t);
            corm_qs_free(set);
        }
        corm_qs_free(qs);
    }
    /* streamed by an iterator (Django's ModelIterable sets it too) */
    corm_qs *tq = corm_all(db, DjTournament);
    DjTournament *t1 = get_by(tq, "pk", corm_int(1));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_tournament_pool_set_qs(t1);
        corm_order_by(set, "id");
        corm_iter *it = corm_iterator(set, 1);
        size_t n = 0;
        for (DjPool *p; (p = corm_iter_next(it)); n++) assert_ptr_equal(dj_pool_tournament(p), t1);
        assert_int_equal(n, 2);
        corm_iter_free(it);
        corm_qs_free(set);
    }
    corm_qs_free(tq);
    /* a filtered related queryset too (Django's related manager's
    ** querysets carry the instance as a known related object) */
    corm_qs *qs = corm_all(db, DjTournament);
    DjTournament *t = get_by(qs, "pk", corm_int(2));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_tournament_pool_set_qs(t);
        corm_filter(set, "name__endswith", corm_text("2"));
        DjPool *pool = corm_first(set);
        assert_string_equal(pool->name, "T2 Pool 2");
        assert_ptr_equal(dj_pool_tournament(pool), t);
        corm_qs_free(set);
    }
    corm_qs_free(qs);
}

/* test_foreign_key_prefetch_related, test_foreign_key_multiple_prefetch */
static void test_foreign_key_prefetch(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjTournament);
    corm_prefetch_related(qs, "pool_set");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        DjTournament *t = get_by(qs, "pk", corm_int(1));
        assert_ptr_equal(dj_pool_tournament(dj_tournament_pool_set(t)->items[0]), t);
    }
    corm_qs_free(qs);
    qs = corm_all(db, DjTournament);
    corm_prefetch_related(qs, "pool_set");
    corm_order_by(qs, "pk");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_int_equal(corm_eval(qs), CORM_OK);
        for (size_t i = 0; i < 2; i++) {
            DjTournament *t = corm_qs_at(qs, i);
            assert_ptr_equal(dj_pool_tournament(dj_tournament_pool_set(t)->items[0]), t);
        }
    }
    corm_qs_free(qs);
}

/* test_one_to_one (2), test_one_to_one_select_related (1),
** test_one_to_one_prefetch_related (2): style.pool.poolstyle is style */
static void test_one_to_one(void **state)
{
    (void)state;
    for (int how = 0; how < 3; how++) {
        corm_qs *qs = corm_all(db, DjPoolStyle);
        if (how == 1) corm_select_related(qs, "pool");
        if (how == 2) corm_prefetch_related(qs, "pool");
        CORM_ASSERT_NUM_QUERIES(db, how == 1 ? 1 : 2)
        {
            DjPoolStyle *style = get_by(qs, "pk", corm_int(1));
            DjPool *pool = dj_pool_style_pool(style);
            assert_string_equal(pool->name, "T1 Pool 2");
            assert_ptr_equal(dj_pool_poolstyle(pool), style);
        }
        corm_qs_free(qs);
    }
}

/* test_one_to_one_multi_select_related (1), _multi_prefetch_related (2) */
static void test_one_to_one_multi(void **state)
{
    (void)state;
    for (int how = 1; how < 3; how++) {
        corm_qs *qs = corm_all(db, DjPoolStyle);
        if (how == 1) corm_select_related(qs, "pool");
        else corm_prefetch_related(qs, "pool");
        corm_order_by(qs, "pk");
        CORM_ASSERT_NUM_QUERIES(db, how)
        {
            assert_int_equal(corm_eval(qs), CORM_OK);
            for (size_t i = 0; i < 2; i++) {
                DjPoolStyle *s = corm_qs_at(qs, i);
                assert_ptr_equal(dj_pool_poolstyle(dj_pool_style_pool(s)), s);
            }
        }
        corm_qs_free(qs);
    }
}

/* test_reverse_one_to_one (2), _select_related (1), _prefetch_related (2):
** pool.poolstyle.pool is pool */
static void test_reverse_one_to_one(void **state)
{
    (void)state;
    for (int how = 0; how < 3; how++) {
        corm_qs *qs = corm_all(db, DjPool);
        if (how == 1) corm_select_related(qs, "poolstyle");
        if (how == 2) corm_prefetch_related(qs, "poolstyle");
        CORM_ASSERT_NUM_QUERIES(db, how == 1 ? 1 : 2)
        {
            DjPool *pool = get_by(qs, "pk", corm_int(2));
            DjPoolStyle *style = dj_pool_poolstyle(pool);
            assert_string_equal(style->name, "T1 Pool 2 Style");
            assert_ptr_equal(dj_pool_style_pool(style), pool);
        }
        corm_qs_free(qs);
    }
    /* test_reverse_one_to_one_multi_select_related (1), _prefetch_related (2) */
    for (int how = 1; how < 3; how++) {
        corm_qs *qs = corm_all(db, DjPool);
        if (how == 1) corm_select_related(qs, "poolstyle");
        else corm_prefetch_related(qs, "poolstyle");
        corm_order_by(qs, "pk");
        CORM_ASSERT_NUM_QUERIES(db, how)
        {
            assert_int_equal(corm_eval(qs), CORM_OK);
            for (size_t i = 1; i < 3; i++) {
                DjPool *p = corm_qs_at(qs, i);
                assert_ptr_equal(dj_pool_style_pool(dj_pool_poolstyle(p)), p);
            }
            assert_null(dj_pool_poolstyle(corm_qs_at(qs, 3))); /* none: no query */
        }
        corm_qs_free(qs);
    }
}

/* ------------------------------------------------------------ select_related_onetoone */

/* ReverseSelectRelatedTestCase: test_basic, test_follow_next_level,
** test_follow_two, test_follow_two_next_level, test_back_and_forward
** (1 query each) */
static void test_reverse_select_related(void **state)
{
    (void)state;
    const char *paths[5][2] = {{"userprofile", NULL},
                               {"userstat__results", NULL},
                               {"userprofile", "userstat"},
                               {"userstat__results", "userstat__statdetails"},
                               {"userstat", NULL}};
    for (int i = 0; i < 5; i++) {
        corm_qs *qs = corm_all(db, DjUser);
        corm_select_related_v(qs, (const char *const[]){paths[i][0], paths[i][1], NULL});
        CORM_ASSERT_NUM_QUERIES(db, 1)
        {
            DjUser *u = get_by(qs, "username", corm_text("test"));
            if (i == 0 || i == 2) assert_string_equal(dj_user_userprofile(u)->state, "KS");
            if (i >= 1) assert_int_equal(dj_user_userstat(u)->posts, 150);
            if (i == 1 || i == 3)
                assert_string_equal(dj_user_stat_results(dj_user_userstat(u))->results,
                                    "first results");
            if (i == 3)
                assert_int_equal(dj_user_stat_statdetails(dj_user_userstat(u))->comments, 259);
            if (i == 4) assert_ptr_equal(dj_user_stat_user(dj_user_userstat(u)), u);
        }
        corm_qs_free(qs);
    }
}

/* test_forward_and_back: the user joined through a forward one-to-one
** knows its stat (1 query) */
static void test_forward_and_back(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjUserStat);
    corm_select_related(qs, "user__userprofile");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        DjUserStat *stat = get_by(qs, "user__username", corm_text("test"));
        assert_string_equal(dj_user_userprofile(dj_user_stat_user(stat))->state, "KS");
        assert_ptr_equal(dj_user_userstat(dj_user_stat_user(stat)), stat);
        assert_int_equal(dj_user_userstat(dj_user_stat_user(stat))->posts, 150);
    }
    corm_qs_free(qs);
}

/* test_missing_reverse, test_nullable_missing_reverse, test_nullable_relation:
** a missing one-to-one joined is NULL, and reading it runs no query */
static void test_missing_one_to_one(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjUser);
    corm_select_related(qs, "userprofile");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        DjUser *bob = get_by(qs, "username", corm_text("bob"));
        assert_null(dj_user_userprofile(bob));
    }
    corm_qs_free(qs);

    DjImage im = CORM_NEW(DjImage);
    im.name = "imag1";
    int64_t image = make(&im);
    DjProduct p1 = CORM_NEW(DjProduct);
    p1.name = "Django Plushie";
    p1.image_id = image;
    make(&p1);
    DjProduct p2 = CORM_NEW(DjProduct);
    p2.name = "Talking Django Plushie";
    make(&p2);
    qs = corm_all(db, DjProduct);
    corm_select_related(qs, "image");
    corm_order_by(qs, "name");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_eval(qs), CORM_OK);
        assert_int_equal(corm_qs_len(qs), 2);
        assert_string_equal(dj_product_image(corm_qs_at(qs, 0))->name, "imag1");
        assert_null(dj_product_image(corm_qs_at(qs, 1)));
    }
    corm_qs_free(qs);
    DjImage im2 = CORM_NEW(DjImage);
    im2.name = "imag2";
    make(&im2);
    qs = corm_all(db, DjImage);
    corm_select_related(qs, "product");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        DjImage *i2 = get_by(qs, "name", corm_text("imag2"));
        assert_null(dj_image_product(i2));
    }
    corm_qs_free(qs);
}

/* test_self_relation: the reverse side of a self one-to-one (1) */
static void test_self_relation(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjLinkedList);
    corm_select_related(qs, "next_item");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        DjLinkedList *item1 = get_by(qs, "name", corm_text("item1"));
        assert_string_equal(dj_linked_list_next_item(item1)->name, "item2");
        assert_ptr_equal(dj_linked_list_previous_item(dj_linked_list_next_item(item1)), item1);
    }
    corm_qs_free(qs);
}

/* ReverseSelectRelatedValidationTests.test_reverse_related_validation: the
** error lists the reverse relations too; no query */
static void test_select_related_validation(void **state)
{
    (void)state;
    const char *bad[] = {"foobar", "username"};
    for (int i = 0; i < 2; i++) {
        corm_qs *qs = corm_all(db, DjUser);
        corm_select_related(qs, bad[i]);
        CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_not_equal(corm_eval(qs), CORM_OK); }
        char buf[1024];
        const char *msg = corm_error_format(corm_qs_error(qs), buf, sizeof buf);
        if (!strstr(msg, bad[i]) || !strstr(msg, "userprofile") || !strstr(msg, "userstat"))
            fail_msg("select_related('%s'): %s", bad[i], msg);
        corm_qs_free(qs);
    }
}

/* ------------------------------------------------------------ many_to_many */

/* ManyToManyTests.test_clear_after_prefetch, test_remove_after_prefetch,
** test_add_after_prefetch, test_set_after_prefetch,
** test_add_then_remove_after_prefetch: a write through the relation drops
** the object's prefetched set; the next read queries */
static DjArticle *prefetched_article(corm_qs *qs)
{
    corm_prefetch_related(qs, "publications");
    DjArticle *a = get_by(qs, "pk", corm_int(1));
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        const corm_list *l = dj_article_publications(a);
        assert_int_equal(l->n, 1);
        assert_string_equal(((DjPublication *)l->items[0])->title, "Science News");
    }
    return a;
}

static int64_t count_pubs(DjArticle *a)
{
    corm_qs *set = dj_article_publications_qs(a);
    int64_t n = corm_count(set);
    corm_qs_free(set);
    return n;
}

static void test_m2m_writes_after_prefetch(void **state)
{
    (void)state;
    const int rel = DJ_ARTICLE_REL_PUBLICATIONS;
    corm_qs *qs = corm_all(db, DjArticle);
    DjArticle *a = prefetched_article(qs);
    OK_DB(corm_m2m_clear(db, a, rel));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(dj_article_publications(a)->n, 0); }
    OK_DB(corm_m2m_add_ids(db, a, rel, (const int64_t[]){2}, 1)); /* restore */
    corm_qs_free(qs);                                             /* a lives in its arena */

    qs = corm_all(db, DjArticle);
    a = prefetched_article(qs);
    OK_DB(corm_m2m_remove_ids(db, a, rel, (const int64_t[]){2}, 1));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(dj_article_publications(a)->n, 0); }
    OK_DB(corm_m2m_add_ids(db, a, rel, (const int64_t[]){2}, 1));
    corm_qs_free(qs);

    qs = corm_all(db, DjArticle);
    a = prefetched_article(qs);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_equal(count_pubs(a), 1); }
    OK_DB(corm_m2m_add_ids(db, a, rel, (const int64_t[]){1}, 1));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(count_pubs(a), 2); }
    OK_DB(corm_m2m_remove_ids(db, a, rel, (const int64_t[]){1}, 1));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(count_pubs(a), 1); }
    corm_qs_free(qs);

    qs = corm_all(db, DjArticle);
    a = prefetched_article(qs);
    OK_DB(corm_m2m_set_ids(db, a, rel, ((const int64_t[]){2, 1}), 2));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(count_pubs(a), 2); }
    OK_DB(corm_m2m_set_ids(db, a, rel, (const int64_t[]){1}, 1));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(count_pubs(a), 1); }
    OK_DB(corm_m2m_set_ids(db, a, rel, (const int64_t[]){2}, 1)); /* restore */
    corm_qs_free(qs);
}

/* ------------------------------------------------------------ select_related */

/* "melanogaster" and the rest of the taxonomy, by corm_get */
static DjSpecies *species(corm_qs *qs, const char *name)
{
    return get_by(qs, "name", corm_text(name));
}

/* SelectRelatedTests: test_access_fks_without_select_related (8),
** test_access_fks_with_select_related (1) */
static void test_select_related_chain(void **state)
{
    (void)state;
    for (int joined = 0; joined < 2; joined++) {
        corm_qs *qs = corm_all(db, DjSpecies);
        if (joined) corm_select_related(qs, "genus__family__order__klass__phylum__kingdom__domain");
        CORM_ASSERT_NUM_QUERIES(db, joined ? 1 : 8)
        {
            DjSpecies *s = species(qs, joined ? "sapiens" : "melanogaster");
            DjDomain *d = dj_kingdom_domain(dj_phylum_kingdom(dj_klass_phylum(
                dj_order_klass(dj_family_order(dj_genus_family(dj_species_genus(s)))))));
            assert_string_equal(d->name, "Eukaryota");
        }
        corm_qs_free(qs);
    }
}

/* test_list_without_select_related (9), test_certain_fields (1),
** test_list_with_depth (5: the orders lazily), test_more_certain_fields (2) */
static void test_select_related_lists(void **state)
{
    (void)state;
    for (int how = 0; how < 4; how++) {
        corm_qs *qs = corm_all(db, DjSpecies);
        corm_order_by(qs, "id");
        if (how) corm_select_related(qs, "genus__family");
        if (how == 3) corm_filter(qs, "genus__name", corm_text("Amanita"));
        char got[256] = "";
        DjSpecies *s;
        static const int want[] = {9, 1, 5, 2};
        CORM_ASSERT_NUM_QUERIES(db, want[how])
        {
            corm_foreach(s, qs)
            {
                DjFamily *f = dj_genus_family(dj_species_genus(s));
                strcat(got, how >= 2 ? dj_family_order(f)->name : f->name);
                strcat(got, ";");
            }
        }
        assert_string_equal(got, how == 3   ? "Agaricales;"
                                 : how == 2 ? "Diptera;Primates;Fabales;Agaricales;"
                                            : "Drosophilidae;Hominidae;Fabaceae;Amanitacae;");
        corm_qs_free(qs);
    }
}

/* test_field_traversal (1), test_chaining (1), test_reverse_relation_caching
** (the genus joined, its species_set not: 1) */
static void test_select_related_misc(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, DjSpecies);
    corm_select_related(qs, "genus__family__order");
    corm_order_by(qs, "id");
    corm_slice(qs, 0, 1);
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        DjSpecies *s = corm_get(qs);
        assert_string_equal(dj_family_order(dj_genus_family(dj_species_genus(s)))->name, "Diptera");
    }
    corm_qs_free(qs);

    DjHybridSpecies h = CORM_NEW(DjHybridSpecies);
    h.name = "hybrid";
    h.parent_1_id = 1;
    h.parent_2_id = 2;
    make(&h);
    qs = corm_all(db, DjHybridSpecies);
    corm_select_related(qs, "parent_1");
    corm_select_related(qs, "parent_2");
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        DjHybridSpecies *o = corm_first(qs);
        assert_string_equal(dj_hybrid_species_parent_1(o)->name, "melanogaster");
        assert_string_equal(dj_hybrid_species_parent_2(o)->name, "sapiens");
    }
    corm_qs_free(qs);

    qs = corm_all(db, DjSpecies);
    corm_select_related(qs, "genus");
    corm_filter(qs, "name", corm_text("melanogaster"));
    DjSpecies *s = corm_first(qs);
    assert_non_null(s);
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_string_equal(dj_species_genus(s)->name, "Drosophila"); }
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_genus_species_set_qs(dj_species_genus(s));
        DjSpecies *first = corm_first(set);
        assert_string_equal(first->name, "melanogaster");
        assert_ptr_equal(dj_species_genus(first), dj_species_genus(s)); /* known: no query */
        corm_qs_free(set);
    }
    /* select_related_regress test_regression_22508: a related queryset's
    ** select_related object is kept, not replaced by the known object
    ** (device.port_set.select_related("device__building").get()) */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        corm_qs *set = dj_genus_species_set_qs(dj_species_genus(s));
        corm_select_related(set, "genus__family");
        DjSpecies *one = get_by(set, "name", corm_text("melanogaster"));
        assert_ptr_not_equal(dj_species_genus(one), dj_species_genus(s));
        assert_string_equal(dj_genus_family(dj_species_genus(one))->name, "Drosophilidae");
        corm_qs_free(set);
    }
    corm_qs_free(qs);
}

/* SelectRelatedValidationTests: test_non_relational_field,
** test_non_relational_field_nested, test_many_to_many_field,
** test_reverse_relational_field, test_invalid_field: the error names the
** part and the relations select_related could follow; no query */
static void test_select_related_validation_taxonomy(void **state)
{
    (void)state;
    static const struct {
        const corm_model *model;
        const char *path, *want, *choices;
    } cases[] = {
        {&DjSpecies_model, "name__some_field", "DjSpecies.name is a char field", "genus"},
        {&DjSpecies_model, "name", "DjSpecies.name is a char field", "genus"},
        {&DjDomain_model, "name", "DjDomain.name is a char field", "DjDomain has: none"},
        {&DjSpecies_model, "genus__name", "DjGenus.name is a char field", "family"},
        {&DjBook_model, "authors", "DjBook.authors is a to-many relation", "prefetch_related"},
        {&DjSpecies_model, "child_1", "DjSpecies.child_1 is a to-many relation",
         "prefetch_related"},
        {&DjSpecies_model, "invalid_field", "invalid_field", "genus"},
        {&DjSpecies_model, "genus__related_invalid_field", "related_invalid_field", "family"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        corm_qs *qs = corm_qs_new_at(db, cases[i].model, CORM_SITE);
        corm_select_related(qs, cases[i].path);
        CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_not_equal(corm_eval(qs), CORM_OK); }
        char buf[1024];
        const char *msg = corm_error_format(corm_qs_error(qs), buf, sizeof buf);
        if (!strstr(msg, cases[i].want) || !strstr(msg, cases[i].choices))
            fail_msg("select_related('%s'): %s", cases[i].path, msg);
        corm_qs_free(qs);
    }
    /* SelectRelatedTests.test_select_related_after_values(_list) */
    corm_qs *qs = corm_all(db, DjSpecies);
    corm_values(qs, "name");
    corm_select_related(qs, "genus");
    CORM_ASSERT_NUM_QUERIES(db, 0) { assert_int_not_equal(corm_eval(qs), CORM_OK); }
    assert_string_equal(corm_qs_error(qs)->message,
                        "cannot call corm_select_related after corm_values or corm_values_list");
    corm_qs_free(qs);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreign_key),
        cmocka_unit_test(test_foreign_key_prefetch),
        cmocka_unit_test(test_one_to_one),
        cmocka_unit_test(test_one_to_one_multi),
        cmocka_unit_test(test_reverse_one_to_one),
        cmocka_unit_test(test_reverse_select_related),
        cmocka_unit_test(test_forward_and_back),
        cmocka_unit_test(test_missing_one_to_one),
        cmocka_unit_test(test_self_relation),
        cmocka_unit_test(test_select_related_validation),
        cmocka_unit_test(test_m2m_writes_after_prefetch),
        cmocka_unit_test(test_select_related_chain),
        cmocka_unit_test(test_select_related_lists),
        cmocka_unit_test(test_select_related_misc),
        cmocka_unit_test(test_select_related_validation_taxonomy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
