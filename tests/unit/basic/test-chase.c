/**
 * Unit tests of the confined path resolution (chase.c): each case runs through openat2() and through
 * the user-space walk, on a scratch tree "root" with a sibling "outside" that nothing may touch.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chase.h"
#include "cleanup.h"
#include "fileio.h"
#include "spawn.h"

typedef struct Tree {
        char base[PATH_MAX];
        char outside[PATH_MAX + 16];/* absolute path of the sibling directory */
        int root_fd;
        ChaseFlags walk;        /* 0 or CHASE_WALK */
} Tree;

static void put(const char *path, const char *text) {
        assert_int_equal(write_file_atomic(path, text, strlen(text), 0644), 0);
}

static void link_at(Tree *t, const char *target, const char *name) {
        assert_int_equal(symlinkat(target, t->root_fd, name), 0);
}

static int setup(void **state, ChaseFlags walk) {
        Tree *t = calloc(1, sizeof *t);
        char p[PATH_MAX + 32];

        assert_non_null(t);
        snprintf(t->base, sizeof t->base, "%s/test-chase-XXXXXX", getenv("TMPDIR") ?: "/tmp");
        assert_non_null(mkdtemp(t->base));
        snprintf(t->outside, sizeof t->outside, "%s/outside", t->base);
        assert_int_equal(mkdir(t->outside, 0755), 0);
        snprintf(p, sizeof p, "%s/secret", t->outside);
        put(p, "host secret\n");
        snprintf(p, sizeof p, "%s/root", t->base);
        assert_int_equal(mkdir(p, 0755), 0);
        t->root_fd = open(p, O_PATH | O_DIRECTORY | O_CLOEXEC);
        assert_true(t->root_fd >= 0);
        assert_int_equal(mkdirat(t->root_fd, "dir", 0755), 0);
        snprintf(p, sizeof p, "%s/root/dir/file", t->base);
        put(p, "inside\n");
        t->walk = walk;
        *state = t;
        return 0;
}

static int setup_openat2(void **state) {
        return setup(state, 0);
}

static int setup_walk(void **state) {
        return setup(state, CHASE_WALK);
}

static int teardown(void **state) {
        Tree *t = *state;
        char *argv[] = { (char *) "rm", (char *) "-rf", t->base, NULL };

        safe_close(t->root_fd);
        assert_int_equal(spawn_run(argv), 0);
        free(t);
        return 0;
}

/* The outside directory holds exactly "secret" with its text. */
static void assert_outside_untouched(Tree *t) {
        char p[PATH_MAX + 32], *text = NULL;
        char *argv[] = { (char *) "sh", (char *) "-c", (char *) "test \"$(ls -A \"$0\")\" = secret", t->outside, NULL };

        snprintf(p, sizeof p, "%s/secret", t->outside);
        assert_int_equal(read_full_file(p, &text, NULL, 0), 0);
        assert_string_equal(text, "host secret\n");
        free(text);
        assert_int_equal(spawn_run(argv), 0);
}

/* fd refers to ROOT/rel. */
static void assert_same_as(Tree *t, int fd, const char *rel) {
        struct stat a, b;

        assert_int_equal(fstat(fd, &a), 0);
        assert_int_equal(fstatat(t->root_fd, rel, &b, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(a.st_dev == b.st_dev && a.st_ino == b.st_ino);
}

static void test_plain_and_dotdot_at_root(void **state) {
        Tree *t = *state;
        int fd;

        assert_int_equal(chase_open(t->root_fd, "/dir/file", t->walk, O_RDONLY, 0, &fd), 0);
        assert_same_as(t, fd, "dir/file");
        safe_close(fd);
        assert_int_equal(chase_open(t->root_fd, "../../../../dir/../../dir/./file", t->walk, O_RDONLY, 0, &fd), 0);
        assert_same_as(t, fd, "dir/file");
        safe_close(fd);
        assert_int_equal(chase_open(t->root_fd, "/..", t->walk, O_PATH | O_DIRECTORY, 0, &fd), 0);
        assert_same_as(t, fd, ".");
        safe_close(fd);
        assert_int_equal(chase_open(t->root_fd, "dir/file/", t->walk, O_RDONLY, 0, &fd), -ENOTDIR);
        assert_int_equal(chase_open(t->root_fd, "dir/missing", t->walk, O_RDONLY, 0, &fd), -ENOENT);
}

static void test_absolute_link_out(void **state) {
        Tree *t = *state;
        char target[PATH_MAX + 32];
        int fd;

        /* A link to the host's file resolves to the same path below the root, where nothing is. */
        snprintf(target, sizeof target, "%s/secret", t->outside);
        link_at(t, target, "abs");
        link_at(t, t->outside, "absdir");
        assert_int_equal(chase_open(t->root_fd, "abs", t->walk, O_RDONLY, 0, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "abs", t->walk, O_WRONLY | O_TRUNC, 0, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "absdir/secret", t->walk, O_RDONLY, 0, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "absdir/new", t->walk, O_WRONLY | O_CREAT, 0644, &fd), -ENOENT);
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "absdir/secret", t->walk, "x", 1, 0600,
                                                   (uid_t) -1, (gid_t) -1), -ENOENT);
        assert_int_equal(chase_chown(t->root_fd, "absdir/secret", t->walk, 0, 0), -ENOENT);

        /* An absolute link to something the root has is that thing. */
        link_at(t, "/dir/file", "good");
        assert_int_equal(chase_open(t->root_fd, "good", t->walk, O_RDONLY, 0, &fd), 0);
        assert_same_as(t, fd, "dir/file");
        safe_close(fd);
        assert_outside_untouched(t);
}

