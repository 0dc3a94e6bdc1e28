/*
** corm/model.h - model descriptors: what `corm gen` emits and the library runs on.
**
** A schema is a tree of constant descriptors.  Generated code declares them
** `static const` (shareable between threads, never written); the schema
** parser builds the same structures at run time for `corm migrate`.
** Applications do not fill these in by hand.
*/
#ifndef CORM_MODEL_H
#define CORM_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Field types of the schema language. */
typedef enum corm_ftype {
    CORM_FT_INTEGER,  /* int32_t  */
    CORM_FT_BIGINT,   /* int64_t  (also the implicit primary key `id`) */
    CORM_FT_FLOAT,    /* double   */
    CORM_FT_DECIMAL,  /* double; column DECIMAL(p,s) / NUMERIC(p,s) */
    CORM_FT_BOOL,     /* bool     */
    CORM_FT_CHAR,     /* char *   (max_length checked on write) */
    CORM_FT_TEXT,     /* char *   */
    CORM_FT_EMAIL,    /* char *   */
    CORM_FT_DATE,     /* char *   ISO 8601 "YYYY-MM-DD" */
    CORM_FT_DATETIME, /* char *   ISO 8601 "YYYY-MM-DD HH:MM:SS[.ffffff]" */
    CORM_FT_JSON,     /* char *   JSON text */
    CORM_FT_BLOB,     /* corm_blob */
    CORM_FT_FK,       /* int64_t  <name>_id; the related object via accessor */
    CORM_FT_O2O       /* int64_t  <name>_id; unique */
} corm_ftype;

/* Field flags. */
enum {
    CORM_FF_PK = 1 << 0,
    CORM_FF_NULL = 1 << 1,
    CORM_FF_UNIQUE = 1 << 2,
    CORM_FF_DB_INDEX = 1 << 3,
    CORM_FF_AUTO_NOW = 1 << 4,
    CORM_FF_AUTO_NOW_ADD = 1 << 5,
    CORM_FF_HAS_DEFAULT = 1 << 6,
    CORM_FF_SENSITIVE = 1 << 7 /* `sensitive`: the recorder redacts its values */
};

/* on_delete actions of fk / one_to_one. */
typedef enum corm_on_delete {
    CORM_CASCADE,
    CORM_PROTECT,
    CORM_SET_NULL,
    CORM_RESTRICT
} corm_on_delete;

/* A blob value in a struct: data lives in the result's arena. */
typedef struct corm_blob {
    const void *data;
    size_t len;
} corm_blob;

typedef struct corm_field {
    const char *name;   /* schema name: "title", "author" */
    const char *column; /* SQL column: "title", "author_id" */
    corm_ftype type;
    unsigned flags;          /* CORM_FF_* */
    int max_length;          /* char(n); 0 otherwise */
    int precision, scale;    /* decimal(p,s) */
    const char *default_sql; /* SQL literal of `default=`, or NULL */
    size_t offset;           /* offsetof the value in the struct */
    int rel;                 /* index in the model's rels for fk/o2o, else -1 */
} corm_field;

typedef enum corm_rkind {
    CORM_REL_FK,          /* forward many-to-one: book.author */
    CORM_REL_O2O,         /* forward one-to-one: profile.user */
    CORM_REL_REVERSE_FK,  /* author.book_set */
    CORM_REL_REVERSE_O2O, /* user.profile */
    CORM_REL_M2M,         /* book.genres (through a join table) */
    CORM_REL_REVERSE_M2M  /* genre.book_set */
} corm_rkind;

/* A relation as seen from one model.  Every relation has an inverse on the
** target model (`reverse`), so paths can be walked in both directions. */
typedef struct corm_relation {
    const char *name; /* accessor / lookup name: "author", "book_set" */
    corm_rkind kind;
    int target;  /* index of the target model in the schema */
    int field;   /* FK/O2O: our field; REVERSE_FK/O2O: target's field; M2M: -1 */
    int reverse; /* index of the inverse relation in the target */
    int slot;    /* index of this relation's cache in the object */
    corm_on_delete on_delete;
    /* M2M and REVERSE_M2M: the join table and its two columns */
    const char *through;     /* "book_genres" */
    const char *through_src; /* column pointing at this model: "book_id" */
    const char *through_dst; /* column pointing at the target: "genre_id" */
} corm_relation;

/* How an index is built (`index (title) using trigram` in the schema). */
typedef enum corm_index_kind {
    CORM_INDEX_BTREE = 0, /* the default: equality, ranges, ordering */
    CORM_INDEX_TRIGRAM,   /* PostgreSQL pg_trgm GIN: contains/icontains/iexact
                             (LIKE, ILIKE); nothing on SQLite */
    CORM_INDEX_SEARCH     /* full text for the `search` lookup: a tsvector GIN
                             index on PostgreSQL, an FTS5 table kept in sync
                             by triggers on SQLite (named as the index) */
} corm_index_kind;

