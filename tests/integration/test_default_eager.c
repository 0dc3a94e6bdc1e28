/*
** test_default_eager.c - a model's default eager loads (`default
** select_related(...) prefetch_related(...)` in the schema), on both
** backends, with exact rows and query counts.  Django's reference: the
** Managers topic ("Modifying a manager's initial QuerySet": a default
** manager whose get_queryset() calls select_related/prefetch_related;
** "Base managers": related objects reached through a forward foreign key
** or one-to-one use Model._base_manager, not the default manager, while
** one-to-many and many-to-many sets, and their prefetches, use the
** default manager).  Schema: tests/integration/default_eager.corm.
*/
#include "test.h"

#include "default_eager/default_eager.h"

#include <string.h>

static corm_db *db;

#define OK_DB(call) TEST_OK_DB(db, call)

static void add_memo(int64_t scribe, const char *title, const int64_t *labels, size_t nlabels)
{
    Memo p = CORM_NEW(Memo);
    p.title = (char *)title;
    p.scribe_id = scribe;
    OK_DB(corm_create(db, &p));
    if (nlabels) OK_DB(corm_m2m_add_ids(db, &p, MEMO_REL_LABELS, labels, nlabels));
}

static int setup(void **state)
{
    (void)state;
    corm_error err;
    db = corm_open(test_db_fresh_url(), &default_eager_schema, &err);
    if (!db) {
        char buf[2048];
        fail_msg("corm_open: %s", corm_error_format(&err, buf, sizeof buf));
    }
    if (corm_migrate(db) != CORM_OK) fail_msg("corm_migrate: %s", corm_db_error(db)->message);
    const char *pubs[] = {"Penguin", "Faber"};
    for (int i = 0; i < 2; i++) {
        Imprint p = CORM_NEW(Imprint);
        p.name = (char *)pubs[i];
        OK_DB(corm_create(db, &p));
    }
    const char *scribes[] = {"Ann", "Bob", "Cy"};
    const int64_t pub_of[] = {1, 2, 1};
    for (int i = 0; i < 3; i++) {
        Scribe w = CORM_NEW(Scribe);
        w.name = (char *)scribes[i];
        w.imprint_id = pub_of[i];
        OK_DB(corm_create(db, &w));
    }
    const char *labels[] = {"c", "sql", "orm"};
    for (int i = 0; i < 3; i++) {
        Label t = CORM_NEW(Label);
        t.name = (char *)labels[i];
        OK_DB(corm_create(db, &t));
    }
    add_memo(1, "p1", (const int64_t[]){1, 2}, 2);
    add_memo(1, "p2", (const int64_t[]){3}, 1);
    add_memo(2, "p3", (const int64_t[]){1, 2, 3}, 3);
    add_memo(3, "p4", NULL, 0);
    const char *members[] = {"Mia", "Noa"};
    for (int i = 0; i < 2; i++) {
        Member m = CORM_NEW(Member);
        m.name = (char *)members[i];
        OK_DB(corm_create(db, &m));
    }
    Club chess = CORM_NEW(Club);
    chess.name = "chess";
    OK_DB(corm_create(db, &chess));
    OK_DB(corm_m2m_add_ids(db, &chess, CLUB_REL_MEMBERS, ((const int64_t[]){1, 2}), 2));
    Club go = CORM_NEW(Club);
    go.name = "go";
    OK_DB(corm_create(db, &go));
    OK_DB(corm_m2m_add_ids(db, &go, CLUB_REL_MEMBERS, ((const int64_t[]){2}), 1));
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    corm_close(db);
    return 0;
}

static void eval(corm_qs *qs)
{
    if (corm_eval(qs) != CORM_OK) {
        char buf[2048];
        fail_msg("corm_eval: %s", corm_error_format(corm_qs_error(qs), buf, sizeof buf));
    }
}

