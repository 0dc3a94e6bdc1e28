/*
** codec.c - one field value to JSON and back: the per-type rules of
** include/corm/json.h, one switch each way.
*/
#include "json_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- base64 */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static json_t *base64_json(const void *data, size_t n)
{
    const unsigned char *p = data;
    size_t len = (n + 2) / 3 * 4;
    char *out = corm__malloc(len + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n) v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n) v |= p[i + 2];
        out[o++] = b64[v >> 18 & 63];
        out[o++] = b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? b64[v & 63] : '=';
    }
    json_t *j = json_stringn(out, len);
    corm__free(out);
    return j;
}

static int b64_digit(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

/* Decoded bytes of base64 text s (n bytes), into a new block; NULL with
** *bad set when it is not base64 (length a multiple of 4, '=' only last). */
static unsigned char *base64_decode(const char *s, size_t n, size_t *len, bool *bad)
{
    *bad = n % 4 != 0;
    if (*bad) return NULL;
    size_t pad = n && s[n - 1] == '=' ? (n > 1 && s[n - 2] == '=' ? 2 : 1) : 0;
    unsigned char *out = corm__malloc(n / 4 * 3 + 1);
    if (!out) return NULL;
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        uint32_t v = 0;
        for (size_t k = 0; k < 4; k++) {
            int d = i + k >= n - pad ? 0 : b64_digit(s[i + k]);
            if (d < 0) {
                corm__free(out);
                *bad = true;
                return NULL;
            }
            v = v << 6 | (uint32_t)d;
        }
        out[o++] = (unsigned char)(v >> 16);
        out[o++] = (unsigned char)(v >> 8);
        out[o++] = (unsigned char)v;
    }
    *len = o - pad;
    return out;
}

/* ------------------------------------------------------------ encode */

/* The exact text of a decimal: its scale's digits ("19.90"). */
/* A decimal as its exact text, at the field's scale when it has one
** ("10.50" for 10.5 in a decimal(8, 2)). */
static json_t *decimal_json(corm_decimal d, int scale)
{
    char buf[CORM_DEC_BUF];
    int64_t units;
    if (scale >= 0 && corm_dec_to_units(d, scale, &units)) d = corm_dec_units(units, scale);
    return json_string(corm_dec_format(d, buf));
}
/* A text value as a JSON string; NULL with err for text JSON cannot hold. */
static json_t *text_json(const char *p, size_t n, const char *what, corm_error *err)
{
    json_t *j = n == (size_t)-1 ? json_string(p) : json_stringn(p, n);
    if (!j) {
        corm__err_set(err, CORM_INVALID, "%s is not UTF-8 text: JSON cannot hold it", what);
        corm__err_hint(err, "store UTF-8 text, or make the field a blob (written as base64)");
    }
    return j;
}

/* The text of a json field: the JSON it holds (its text when it is not). */
static json_t *json_field(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    return j ? j : json_string(text);
}

json_t *corm__json_field(const void *obj, const corm_field *f, const char *what, corm_error *err)
{
    if (corm_is_null(obj, f->name)) return json_null();
    const void *p = (const char *)obj + f->offset;
    json_t *j;
    switch (f->type) {
    case CORM_FT_INTEGER: j = json_integer(*(const int32_t *)p); break;
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: j = json_integer((json_int_t) * (const int64_t *)p); break;
    case CORM_FT_FLOAT: {
        double d = *(const double *)p;
        j = isfinite(d) ? json_real(d) : json_null();
        break;
    }
    case CORM_FT_DECIMAL: j = decimal_json(*(const corm_decimal *)p, f->scale); break;
    case CORM_FT_BOOL: j = json_boolean(*(const bool *)p); break;
    case CORM_FT_BLOB: {
        const corm_blob *b = p;
        j = b->data ? base64_json(b->data, b->len) : json_null();
        break;
    }
    case CORM_FT_JSON: {
        const char *text = *(char *const *)p;
        j = text ? json_field(text) : json_null();
        break;
    }
    default: {
        const char *text = *(char *const *)p;
        return text ? text_json(text, (size_t)-1, what, err) : json_null();
    }
    }
    if (!j) corm__err_set(err, CORM_NOMEM, "out of memory writing %s as JSON", what);
    return j;
}

