/*
** tx.c - the transaction statements a write runs to be all-or-nothing
** (src/write/atomic.c): BEGIN when no transaction is open, else a savepoint
** of its own, corm_op, so a failure leaves the caller's transaction
** usable.  They are the same on SQLite and PostgreSQL.
*/
#include "sql_int.h"

const char *corm__sql_tx(corm__tx_stmt s)
{
    static const char *const text[] = {
        [CORM__TX_BEGIN] = "BEGIN",
        [CORM__TX_COMMIT] = "COMMIT",
        [CORM__TX_ROLLBACK] = "ROLLBACK",
        [CORM__TX_SAVEPOINT] = "SAVEPOINT corm_op",
        [CORM__TX_RELEASE] = "RELEASE SAVEPOINT corm_op",
        [CORM__TX_ROLLBACK_SAVEPOINT] = "ROLLBACK TO SAVEPOINT corm_op; RELEASE SAVEPOINT corm_op",
    };
    return (size_t)s < CORM__ARRAY_LEN(text) ? text[s] : "";
}