/* "title:scribe/imprint:label+label;" per memo, reading the relations */
static const char *memo_lines(corm_qs *qs)
{
    eval(qs);
    static char out[512];
    size_t at = 0;
    out[0] = '\0';
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        Memo *p = corm_qs_at(qs, i);
        Scribe *w = memo_scribe(p);
        Imprint *pub = w ? scribe_imprint(w) : NULL;
        at += (size_t)snprintf(out + at, sizeof out - at, "%s:%s/%s:", p->title, w ? w->name : "?",
                               pub ? pub->name : "?");
        const corm_list *labels = memo_labels(p);
        for (size_t k = 0; labels && k < labels->n; k++)
            at += (size_t)snprintf(out + at, sizeof out - at, "%s%s", k ? "+" : "",
                                   ((Label *)labels->items[k])->name);
        at += (size_t)snprintf(out + at, sizeof out - at, ";");
    }
    return out;
}

static const char *const ALL_MEMOS = "p1:Ann/Penguin:c+sql;p2:Ann/Penguin:orm;"
                                     "p3:Bob/Faber:c+sql+orm;p4:Cy/Penguin:;";

/* The descriptor carries the schema's default line. */
static void test_descriptor(void **state)
{
    (void)state;
    assert_int_equal(Memo_model.ndefault_related, 1);
    assert_string_equal(Memo_model.default_related[0], "scribe__imprint");
    assert_int_equal(Memo_model.ndefault_prefetch, 1);
    assert_string_equal(Memo_model.default_prefetch[0], "labels");
    assert_int_equal(Scribe_model.ndefault_related, 1);
    assert_int_equal(Scribe_model.ndefault_prefetch, 0);
    assert_int_equal(Label_model.ndefault_related + Label_model.ndefault_prefetch, 0);
}

/* Django: Memo.objects (a manager whose get_queryset() is
** super().get_queryset().select_related("scribe__imprint")
** .prefetch_related("labels")): the list with scribes, imprints and labels
** is 2 queries, the join and the labels' prefetch. */
static void test_corm_all_applies_defaults(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Memo);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_string_equal(memo_lines(qs), ALL_MEMOS); }
    assert_int_equal(corm_qs_len(qs), 4);
    corm_qs_free(qs);
    /* count, exists and update() of a queryset with the defaults: one
    ** query each, no join, no prefetch (Django ignores them there too) */
    qs = corm_all(db, Memo);
    corm_filter(qs, "scribe__imprint__name", corm_text("Penguin"));
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_int_equal(corm_count(qs), 3); }
    corm_qs_free(qs);
    qs = corm_all(db, Memo);
    CORM_ASSERT_NUM_QUERIES(db, 1) { assert_true(corm_exists(qs)); }
    corm_qs_free(qs);
    qs = corm_all(db, Memo);
    corm_filter(qs, "title", corm_text("p4"));
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_int_equal(corm_update(qs, CORM_SET("title", corm_text("p4"))), 1);
    }
    corm_qs_free(qs);
}

/* Opting out for one queryset: corm_select_related_clear and
** corm_prefetch_clear (Django's select_related(None) and
** prefetch_related(None) on the manager's queryset). */
static void test_opt_out(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Memo);
    corm_order_by(qs, "id");
    corm_select_related_clear(qs);
    corm_prefetch_clear(qs);
    /* 1 + a scribe, an imprint and the labels per memo (no identity map) */
    CORM_ASSERT_NUM_QUERIES(db, 1 + 4 + 4 + 4) { assert_string_equal(memo_lines(qs), ALL_MEMOS); }
    corm_qs_free(qs);
    /* one of the two: the join stays, the labels are loaded lazily */
    qs = corm_all(db, Memo);
    corm_order_by(qs, "id");
    corm_prefetch_clear(qs);
    CORM_ASSERT_NUM_QUERIES(db, 1 + 4) { assert_string_equal(memo_lines(qs), ALL_MEMOS); }
    corm_qs_free(qs);
}

