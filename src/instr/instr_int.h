/*
** instr_int.h - instrumentation: what corm does with the event of every
** statement.  Depends on core only: it sees corm_events (and, for the
** unused-eager check, the public corm_obj header of objects), never a
** connection, a queryset or a schema.
**
**   instr.c    the state, modes, environment, the event path, captures,
**              budgets, the related-queryset registry, assertions
**   detect.c   the N+1 detector: groups of statements, findings, fixes
**   eager.c    eager loads and their reads (unused_eager), evaluations
**   log.c      stderr and JSON-lines sinks
**   metrics.c  per-fingerprint metrics, Prometheus text
**
** Invariants: every open capture sees every statement run while it is open
** (the implicit root capture sees those run while none is); findings are
** reported once, by the outermost capture that saw them.
*/
#ifndef CORM_INSTR_INT_H
#define CORM_INSTR_INT_H

#include "../core/core_int.h"

#include <stdio.h>

typedef struct corm__level corm__level;

/* ---- the session's entry points (src/db/db.c): a new instrumentation
** per db, and each statement before and after it runs. */
corm_instr *corm__instr_new(const char *vendor);
void corm__instr_free(corm_instr *in);
/* A statement is about to run: classify it (kind, model, relation, the
** related-queryset registry), fingerprint it, and in strict mode refuse an
** N+1 (false, err filled, nothing runs).  ev->sql, params, site, built and
** origin are set, and whatever the layer above knew (kind, parent...).
** *seen gets what it learnt on the way: corm__instr_event takes it back. */
typedef struct corm__seen {
    uint64_t text_hash; /* corm__hash_fast of ev->sql when it was computed, else 0 */
    const char *origin; /* ev->origin interned (an address whose text never
                           changes: equal origins are equal addresses), or NULL */
} corm__seen;
bool corm__instr_before(corm_instr *in, corm_event *ev, corm__seen *seen, corm_error *err);
/* A statement ran: log, capture, detect, metrics.  Fills the fields of ev
** the instrumentation owns (fingerprint, seq, scope, kind...).  classified:
** ev went through corm__instr_before (its kind, model and relation are
** known: only the related-queryset registry is looked up again).
** seen: what corm__instr_before learnt, or zeros (not known). */
void corm__instr_event(corm_instr *in, corm_event *ev, bool classified, corm__seen seen);

/* A failure that must not return into the program as a NULL: a strict-
** mode refusal, an accessor with no handle to report on.  Calls in's
** hook (corm_instr_on_fail), or corm_assert_fail (print, abort) when in
** is NULL or has none.  Returns only if the hook does. */
void corm__instr_fail(corm_instr *in, const char *msg, const char *file, int line);

/* The origin kinds' names ("count", "exists"...; corm_origin_kind_name):
** an origin passed as corm__origin_names[kind] is classified by its
** address, any other by its text. */
extern const char *const corm__origin_names[];

/* ---- for the queryset layer (lazy accessors, hydration) */

/* The mode in effect (the innermost open capture's, else the db's). */
corm_nplusone corm__instr_mode_now(const corm_instr *in);

/* corm_related_qs_at built a related queryset at site: statements of
** querysets built there are that relation's (set_filter, set_count,
** set_exists) until another one is built at the same site.  tag carries
** model, relation, parent_batch/nobjs, built (the parent's queryset), path
** and path_many.  prefetched: the parent already had the set prefetched.
** target: the related model ("Book"); rev: its field pointing back
** ("author"); both for the fix. */
void corm__instr_related_qs(corm_instr *in, corm_site site, const corm_event *tag, bool prefetched,
                            const char *target, const char *rev);

/* AUTO loaded `relation` of `count` objects at once (learned: up front, from
** what an earlier evaluation had to batch-load): record the finding. */
void corm__instr_auto(corm_instr *in, const corm_event *tag, uint64_t count, bool learned);

