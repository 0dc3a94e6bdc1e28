/* corm/version.h - the version of the corm headers and library. */
#ifndef CORM_VERSION_H
#define CORM_VERSION_H

#define CORM_VERSION_MAJOR 0
#define CORM_VERSION_MINOR 1
#define CORM_VERSION_PATCH 0
#define CORM_VERSION_STRING "0.1.0"

#ifdef __cplusplus
extern "C" {
#endif
/* The version of the library linked in, "0.1.0"; compare with the macros. */
__attribute__((visibility("default"))) const char *corm_version(void);
#ifdef __cplusplus
}
#endif
#endif
