/*
 * tree_hash.c — walk a directory tree with nftw through a trampoline and
 * hash its files in parallel on the runtime.
 *
 * nftw's callback, `int (*)(const char *, const struct stat *, int,
 * struct FTW *)`, takes no user-data pointer. A WAIT trampoline is a real
 * function pointer of that type, bound to a handler and its own `user`:
 *
 *   - each nftw call runs the handler on a worker while nftw waits, so the
 *     path and stat pointers, valid only during the call, can be read there
 *     (why WAIT, not POST), and the handler's int result goes back to nftw;
 *   - the handler spawns one task per regular file (rt_spawn_full), which
 *     hashes the file in parallel while the walk goes on; main joins them
 *     after nftw returned;
 *   - the digest combines the files' relative paths and hashes in path
 *     order, so it does not depend on which task finished first. It is
 *     checked against a plain one-thread walk; a mismatch exits 1.
 *
 * The tree is made here (in $TMPDIR or /tmp) and removed at the end.
 *
 * Output:
 *   tree: 26 files in 7 directories
 *   digest (runtime):    974c451b0ecbc892
 *   digest (one thread): 974c451b0ecbc892
 */
#define _XOPEN_SOURCE 700 /* nftw, mkdtemp */

#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rtctx.h"

/* ------------------------------------------------------------------------ */
/* Hashing (FNV-1a, 64 bits)                                                 */
/* ------------------------------------------------------------------------ */

#define FNV_OFFSET 0xcbf29ce484222325ull

static uint64_t fnv1a(uint64_t h, const void *data, size_t n) {
  const unsigned char *p = data;
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ull;
  }
  return h;
}

/* The hash of a file's contents; false if it cannot be read. */
static bool hash_file(const char *path, uint64_t *out) {
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return false;
  uint64_t h = FNV_OFFSET;
  unsigned char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0)
    h = fnv1a(h, buf, n);
  bool ok = !ferror(f);
  fclose(f);
  *out = h;
  return ok;
}

/* ------------------------------------------------------------------------ */
/* The list of files found                                                   */
/* ------------------------------------------------------------------------ */

struct entry {
  char *path;      /* absolute, for hashing */
  const char *rel; /* relative to the root, for the digest */
  uint64_t hash;
  bool ok;
  rt_task_t *task; /* the hashing task (runtime walk only) */
};

struct walk {
  size_t root_len;
  struct entry **entries; /* each entry on its own: tasks keep pointers */
  size_t count, capacity;
  size_t dirs;
  bool failed;
  rt_handle_t *runtime; /* NULL for the one-thread walk */
};

static struct entry *add_entry(struct walk *w, const char *path) {
  if (w->count == w->capacity) {
    size_t capacity = w->capacity ? w->capacity * 2 : 16;
    struct entry **bigger = realloc(w->entries, capacity * sizeof *bigger);
    if (bigger == NULL)
      return NULL;
    w->entries = bigger;
    w->capacity = capacity;
  }
  struct entry *e = calloc(1, sizeof *e);
  if (e == NULL || (e->path = strdup(path)) == NULL) {
    free(e);
    return NULL;
  }
  e->rel = e->path + w->root_len;
  w->entries[w->count++] = e;
  return e;
}

static int by_path(const void *a, const void *b) {
  return strcmp((*(struct entry *const *)a)->rel, (*(struct entry *const *)b)->rel);
}

static uint64_t digest(struct walk *w) {
  qsort(w->entries, w->count, sizeof *w->entries, by_path);
  uint64_t d = FNV_OFFSET;
  for (size_t i = 0; i < w->count; i++) {
    const struct entry *e = w->entries[i];
    d = fnv1a(d, e->rel, strlen(e->rel) + 1);
    d = fnv1a(d, &e->hash, sizeof e->hash);
  }
  return d;
}

static void free_walk(struct walk *w) {
  for (size_t i = 0; i < w->count; i++) {
    free(w->entries[i]->path);
    free(w->entries[i]);
  }
  free(w->entries);
}

/* ------------------------------------------------------------------------ */
/* The walk through the runtime                                              */
/* ------------------------------------------------------------------------ */

static void *hash_task(void *arg) {
  struct entry *e = arg;
  e->ok = hash_file(e->path, &e->hash);
  return NULL;
}

/* The trampoline's handler: one nftw call, run on a worker. args[i] points
 * at argument i: the path, the stat buffer, the type flag, the FTW record.
 * nftw calls one at a time and waits for each, so `w` needs no lock. */
static void visit(void *result, void **args, void *user) {
  struct walk *w = user;
  const char *path = *(const char **)args[0];
  int type = *(int *)args[2];
  *(int *)result = 0; /* go on walking */
  if (type == FTW_D)
    w->dirs++;
  if (type != FTW_F)
    return;
  /* The path is copied: nftw reuses its buffer once this call returns. */
  struct entry *e = add_entry(w, path);
  if (e == NULL || rt_spawn_full(w->runtime, hash_task, e, NULL, &e->task) != RT_OK) {
    w->failed = true;
    *(int *)result = 1; /* stop: nftw returns 1 */
  }
}

static bool join_hashes(struct walk *w) {
  bool ok = true;
  for (size_t i = 0; i < w->count; i++) {
    struct entry *e = w->entries[i];
    if (e->task == NULL) {
      ok = false;
      continue;
    }
    ok &= rt_task_join(e->task, -1, NULL) == RT_OK && e->ok;
    rt_task_release(e->task);
  }
  return ok;
}

