/**
 * env.yml validation for image builds (see disk-env.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "chase.h"
#include "cleanup.h"
#include "disk/env-bake.h"
#include "fileio.h"
#include "macro.h"

int image_env_validate(const char *path, char **reterr) {
        _cleanup_free_ char *data = NULL;
        yaml_parser_t parser;
        size_t len = 0, first;
        int r;

        r = read_input(AT_FDCWD, path, INPUT_FOLLOW, 16U << 20, &data, &len);
        if (r < 0)
                return asprintf(reterr, "cannot read env '%s': %s", path, input_strerror(r)) < 0 ? -ENOMEM : r;

        first = strcspn(data, "\r\n");
        while (first > 0 && (data[first - 1] == ' ' || data[first - 1] == '\t'))
                first--;
        if (first != strlen("#cloud-config") || !startswith(data, "#cloud-config"))
                return asprintf(reterr, "%s:1:1: the first line must be '#cloud-config'", path) < 0 ? -ENOMEM
                                                                                                 : -EINVAL;

        if (!yaml_parser_initialize(&parser))
                return -ENOMEM;
        yaml_parser_set_input_string(&parser, (const unsigned char *) data, len);
        for (;;) {
                yaml_document_t doc;
                bool end;

                if (!yaml_parser_load(&parser, &doc)) {
                        r = asprintf(reterr, "%s:%zu:%zu: %s", path, parser.problem_mark.line + 1,
                                     parser.problem_mark.column + 1, parser.problem ?: "invalid YAML") < 0
                                    ? -ENOMEM
                                    : -EINVAL;
                        yaml_parser_delete(&parser);
                        return r;
                }
                end = !yaml_document_get_root_node(&doc);
                yaml_document_delete(&doc);
                if (end)
                        break;
        }
        yaml_parser_delete(&parser);
        return 0;
}
