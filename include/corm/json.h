/*
** corm/json.h - objects and rows to JSON, and JSON to new objects, with
** jansson (docs/json.md).
**
** Optional: this header is not included by <corm.h>, and its functions
** live in a library of their own, libcorm_json, so a program that does not
** use them does not link jansson.  Build and link with
**     pkg-config --cflags --libs corm-json      (corm, jansson and -lcorm_json)
**
** To JSON - what is in memory, never a query:
**   - an object's loaded fields under their names (a deferred field is
**     left out; NULL is null; a foreign key as "<name>_id": its key; a
**     date or datetime as its stored text; a decimal as exact text with
**     the field's scale, "19.90"; a json field as the JSON it holds; a
**     blob as base64 text), its annotations, then every relation already
**     loaded (select_related, prefetch_related, a lazy load done before)
**     nested under the relation's name - an object, null, or an array -
**     and every Prefetch to_attr list under its name.  An object already
**     being written higher up (the back-reference a prefetch sets) is not
**     nested again.
**   - an evaluated queryset: an array of those objects, or of rows for
**     values(), annotate() rows, aggregate() and corm_sql() ({column: value}).
** To an object - corm_json_new: a new object from a JSON object, every
** field checked (type, null, max_length, decimal digits, dates, required),
** all the bad fields reported at once.
*/
#ifndef CORM_JSON_H
#define CORM_JSON_H

#include <corm.h>
#include <jansson.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What to write of each object; NULL (or {0}) means everything loaded. */
typedef struct corm_json_opts {
    /* NULL-terminated names of the top-level object's fields, relations,
    ** annotations and to_attr lists to write, in the model's order; NULL:
    ** all.  A foreign key is named by its field ("author" picks both
    ** "author_id" and the loaded author).  An unknown name is an error
    ** (CORM_SCHEMA, listing the names there are).  Nested objects are
    ** written whole. */
    const char *const *fields;
    /* Write no nested relation or to_attr list. */
    bool flat;
} corm_json_opts;

/* corm_json_fields("id", "title", "author"): the options that pick those. */
#define corm_json_fields(...) \
    (&(const corm_json_opts){.fields = (const char *const[]){__VA_ARGS__, NULL}})

/*
** corm_json_obj(obj, opts, err) - obj (loaded by corm, or a new object) as a
** JSON object.  Runs no query.  Returns a new reference (json_decref), or
** NULL with err filled (may be NULL): CORM_MISUSE a NULL object, CORM_SCHEMA
** an unknown name in opts->fields, CORM_NOMEM.
*/
CORM_API json_t *corm_json_obj(const void *obj, const corm_json_opts *opts, corm_error *err);

/*
** corm_json_qs(qs, opts, err) - an evaluated queryset as a JSON array: its
** objects as corm_json_obj writes them, or its rows (values(), aggregate(),
** corm_sql()) as objects {column: value}, decimals of the model's columns
** as exact text.  Runs no query: CORM_MISUSE when qs is not evaluated
** (evaluate it first: corm_eval, corm_foreach) or failed.  For rows,
** opts->fields picks columns.  Returns a new reference, or NULL with err.
*/
CORM_API json_t *corm_json_qs(const corm_qs *qs, const corm_json_opts *opts, corm_error *err);

/*
** corm_json_new(Model, in, errors, err) - a new Model (CORM_NEW(Model):
** defaults set, nullable fields NULL) filled from the JSON object in, for
** corm_save / corm_create.  Every key is checked against its field:
**   integer, bigint, fk id   a JSON integer in range
**   float                    a number
**   decimal                  a number or a string of digits ("19.90"),
**                            within decimal(p, s): at most s decimals and
**                            p - s digits before the point
**   bool                     true or false
**   char, email, text        a string; char and email at most max_length
**                            characters; email as local@domain
**   date, datetime           a string as corm_date_valid /
**                            corm_datetime_valid accept (docs/schema.md)
**   json                     any JSON value (stored as its text)
**   blob                     base64 text
**   null                     only for a nullable field
** A field is required unless it is nullable or has a default.  A foreign
** key is set by "<name>_id" (or "<name>" as an integer or null).  Read-
** only, as Django's forms and REST serializers: the primary key (the
** object is new: corm_save inserts it) and auto_now / auto_now_add
** fields.  Other keys are ignored (the nested objects corm_json_obj
** writes, annotations, anything else), so what corm writes reads back.
**   in      a JSON object; not kept: the object's strings are its own
**   errors  NULL, or a JSON object that receives {field: reason} for each
**           bad field (for a 400 response)
**   err     on failure: CORM_INVALID, the message naming every bad field
**           and why ("Book: 3 invalid fields: title: ...; pages: ...");
**           CORM_MISUSE when in is not a JSON object; CORM_NOMEM
** Returns the object (free with corm_json_free), or NULL.
*/
#define corm_json_new(Model, in, errors, err) \
    ((Model *)corm_json_new_from(&CORM_NEW(Model), (in), (errors), (err)))
/* The same from any initial object of a model (its values are the
** defaults of the fields in leaves out). */
CORM_API void *corm_json_new_from(const void *init, const json_t *in, json_t *errors,
                                  corm_error *err);
/* Frees an object from corm_json_new (one block, strings included). */
CORM_API void corm_json_free(void *obj);

#ifdef __cplusplus
}
#endif
#endif
