/*
** json_int.h - the JSON layer (include/corm/json.h): objects, results and
** rows written as jansson values (write.c), new objects read from them
** (read.c).  It sits above the querysets and only reads what they hold:
** it never runs a statement.  Built into libcorm_json, not libcorm, so
** only programs that use it link jansson.
**
** The field types are handled in codec.c: corm__json_field (a struct's
** field to JSON), corm__json_value (a row's cell of a field),
** corm__json_decode (JSON to a field's value, checked) and
** corm__json_store (that value into the struct) - a new field type, or a
** new C type for one (an exact decimal), is one case in each.
** Only libcorm's public API is called (and core's buffers and errors,
** which libcorm_json.so carries a hidden copy of): libcorm.so exports
** nothing else.
*/
#ifndef CORM_JSON_INT_H
#define CORM_JSON_INT_H

#include <corm/json.h>
#include "../qs/qs_int.h"

/* Field f of obj as a new JSON value, or NULL with err filled (what
** names it: "Book.title"). */
json_t *corm__json_field(const void *obj, const corm_field *f, const char *what, corm_error *err);
/* A cell or annotation v as JSON: by f's type when v is a column of field
** f (a decimal's scale, a bool stored as 0/1, a json text), else by v's. */
json_t *corm__json_value(const corm_field *f, corm_value v, const char *what, corm_error *err);

/* A JSON value in read for field f (not JSON null) as the field's C value
** in *out: text points into in; a json field's text and a blob's bytes
** are made here and *owned holds them (corm__free it after copying;
** NULL when nothing was made).  NULL when in fits the field, else the
** reason it does not (static text, or why, of size n).  CORM_NOMEM
** reads as "out of memory". */
const char *corm__json_decode(const corm_field *f, const json_t *in, corm_value *out, void **owned,
                              char *why, size_t n);

/* Store v (from corm__json_decode) into field f of obj: text and blob
** bytes copied to *heap, which moves past them. */
void corm__json_store(void *obj, const corm_field *f, corm_value v, char **heap);

#endif
