/*
** keyset.c - keyset (seek) pagination (include/corm/paginate.h): a page is
** the rows after (or before) the cursor's position in a total ordering,
** found with a row-value comparison an index serves, never an OFFSET.
**
** Ordering: the queryset's terms (fields of the model), cut after the first
** unique non-NULL one, else with the primary key appended.  NULL is the
** smallest value (corm's order on every backend, select.c), so "after v"
** for one column is: ascending `c > v` (v NULL: `c IS NOT NULL`),
** descending `c < v OR c IS NULL` (v NULL: nothing).  The whole condition
** is the row comparison `(c1, c2) > (v1, v2)` when that is exact - every
** term ascending and no cursor value NULL, or every term descending on
** NOT NULL columns - and otherwise its expansion
** `c1 >|< v1 OR (c1 = v1 AND c2 >|< v2) ...`, with `c1 >= v1` (or <=)
** ANDed in front when it holds, so an index on c1 still bounds the scan.
** A page going backward runs the flipped ordering and is reversed.
**
** Cursor: base64url(payload || HMAC-SHA256(key, payload)), payload =
** version, flags (backward), a hash of the model and ordering, the number
** of values, then each value tagged with its type.
*/
#include "qs_int.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <string.h>

#define KS_MAX_TERMS 8
#define KS_MIN_KEY 16
#define KS_MAC 32
#define KS_MAX_CURSOR 8192 /* characters */
#define KS_VERSION 1

enum { TAG_NULL, TAG_INT, TAG_FLOAT, TAG_BOOL, TAG_TEXT, TAG_BLOB, TAG_DECIMAL };

typedef struct ks_order {
    const corm_model *m;
    int n;
    const corm_field *f[KS_MAX_TERMS];
    bool desc[KS_MAX_TERMS];
    uint64_t hash; /* of the model and the terms: a cursor names its ordering */
} ks_order;

typedef struct ks_ctx {
    corm_db *home;
    const void *key;
    size_t key_len;
} ks_ctx;

static corm_keyset_page *fail(ks_ctx *k, corm_rc rc, const char *hint, const char *fmt,
                              const char *arg)
{
    corm__err_set(&k->home->err, rc, fmt, arg);
    if (hint) corm__err_hint(&k->home->err, "%s", hint);
    return NULL;
}

static bool unique_key(const corm_field *f)
{
    return (f->flags & CORM_FF_PK) || ((f->flags & CORM_FF_UNIQUE) && !(f->flags & CORM_FF_NULL));
}

static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) h = (h ^ (unsigned char)s[i]) * 0x100000001b3ull;
    return h;
}

/* The total ordering of qs; false with the error on k->home. */
static bool resolve_order(ks_ctx *k, const corm_qs *qs, ks_order *o)
{
    const corm_model *m = qs->q.model;
    const char *const *terms = qs->q.order_set ? qs->q.order : m->ordering;
    int nt = qs->q.order_set ? qs->q.norder : m->nordering;
    o->m = m;
    o->n = 0;
    o->hash = fnv(0xcbf29ce484222325ull, m->name, strlen(m->name) + 1);
    for (int t = 0; t < nt; t++) {
        const char *name = terms[t][0] == '-' ? terms[t] + 1 : terms[t];
        const corm_field *f =
            strcmp(name, "pk") == 0 ? &m->fields[0] : corm__model_field(m, name, strlen(name));
        if (!f) {
            fail(k, CORM_MISUSE,
                 "order by fields of the model itself (a related value or an annotation "
                 "cannot be read back from the page's objects into a cursor)",
                 "keyset pagination: ordering term '%s' is not a field of the model", terms[t]);
            return false;
        }
        if (f->type == CORM_FT_JSON || f->type == CORM_FT_BLOB) {
            fail(k, CORM_MISUSE, "order by a scalar field (number, text, date, key)",
                 "keyset pagination: cannot order pages by '%s' (json and blob fields are not "
                 "comparable across backends)",
                 name);
            return false;
        }
        if (o->n == KS_MAX_TERMS) {
            fail(k, CORM_MISUSE, "order by at most 8 fields (the last one unique)",
                 "keyset pagination: the ordering has too many terms ('%s' is the ninth)",
                 terms[t]);
            return false;
        }
        o->f[o->n] = f;
        o->desc[o->n++] = terms[t][0] == '-';
        if (unique_key(f)) break; /* later terms never decide */
    }
    if (o->n == 0 || !unique_key(o->f[o->n - 1])) {
        if (o->n == KS_MAX_TERMS) {
            fail(k, CORM_MISUSE, "order by at most 7 fields, or end the ordering with the key",
                 "keyset pagination: no room to append the primary key to the ordering%s", "");
            return false;
        }
        o->desc[o->n] = o->n > 0 && o->desc[o->n - 1];
        o->f[o->n++] = &m->fields[0];
    }
    for (int i = 0; i < o->n; i++) {
        o->hash = fnv(o->hash, o->desc[i] ? "-" : "+", 1);
        o->hash = fnv(o->hash, o->f[i]->name, strlen(o->f[i]->name) + 1);
    }
    return true;
}