static void test_relative_escape(void **state) {
        Tree *t = *state;
        int fd;

        link_at(t, "../outside/secret", "rel");
        link_at(t, "../../../../../../../../outside", "reldir");
        link_at(t, "../../../../dir/file", "dir/up");
        assert_int_equal(chase_open(t->root_fd, "rel", t->walk, O_RDONLY, 0, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "rel", t->walk, O_WRONLY | O_CREAT, 0644, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "reldir/secret", t->walk, O_RDONLY, 0, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "dir/up", t->walk, O_RDONLY, 0, &fd), 0);
        assert_same_as(t, fd, "dir/file");
        safe_close(fd);
        assert_outside_untouched(t);
}

static void test_loop(void **state) {
        Tree *t = *state;
        int fd;

        link_at(t, "b", "a");
        link_at(t, "a", "b");
        link_at(t, "self/x", "self");
        assert_int_equal(chase_open(t->root_fd, "a", t->walk, O_RDONLY, 0, &fd), -ELOOP);
        assert_int_equal(chase_open(t->root_fd, "self", t->walk, O_RDONLY, 0, &fd), -ELOOP);
        assert_int_equal(chase_open(t->root_fd, "a/x", t->walk, O_WRONLY | O_CREAT, 0644, &fd), -ELOOP);
}

static void test_dangling(void **state) {
        Tree *t = *state;
        struct stat st;
        int fd;

        link_at(t, "/made-through-link", "dangling");
        assert_int_equal(chase_open(t->root_fd, "dangling", t->walk, O_RDONLY, 0, &fd), -ENOENT);
        assert_int_equal(chase_open(t->root_fd, "dangling", t->walk, O_WRONLY | O_CREAT | O_EXCL, 0644, &fd),
                         -EEXIST);
        assert_int_equal(chase_open(t->root_fd, "dangling", t->walk | CHASE_NO_SYMLINKS, O_WRONLY | O_CREAT,
                                    0644, &fd), -ELOOP);
        /* Creating through it creates the target, below the root. */
        assert_int_equal(chase_open(t->root_fd, "dangling", t->walk, O_WRONLY | O_CREAT, 0644, &fd), 0);
        safe_close(fd);
        assert_int_equal(fstatat(t->root_fd, "made-through-link", &st, AT_SYMLINK_NOFOLLOW), 0);
        assert_true(S_ISREG(st.st_mode));
        /* O_PATH|O_NOFOLLOW gives the link itself. */
        assert_int_equal(chase_open(t->root_fd, "dangling", t->walk | CHASE_NO_SYMLINKS, O_PATH | O_NOFOLLOW, 0,
                                    &fd), 0);
        assert_int_equal(fstat(fd, &st), 0);
        assert_true(S_ISLNK(st.st_mode));
        safe_close(fd);
}

static void test_no_symlinks(void **state) {
        Tree *t = *state;
        char *target = NULL;
        int fd;

        link_at(t, "dir", "dirlink");
        link_at(t, "/dir/file", "dir/filelink");
        assert_int_equal(chase_open(t->root_fd, "dirlink/file", t->walk, O_RDONLY, 0, &fd), 0);
        safe_close(fd);
        assert_int_equal(chase_open(t->root_fd, "dirlink/file", t->walk | CHASE_NO_SYMLINKS, O_RDONLY, 0, &fd),
                         -ELOOP);
        assert_int_equal(chase_open(t->root_fd, "dir/filelink", t->walk | CHASE_NO_SYMLINKS, O_RDONLY, 0, &fd),
                         -ELOOP);
        assert_int_equal(chase_open(t->root_fd, "/dir/file", t->walk | CHASE_NO_SYMLINKS, O_RDONLY, 0, &fd), 0);
        safe_close(fd);
        assert_int_equal(chase_readlink(t->root_fd, "dir/filelink", t->walk | CHASE_NO_SYMLINKS, &target), 0);
        assert_string_equal(target, "/dir/file");
        free(target);
        assert_int_equal(chase_readlink(t->root_fd, "dirlink/filelink", t->walk | CHASE_NO_SYMLINKS, &target),
                         -ELOOP);
        assert_int_equal(chase_readlink(t->root_fd, "dir/file", t->walk, &target), -EINVAL);
}