/* Django's prefetch of a one-to-many or many-to-many relation reads through
** the target's default manager: Scribe.objects.prefetch_related("memos")
** brings each memo's scribe and imprint in the memos' own query and
** prefetches their labels (3 queries: scribes+imprints, memos, labels). */
static void test_prefetch_level_applies_target_defaults(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Scribe);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "memos");
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        char got[512] = "";
        size_t at = 0;
        eval(qs);
        for (size_t i = 0; i < corm_qs_len(qs); i++) {
            Scribe *w = corm_qs_at(qs, i);
            const corm_list *memos = scribe_memos(w);
            at += (size_t)snprintf(got + at, sizeof got - at, "%s(%s):", w->name,
                                   scribe_imprint(w)->name);
            for (size_t k = 0; k < memos->n; k++) {
                Memo *p = memos->items[k];
                at += (size_t)snprintf(got + at, sizeof got - at, "%s[%zu]", p->title,
                                       memo_labels(p)->n);
            }
            at += (size_t)snprintf(got + at, sizeof got - at, ";");
        }
        assert_string_equal(got, "Ann(Penguin):p1[2]p2[1];Bob(Faber):p3[3];Cy(Penguin):p4[0];");
    }
    corm_qs_free(qs);
    /* a many-to-many level too: Label -> memos applies Memo's defaults */
    qs = corm_all(db, Label);
    corm_order_by(qs, "id");
    corm_prefetch_related(qs, "memos");
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        char got[512] = "";
        size_t at = 0;
        eval(qs);
        for (size_t i = 0; i < corm_qs_len(qs); i++) {
            Label *t = corm_qs_at(qs, i);
            const corm_list *memos = label_memos(t);
            at += (size_t)snprintf(got + at, sizeof got - at, "%s:", t->name);
            for (size_t k = 0; k < memos->n; k++) {
                Memo *p = memos->items[k];
                at += (size_t)snprintf(got + at, sizeof got - at, "%s/%s/%s[%zu]", p->title,
                                       memo_scribe(p)->name, scribe_imprint(memo_scribe(p))->name,
                                       memo_labels(p)->n);
            }
            at += (size_t)snprintf(got + at, sizeof got - at, ";");
        }
        assert_string_equal(got, "c:p1/Ann/Penguin[2]p3/Bob/Faber[3];sql:p1/Ann/Penguin[2]p3/Bob/"
                                 "Faber[3];orm:p2/Ann/Penguin[1]p3/Bob/Faber[3];");
    }
    corm_qs_free(qs);
}

/* A Prefetch with a queryset of its own uses that queryset: built with
** corm_all it has the defaults, and clearing them there opts the level out
** (Django: Prefetch("memos", queryset=Memo.objects...)). */
static void test_prefetch_queryset_opt_out(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Scribe);
    corm_order_by(qs, "id");
    corm_qs *plain = corm_all(db, Memo);
    corm_select_related_clear(plain);
    corm_prefetch_clear(plain);
    corm_prefetch(qs, "memos", plain, NULL);
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        eval(qs);
        Scribe *ann = corm_qs_at(qs, 0);
        assert_int_equal(scribe_memos(ann)->n, 2);
    }
    /* the labels were not prefetched: each memo's labels is a query */
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        Scribe *ann = corm_qs_at(qs, 0);
        assert_int_equal(memo_labels(scribe_memos(ann)->items[0])->n, 2);
    }
    corm_qs_free(qs);
}

/* Django's base manager: a forward foreign key is fetched without the
** target's default manager, so prefetch_related("scribe") on memos does
** not bring the scribes' imprints (Scribe's select_related default does
** not apply there). */
static void test_forward_fk_uses_base_manager(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Memo);
    corm_order_by(qs, "id");
    corm_select_related_clear(qs);
    corm_prefetch_clear(qs);
    corm_prefetch_related(qs, "scribe");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        eval(qs);
        assert_string_equal(memo_scribe(corm_qs_at(qs, 2))->name, "Bob");
    }
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_string_equal(scribe_imprint(memo_scribe(corm_qs_at(qs, 2)))->name, "Faber");
    }
    corm_qs_free(qs);
}

/* A related set's queryset is the target's default manager's in Django
** (scribe.memos.all()): scribe_memos_qs applies Memo's defaults. */
static void test_related_qs_applies_defaults(void **state)
{
    (void)state;
    corm_qs *wq = corm_all(db, Scribe);
    corm_filter(wq, "pk", corm_int(1));
    Scribe *ann = corm_get(wq);
    assert_non_null(ann);
    corm_qs *memos = scribe_memos_qs(ann);
    corm_order_by(memos, "id");
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        assert_string_equal(memo_lines(memos), "p1:Ann/Penguin:c+sql;p2:Ann/Penguin:orm;");
    }
    corm_qs_free(memos);
    corm_qs_free(wq);
}