/* ------------------------------------------------------------ cursors */

static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void put_u64(corm_buf *b, uint64_t v)
{
    char bytes[8];
    for (int i = 0; i < 8; i++) bytes[i] = (char)(v >> (56 - 8 * i));
    corm__buf_add(b, bytes, 8);
}

static void put_value(corm_buf *b, corm_value v)
{
    uint64_t bits;
    switch (v.type) {
    case CORM_V_INT:
        corm__buf_addc(b, TAG_INT);
        put_u64(b, (uint64_t)v.u.i);
        break;
    case CORM_V_FLOAT:
        corm__buf_addc(b, TAG_FLOAT);
        memcpy(&bits, &v.u.f, sizeof bits);
        put_u64(b, bits);
        break;
    case CORM_V_BOOL:
        corm__buf_addc(b, TAG_BOOL);
        corm__buf_addc(b, v.u.b ? 1 : 0);
        break;
    case CORM_V_DECIMAL: /* exact: its units and scale */
        corm__buf_addc(b, TAG_DECIMAL);
        put_u64(b, (uint64_t)v.u.d.units);
        corm__buf_addc(b, (char)v.u.d.scale);
        break;
    case CORM_V_TEXT:
    case CORM_V_BLOB: {
        size_t n = v.type == CORM_V_TEXT && v.u.s.n == (size_t)-1 ? strlen(v.u.s.p) : v.u.s.n;
        corm__buf_addc(b, v.type == CORM_V_TEXT ? TAG_TEXT : TAG_BLOB);
        put_u64(b, n);
        corm__buf_add(b, v.u.s.p, n);
        break;
    }
    default: corm__buf_addc(b, TAG_NULL); break;
    }
}

/* The HMAC of a db's last key, kept on the db (db->ks_mac): OpenSSL's
** one-shot HMAC() looks the algorithm up and derives the key's pads on every
** call (about 20,000 instructions); a context set up once and re-initialised
** with its key (EVP_MAC_init with no key) costs about 6,000. */
typedef struct ks_mac {
    EVP_MAC_CTX *ctx;
    size_t key_len;
    unsigned char key[]; /* the key, compared on every use; cleared when freed */
} ks_mac;

static void ks_mac_free(void *state)
{
    ks_mac *s = state;
    if (!s) return;
    EVP_MAC_CTX_free(s->ctx);
    OPENSSL_cleanse(s->key, s->key_len);
    corm__free(s);
}

