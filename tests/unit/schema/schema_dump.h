/*
** schema_dump.h - a stable text dump of schema descriptors, for golden
** tests.  Header-only and needing nothing but <corm.h> and stdio, so the
** gen test can compile it into a program with the generated code and check
** that generated descriptors equal parsed ones, line for line.
** Sizes and offsets are left out: they are 0 in parsed schemas.
*/
#ifndef CORM_TEST_SCHEMA_DUMP_H
#define CORM_TEST_SCHEMA_DUMP_H

#include <stdio.h>
#include <corm.h>

static const char *dump_ftype(const corm_field *f, char *buf, size_t size)
{
    static const char *const names[] = {"integer", "bigint", "float", "decimal",   "bool",
                                        "char",    "text",   "email", "date",      "datetime",
                                        "json",    "blob",   "fk",    "one_to_one"};
    if (f->type == CORM_FT_CHAR) snprintf(buf, size, "char(%d)", f->max_length);
    else if (f->type == CORM_FT_DECIMAL)
        snprintf(buf, size, "decimal(%d,%d)", f->precision, f->scale);
    else if ((unsigned)f->type < sizeof names / sizeof names[0])
        snprintf(buf, size, "%s", names[f->type]);
    else snprintf(buf, size, "?%d", (int)f->type);
    return buf;
}

/* s with control characters and backslashes escaped: one line per item. */
static void dump_str(FILE *out, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '\\') fputs("\\\\", out);
        else if (c == '\n') fputs("\\n", out);
        else if (c == '\t') fputs("\\t", out);
        else if (c < 0x20 || c == 0x7F) fprintf(out, "\\x%02X", c);
        else fputc(c, out);
    }
}

static void dump_flags(FILE *out, unsigned flags)
{
    static const char *const names[] = {"pk",       "null",         "unique",     "db_index",
                                        "auto_now", "auto_now_add", "has_default"};
    const char *sep = "";
    fputs(" flags=", out);
    for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
        if (flags & (1u << i)) {
            fprintf(out, "%s%s", sep, names[i]);
            sep = ",";
        }
    if (!*sep) fputs("-", out);
}

static void dump_schema(FILE *out, const corm_schema *s)
{
    static const char *const kinds[] = {"FK",          "O2O", "REVERSE_FK",
                                        "REVERSE_O2O", "M2M", "REVERSE_M2M"};
    static const char *const acts[] = {"cascade", "protect", "set_null", "restrict"};
    fprintf(out, "schema %s models=%d hash=%08x m2m=[", s->name, s->nmodels, (unsigned)s->hash);
    for (int i = 0; i < s->nm2m; i++) fprintf(out, "%s%s", i ? ", " : "", s->m2m_tables[i]);
    fputs("]\n", out);
    if (s->nrenames) {
        fputs("renamed_from [", out);
        for (int i = 0; i < s->nrenames; i++) fprintf(out, "%s%s", i ? ", " : "", s->renames[i]);
        fputs("]\n", out);
    }
    for (int i = 0; i < s->nmodels; i++) {
        const corm_model *m = s->models[i];
        fprintf(out, "model %s table=", m->name);
        dump_str(out, m->table);
        fprintf(out, " index=%d schema=%s\n", m->index, m->schema == s ? "ok" : "WRONG");
        for (int j = 0; j < m->nfields; j++) {
            const corm_field *f = &m->fields[j];
            char t[40];
            fprintf(out, "  field %d %s column=%s type=%s", j, f->name, f->column,
                    dump_ftype(f, t, sizeof t));
            dump_flags(out, f->flags);
            if (f->default_sql) {
                fputs(" default=", out);
                dump_str(out, f->default_sql);
            }
            if (f->rel >= 0) fprintf(out, " rel=%d", f->rel);
            fputs("\n", out);
        }
        for (int j = 0; j < m->nrels; j++) {
            const corm_relation *r = &m->rels[j];
            fprintf(out, "  rel %d %s %s -> %s field=%d reverse=%d slot=%d on_delete=%s", j,
                    r->name, kinds[r->kind], s->models[r->target]->name, r->field, r->reverse,
                    r->slot, acts[r->on_delete]);
            if (r->through)
                fprintf(out, " through=%s(%s, %s)", r->through, r->through_src, r->through_dst);
            fputs("\n", out);
        }
        if (m->nordering) {
            fputs("  ordering", out);
            for (int j = 0; j < m->nordering; j++)
                fprintf(out, "%s%s", j ? ", " : " ", m->ordering[j]);
            fputs("\n", out);
        }
        for (int j = 0; j < m->nscopes; j++) {
            const corm_scope *sc = &m->scopes[j];
            static const char *const sk[] = {"runtime", "null", "int", "float", "bool", "text"};
            fprintf(out, "  scope %s %s", m->fields[sc->field].name, sk[sc->kind]);
            if (sc->kind == CORM_SCOPE_INT || sc->kind == CORM_SCOPE_BOOL)
                fprintf(out, " %lld", (long long)sc->ival);
            if (sc->kind == CORM_SCOPE_FLOAT) fprintf(out, " %.17g", sc->fval);
            if (sc->kind == CORM_SCOPE_TEXT) {
                fputs(" ", out);
                dump_str(out, sc->sval);
            }
            fputs("\n", out);
        }
        for (int j = 0; j < m->nindexes; j++) {
            const corm_index *x = &m->indexes[j];
            fprintf(out, "  %sindex ", x->unique ? "unique " : "");
            dump_str(out, x->name);
            fputs(" (", out);
            for (int k = 0; k < x->nfields; k++) fprintf(out, "%s%s", k ? ", " : "", x->fields[k]);
            fputs(")", out);
            if (x->kind != CORM_INDEX_BTREE)
                fputs(x->kind == CORM_INDEX_TRIGRAM ? " using trigram" : " using search", out);
            if (x->condition) {
                fputs(" where ", out);
                dump_str(out, x->condition);
                fputs(" sql ", out);
                dump_str(out, x->where);
            }
            fputs("\n", out);
        }
    }
}

#endif