/* A related set loaded lazily is read through the target's default
** manager too (Django's writer.posts.all()): the memos with their scribe
** and imprint joined, and their labels prefetched (2 queries, 0 after). */
static void test_lazy_set_applies_defaults(void **state)
{
    (void)state;
    corm_qs *wq = corm_all(db, Scribe);
    corm_order_by(wq, "id");
    eval(wq);
    Scribe *bob = corm_qs_at(wq, 1);
    CORM_ASSERT_NUM_QUERIES(db, 2) { assert_int_equal(scribe_memos(bob)->n, 1); }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        Memo *p3 = scribe_memos(bob)->items[0];
        assert_string_equal(p3->title, "p3");
        assert_int_equal(memo_labels(p3)->n, 3);
        assert_string_equal(scribe_imprint(memo_scribe(p3))->name, "Faber");
    }
    corm_qs_free(wq);
}

/* A cycle of defaults stops at its first repeat: clubs (1), their members
** (Member's defaults apply: 2), the members' clubs (Club's defaults apply:
** 3), those clubs' members (Member's defaults were applied above: none
** again, 4), and nothing below. */
static void test_cycle_stops(void **state)
{
    (void)state;
    corm_qs *qs = corm_all(db, Club);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 4)
    {
        eval(qs);
        Club *chess = corm_qs_at(qs, 0);
        const corm_list *ms = club_members(chess);
        assert_int_equal(ms->n, 2);
        Member *noa = ms->items[1];
        assert_string_equal(noa->name, "Noa");
        const corm_list *cs = member_clubs(noa);
        assert_int_equal(cs->n, 2);
        assert_string_equal(((Club *)cs->items[1])->name, "go");
        assert_int_equal(club_members(cs->items[1])->n, 1);
    }
    /* one level further was not prefetched: loading it lazily is reading
    ** the set through Club's default manager (Django's member.clubs.all()):
    ** the clubs and, by the defaults, their members, the members' clubs and
    ** their members again, where the cycle stops (4, as corm_all(Club)) */
    CORM_ASSERT_NUM_QUERIES(db, 4)
    {
        Club *chess = corm_qs_at(qs, 0);
        Member *noa = club_members(chess)->items[1];
        Club *go = member_clubs(noa)->items[1];
        assert_int_equal(member_clubs(club_members(go)->items[0])->n, 2);
    }
    corm_qs_free(qs);
}

/* Schema errors: a path that is not a relation, a to-many path in
** select_related, a repeated path, a missing clause. */
static void schema_error(const char *text, const char *want)
{
    corm_error err;
    corm_schema *s = corm_schema_parse(text, strlen(text), "t.corm", &err);
    assert_null(s);
    char buf[1024];
    const char *got = corm_error_format(&err, buf, sizeof buf);
    if (!strstr(got, want)) fail_msg("expected '%s' in: %s", want, got);
}

static void test_schema_errors(void **state)
{
    (void)state;
    const char *base = "model A { name: char(9) }\n"
                       "model B { a: fk(A, on_delete=cascade, related_name=bs)\n";
    char text[512];
    snprintf(text, sizeof text, "%s default select_related(author) }", base);
    schema_error(text, "default select_related(author) of model 'B': B has no relation 'author'");
    schema_error(text, "hint: B has: a");
    snprintf(text, sizeof text,
             "%s }\nmodel C { b: fk(B, on_delete=cascade)\n"
             " default prefetch_related(b__a__nope) }",
             base);
    schema_error(text, "A has no relation 'nope'");
    snprintf(text, sizeof text,
             "model A { name: char(9)\n default select_related(bs) }\n"
             "model B { a: fk(A, on_delete=cascade, related_name=bs) }");
    schema_error(text, "A.bs is a to-many relation");
    schema_error(text, "hint: put reverse foreign keys and many-to-many in prefetch_related(...)");
    snprintf(text, sizeof text, "%s default select_related(a, a) }", base);
    schema_error(text, "default select_related(a) of model 'B' is given twice");
    snprintf(text, sizeof text, "%s default ordering }", base);
    schema_error(text, "select_related(...) or prefetch_related(...) after 'default'");
    snprintf(text, sizeof text, "%s default select_related a }", base);
    schema_error(text, "'(' after the eager load");
    snprintf(text, sizeof text, "%s default select_related(a }", base);
    schema_error(text, "',' or ')' after the relation path");
    /* a good one parses; `default=` of the field before the line is the
    ** field's option, the line is the model's */
    const char *good = "model A { name: char(9) default=\"x\"\n"
                       " default prefetch_related(bs) }\n"
                       "model B { a: fk(A, on_delete=cascade, related_name=bs)\n"
                       " default select_related(a) prefetch_related(a__bs) }";
    corm_error err;
    corm_schema *s = corm_schema_parse(good, strlen(good), "t.corm", &err);
    if (!s) {
        char buf[1024];
        fail_msg("%s", corm_error_format(&err, buf, sizeof buf));
    }
    assert_int_equal(s->models[0]->ndefault_prefetch, 1);
    assert_string_equal(s->models[1]->default_prefetch[0], "a__bs");
    corm_schema_free(s);
}