/* db's context for key, made (replacing another key's) when needed; NULL
** when OpenSSL or memory fails, and the caller signs with HMAC(). */
static EVP_MAC_CTX *mac_ctx(corm_db *db, const void *key, size_t key_len)
{
    ks_mac *s = db->ks_mac.state;
    if (s && s->key_len == key_len && CRYPTO_memcmp(s->key, key, key_len) == 0)
        return EVP_MAC_init(s->ctx, NULL, 0, NULL) ? s->ctx : NULL;
    ks_mac_free(s);
    db->ks_mac.state = NULL;
    s = corm__malloc(sizeof *s + key_len);
    if (!s) return NULL;
    s->key_len = key_len;
    memcpy(s->key, key, key_len);
    EVP_MAC *alg = EVP_MAC_fetch(NULL, "HMAC", NULL);
    s->ctx = alg ? EVP_MAC_CTX_new(alg) : NULL;
    EVP_MAC_free(alg); /* the context holds its own reference */
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end()};
    if (!s->ctx || !EVP_MAC_init(s->ctx, key, key_len, params)) {
        ks_mac_free(s);
        return NULL;
    }
    db->ks_mac.state = s;
    db->ks_mac.release = ks_mac_free;
    return s->ctx;
}

static void sign(const ks_ctx *k, const unsigned char *p, size_t n, unsigned char mac[KS_MAC])
{
    EVP_MAC_CTX *c = mac_ctx(k->home, k->key, k->key_len);
    size_t len = 0;
    if (c && EVP_MAC_update(c, p, n) && EVP_MAC_final(c, mac, &len, KS_MAC) && len == KS_MAC)
        return;
    unsigned int ulen = KS_MAC;
    HMAC(EVP_sha256(), k->key, (int)k->key_len, p, n, mac, &ulen);
}

/* The cursor of obj's position, going backward or forward, into *out (the
** caller's to release); else the error on k->home. */
static corm_rc make_cursor(ks_ctx *k, const ks_order *o, const void *obj, bool backward,
                           char **out_)
{
    const corm_obj *h = obj;
    for (int i = 0; i < o->n; i++)
        if (h->deferred & ((uint64_t)1 << (o->f[i] - o->m->fields))) {
            fail(k, CORM_MISUSE,
                 "load the ordering's fields: leave them out of corm_defer, or name them in "
                 "corm_only",
                 "keyset pagination: the ordering field '%s' was not loaded (only/defer), so "
                 "no cursor can be made from the page's objects",
                 o->f[i]->name);
            return CORM_MISUSE;
        }
    corm_buf b;
    corm__buf_init(&b);
    corm__buf_addc(&b, KS_VERSION);
    corm__buf_addc(&b, backward ? 1 : 0);
    put_u64(&b, o->hash);
    corm__buf_addc(&b, (char)o->n);
    for (int i = 0; i < o->n; i++) put_value(&b, corm__field_value(obj, o->f[i]));
    unsigned char mac[KS_MAC];
    if (!b.oom) sign(k, (const unsigned char *)b.p, b.len, mac);
    corm__buf_add(&b, (const char *)mac, KS_MAC);
    char *out = b.oom ? NULL : corm__malloc((b.len + 2) / 3 * 4 + 1);
    if (out) {
        const unsigned char *s = (const unsigned char *)b.p;
        size_t j = 0, bits = 0;
        uint32_t acc = 0;
        for (size_t i = 0; i < b.len; i++) {
            acc = (acc << 8) | s[i];
            for (bits += 8; bits >= 6; bits -= 6) out[j++] = b64[(acc >> (bits - 6)) & 63];
        }
        if (bits) out[j++] = b64[(acc << (6 - bits)) & 63];
        out[j] = '\0';
    }
    corm__buf_free(&b);
    *out_ = out;
    if (out) return CORM_OK;
    corm__err_set(&k->home->err, CORM_NOMEM, "out of memory making a cursor");
    return CORM_NOMEM;
}

/* A decoded cursor: direction and values (text and blobs point into raw). */
typedef struct ks_cursor {
    bool backward;
    int n;
    corm_value v[KS_MAX_TERMS];
    unsigned char *raw;
} ks_cursor;

static int unb64(char c)
{
    const char *p = c ? strchr(b64, c) : NULL;
    return p ? (int)(p - b64) : -1;
}

