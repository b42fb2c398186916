/**
 * Libraries loaded on first use. A wrapper of a library that only some commands need declares a
 * pointer per function it calls and loads the library in its entry points, so that the other
 * commands never map it (and the package only recommends it):
 *
 *   #define ZBAR_SYMBOLS(X) X(zbar_image_create) X(zbar_scan_image)
 *   ZBAR_SYMBOLS(DLSYM_DECLARE)
 *   static void *zbar_dl = NULL;
 *   ...
 *   r = dlopen_symbols(&zbar_dl, "libzbar.so.0", "libzbar0", reterr, ZBAR_SYMBOLS(DLSYM_ARG) NULL);
 *   ...
 *   sym_zbar_scan_image(scanner, image);
 *
 * A program linked statically against the library assigns the pointers instead:
 * ZBAR_SYMBOLS(DLSYM_ASSIGN).
 */
#pragma once

#define DLSYM_DECLARE(f) static typeof(f) *sym_##f = NULL;
#define DLSYM_ARG(f) (void **) &sym_##f, #f,
#define DLSYM_ASSIGN(f) sym_##f = f;

/* Loads SONAME into *handle unless it is loaded already, and resolves the (void **pointer,
 * const char *name) pairs that follow, up to a NULL. Returns 0; -ENOPKG when the library is
 * missing, with a message that names PACKAGE; -ELIBBAD when a function is missing (another
 * version), with a message that names it. On failure nothing stays loaded. */
int dlopen_symbols(void **handle, const char *soname, const char *package, char **reterr, ...);