/* AUTO learns, per queryset call site, the relation paths it had to batch-
** load from that queryset's objects, so the next evaluation of a queryset
** built there loads them with it (select_related for to-one chains, a
** Prefetch otherwise): the fixed code's query count, after one run. */
typedef struct corm__plan {
    corm_site site;
    const char *path; /* from the queryset's model */
    corm_event tag;   /* model, relation, path, path_many */
    bool to_many;     /* the last relation */
} corm__plan;
void corm__instr_learn(corm_instr *in, const corm_event *tag, bool to_many);
/* The plans learned for querysets built at site: up to max into out. */
size_t corm__instr_plans(const corm_instr *in, corm_site site, const corm__plan **out, size_t max);
/* Where to put the loaded objects' lineage while an auto load runs. */
void corm__instr_auto_begin(corm_instr *in);
void corm__instr_auto_end(corm_instr *in);
bool corm__instr_auto_active(const corm_instr *in);

/* A late eager load (select/prefetch_related after evaluation), for the
** queryset layer to call: reported as late_eager.  what is the call
** ("corm_prefetch_related"), path the relation path it was given. */
void corm__instr_late_eager(corm_instr *in, corm_site site, corm_site built, const char *model,
                            const char *what, const char *path);

/* ---- evaluations and eager loads (eager.c).  An evaluation is a queryset's
** own query and its prefetch levels; each gets an id, and every batch of
** objects it makes carries it, so reads of eagerly loaded relations can be
** matched to the eager load without keeping pointers to the objects. */

/* A new evaluation (a queryset, a lazy load, an auto load): its id. */
uint32_t corm__instr_eval_begin(corm_instr *in);
uint32_t corm__instr_eval_current(const corm_instr *in);
/* A batch of the current evaluation, so a prefetch level below it finds
** its parents.  Levels hold pointers to objects, so they live only while
** their evaluation runs: a statement that is not a prefetch level, a new
** evaluation, or corm__instr_levels_clear forgets them, and they are only
** matched within one arena (the parents' result). */
void corm__instr_level(corm_instr *in, const void *arena, const corm_model *model, void **items,
                       size_t n, corm_site built, const char *path, bool many);
void corm__instr_levels_clear(corm_instr *in);
/* The level in arena whose objects are of model from (the parents of a
** prefetch level): NULL when none.  corm__instr_level_root: the
** evaluation's own query (its first level), or NULL. */
const corm__level *corm__instr_level_of(const corm_instr *in, const corm_model *from,
                                        const void *arena);
const corm__level *corm__instr_level_root(const corm_instr *in);
/* An eager load of relation slot `slot` of model's objects in evaluation
** eval: select_related (verified: the slots are set by hydration) or a
** prefetch level (checked before it counts: a Prefetch with to_attr fills
** no slot, and reads of corm_attr are not seen). */
void corm__instr_eager(corm_instr *in, uint32_t eval, const corm_model *model, int slot,
                       bool prefetch, const char *relation, const char *path, corm_site built,
                       corm_site site, size_t nobjs);
/* The current evaluation failed: its eager loads are never judged (the
** code never got to read them). */
void corm__instr_eval_failed(corm_instr *in);
/* A relation of an object of evaluation eval was read from its cache. */
void corm__instr_read(corm_instr *in, uint32_t eval, const corm_model *model, int slot);
/* Check pending prefetch eager loads against their parents (the levels
** in arena, NULL: the last level's, are alive), then forget the levels
** when done. */
void corm__instr_eval_check(corm_instr *in, const void *arena, bool done);

/* The root result an arena holds (for lazy loads whose parent batch is not
** known: deferred fields, corm_prefetch_objects). */
void corm__instr_arena_root(corm_instr *in, const void *arena, uint64_t batch, size_t nobjs,
                            corm_site built);
bool corm__instr_arena_lookup(const corm_instr *in, const void *arena, uint64_t *batch,
                              size_t *nobjs, corm_site *built);

/* Interned names (model and relation names parsed from origins). */
const char *corm__instr_intern(corm_instr *in, const char *s, size_t n);

/* ======================================================== internals */

typedef struct corm__group corm__group;
typedef struct corm__dup corm__dup;

/* One finding being built: the public struct plus what merges it. */
typedef struct corm__finding {
    corm_finding f;
    uint64_t key;
    bool fresh;             /* made by the last corm__detect_add */
    corm_origin_kind okind; /* the statements' kind */
    const char *path;       /* from the queryset to the parent */
    bool many;
    int nparams;
    size_t parent_n;
    size_t nresults;          /* parent results merged into it */
    bool learned;             /* auto mode applied a learned plan */
    corm_site other;          /* duplicates: a second site */
    const char *target, *rev; /* related querysets: for the fix */
} corm__finding;