static bool get_u64(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    if (end - *p < 8) return false;
    *v = 0;
    for (int i = 0; i < 8; i++) *v = (*v << 8) | *(*p)++;
    return true;
}

static const char *const not_ours =
    "pass a next_cursor or previous_cursor exactly as an earlier page of this queryset gave "
    "it, or no cursor for the first page";

/* Decode, then check the signature and the ordering; false with the error
** on k->home.  c->raw is the caller's to release, also on failure. */
static bool read_cursor(ks_ctx *k, const ks_order *o, const char *text, ks_cursor *c)
{
    size_t tn = strlen(text);
    if (tn > KS_MAX_CURSOR) {
        fail(k, CORM_INVALID, not_ours, "keyset pagination: the cursor is too long (%s)",
             "over 8192 characters");
        return false;
    }
    c->raw = corm__malloc(tn * 3 / 4 + 1);
    if (!c->raw) {
        corm__err_set(&k->home->err, CORM_NOMEM, "out of memory reading a cursor");
        return false;
    }
    size_t n = 0, bits = 0;
    uint32_t acc = 0;
    for (size_t i = 0; i < tn; i++) {
        int d = unb64(text[i]);
        if (d < 0) {
            fail(k, CORM_INVALID, not_ours,
                 "keyset pagination: '%.40s' is not a cursor (a character outside "
                 "base64url)",
                 text);
            return false;
        }
        acc = (acc << 6) | (uint32_t)d;
        if ((bits += 6) >= 8) {
            bits -= 8;
            c->raw[n++] = (unsigned char)(acc >> bits);
        }
    }
    if (tn % 4 == 1 || (acc & ((1u << bits) - 1)) != 0) { /* not as make_cursor writes */
        fail(k, CORM_INVALID, not_ours, "keyset pagination: '%.40s' is not a cursor (its end)",
             text);
        return false;
    }
    if (n < 11 + KS_MAC) {
        fail(k, CORM_INVALID, not_ours, "keyset pagination: '%.40s' is not a cursor (too short)",
             text);
        return false;
    }
    unsigned char mac[KS_MAC];
    sign(k, c->raw, n - KS_MAC, mac);
    if (CRYPTO_memcmp(mac, c->raw + n - KS_MAC, KS_MAC) != 0) {
        fail(k, CORM_INVALID,
             "the cursor was altered, or signed with another key: start again from the first "
             "page (a NULL cursor), with the application's one signing key",
             "keyset pagination: the cursor's signature does not match (%s)",
             "tampered with, or signed with another key");
        return false;
    }
    const unsigned char *p = c->raw, *end = c->raw + n - KS_MAC;
    uint64_t hash = 0;
    if (*p++ != KS_VERSION || *p > 1) {
        fail(k, CORM_INVALID, not_ours, "keyset pagination: %s",
             "the cursor was made by another version of corm");
        return false;
    }
    c->backward = *p++ == 1;
    get_u64(&p, end, &hash);
    c->n = *p++;
    if (hash != o->hash || c->n != o->n) {
        fail(k, CORM_INVALID, not_ours, "keyset pagination: %s",
             "the cursor was made for another model or ordering");
        return false;
    }
    for (int i = 0; i < c->n; i++) {
        uint64_t u = 0;
        int tag = p < end ? *p++ : -1;
        bool ok = true;
        switch (tag) {
        case TAG_NULL: c->v[i] = corm_null(); break;
        case TAG_INT:
            ok = get_u64(&p, end, &u);
            c->v[i] = corm_int((int64_t)u);
            break;
        case TAG_FLOAT: {
            double d = 0;
            ok = get_u64(&p, end, &u);
            memcpy(&d, &u, sizeof d);
            c->v[i] = corm_float(d);
            break;
        }
        case TAG_BOOL:
            ok = p < end;
            c->v[i] = corm_bool(ok && *p++);
            break;
        case TAG_DECIMAL:
            ok = get_u64(&p, end, &u) && p < end && *p <= CORM_DEC_DIGITS;
            if (!ok) break;
            c->v[i] = corm_decv(corm_dec_units((int64_t)u, *p++));
            break;
        case TAG_TEXT:
        case TAG_BLOB:
            ok = get_u64(&p, end, &u) && u <= (uint64_t)(end - p);
            if (!ok) break;
            c->v[i] = corm_null();
            c->v[i].type = tag == TAG_TEXT ? CORM_V_TEXT : CORM_V_BLOB;
            c->v[i].u.s.p = (const char *)p;
            c->v[i].u.s.n = (size_t)u;
            p += u;
            break;
        default: ok = false;
        }
        if (!ok || (c->v[i].type == CORM_V_NULL && !(o->f[i]->flags & CORM_FF_NULL))) {
            fail(k, CORM_INVALID, not_ours, "keyset pagination: %s",
                 "the cursor's values do not fit the ordering");
            return false;
        }
    }
    return true;
}

