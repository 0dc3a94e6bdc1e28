/*
** gen.h - the generator behind `corm gen schema.corm -o DIR`: typed structs,
** field and relation enums, typed accessors and static descriptors for a
** parsed schema.  Library code so it is unit-tested (tests/unit/gen).
**
** The output is deterministic (same schema, same bytes) and compiles with
** `-std=c11 -Wall -Wextra -Werror -pedantic` including only <corm.h>.  Every
** string from the schema (table, index and join table names, defaults) is
** emitted as an escaped C literal; every identifier was checked by the
** schema validator (no clashes, no C keywords).
*/
#ifndef CORM_GEN_H
#define CORM_GEN_H

#include "../schema/schema_int.h"

/*
** corm__gen - write DIR/<name>.h and DIR/<name>.c for schema s (a schema
** from corm_schema_parse; <name> is s->name, e.g. bookstore).  DIR is
** created if missing (one level).  A file whose content is unchanged is
** not rewritten, so make does not rebuild needlessly; a changed one is
** replaced atomically (written to <file>.tmp, then renamed).
** Errors: CORM_IO naming the path (message) and the cause; CORM_NOMEM.
*/
corm_rc corm__gen(const corm_schema *s, const char *dir, corm_error *err);

/* The text of <name>.h and <name>.c, appended to out (check out->oom). */
void corm__gen_header(const corm_schema *s, corm_buf *out);
void corm__gen_source(const corm_schema *s, corm_buf *out);

#endif
