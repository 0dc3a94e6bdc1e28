/* corm lint: a model's `default` eager loads (schema) cover reads, on its
** corm_all querysets and below a to-many level (tests/lint/check.sh lints
** this file with tests/integration/default_eager.corm). */
#include "default_eager/default_eager.h"

#include <stdio.h>

void defaults(corm_db *db)
{
    corm_qs *qs = corm_all(db, Memo); /* default: scribe__imprint, labels */
    Memo *m;
    corm_foreach(m, qs)
    {
        printf("%s %s\n", memo_scribe(m)->name, scribe_imprint(memo_scribe(m))->name);
        printf("%zu\n", memo_labels(m)->n);
    }
    corm_qs_free(qs);

    /* the memos of each scribe: a lazy set, with Memo's defaults applied */
    corm_qs *scribes = corm_all(db, Scribe);
    corm_prefetch_related(scribes, "memos");
    Scribe *s;
    corm_foreach(s, scribes)
    {
        const corm_list *memos = scribe_memos(s);
        for (size_t i = 0; i < memos->n; i++) printf("%zu\n", memo_labels(memos->items[i])->n);
    }
    corm_qs_free(scribes);

    /* cleared defaults are gone: Django's select_related(None) and
    ** prefetch_related(None) */
    corm_qs *bare = corm_all(db, Memo);
    corm_select_related_clear(bare);
    corm_prefetch_clear(bare);
    corm_foreach(m, bare) printf("%s %zu\n", memo_scribe(m)->name, memo_labels(m)->n);
    corm_qs_free(bare);

    /* raw querysets have no defaults */
    corm_qs *raw = corm_raw(db, Memo, "SELECT * FROM memo", NULL, 0);
    corm_foreach(m, raw) printf("%s\n", memo_scribe(m)->name);
    corm_qs_free(raw);
}
