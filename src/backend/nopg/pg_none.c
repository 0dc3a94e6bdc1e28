/*
** pg_none.c - the PostgreSQL backend of a library built without it
** (make BACKENDS=sqlite: no libpq).  It links in place of pg.c; opening a
** postgresql:// url fails saying how to get the backend back.
*/
#include "../backend.h"

static corm_rc none_open(const char *target, corm__conn **out, corm_error *err)
{
    (void)target;
    *out = NULL;
    corm__err_set(err, CORM_INVALID, "this corm was built without the PostgreSQL backend");
    corm__err_hint(err, "rebuild it with the default backends (make, or make "
                        "BACKENDS=sqlite,postgresql), which links libpq");
    return CORM_INVALID;
}

static void none_close(corm__conn *c) { (void)c; }

const corm__backend corm__pg_backend = {
    .vendor = "postgresql",
    .max_params = 65535,
    .open = none_open,
    .close = none_close,
};

int corm__pg_cache_count(const corm__conn *c)
{
    (void)c;
    return 0;
}

int64_t corm__pg_server_calls(const corm__conn *c)
{
    (void)c;
    return 0;
}

int corm__pg_backend_pid(const corm__conn *c)
{
    (void)c;
    return 0;
}

int corm__pg_prepare_threshold(const corm__conn *c)
{
    (void)c;
    return 0;
}

void corm__pg_set_binary(corm__conn *c, bool binary)
{
    (void)c;
    (void)binary;
}