/* ------------------------------------------------------------------------ */
/* The one-thread walk, for comparison                                       */
/* ------------------------------------------------------------------------ */

static struct walk *plain; /* nftw has no user data: a global it is */

static int plain_visit(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb;
  (void)ftw;
  if (type == FTW_D)
    plain->dirs++;
  if (type != FTW_F)
    return 0;
  struct entry *e = add_entry(plain, path);
  if (e == NULL || !(e->ok = hash_file(path, &e->hash)))
    return 1;
  return 0;
}

/* ------------------------------------------------------------------------ */
/* The sample tree                                                           */
/* ------------------------------------------------------------------------ */

static bool write_file(const char *path, unsigned seed) {
  FILE *f = fopen(path, "wb");
  if (f == NULL)
    return false;
  /* Deterministic contents of varying size. */
  for (unsigned i = 0; i < 200 + seed * 97; i++)
    fputc((int)((i * 31 + seed * 7) & 0xff), f);
  return fclose(f) == 0;
}

/* root/name into path; false if it does not fit. */
static bool join_path(char *path, size_t size, const char *root, const char *name) {
  int n = snprintf(path, size, "%s/%s", root, name);
  return n > 0 && (size_t)n < size;
}

static bool make_tree(const char *root) {
  static const char *const dirs[] = {"src", "src/core", "src/util", "docs", "docs/img", "tests"};
  enum { NDIRS = sizeof dirs / sizeof dirs[0] };
  char path[4096], name[64];
  for (size_t i = 0; i < NDIRS; i++) {
    if (!join_path(path, sizeof path, root, dirs[i]) || mkdir(path, 0700) != 0)
      return false;
  }
  unsigned seed = 0;
  for (size_t i = 0; i < NDIRS; i++) {
    for (int j = 0; j < 4; j++) {
      snprintf(name, sizeof name, "%s/file%d.dat", dirs[i], j);
      if (!join_path(path, sizeof path, root, name) || !write_file(path, seed++))
        return false;
    }
  }
  if (!join_path(path, sizeof path, root, "README") || !write_file(path, seed++))
    return false;
  return join_path(path, sizeof path, root, "empty") && write_file(path, 0) &&
         truncate(path, 0) == 0;
}

static int remove_one(const char *path, const struct stat *sb, int type, struct FTW *ftw) {
  (void)sb;
  (void)type;
  (void)ftw;
  return remove(path);
}

/* ------------------------------------------------------------------------ */

int main(void) {
  const char *tmp = getenv("TMPDIR");
  char root[4096];
  snprintf(root, sizeof root, "%s/rtctx-tree-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (mkdtemp(root) == NULL) {
    perror("mkdtemp");
    return 1;
  }
  int failed = !make_tree(root);
  if (failed)
    fprintf(stderr, "could not create the sample tree in %s\n", root);

  rt_runtime_t *rt = rt_new(NULL);
  if (rt == NULL) {
    fprintf(stderr, "rt_new failed\n");
    return 1;
  }
  rt_handle_t *h = rt_handle(rt);

  /* int (*)(const char *, const struct stat *, int, struct FTW *) */
  const rt_type_t args[4] = {RT_TYPE_POINTER, RT_TYPE_POINTER, RT_TYPE_INT, RT_TYPE_POINTER};
  struct walk w = {.root_len = strlen(root) + 1, .runtime = h};
  void *code = NULL;
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, args, 4, visit, &w, &code);
  if (cb == NULL) {
    fprintf(stderr, "rt_callback_new failed\n");
    return 1;
  }

  uint64_t runtime_digest = 0;
  if (!failed) {
    typedef int (*nftw_fn)(const char *, const struct stat *, int, struct FTW *);
    int walked = nftw(root, (nftw_fn)code, 16, FTW_PHYS);
    /* Join whatever was spawned, even after a failure. */
    if (!join_hashes(&w) || walked != 0 || w.failed) {
      fprintf(stderr, "the runtime walk failed\n");
      failed = 1;
    }
    runtime_digest = digest(&w);
  }
  rt_callback_free(cb);
  int rc = rt_shutdown(rt);
  rt_handle_release(h);
  if (rc != RT_OK) {
    fprintf(stderr, "rt_shutdown: %s\n", rt_strerror(rc));
    failed = 1;
  }

  struct walk one = {.root_len = strlen(root) + 1};
  plain = &one;
  if (!failed && nftw(root, plain_visit, 16, FTW_PHYS) != 0) {
    fprintf(stderr, "the one-thread walk failed\n");
    failed = 1;
  }
  uint64_t one_digest = digest(&one);

  if (!failed) {
    printf("tree: %zu files in %zu directories\n", w.count, w.dirs);
    printf("digest (runtime):    %016" PRIx64 "\n", runtime_digest);
    printf("digest (one thread): %016" PRIx64 "\n", one_digest);
    if (runtime_digest != one_digest || w.count != one.count || w.dirs != one.dirs) {
      fprintf(stderr, "mismatch between the runtime walk and the one-thread walk\n");
      failed = 1;
    }
  }

  free_walk(&w);
  free_walk(&one);
  if (nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
    fprintf(stderr, "could not remove %s\n", root);
    failed = 1;
  }
  return failed;
}