static void test_symlinked_parent(void **state) {
        Tree *t = *state;
        char p[PATH_MAX + 32];
        int fd;

        /* ROOT/etc -> the host directory; ROOT/run -> ROOT/dir (inside). */
        link_at(t, t->outside, "etc");
        link_at(t, "dir", "run");
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "/etc/secret", t->walk, "x", 1, 0600, (uid_t) -1,
                                                   (gid_t) -1), -ENOENT);
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "/etc/secret", t->walk | CHASE_NO_SYMLINKS, "x",
                                                   1, 0600, (uid_t) -1, (gid_t) -1), -ELOOP);
        assert_int_equal(chase_mkdir_p(t->root_fd, "/etc/sub/dir", t->walk | CHASE_NO_SYMLINKS, 0700,
                                       (uid_t) -1, (gid_t) -1, NULL), -ELOOP);
        assert_int_equal(chase_chown(t->root_fd, "/etc/secret", t->walk | CHASE_NO_SYMLINKS, 0, 0), -ELOOP);
        assert_int_equal(chase_chmod(t->root_fd, "/etc/secret", t->walk, 0777), -ENOENT);
        assert_int_equal(chase_chmod(t->root_fd, "/etc", t->walk, 0777), -ELOOP);
        assert_int_equal(chase_parent(t->root_fd, "/etc/secret", t->walk | CHASE_NO_SYMLINKS, &fd,
                                      &(char *) { NULL }), -ELOOP);
        assert_outside_untouched(t);

        /* Through the inside link the write works unless links are refused. */
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "/run/new", t->walk, "hello", 5, 0640, (uid_t) -1,
                                                   (gid_t) -1), 0);
        snprintf(p, sizeof p, "%s/root/dir/new", t->base);
        char *text = NULL;
        assert_int_equal(read_full_file(p, &text, NULL, 0), 0);
        assert_string_equal(text, "hello");
        free(text);
        struct stat st;
        assert_int_equal(stat(p, &st), 0);
        assert_int_equal(st.st_mode & 07777, 0640);
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "/run/new2", t->walk | CHASE_NO_SYMLINKS, "x", 1,
                                                   0600, (uid_t) -1, (gid_t) -1), -ELOOP);
}

static void test_write_replaces_link(void **state) {
        Tree *t = *state;
        char target[PATH_MAX + 32];
        struct stat st;

        snprintf(target, sizeof target, "%s/secret", t->outside);
        link_at(t, target, "dir/key.pem");
        link_at(t, target, "dir/key2.pem");
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "dir/key.pem", t->walk | CHASE_NO_SYMLINKS, "k", 1,
                                                   0600, (uid_t) -1, (gid_t) -1), 0);
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "dir/key2.pem", t->walk, "k", 1, 0600, (uid_t) -1,
                                                   (gid_t) -1), 0);
        for (const char *const *n = (const char *const[]) { "dir/key.pem", "dir/key2.pem", NULL }; *n; n++) {
                assert_int_equal(fstatat(t->root_fd, *n, &st, AT_SYMLINK_NOFOLLOW), 0);
                assert_true(S_ISREG(st.st_mode));
                assert_int_equal(st.st_mode & 07777, 0600);
        }
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "dir", t->walk, "k", 1, 0600, (uid_t) -1,
                                                   (gid_t) -1), -EISDIR);
        assert_int_equal(write_file_atomic_in_root(t->root_fd, "missing/x", t->walk, "k", 1, 0600, (uid_t) -1,
                                                   (gid_t) -1), -ENOENT);
        assert_outside_untouched(t);
}

