/*
** parse_int.h - private to src/schema: the lexer, the syntax tree the
** parser builds, and the validator that turns the tree into descriptors.
**
**   text --lexer.c--> tokens --parser.c--> corm__ast --validate.c--> corm_schema
**
** Everything (tree, decoded strings, descriptors) is allocated in the
** schema's one arena, so an error anywhere is cleaned up by freeing it.
** The first error wins: each stage stops at it and leaves it in `err`
** with the file, the 1-based line and column of the offending token, a
** message quoting the token and a hint.
*/
#ifndef CORM_SCHEMA_PARSE_INT_H
#define CORM_SCHEMA_PARSE_INT_H

#include "schema_int.h"

/* Limits of the language (documented in docs/schema.md). */
#define CORM__IDENT_MAX 63         /* PostgreSQL's NAMEDATALEN - 1 */
#define CORM__STRING_MAX 1024      /* decoded bytes of a string literal */
#define CORM__CHAR_MAX 10485760    /* char(n): PostgreSQL's varchar limit */
#define CORM__DECIMAL_MAX 18       /* decimal(p, s): digits of a corm_decimal (int64) */
#define CORM__TEXT_MAX (16u << 20) /* bytes of a schema file */

/* ------------------------------------------------------------------ lexer */

typedef enum corm__tkind {
    CORM__T_EOF,
    CORM__T_IDENT,
    CORM__T_INT,    /* [0-9]+, value in .u (may exceed INT64_MAX: .big) */
    CORM__T_FLOAT,  /* 1.5, 2e10, 1.5e-3: text only, never converted */
    CORM__T_STRING, /* "..." with \\ \" \n \t \r; value decoded in .str */
    CORM__T_LBRACE,
    CORM__T_RBRACE,
    CORM__T_LPAREN,
    CORM__T_RPAREN,
    CORM__T_COLON,
    CORM__T_COMMA,
    CORM__T_EQUALS,
    CORM__T_MINUS,
    CORM__T_CMP,  /* < <= > >= != (an index condition); the text is the operator */
    CORM__T_ERROR /* a lexical error: .str is the message */
} corm__tkind;

typedef struct corm__token {
    corm__tkind kind;
    const char *p; /* the token's bytes in the source */
    size_t n;
    int line, col;
    uint64_t u;       /* INT: the value, if !big */
    bool big;         /* INT: more than 2^63 */
    const char *str;  /* STRING: decoded, NUL-free; ERROR: message */
    size_t len;       /* STRING: decoded length */
    const char *hint; /* ERROR: what to do, or NULL */
} corm__token;

/* The parser looks at most this many tokens ahead. */
#define CORM__LOOKAHEAD 3

typedef struct corm__lexer {
    const char *src, *end, *cur;
    int line, col;
    corm_arena *arena; /* decoded strings and error messages */
    corm__token ring[CORM__LOOKAHEAD];
    int head, count; /* tokens lexed but not consumed */
    bool nomem;
} corm__lexer;

void corm__lex_init(corm__lexer *lx, const char *text, size_t len, corm_arena *arena);
/* The token k ahead of the current one (k < CORM__LOOKAHEAD).  After EOF
** or an ERROR the same token repeats. */
const corm__token *corm__lex_peek(corm__lexer *lx, int k);
/* Consumes the current token. */
void corm__lex_next(corm__lexer *lx);
/* Writes a token for a message into out: 'title', "a string", end of
** file, '\x01'.  Returns out. */
const char *corm__tok_describe(const corm__token *t, char *out, size_t size);

/* s[0..n) (at most max bytes of it) for a message: printable ASCII as is,
** quotes and backslashes escaped, other bytes as \n, \t or \xHH; "..."
** when cut.  Always terminated; returns out. */
const char *corm__quote(char *out, size_t size, const char *s, size_t n, size_t max);

/* ------------------------------------------------------------------ tree */

typedef struct corm__pos {
    int line, col;
} corm__pos;

/* What a field declaration says, with where it says it. */
typedef struct corm__ast_field {
    const char *name;
    corm__pos pos; /* of the name */
    corm_ftype type;
    bool m2m; /* m2m(...): a relation, not a column */
    corm__pos type_pos;
    int max_length, precision, scale;
    unsigned flags;          /* CORM_FF_NULL|UNIQUE|DB_INDEX|AUTO_* */
    const char *default_sql; /* NULL when no default= */
    /* fk / one_to_one / m2m */
    const char *target;
    corm__pos target_pos;
    corm_on_delete on_delete;
    const char *related_name; /* NULL: Django's default */
    corm__pos related_name_pos;
    const char *renamed_from; /* `renamed_from old`: a rename hint, or NULL */
    corm__pos renamed_from_pos;
} corm__ast_field;