struct corm_capture {
    corm_instr *in;
    char *name;
    corm_site site;
    struct corm_capture *outer;    /* the enclosing open capture */
    struct corm_capture *next_all; /* every capture not freed */
    bool open, root, reported;
    corm_nplusone mode;
    bool mode_set;
    uint64_t budget_q;
    double budget_ms;
    uint64_t count;
    double ms;
    corm_arena arena; /* copies of events, findings, strings */
    corm_event *events;
    size_t nevents, cap;
    size_t first_eager; /* eager entries from here on are ours */
    /* the detector */
    corm_map groups; /* key -> corm__group* */
    size_t ngroups;
    corm__group *group_list;
    corm__group *recent[8]; /* by call site line: the group found last */
    corm_map dups;          /* key -> corm__dup* */
    corm__dup *dup_list;
    size_t ndups;
    corm__finding *findings;
    size_t nfindings, capfindings;
    corm_buf report;
};

/* A related queryset registered by corm_related_qs_at. */
typedef struct corm__relreg {
    corm_site site;
    corm_event tag;
    bool prefetched;
    const char *target, *rev;
    uint64_t age;
} corm__relreg;

/* An eager load (eager.c). */
typedef struct corm__eager {
    uint32_t eval;
    const corm_model *model;
    int slot;
    bool prefetch, verified, read, dead;
    const char *model_name, *relation, *path;
    corm_site built, site;
    size_t nobjs;
} corm__eager;

struct corm__level {
    const void *arena;
    const corm_model *model;
    void **items;
    size_t n;
    corm_site built;
    const char *path;
    bool many;
};

typedef struct corm__arenaroot {
    const void *arena;
    uint64_t batch;
    size_t nobjs;
    corm_site built;
} corm__arenaroot;

/* Metrics of one fingerprint. */
typedef struct corm__metric {
    uint64_t fp;
    char *sql; /* the normalised text, truncated */
    corm_origin_kind kind;
    uint64_t calls, rows, errors;
    double total_ms, max_ms;
} corm__metric;

typedef struct corm__capmetric {
    char *name;
    uint64_t captures, queries;
    double ms;
} corm__capmetric;

#define CORM__NREG 16
#define CORM__NARENAS 16
#define CORM__MAX_METRICS 1000
#define CORM__MAX_CAPMETRICS 200
#define CORM__KEEP_EVENTS 10000
#define CORM__ROOT_GROUPS 4096
#define CORM__MAX_PLANS 256

#define CORM__FP_MEMO_MAX 4096 /* longer texts are not remembered */

struct corm_instr {
    char vendor[16];
    corm_nplusone mode;
    unsigned min_count;
    double min_ms, slow_ms;
    corm_error err;
    /* log sinks */
    bool log_stderr, only_slow, redact;
    FILE *json;
    char *json_path;
    corm_finding_fn on_finding;
    void *on_finding_ud;
    corm_fail_fn on_fail; /* corm_instr_on_fail; NULL: corm_assert_fail */
    void *on_fail_ud;
    uint64_t seq, nfindings;
    uint64_t nkind[CORM_FINDING_OVER_BUDGET + 1];
    /* captures */
    corm_capture *root; /* statements outside any capture */
    corm_capture *top;  /* innermost open capture, or NULL */
    corm_capture *all;
    /* registry, names */
    corm__relreg reg[CORM__NREG];
    uint64_t reg_age;
    corm_arena names;
    corm_map name_map; /* hash -> interned string */
    /* classify's last results by origin text (a loop's statements repeat
    ** one origin): kind, and model and relation as the origin names them */
    struct {
        char text[48];
        const char *interned; /* text interned: an origin at this address
                                 is this text (interned strings never change) */
        const char *name;     /* corm__origin_names[kind] when text is that
                                 name ("count"), else NULL: so is an origin
                                 at that address */
        corm_origin_kind kind;
        const char *model, *relation; /* interned */
    } ocache[4];
    unsigned ocache_next;
    /* evaluations and eager loads */
    uint32_t eval;
    corm__level *levels;
    size_t nlevels, caplevels;
    corm__eager *eager;
    size_t neager, capeager;
    corm_map eager_map; /* key -> index + 1 */
    int auto_depth;
    corm__arenaroot arenas[CORM__NARENAS];
    size_t arena_next;
    /* auto mode's plans */
    corm__plan *plans;
    size_t nplans, capplans;
    /* fingerprints of recent SQL texts, direct-mapped by a hash of the text */
    corm__memo fpmemo; /* SQL text -> its fingerprint */
    /* metrics */
    corm__metric *metrics;
    size_t nmetrics, capmetrics;
    corm_map metric_map; /* fp -> index + 1 */
    /* the metrics found last, direct-mapped by fingerprint: index + 1 of
    ** an entry that is used only while it is below nmetrics and has that
    ** fingerprint (a reset empties the metrics, so no slot is stale) */
    uint16_t metric_recent[8];
    corm__metric other;
    corm__capmetric *capm;
    size_t ncapm;
};