/* ------------------------------------------- CORM_NPLUSONE_AUTO and defaults
** A batch lazy load (auto mode) is Django's prefetch_related_objects over
** the result's objects: a to-many set is read through the target's default
** manager (its select_related joins the level's query, its prefetches run
** below it), a forward foreign key through the base manager (none). */

/* "Ann:p1/Ann/Penguin[2]p2/Ann/Penguin[1];..." reading each scribe's memos */
static const char *scribe_memo_lines(corm_qs *qs)
{
    eval(qs);
    static char got[512];
    size_t at = 0;
    got[0] = '\0';
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        Scribe *w = corm_qs_at(qs, i);
        const corm_list *memos = scribe_memos(w);
        at += (size_t)snprintf(got + at, sizeof got - at, "%s:", w->name);
        Memo *by_id[8] = {0}; /* a related set has no order: by id */
        for (size_t k = 0; memos && k < memos->n && k < 8; k++) {
            size_t j = k;
            for (; j > 0 && by_id[j - 1]->id > ((Memo *)memos->items[k])->id; j--)
                by_id[j] = by_id[j - 1];
            by_id[j] = memos->items[k];
        }
        for (size_t k = 0; memos && k < memos->n && k < 8; k++) {
            Memo *p = by_id[k];
            at += (size_t)snprintf(got + at, sizeof got - at, "%s/%s/%s[%zu]", p->title,
                                   memo_scribe(p)->name, scribe_imprint(memo_scribe(p))->name,
                                   memo_labels(p)->n);
        }
        at += (size_t)snprintf(got + at, sizeof got - at, ";");
    }
    return got;
}

/* Django: prefetch_related_objects(scribes, "memos") with Memo's manager
** prefetching labels and joining scribe__imprint: scribes (1), memos with
** their scribe and imprint (1), their labels (1). */
static void test_auto_set_applies_defaults(void **state)
{
    (void)state;
    corm_nplusone_mode(db, CORM_NPLUSONE_AUTO);
    corm_qs *qs = corm_all(db, Scribe);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        assert_string_equal(scribe_memo_lines(qs), "Ann:p1/Ann/Penguin[2]p2/Ann/Penguin[1];"
                                                   "Bob:p3/Bob/Faber[3];Cy:p4/Cy/Penguin[0];");
    }
    corm_qs_free(qs);
    /* a many-to-many set: labels (1), their memos joined (1), the memos'
    ** labels (1); the memos' scribes and imprints came with the join */
    qs = corm_all(db, Label);
    corm_order_by(qs, "id");
    CORM_ASSERT_NUM_QUERIES(db, 3)
    {
        char got[512] = "";
        size_t at = 0;
        eval(qs);
        for (size_t i = 0; i < corm_qs_len(qs); i++) {
            Label *t = corm_qs_at(qs, i);
            const corm_list *memos = label_memos(t);
            at += (size_t)snprintf(got + at, sizeof got - at, "%s:", t->name);
            for (size_t k = 0; k < memos->n; k++) {
                Memo *p = memos->items[k];
                at += (size_t)snprintf(got + at, sizeof got - at, "%s/%s/%s[%zu]", p->title,
                                       memo_scribe(p)->name, scribe_imprint(memo_scribe(p))->name,
                                       memo_labels(p)->n);
            }
            at += (size_t)snprintf(got + at, sizeof got - at, ";");
        }
        assert_string_equal(got, "c:p1/Ann/Penguin[2]p3/Bob/Faber[3];sql:p1/Ann/Penguin[2]p3/Bob/"
                                 "Faber[3];orm:p2/Ann/Penguin[1]p3/Bob/Faber[3];");
    }
    corm_qs_free(qs);
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
}