/* ------------------------------------------------------------ the condition */

/* A leaf `<field>[__lookup]` = v on qs (lookup NULL: exact). */
static corm_q *leaf(corm_qs *qs, const corm_field *f, const char *lookup, corm_value v)
{
    char path[160];
    const char *name = (f->flags & CORM_FF_PK) ? "pk" : f->name;
    snprintf(path, sizeof path, "%s%s%s", name, lookup ? "__" : "", lookup ? lookup : "");
    /* text from a cursor is not NUL-terminated: the copy made here is */
    if (v.type == CORM_V_TEXT && v.u.s.n != (size_t)-1) {
        char *s = corm__arena_strndup(&qs->build, v.u.s.p, v.u.s.n);
        if (!s) return NULL;
        v = corm_text(s);
    }
    return corm_q_new(qs, path, v);
}

static corm_q *both(corm_qs *qs, corm_q *a, corm_q *b) { return a ? corm_q_and(qs, a, b) : b; }

/* Column i comes after v[i] in direction desc[i] (NULL: never). */
static corm_q *after_one(corm_qs *qs, const ks_order *o, const bool *desc, int i, corm_value v)
{
    const corm_field *f = o->f[i];
    bool nullable = (f->flags & CORM_FF_NULL) != 0;
    if (!desc[i])
        return v.type == CORM_V_NULL ? leaf(qs, f, "isnull", corm_bool(false))
                                     : leaf(qs, f, "gt", v);
    if (v.type == CORM_V_NULL) return NULL;
    corm_q *lt = leaf(qs, f, "lt", v);
    return nullable ? corm_q_or(qs, lt, leaf(qs, f, "isnull", corm_bool(true))) : lt;
}

static corm_q *equal_one(corm_qs *qs, const corm_field *f, corm_value v)
{
    return v.type == CORM_V_NULL ? leaf(qs, f, "isnull", corm_bool(true)) : leaf(qs, f, NULL, v);
}

/* Whether the row comparison says exactly "after": see the top. */
static bool row_exact(const ks_order *o, const bool *desc, const corm_value *v)
{
    if (o->n < 2) return false;
    for (int i = 0; i < o->n; i++) {
        if (desc[i] != desc[0]) return false;
        if (!desc[0] && v[i].type == CORM_V_NULL) return false;
        if (desc[0] && (o->f[i]->flags & CORM_FF_NULL)) return false;
    }
    return true;
}