json_t *corm__json_value(const corm_field *f, corm_value v, const char *what, corm_error *err)
{
    json_t *j = NULL;
    corm_ftype t = f ? f->type : CORM_FT_BLOB; /* no field: by the value's type */
    if (v.type == CORM_V_NULL) return json_null();
    /* a values() row on SQLite reads a bool as 0 / 1, a decimal as a
    ** float or an integer; PostgreSQL's numeric comes as an exact decimal */
    if (t == CORM_FT_BOOL && v.type == CORM_V_INT) j = json_boolean(v.u.i != 0);
    else if (v.type == CORM_V_DECIMAL)
        j = decimal_json(v.u.d, t == CORM_FT_DECIMAL ? f->scale : -1);
    else if (t == CORM_FT_DECIMAL && v.type == CORM_V_FLOAT)
        j = decimal_json(corm_dec_from_double(v.u.f, f->scale), f->scale);
    else if (t == CORM_FT_DECIMAL && v.type == CORM_V_INT)
        j = decimal_json(corm_dec_units(v.u.i, 0), f->scale);
    else if (t == CORM_FT_JSON && v.type == CORM_V_TEXT) j = json_field(v.u.s.p);
    else switch (v.type) {
        case CORM_V_INT: j = json_integer((json_int_t)v.u.i); break;
        case CORM_V_FLOAT: j = isfinite(v.u.f) ? json_real(v.u.f) : json_null(); break;
        case CORM_V_BOOL: j = json_boolean(v.u.b); break;
        case CORM_V_TEXT: return text_json(v.u.s.p, v.u.s.n, what, err);
        case CORM_V_BLOB: j = base64_json((const unsigned char *)v.u.s.p, v.u.s.n); break;
        default:
            corm__err_set(err, CORM_TYPE, "%s: a list value cannot be written as JSON", what);
            return NULL;
        }
    if (!j) corm__err_set(err, CORM_NOMEM, "out of memory writing %s as JSON", what);
    return j;
}

/* ------------------------------------------------------------ decode */

static const char *type_name(const json_t *j)
{
    switch (json_typeof(j)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a real number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    default: return "null";
    }
}

static const char *expected(char *why, size_t n, const char *what, const json_t *in)
{
    snprintf(why, n, "expected %s, got %s", what, type_name(in));
    return why;
}

/* UTF-8 characters of s (bytes that do not continue a character). */
static size_t utf8_chars(const char *s, size_t n)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

static bool email_ok(const char *s)
{
    const char *at = strrchr(s, '@');
    if (!at || at == s || !at[1] || strchr(at + 1, '.') == at + 1) return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || (*p == '@' && p != at)) return false;
    return true;
}

/* Django's DecimalValidator on the text of a number: digits in all,
** decimals, digits before the point. */
static const char *decimal_check(const corm_field *f, const char *s, char *why, size_t n)
{
    const char *p = s + (*s == '-' || *s == '+');
    size_t whole = 0, decimals = 0, digits = 0;
    while (*p == '0') p++, digits++; /* leading zeros do not count */
    for (; *p >= '0' && *p <= '9'; p++) whole++;
    if (*p == '.')
        for (p++; *p >= '0' && *p <= '9'; p++) decimals++;
    if (*p || whole + decimals + digits == 0)
        return "not a decimal number (write digits, as \"19.90\")";
    if (f->precision > 0 && whole + decimals > (size_t)f->precision)
        snprintf(why, n, "more than %d digits in total (decimal(%d, %d))", f->precision,
                 f->precision, f->scale);
    else if (decimals > (size_t)(f->scale < 0 ? 0 : f->scale))
        snprintf(why, n, "more than %d decimal places (decimal(%d, %d))", f->scale, f->precision,
                 f->scale);
    else if (f->precision > 0 && whole > (size_t)(f->precision - f->scale))
        snprintf(why, n, "more than %d digits before the decimal point (decimal(%d, %d))",
                 f->precision - f->scale, f->precision, f->scale);
    else return NULL;
    return why;
}

/* The shortest text that reads back as d ("19.99", not 19.989999...). */
static void shortest(double d, char *buf, size_t n)
{
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, d);
        if (strtod(buf, NULL) == d) break;
    }
    if (strchr(buf, 'e') || strchr(buf, 'E')) snprintf(buf, n, "%.17f", d);
}