/* A forward foreign key batch-loaded is read through the base manager:
** memos (1), their scribes without Scribe's select_related(imprint) (1),
** then the scribes' imprints, batch-loaded in turn (1). */
static void test_auto_forward_fk_uses_base_manager(void **state)
{
    (void)state;
    corm_nplusone_mode(db, CORM_NPLUSONE_AUTO);
    corm_qs *qs = corm_all(db, Memo);
    corm_order_by(qs, "id");
    corm_select_related_clear(qs);
    corm_prefetch_clear(qs);
    CORM_ASSERT_NUM_QUERIES(db, 2)
    {
        eval(qs);
        assert_string_equal(memo_scribe(corm_qs_at(qs, 0))->name, "Ann");
    }
    CORM_ASSERT_NUM_QUERIES(db, 1)
    {
        assert_string_equal(scribe_imprint(memo_scribe(corm_qs_at(qs, 2)))->name, "Faber");
    }
    CORM_ASSERT_NUM_QUERIES(db, 0)
    {
        assert_string_equal(scribe_imprint(memo_scribe(corm_qs_at(qs, 3)))->name, "Penguin");
    }
    corm_qs_free(qs);
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
}

/* One pass of labels -> memos -> labels -> memos, reading each memo's
** scribe and imprint; the queryset is built on one line, so the second
** pass batch-loads what the first learned (a plan below "memos"). */
static size_t label_walk(void)
{
    size_t seen = 0;
    corm_qs *qs = corm_all(db, Label);
    corm_order_by(qs, "id");
    eval(qs);
    for (size_t i = 0; i < corm_qs_len(qs); i++) {
        const corm_list *memos = label_memos(corm_qs_at(qs, i));
        for (size_t k = 0; k < memos->n; k++) {
            Memo *p = memos->items[k];
            seen += strlen(scribe_imprint(memo_scribe(p))->name);
            const corm_list *labels = memo_labels(p);
            for (size_t j = 0; j < labels->n; j++) {
                const corm_list *again = label_memos(labels->items[j]);
                for (size_t m = 0; m < again->n; m++)
                    seen += strlen(scribe_imprint(memo_scribe(again->items[m]))->name);
            }
        }
    }
    corm_qs_free(qs);
    return seen;
}

/* The learned plan's queryset is the target's default manager's too: the
** second pass is labels (1), memos joined (1), their labels (1), the
** labels' memos joined (1), their labels (1): 5, as the first. */
static void test_auto_learned_plan_keeps_defaults(void **state)
{
    (void)state;
    corm_nplusone_mode(db, CORM_NPLUSONE_AUTO);
    size_t first = 0, second = 0;
    CORM_ASSERT_NUM_QUERIES(db, 5) { first = label_walk(); }
    CORM_ASSERT_NUM_QUERIES(db, 5) { second = label_walk(); }
    assert_int_equal(first, second);
    assert_int_equal(first, 204); /* the imprint names' lengths, per memo reached */
    corm_nplusone_mode(db, CORM_NPLUSONE_LOG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_descriptor),
        cmocka_unit_test(test_corm_all_applies_defaults),
        cmocka_unit_test(test_opt_out),
        cmocka_unit_test(test_prefetch_level_applies_target_defaults),
        cmocka_unit_test(test_prefetch_queryset_opt_out),
        cmocka_unit_test(test_forward_fk_uses_base_manager),
        cmocka_unit_test(test_related_qs_applies_defaults),
        cmocka_unit_test(test_lazy_set_applies_defaults),
        cmocka_unit_test(test_cycle_stops),
        cmocka_unit_test(test_schema_errors),
        cmocka_unit_test(test_auto_set_applies_defaults),
        cmocka_unit_test(test_auto_forward_fk_uses_base_manager),
        cmocka_unit_test(test_auto_learned_plan_keeps_defaults),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