/* The rows after the cursor in the ordering desc (the query's, flipped for
** a backward page), filtered on qs. */
static void filter_after(corm_qs *qs, const ks_order *o, const bool *desc, const corm_value *v)
{
    if (row_exact(o, desc, v)) {
        corm_q *tail = leaf(qs, o->f[o->n - 1], NULL, v[o->n - 1]);
        for (int i = o->n - 2; i >= 0 && tail; i--) {
            corm_q *row = corm__arena_zalloc(&qs->build, sizeof *row);
            corm_q *col = leaf(qs, o->f[i], NULL, v[i]);
            if (!row || !col) {
                tail = NULL;
                break;
            }
            row->kind = desc[0] ? CORM__Q_ROW_LT : CORM__Q_ROW_GT;
            row->a = col;
            row->b = tail;
            tail = row;
        }
        if (!tail) corm__err_set(&qs->err, CORM_NOMEM, "out of memory building a keyset page");
        else corm_filter_q(qs, tail);
        return;
    }
    corm_q *any = NULL;
    for (int i = 0; i < o->n; i++) {
        corm_q *step = after_one(qs, o, desc, i, v[i]);
        if (!step) continue;
        corm_q *prefix = NULL;
        for (int j = 0; j < i; j++) prefix = both(qs, prefix, equal_one(qs, o->f[j], v[j]));
        step = both(qs, prefix, step);
        any = any ? corm_q_or(qs, any, step) : step;
    }
    if (!any) { /* nothing comes after the cursor */
        corm_filter(qs, "pk__in", corm_ints(NULL, 0));
        return;
    }
    /* the bound an index on the first column serves: every branch implies it */
    if (o->n > 1 && v[0].type != CORM_V_NULL && (!desc[0] || !(o->f[0]->flags & CORM_FF_NULL)))
        any = corm_q_and(qs, leaf(qs, o->f[0], desc[0] ? "lte" : "gte", v[0]), any);
    corm_filter_q(qs, any);
}

/* ------------------------------------------------------------ pages */

static bool check_args(ks_ctx *k, const corm_qs *qs, int64_t per_page)
{
    if (per_page < 1 || per_page > INT64_MAX / 2) {
        fail(k, CORM_MISUSE, "ask for 1 or more objects per page",
             "corm_keyset_page: per_page must be at least 1%s", "");
        return false;
    }
    if (!k->key || k->key_len < KS_MIN_KEY || k->key_len > INT32_MAX) {
        fail(k, CORM_MISUSE,
             "pass the application's secret signing key (at least 16 random bytes, kept out "
             "of the source)",
             "corm_keyset_page: the signing key is %s", k->key ? "shorter than 16 bytes" : "NULL");
        return false;
    }
    if (qs->err.rc != CORM_OK) {
        corm__err_copy(&k->home->err, &qs->err);
        return false;
    }
    const char *why = !qs->q.model || qs->raw_sql ? "a raw queryset"
                      : qs->q.values_mode || qs->q.nvalues || qs->q.aggregate
                          ? "a values()/aggregate() queryset"
                      : qs->q.limit >= 0 || qs->q.offset > 0 ? "a sliced queryset"
                                                             : NULL;
    if (why) {
        fail(k, CORM_MISUSE,
             "page a queryset of objects, unsliced (the page sets its own limit): "
             "corm_all + filters + corm_order_by",
             "corm_keyset_page: cannot page %s", why);
        return false;
    }
    return true;
}

static void reverse_items(corm_qs *qs)
{
    for (size_t i = 0, j = qs->n; i + 1 < j; i++, j--) {
        void *t = qs->items[i];
        qs->items[i] = qs->items[j - 1];
        qs->items[j - 1] = t;
    }
}

/* The query of a page: qs's copy in the direction desc, after the cursor. */
static corm_qs *page_query(ks_ctx *k, const corm_qs *qs, const ks_order *o, const bool *desc,
                           const ks_cursor *c, int64_t per_page)
{
    corm_qs *pq = corm_qs_clone(qs);
    if (!pq) {
        corm__err_set(&k->home->err, CORM_NOMEM, "out of memory making a keyset page");
        return NULL;
    }
    const char *terms[KS_MAX_TERMS + 1];
    char text[KS_MAX_TERMS][160];
    for (int i = 0; i < o->n; i++) {
        const char *name = (o->f[i]->flags & CORM_FF_PK) ? "pk" : o->f[i]->name;
        snprintf(text[i], sizeof text[i], "%s%s", desc[i] ? "-" : "", name);
        terms[i] = text[i];
    }
    terms[o->n] = NULL;
    corm_order_by_v(pq, terms);
    if (c) filter_after(pq, o, desc, c->v);
    corm_slice(pq, 0, per_page + 1);
    return pq;
}