typedef struct corm_index {
    const char *name;          /* SQL index name */
    const char *const *fields; /* field names, "-name" for descending */
    int nfields;
    bool unique;
    /* A partial index (`index (a) where b = true`): the condition as the
    ** schema writes it ("b = true"), and its SQL on the columns
    ** ("\"b\" = TRUE"); both NULL for a whole-table index. */
    const char *condition;
    const char *where;
    corm_index_kind kind;
} corm_index;

typedef struct corm_schema corm_schema;

/* A default scope (`scope` in the schema, docs/writes.md): every queryset
** of the model keeps only the rows where the field has the scope's value,
** unless the program asks for corm_unscoped().  A runtime scope takes its
** value from corm_scope_set(db, <the field's name>, value). */
typedef enum corm_scope_kind {
    CORM_SCOPE_RUNTIME, /* field = the db's value for the field's name */
    CORM_SCOPE_NULL,    /* field IS NULL */
    CORM_SCOPE_INT,     /* field = ival */
    CORM_SCOPE_FLOAT,   /* field = fval */
    CORM_SCOPE_BOOL,    /* field = (ival != 0) */
    CORM_SCOPE_TEXT     /* field = sval */
} corm_scope_kind;

typedef struct corm_scope {
    int field; /* index in the model's fields */
    corm_scope_kind kind;
    int64_t ival;
    double fval;
    const char *sval;
} corm_scope;

typedef struct corm_model {
    const char *name;  /* "Book" */
    const char *table; /* "book" */
    const corm_schema *schema;
    int index;                /* position in schema->models */
    size_t size;              /* sizeof the generated struct (0 at run time) */
    size_t rel_offset;        /* offsetof the relation cache array */
    const corm_field *fields; /* fields[0] is the primary key `id` */
    int nfields;
    const corm_relation *rels;
    int nrels;
    const char *const *ordering; /* default ordering, "-field" descending */
    int nordering;
    const corm_index *indexes; /* the single-column index of each db_index
                                      field and fk (<table>_<column>_idx), then
                                      the declared indexes and unique
                                      constraints; unique fields are column
                                      constraints and are not listed */
    int nindexes;
    const corm_scope *scopes; /* default scopes, ANDed; NULL if none */
    int nscopes;
    size_t now_offset; /* offsetof char _corm_now[CORM_NOW_BUF] (models with
                          auto_now / auto_now_add fields), else 0 */
    /* Default eager loads (`default select_related(...) prefetch_related(...)`
    ** in the schema, docs/schema.md): corm_all applies them, and so does a
    ** prefetch level or related set over a to-many relation to this model
    ** (Django's default manager); forward foreign keys and one-to-ones do
    ** not (Django's base manager).  Paths as corm_select_related takes them. */
    const char *const *default_related;
    int ndefault_related;
    const char *const *default_prefetch;
    int ndefault_prefetch;
} corm_model;

/* Room for the auto_now values written back into a new object: the
** datetime at 0, the date at CORM_NOW_DATE. */
#define CORM_NOW_BUF 48
#define CORM_NOW_DATE 32

struct corm_schema {
    const char *name;
    const corm_model *const *models;
    int nmodels;
    const char *const *m2m_tables; /* the join tables the schema makes */
    int nm2m;
    uint32_t hash; /* of the schema text: recorded by migrate */
    /* The migrations compiled in by `corm gen --migrations DIR`
    ** (docs/migrations.md), in order: names ("0002_add_book_isbn") and
    ** file texts; 0 without.  With them corm_migrate(db) applies the
    ** pending ones and corm_open refuses a database that is not at the
    ** last one (corm_open_flags opts out). */
    const char *const *migration_names;
    const char *const *migration_texts;
    int nmigrations;
    /* `renamed_from` hints of a parsed schema, for makemigrations: "Old:New"
    ** for models, then "Model.old:new" for fields (Model: the new name). */
    const char *const *renames;
    int nrenames;
};

/* The head of every generated struct.  Private: read through the API. */
typedef struct corm_obj {
    const corm_model *model;
    struct corm_batch *batch;        /* the result this object was hydrated into */
    uint64_t nulls;                  /* bit i: field i is NULL */
    uint64_t deferred;               /* bit i: field i was not loaded (only/defer) */
    uint64_t rel_loaded;             /* bit r: relation slot r is cached */
    const struct corm_value *annots; /* annotate() values, in order, or NULL */
} corm_obj;

/* The most fields a model may have, `id` included, and the most relations,
** reverse ones included (bitmask widths). */
#define CORM_MAX_FIELDS 64
#define CORM_MAX_RELS 64
/* Paths of a model's `default` lines, at most (schema error beyond). */
#define CORM_MAX_DEFAULT_EAGER 16

#ifdef __cplusplus
}
#endif
#endif
