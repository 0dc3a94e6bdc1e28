/*
** schema_int.h - the .corm schema language: lexer, parser, validation, and
** the run-time descriptors (the same corm_model/corm_schema structs that
** generated code declares statically).
**
** A parsed schema owns all its memory in one arena.  Validation resolves
** every relation (forward and reverse, Django's default `<model>_set`
** names), creates the m2m join tables, and rejects anything the generator
** or the migrator could not handle, with file:line:col and a hint.
*/
#ifndef CORM_SCHEMA_INT_H
#define CORM_SCHEMA_INT_H

#include "../core/core_int.h"

/* Extra, parse-time facts the generator needs beyond corm_model. */
typedef struct corm__schema_src {
    const char *path; /* the file, for messages */
} corm__schema_src;

/* Field and relation lookups on descriptors (also used by src/sql). */
const corm_field *corm__model_field(const corm_model *m, const char *name, size_t len);
const corm_relation *corm__model_rel(const corm_model *m, const char *name, size_t len);
const corm_model *corm__rel_target(const corm_model *m, const corm_relation *r);
/* The C type of a field in a generated struct: "int64_t", "char *". */
const char *corm__ftype_ctype(corm_ftype t);
/* "char", "bigint", ... as written in the schema language. */
const char *corm__ftype_name(corm_ftype t);
/* Comma-separated names of m's fields and relations, for "did you mean". */
void corm__model_names(const corm_model *m, corm_buf *out);

/* Naming rules shared with the generator (names.c).  Both return a string
** in the arena, or NULL when out of memory.
**   corm__lower_snake  "OrderItem" -> "order_item": default table names and
**                      the prefix of generated C names (order_item_product)
**   corm__lower        "OrderItem" -> "orderitem": Django's model_name, used
**                      in default reverse names (orderitem_set) and m2m
**                      join columns (orderitem_id) */
char *corm__lower_snake(corm_arena *a, const char *name);
char *corm__lower(corm_arena *a, const char *name);

#endif