corm_keyset_page *corm_keyset_page_at(const corm_qs *qs, int64_t per_page, const char *cursor,
                                      const void *key, size_t key_len, bool last, corm_site site)
{
    if (!qs) return NULL;
    ks_ctx k = {qs->home ? qs->home : qs->db, key, key_len};
    corm__db_enter(k.home);
    ks_order o;
    if (!check_args(&k, qs, per_page) || !resolve_order(&k, qs, &o)) return NULL;
    ks_cursor cur = {0};
    bool have = cursor && *cursor && !last;
    if (have && !read_cursor(&k, &o, cursor, &cur)) {
        corm__free(cur.raw);
        return NULL;
    }
    bool backward = have ? cur.backward : last;
    bool desc[KS_MAX_TERMS];
    for (int i = 0; i < o.n; i++) desc[i] = o.desc[i] != backward;
    corm_qs *pq = page_query(&k, qs, &o, desc, have ? &cur : NULL, per_page);
    corm__free(cur.raw);
    corm_keyset_page *page = pq ? corm__calloc(1, sizeof *page) : NULL;
    if (pq && !page) corm__err_set(&k.home->err, CORM_NOMEM, "out of memory making a page");
    if (!page || corm_eval_at(pq, site) != CORM_OK) {
        if (page) corm__err_copy(&k.home->err, corm_qs_error(pq));
        corm_qs_free(pq);
        corm__free(page);
        return NULL;
    }
    page->objects = pq;
    bool more = pq->n > (size_t)per_page;
    if (more) pq->n = (size_t)per_page;
    if (backward) reverse_items(pq);
    page->has_next = backward ? have : more;
    page->has_previous = backward ? more : have;
    if (!pq->n) page->has_next = page->has_previous = false; /* no position to go on from */
    if ((page->has_next &&
         make_cursor(&k, &o, pq->items[pq->n - 1], false, &page->next_cursor) != CORM_OK) ||
        (page->has_previous &&
         make_cursor(&k, &o, pq->items[0], true, &page->previous_cursor) != CORM_OK)) {
        corm_keyset_page_free(page);
        return NULL;
    }
    return page;
}

corm_rc corm_keyset_cursor(const corm_qs *qs, const void *obj, const void *key, size_t key_len,
                           char *buf, size_t size)
{
    if (!qs) return CORM_MISUSE;
    ks_ctx k = {qs->home ? qs->home : qs->db, key, key_len};
    corm__db_enter(k.home);
    ks_order o;
    if (!check_args(&k, qs, 1) || !resolve_order(&k, qs, &o)) return k.home->err.rc;
    const corm_obj *h = obj;
    if (!h || h->model != qs->q.model) {
        fail(&k, CORM_MISUSE, "pass an object of the queryset's model",
             "corm_keyset_cursor: the object is %s", h ? "of another model" : "NULL");
        return CORM_MISUSE;
    }
    char *c = NULL;
    if (make_cursor(&k, &o, obj, false, &c) != CORM_OK) return k.home->err.rc;
    size_t n = strlen(c);
    corm_rc rc = CORM_OK;
    if (!buf || n >= size) {
        corm__err_set(&k.home->err, CORM_MISUSE,
                      "corm_keyset_cursor: the cursor needs %zu bytes, the buffer has %zu", n + 1,
                      buf ? size : 0);
        corm__err_hint(&k.home->err, "pass a larger buffer");
        rc = CORM_MISUSE;
    } else memcpy(buf, c, n + 1);
    corm__free(c);
    return rc;
}

void corm_keyset_page_free(corm_keyset_page *page)
{
    if (!page) return;
    corm_qs_free(page->objects);
    corm__free(page->next_cursor);
    corm__free(page->previous_cursor);
    corm__free(page);
}
