/**
 * Replays a fuzz corpus: each argument is a file or a directory of files, fed one by one to
 * LLVMFuzzerTestOneInput(). Used by ctest so that every corpus entry stays a regression test.
 */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "fileio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int replay_file(const char *path) {
        _cleanup_free_ char *buf = NULL;
        size_t size;
        int r = read_full_file(path, &buf, &size, 0);

        if (r < 0) {
                fprintf(stderr, "replay: cannot read '%s': %s\n", path, strerror(-r));
                return r;
        }
        (void) LLVMFuzzerTestOneInput((const uint8_t *) buf, size);
        return 0;
}

int main(int argc, char *argv[]) {
        unsigned n = 0;

        for (int i = 1; i < argc; i++) {
                struct stat st;

                if (stat(argv[i], &st) < 0) {
                        fprintf(stderr, "replay: '%s': %s\n", argv[i], strerror(errno));
                        return 1;
                }
                if (!S_ISDIR(st.st_mode)) {
                        if (replay_file(argv[i]) < 0)
                                return 1;
                        n++;
                        continue;
                }

                struct dirent **list;
                int k = scandir(argv[i], &list, NULL, alphasort);
                if (k < 0) {
                        fprintf(stderr, "replay: '%s': %s\n", argv[i], strerror(errno));
                        return 1;
                }
                for (int j = 0; j < k; j++) {
                        char *p;
                        if (list[j]->d_name[0] != '.' && asprintf(&p, "%s/%s", argv[i], list[j]->d_name) >= 0) {
                                if (replay_file(p) < 0)
                                        return 1;
                                free(p);
                                n++;
                        }
                        free(list[j]);
                }
                free(list);
        }
        printf("replay: %u inputs\n", n);
        return n > 0 ? 0 : 1;
}
