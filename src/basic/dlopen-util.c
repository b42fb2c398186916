#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>

#include "dlopen-util.h"
#include "log.h"
#include "reterr.h"

int dlopen_symbols(void **handle, const char *soname, const char *package, char **reterr, ...) {
        va_list ap;
        void *dl;
        int r = 0;

        if (*handle)
                return 0;

        dl = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
        if (!dl)
                return reterr_printf(reterr, -ENOPKG, "%s is not installed (%s); install it with 'apt install %s'",
                                     package, soname, package);

        va_start(ap, reterr);
        for (;;) {
                void **sym = va_arg(ap, void **);
                const char *name;

                if (!sym)
                        break;
                name = va_arg(ap, const char *);
                *sym = dlsym(dl, name);
                if (!*sym) {
                        r = reterr_printf(reterr, -ELIBBAD, "%s (%s) has no function %s(): another version of %s is needed",
                                          soname, package, name, package);
                        break;
                }
        }
        va_end(ap);
        if (r < 0) {
                (void) dlclose(dl);
                return r;
        }
        log_debug("Loaded %s.", soname);
        *handle = dl;
        return 0;
}