static void test_mkdir_p(void **state) {
        Tree *t = *state;
        struct stat st;
        int fd = -EBADF;

        assert_int_equal(chase_mkdir_p(t->root_fd, "/a/b/c", t->walk | CHASE_NO_SYMLINKS, 0710, getuid(),
                                       getgid(), &fd), 1);
        assert_true(fd >= 0);
        assert_same_as(t, fd, "a/b/c");
        safe_close(fd);
        assert_int_equal(fstatat(t->root_fd, "a/b", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0710);
        assert_int_equal(chase_mkdir_p(t->root_fd, "a/b/c/", t->walk, 0700, (uid_t) -1, (gid_t) -1, NULL), 0);
        assert_int_equal(chase_mkdir_p(t->root_fd, "/dir/file/x", t->walk, 0700, (uid_t) -1, (gid_t) -1, NULL),
                         -ENOTDIR);
        /* A dangling link is not made into a directory outside. */
        link_at(t, t->outside, "out");
        link_at(t, "/nowhere", "nowhere-link");
        assert_int_equal(chase_mkdir_p(t->root_fd, "/out/x", t->walk, 0700, (uid_t) -1, (gid_t) -1, NULL),
                         -ENOENT);
        assert_int_equal(chase_mkdir_p(t->root_fd, "/nowhere-link/x", t->walk | CHASE_NO_SYMLINKS, 0700,
                                       (uid_t) -1, (gid_t) -1, NULL), -ELOOP);
        assert_outside_untouched(t);

        /* chmod through the fd, not the path. */
        assert_int_equal(chase_chmod(t->root_fd, "a/b/c", t->walk | CHASE_NO_SYMLINKS, 0751), 0);
        assert_int_equal(fstatat(t->root_fd, "a/b/c", &st, 0), 0);
        assert_int_equal(st.st_mode & 07777, 0751);
        assert_int_equal(chase_chown(t->root_fd, "a/b/c", t->walk, getuid(), getgid()), 0);
}

static void test_inputs(void **state) {
        Tree *t = *state;
        char *text = NULL;
        size_t size;
        int fd;

        assert_int_equal(mkfifoat(t->root_fd, "fifo", 0600), 0);
        link_at(t, "dir/file", "filelink");
        link_at(t, "/etc/shadow", "hostlink");
        assert_int_equal(read_input(t->root_fd, "fifo", 0, 0, &text, &size), -EBADFD);
        assert_int_equal(read_input(t->root_fd, "fifo", INPUT_IN_ROOT, 0, &text, &size), -EBADFD);
        assert_int_equal(read_input(t->root_fd, "dir", 0, 0, &text, &size), -EISDIR);
        assert_int_equal(read_input(t->root_fd, "filelink", 0, 0, &text, &size), -ELOOP);
        assert_int_equal(read_input(t->root_fd, "hostlink", INPUT_IN_ROOT | INPUT_FOLLOW, 0, &text, &size), -ENOENT);
        assert_int_equal(read_input(t->root_fd, "/dev/null", INPUT_FOLLOW, 0, &text, &size), -EBADFD);
        assert_int_equal(read_input(t->root_fd, "filelink", INPUT_IN_ROOT | INPUT_FOLLOW | INPUT_NO_SYMLINKS, 0,
                                    &text, &size), -ELOOP);
        assert_int_equal(read_input(t->root_fd, "filelink", INPUT_FOLLOW, 0, &text, &size), 0);
        assert_string_equal(text, "inside\n");
        assert_int_equal(size, 7);
        free(text);

        /* Bounds: exactly the size passes, one byte less is refused. */
        assert_int_equal(read_input(t->root_fd, "dir/file", 0, 7, &text, &size), 0);
        free(text);
        assert_int_equal(read_input(t->root_fd, "dir/file", INPUT_IN_ROOT, 6, &text, &size), -EFBIG);
        uint64_t sz;
        assert_int_equal(open_input(t->root_fd, "dir/file", 0, 6, &fd, &sz), -EFBIG);
        assert_int_equal(open_input(t->root_fd, "dir/file", 0, 7, &fd, &sz), 0);
        assert_int_equal(sz, 7);
        assert_false(fcntl(fd, F_GETFL) & O_NONBLOCK);
        safe_close(fd);
}

static void test_force_walk_env(void **state) {
        int fd;

        (void) state;
        assert_int_equal(setenv("CHASE_FORCE_WALK", "1", 1), 0);
        assert_true(chase_force_walk());
        test_plain_and_dotdot_at_root(state);
        assert_int_equal(chase_open(((Tree *) *state)->root_fd, "dir/file", 0, O_RDONLY, 0, &fd), 0);
        safe_close(fd);
        assert_int_equal(unsetenv("CHASE_FORCE_WALK"), 0);
        assert_false(chase_force_walk());
}

#define BOTH(f)                                                        \
        cmocka_unit_test_setup_teardown(f, setup_openat2, teardown), \
        cmocka_unit_test_setup_teardown(f, setup_walk, teardown)

int main(void) {
        const struct CMUnitTest tests[] = {
                BOTH(test_plain_and_dotdot_at_root),
                BOTH(test_absolute_link_out),
                BOTH(test_relative_escape),
                BOTH(test_loop),
                BOTH(test_dangling),
                BOTH(test_no_symlinks),
                BOTH(test_symlinked_parent),
                BOTH(test_write_replaces_link),
                BOTH(test_mkdir_p),
                BOTH(test_inputs),
                cmocka_unit_test_setup_teardown(test_force_walk_env, setup_openat2, teardown),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