/* One column of an index, of a unique constraint or of the ordering. */
typedef struct corm__ast_col {
    const char *name;
    bool desc;
    corm__pos pos;
} corm__ast_col;

/* One term of an index condition: `field OP value`, OP one of = != < <= >
** >= (the operator's text in op). */
typedef struct corm__ast_cond {
    corm__ast_col col;
    const char *op;
    corm__pos op_pos;
    struct corm__literal *lit; /* in the arena */
} corm__ast_cond;

typedef struct corm__ast_index {
    const char *name; /* NULL: generated */
    corm__pos pos;    /* of `index` / `unique` */
    corm__pos name_pos;
    bool unique;
    corm__ast_col *cols;
    int ncols;
    /* `where a = 1 and b != null`: a partial index (terms ANDed) */
    corm__ast_cond *conds;
    int nconds, capconds;
    corm__pos where_pos;
    int kind; /* corm_index_kind: `using trigram` / `using search` */
    corm__pos using_pos;
} corm__ast_index;

/* `scope field [= value]`: a default scope (docs/writes.md).  Without a
** value it is a runtime scope (corm_scope_set). */
typedef struct corm__ast_scope {
    corm__ast_col col;         /* the field, where it is named */
    corm__pos pos;             /* of `scope` */
    struct corm__literal *lit; /* the value, or NULL (in the arena) */
} corm__ast_scope;

/* One path of `default select_related(...) prefetch_related(...)`: an
** eager load the model's default querysets apply (docs/schema.md). */
typedef struct corm__ast_eager {
    const char *path; /* "author", "books__genres" */
    corm__pos pos;
    bool prefetch; /* prefetch_related; else select_related */
} corm__ast_eager;

typedef struct corm__ast_model {
    const char *name;
    corm__pos pos;
    const char *renamed_from; /* `model New renamed_from Old`, or NULL */
    corm__pos renamed_from_pos;
    const char *table; /* NULL: lower_snake of name */
    corm__pos table_pos;
    corm__ast_field *fields; /* declaration order, m2m included */
    int nfields, capfields;
    corm__ast_col *ordering;
    int nordering;
    corm__pos ordering_pos;
    corm__ast_index *indexes; /* declaration order */
    int nindexes, capindexes;
    corm__ast_scope *scopes; /* declaration order */
    int nscopes, capscopes;
    corm__ast_eager *eager; /* `default ...` paths, declaration order */
    int neager, capeager;
} corm__ast_model;

typedef struct corm__ast {
    corm__ast_model *models;
    int nmodels, capmodels;
    corm__pos eof; /* where the text ends, for "no models" */
} corm__ast;

/* ------------------------------------------------------------- stages */

/* Shared by the stages: where errors go and what they name. */
typedef struct corm__pctx {
    corm_arena *arena;
    corm_error *err;
    const char *path;
} corm__pctx;

/* Sets err to CORM_SCHEMA at pos with a message and an optional hint
** (NULL for none).  Returns CORM_SCHEMA. */
corm_rc corm__perr(corm__pctx *c, corm__pos pos, const char *hint, const char *fmt, ...)
    CORM__FMT(4, 5);
/* Sets err to CORM_NOMEM.  Returns CORM_NOMEM. */
corm_rc corm__pnomem(corm__pctx *c);

/* parser.c: the text into a tree (syntax and per-field checks). */
corm_rc corm__parse_ast(corm__pctx *c, const char *text, size_t len, corm__ast *out);

/* validate.c: resolve names, relations, indexes; build the descriptors
** into *out.  The caller fills out->name first (generated C names use it)
** and out->hash. */
corm_rc corm__build_schema(corm__pctx *c, const corm__ast *ast, corm_schema *out);

/* names.c (with corm__lower_snake and corm__lower in schema_int.h).  True for C keywords and names the headers generated code includes
** define (NULL, bool, int64_t, size_t, ...). */
bool corm__c_reserved(const char *name);

/* default= checks (defaults.c).  The literal is the token range; on
** success *sql is the SQL literal in the arena. */
typedef enum corm__lit_kind {
    CORM__LIT_INT,
    CORM__LIT_FLOAT,
    CORM__LIT_STRING,
    CORM__LIT_TRUE,
    CORM__LIT_FALSE,
    CORM__LIT_NULL
} corm__lit_kind;

typedef struct corm__literal {
    corm__lit_kind kind;
    bool neg;
    uint64_t u;       /* INT magnitude */
    bool big;         /* INT magnitude above 2^63 */
    const char *text; /* FLOAT digits (without the sign) */
    size_t textlen;
    const char *str; /* STRING decoded */
    size_t len;
    corm__pos pos;
    const char *shown; /* as written, for messages */
} corm__literal;

corm_rc corm__check_default(corm__pctx *c, const corm__ast_field *f, const corm__literal *lit,
                            const char **sql);

#endif
