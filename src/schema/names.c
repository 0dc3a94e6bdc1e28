/*
** names.c - the naming rules of the schema language, shared by the parser,
** validation and the generator: type names, C types, model name casing,
** and the C names generated code must not redefine.
*/
#include "parse_int.h"

#include <string.h>

const char *corm__ftype_name(corm_ftype t)
{
    switch (t) {
    case CORM_FT_INTEGER: return "integer";
    case CORM_FT_BIGINT: return "bigint";
    case CORM_FT_FLOAT: return "float";
    case CORM_FT_DECIMAL: return "decimal";
    case CORM_FT_BOOL: return "bool";
    case CORM_FT_CHAR: return "char";
    case CORM_FT_TEXT: return "text";
    case CORM_FT_EMAIL: return "email";
    case CORM_FT_DATE: return "date";
    case CORM_FT_DATETIME: return "datetime";
    case CORM_FT_JSON: return "json";
    case CORM_FT_BLOB: return "blob";
    case CORM_FT_FK: return "fk";
    case CORM_FT_O2O: return "one_to_one";
    }
    return "?";
}

const char *corm__ftype_ctype(corm_ftype t)
{
    switch (t) {
    case CORM_FT_INTEGER: return "int32_t";
    case CORM_FT_BIGINT: return "int64_t";
    case CORM_FT_FLOAT: return "double";
    case CORM_FT_DECIMAL: return "corm_decimal";
    case CORM_FT_BOOL: return "bool";
    case CORM_FT_CHAR:
    case CORM_FT_TEXT:
    case CORM_FT_EMAIL:
    case CORM_FT_DATE:
    case CORM_FT_DATETIME:
    case CORM_FT_JSON: return "char *";
    case CORM_FT_BLOB: return "corm_blob";
    case CORM_FT_FK:
    case CORM_FT_O2O: return "int64_t";
    }
    return "?";
}

static bool upper(char c) { return c >= 'A' && c <= 'Z'; }
static bool lower(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

/* An underscore goes before an uppercase letter that follows a lowercase
** letter or digit, or that starts a word after an acronym:
** OrderItem -> order_item, HTTPRequest -> http_request, Book2 -> book2. */
char *corm__lower_snake(corm_arena *a, const char *name)
{
    size_t n = strlen(name);
    char *out = corm__arena_alloc(a, 2 * n + 1);
    if (!out) return NULL;
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (upper(c)) {
            bool after_lower = i > 0 && lower(name[i - 1]);
            bool acronym_end = i > 0 && upper(name[i - 1]) && i + 1 < n && name[i + 1] >= 'a' &&
                               name[i + 1] <= 'z';
            if ((after_lower || acronym_end) && k > 0 && out[k - 1] != '_') out[k++] = '_';
            c = (char)(c - 'A' + 'a');
        }
        out[k++] = c;
    }
    out[k] = '\0';
    return out;
}

char *corm__lower(corm_arena *a, const char *name)
{
    char *out = corm__arena_strdup(a, name);
    if (!out) return NULL;
    for (char *p = out; *p; p++)
        if (upper(*p)) *p = (char)(*p - 'A' + 'a');
    return out;
}

bool corm__c_reserved(const char *name)
{
    static const char *const words[] = {
        /* C11 keywords (the _Upper ones cannot be schema names) */
        "auto", "break", "case", "char", "const", "continue", "default", "do", "double", "else",
        "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long", "register",
        "restrict", "return", "short", "signed", "sizeof", "static", "struct", "switch", "typedef",
        "union", "unsigned", "void", "volatile", "while",
        /* macros and typedefs of the headers generated code includes */
        "NULL", "bool", "true", "false", "offsetof", "int8_t", "int16_t", "int32_t", "int64_t",
        "uint8_t", "uint16_t", "uint32_t", "uint64_t", "int_least8_t", "int_least16_t",
        "int_least32_t", "int_least64_t", "uint_least8_t", "uint_least16_t", "uint_least32_t",
        "uint_least64_t", "int_fast8_t", "int_fast16_t", "int_fast32_t", "int_fast64_t",
        "uint_fast8_t", "uint_fast16_t", "uint_fast32_t", "uint_fast64_t", "intptr_t", "uintptr_t",
        "intmax_t", "uintmax_t", "size_t", "ptrdiff_t", "wchar_t", "max_align_t"};
    for (size_t i = 0; i < CORM__ARRAY_LEN(words); i++)
        if (strcmp(name, words[i]) == 0) return true;
    return false;
}
