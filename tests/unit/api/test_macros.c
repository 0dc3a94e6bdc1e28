/*
** test_macros.c - what the public macros refuse at compile time.  Each
** case is a small program compiled with the compiler and the warnings of
** the build (-std=c11 -Wall -Wextra -Werror), against include/ of the tree
** the suite runs from: the good ones must compile, the bad ones must not.
** corm_foreach takes a corm_qs * and a pointer to a generated model,
** corm_load_field_at's result may not be dropped, corm_field's may be.
*/
#include "test.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/corm-macros-XXXXXX");
    if (!mkdtemp(dir)) return -1;
    if (access("include/corm.h", R_OK) != 0) {
        fprintf(stderr, "test_macros: run from the top of the tree (include/corm.h)\n");
        return -1;
    }
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A model as `corm gen` makes one, without the generated header. */
static const char prelude[] = "#include <corm.h>\n"
                              "typedef struct Fake { corm_obj _corm; int64_t id; char *name; } "
                              "Fake;\n"
                              "typedef struct Other { int64_t id; } Other;\n"
                              "void use(corm_qs *qs, void *obj);\n";

/* Whether body (inside a function use(qs, obj)) compiles; the compiler's
** messages into errors. */
static bool compiles(const char *body, char *errors, size_t size)
{
    char path[128], err[128], cmd[1024];
    snprintf(path, sizeof path, "%s/case.c", dir);
    snprintf(err, sizeof err, "%s/errors.txt", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "%s\nvoid use(corm_qs *qs, void *obj)\n{\n    (void)qs;\n    (void)obj;\n%s\n}\n",
            prelude, body);
    fclose(f);
    const char *cc = getenv("CC");
    snprintf(cmd, sizeof cmd,
             "%s -std=c11 -Wall -Wextra -Werror -c -o /dev/null -Iinclude '%s' 2> '%s'",
             cc && *cc ? cc : "cc", path, err);
    int rc = system(cmd);
    errors[0] = '\0';
    f = fopen(err, "r");
    if (f) {
        size_t n = fread(errors, 1, size - 1, f);
        errors[n] = '\0';
        fclose(f);
    }
    return rc == 0;
}

#define GOOD(body)                                                                         \
    do {                                                                                   \
        char e_[4096];                                                                     \
        if (!compiles(body, e_, sizeof e_)) fail_msg("should compile:\n%s\n%s", body, e_); \
    } while (0)
#define BAD(body, why)                                                                          \
    do {                                                                                        \
        char e_[4096];                                                                          \
        if (compiles(body, e_, sizeof e_)) fail_msg("should not compile (%s):\n%s", why, body); \
        if (!strstr(e_, "error")) fail_msg("no compiler error for (%s):\n%s", why, e_);         \
    } while (0)

static void test_foreach_types(void **state)
{
    (void)state;
    GOOD("    Fake *f;\n    corm_foreach (f, qs) (void)f->name;");
    GOOD("    const Fake *f;\n    int n = 0;\n    corm_foreach (f, qs) n++;\n    (void)n;");
    BAD("    int *p;\n    corm_foreach (p, qs) (void)p;", "the loop variable is not a model");
    BAD("    void *p;\n    corm_foreach (p, qs) (void)p;", "the loop variable is void *");
    BAD("    Other *o;\n    corm_foreach (o, qs) (void)o;", "Other is no generated model");
    BAD("    Fake *f, *notqs = obj;\n    corm_foreach (f, notqs) (void)f;",
        "the queryset is a Fake *");
}

static void test_field_errors(void **state)
{
    (void)state;
    GOOD("    Fake *f = obj;\n    const char *s = corm_field(f, name);\n    (void)s;");
    BAD("    corm_load_field_at(obj, \"name\", CORM_SITE);", "the rc of a load is dropped");
    GOOD("    if (corm_load_field_at(obj, \"name\", CORM_SITE) != CORM_OK) return;");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_foreach_types),
        cmocka_unit_test(test_field_errors),
    };
    return cmocka_run_group_tests_name("macros", tests, setup, teardown);
}
