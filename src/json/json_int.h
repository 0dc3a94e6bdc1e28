/*
** json_int.h - the JSON layer (include/corm/json.h): objects, results and
** rows written as jansson values (write.c), new objects read from them
** (read.c).  It sits above the querysets and only reads what they hold:
** it never runs a statement.  Built into libcorm_json, not libcorm, so
** only programs that use it link jansson.
**
** The field types are handled in one place each way: corm__json_encode
** (a field's value to JSON) and corm__json_decode (JSON to a field's
** value, checked) and corm__json_store (that value into the struct), all
** three in codec.c - a new field type (or C type) is one case in each.
*/
#ifndef CORM_JSON_INT_H
#define CORM_JSON_INT_H

#include <corm/json.h>
#include "../qs/qs_int.h"

/* The value v of field f (NULL: a column of no field - an annotation, a
** raw column - written by v's type) as a new JSON value; NULL on failure
** with err filled (what names the value: "Book.title"). */
json_t *corm__json_encode(const corm_field *f, corm_value v, const char *what, corm_error *err);

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