static const char *text_value(const corm_field *f, const json_t *in, corm_value *out, char *why,
                              size_t n)
{
    if (!json_is_string(in)) return expected(why, n, "a string", in);
    const char *s = json_string_value(in);
    size_t len = json_string_length(in);
    if (strlen(s) != len) return "contains a NUL character";
    if ((f->type == CORM_FT_CHAR || f->type == CORM_FT_EMAIL) && f->max_length > 0 &&
        utf8_chars(s, len) > (size_t)f->max_length) {
        snprintf(why, n, "%zu characters, max_length is %d", utf8_chars(s, len), f->max_length);
        return why;
    }
    if (f->type == CORM_FT_EMAIL && !email_ok(s)) return "not an email address (local@domain)";
    if (f->type == CORM_FT_DATE && !corm_date_valid(s))
        return "not a date (\"YYYY-MM-DD\", a real day)";
    if (f->type == CORM_FT_DATETIME && !corm_datetime_valid(s))
        return "not a datetime (UTC \"YYYY-MM-DD HH:MM:SS[.ffffff]\", no 'T', no offset)";
    *out = corm_text(s);
    return NULL;
}

const char *corm__json_decode(const corm_field *f, const json_t *in, corm_value *out, void **owned,
                              char *why, size_t n)
{
    *owned = NULL;
    switch (f->type) {
    case CORM_FT_INTEGER:
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: {
        if (!json_is_integer(in)) return expected(why, n, "an integer", in);
        json_int_t i = json_integer_value(in);
        if (f->type == CORM_FT_INTEGER && (i < INT32_MIN || i > INT32_MAX))
            return "out of range for an integer field (-2147483648 to 2147483647)";
        *out = corm_int((int64_t)i);
        return NULL;
    }
    case CORM_FT_FLOAT:
        if (!json_is_number(in)) return expected(why, n, "a number", in);
        *out = corm_float(json_number_value(in));
        return NULL;
    case CORM_FT_DECIMAL: {
        char buf[64];
        const char *s = buf;
        if (json_is_integer(in))
            snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(in));
        else if (json_is_real(in)) shortest(json_real_value(in), buf, sizeof buf);
        else if (json_is_string(in)) s = json_string_value(in);
        else return expected(why, n, "a number or a string of digits", in);
        const char *bad = decimal_check(f, s, why, n);
        if (bad) return bad;
        corm_decimal d;
        if (!corm_dec_parse(s, &d)) return "out of range for a decimal";
        *out = corm_decv(d);
        return NULL;
    }
    case CORM_FT_BOOL:
        if (!json_is_boolean(in)) return expected(why, n, "true or false", in);
        *out = corm_bool(json_is_true(in));
        return NULL;
    case CORM_FT_CHAR:
    case CORM_FT_TEXT:
    case CORM_FT_EMAIL:
    case CORM_FT_DATE:
    case CORM_FT_DATETIME: return text_value(f, in, out, why, n);
    case CORM_FT_JSON: {
        size_t len = json_dumpb(in, NULL, 0, JSON_COMPACT | JSON_ENCODE_ANY);
        char *text = corm__malloc(len + 1);
        if (!text) return "out of memory";
        json_dumpb(in, text, len, JSON_COMPACT | JSON_ENCODE_ANY);
        text[len] = '\0';
        *owned = text;
        *out = corm_text(text);
        return NULL;
    }
    case CORM_FT_BLOB: {
        if (!json_is_string(in)) return expected(why, n, "base64 text", in);
        size_t len = 0;
        bool bad = false;
        unsigned char *bytes =
            base64_decode(json_string_value(in), json_string_length(in), &len, &bad);
        if (!bytes) return bad ? "not base64 text" : "out of memory";
        *owned = bytes;
        *out = corm_blobv(bytes, len);
        return NULL;
    }
    }
    return "a field type JSON cannot fill";
}

/* ------------------------------------------------------------- store */

void corm__json_store(void *obj, const corm_field *f, corm_value v, char **heap)
{
    void *p = (char *)obj + f->offset;
    switch (f->type) {
    case CORM_FT_INTEGER: *(int32_t *)p = (int32_t)v.u.i; break;
    case CORM_FT_BIGINT:
    case CORM_FT_FK:
    case CORM_FT_O2O: *(int64_t *)p = v.u.i; break;
    case CORM_FT_FLOAT: *(double *)p = v.u.f; break;
    case CORM_FT_DECIMAL: *(corm_decimal *)p = v.u.d; break;
    case CORM_FT_BOOL: *(bool *)p = v.u.b; break;
    case CORM_FT_BLOB: {
        corm_blob *b = p;
        if (v.u.s.n) memcpy(*heap, v.u.s.p, v.u.s.n);
        b->data = *heap;
        b->len = v.u.s.n;
        *heap += v.u.s.n;
        break;
    }
    default: {
        size_t n = strlen(v.u.s.p) + 1;
        memcpy(*heap, v.u.s.p, n);
        *(char **)p = *heap;
        *heap += n;
    }
    }
}