/* ---- detect.c */
void corm__detect_event(corm_capture *c, const corm_event *ev, const corm__relreg *reg,
                        const corm__seen *seen);
/* Strict mode: would this lazy statement be an N+1 in capture c? */
bool corm__detect_would_repeat(corm_capture *c, const corm_event *ev);
/* Add (or merge into: same kind, site, relation, queryset) a finding of
** capture c; f->fresh tells a new one, which needs corm__detect_fix. */
corm__finding *corm__detect_add(corm_capture *c, corm_finding_kind kind, const corm_event *ev,
                                uint64_t count, double ms);
/* Turn the groups into findings (capture end). */
void corm__detect_finish(corm_capture *c);
void corm__detect_free(corm_capture *c);
/* Write f's fix and message (from its fields). */
void corm__detect_fix(corm_capture *c, corm__finding *f);
/* A lazy load's kind: fk, set, set_filter/count/exists, deferred, prefetch
** (one test of a bit: every statement asks). */
_Static_assert(CORM_ORIGIN_SNAPSHOT < 32, "the origin kinds are bits of an unsigned");
static inline bool corm__kind_is_lazy(corm_origin_kind k)
{
    const unsigned lazy = 1u << CORM_ORIGIN_FK | 1u << CORM_ORIGIN_SET |
                          1u << CORM_ORIGIN_SET_FILTER | 1u << CORM_ORIGIN_SET_COUNT |
                          1u << CORM_ORIGIN_SET_EXISTS | 1u << CORM_ORIGIN_DEFERRED |
                          1u << CORM_ORIGIN_PREFETCH;
    return (unsigned)k < 32 && (lazy >> (unsigned)k & 1u);
}
/* The finding a repeated lazy statement of kind k makes. */
corm_finding_kind corm__detect_lazy_kind(corm_origin_kind k, bool prefetched);
const char *corm__site_str(corm_site s, char *buf, size_t size);

/* ---- eager.c */
void corm__eager_finish(corm_capture *c); /* unused_eager findings */
void corm__eager_drop(corm_instr *in, size_t from);
void corm__eager_free(corm_instr *in);

/* ---- log.c */
/* ev to the sinks; the caller calls it only when in has one (log_stderr
** or json): the check is made once, before the call. */
void corm__log_event(corm_instr *in, const corm_event *ev);
void corm__log_finding(corm_instr *in, const corm_finding *f);
void corm__log_capture(corm_instr *in, const corm_capture *c);
/* Append v as SQL-ish text ("1", "'x'", "NULL") / as JSON. */
void corm__value_text(corm_buf *b, const corm_value *v);
void corm__json_str(corm_buf *b, const char *s);
void corm__text_escaped(corm_buf *b, const char *s, size_t n, size_t max);
void corm__log_close(corm_instr *in);

/* ---- metrics.c */
void corm__metrics_event(corm_instr *in, const corm_event *ev);
void corm__metrics_capture(corm_instr *in, const corm_capture *c);
void corm__metrics_free(corm_instr *in);

/* ---- instr.c */
/* The fingerprint of sql through in's memo (the statements of a loop
** repeat their text: normalising it again is most of the cost).
** *text_hash (may be NULL) gets corm__hash_fast of sql's bytes. */
uint64_t corm__fingerprint_of(corm_instr *in, const char *sql, uint64_t *text_hash);

#endif
