/* test-hardening.c — W^X: after callbacks of every mode and signature were
 * created and called, from a foreign thread and from a worker, no mapping
 * of the process is writable and executable at once, and each callback's
 * code lies in a mapping that is executable but not writable. make
 * check-hardening runs it (mk/hardening.mk). */
#include "harness.h"

#include <errno.h>
#include <stdlib.h>

/* One line of /proc/self/maps: its range and permissions, "rwxp". */
struct mapping {
  uintptr_t begin, end;
  char perms[5];
  char line[512];
};

/* Reads the next mapping of `maps`; false at the end. */
static bool next_mapping(FILE *maps, struct mapping *m) {
  if (fgets(m->line, sizeof m->line, maps) == NULL)
    return false;
  m->line[strcspn(m->line, "\n")] = '\0';
  if (sscanf(m->line, "%" SCNxPTR "-%" SCNxPTR " %4s", &m->begin, &m->end, m->perms) != 3)
    FAIL("cannot parse this line of /proc/self/maps: %s", m->line);
  return true;
}

/* Fails, naming the line, if any mapping is writable and executable.
 * Under valgrind the process holds valgrind's own rwx pages: there only
 * the callbacks' own mappings are checked (check_code_sealed). */
static void check_no_wx_mapping(const char *when) {
  if (under_valgrind())
    return;
  FILE *maps = fopen("/proc/self/maps", "r");
  if (maps == NULL)
    FAIL("fopen /proc/self/maps: %s", strerror(errno));
  struct mapping m;
  while (next_mapping(maps, &m)) {
    if (m.perms[1] == 'w' && m.perms[2] == 'x')
      FAIL("%s: a mapping is writable and executable: %s", when, m.line);
  }
  fclose(maps);
}

/* Fails unless `code` lies in a mapping that is executable, not writable. */
static void check_code_sealed(const void *code) {
  FILE *maps = fopen("/proc/self/maps", "r");
  if (maps == NULL)
    FAIL("fopen /proc/self/maps: %s", strerror(errno));
  struct mapping m;
  bool found = false;
  while (!found && next_mapping(maps, &m))
    found = (uintptr_t)code >= m.begin && (uintptr_t)code < m.end;
  fclose(maps);
  if (!found)
    FAIL("callback code %p is in no mapping", code);
  if (m.perms[1] != '-' || m.perms[2] != 'x')
    FAIL("callback code %p lies in a mapping that is not executable-only: %s", code, m.line);
}

static atomic_int handled;

static void handler(void *result, void **args, void *user) {
  (void)args;
  (void)user;
  if (result != NULL)
    memset(result, 0, 8);
  atomic_fetch_add(&handled, 1);
}

/* Every mode with a few signatures: each is created, then called once. */
struct kind {
  rt_callback_mode_t mode;
  rt_type_t ret;
  rt_type_t args[3];
  size_t nargs;
};

static const struct kind kinds[] = {
    {RT_CALLBACK_POST, RT_TYPE_VOID, {RT_TYPE_VOID}, 0},
    {RT_CALLBACK_POST, RT_TYPE_VOID, {RT_TYPE_INT, RT_TYPE_DOUBLE, RT_TYPE_POINTER}, 3},
    {RT_CALLBACK_WAIT, RT_TYPE_VOID, {RT_TYPE_VOID}, 0},
    {RT_CALLBACK_WAIT, RT_TYPE_INT, {RT_TYPE_LONG, RT_TYPE_FLOAT}, 2},
    {RT_CALLBACK_WAIT, RT_TYPE_DOUBLE, {RT_TYPE_SIZE}, 1},
    {RT_CALLBACK_WAIT, RT_TYPE_POINTER, {RT_TYPE_POINTER, RT_TYPE_UINT8}, 2},
};
enum { NKINDS = sizeof kinds / sizeof kinds[0], ROUNDS = 8, NCALLBACKS = NKINDS * ROUNDS };

/* Calls a callback of kinds[k] through its real C type. */
static void call(size_t k, void *code) {
  switch (k) {
  case 0: ((void (*)(void))code)(); break;
  case 1: ((void (*)(int, double, void *))code)(1, 2.0, NULL); break;
  case 2: ((void (*)(void))code)(); break;
  case 3: CHECK_EQ(((int (*)(long, float))code)(3, 4.0f), 0); break;
  case 4: CHECK_TRUE(((double (*)(size_t))code)(5) == 0.0); break;
  case 5: CHECK_NULL(((void *(*)(void *, uint8_t))code)(NULL, 6)); break;
  default: FAIL("no kind %zu", k);
  }
}

struct set {
  rt_callback_t *cb[NCALLBACKS];
  void *code[NCALLBACKS];
};

static void make_all(rt_handle_t *h, struct set *s) {
  for (size_t i = 0; i < NCALLBACKS; i++) {
    const struct kind *k = &kinds[i % NKINDS];
    s->cb[i] = rt_callback_new(h, k->mode, k->ret, k->args, k->nargs, handler, NULL, &s->code[i]);
    CHECK_NOT_NULL(s->cb[i]);
  }
}

static void call_all(struct set *s) {
  for (size_t i = 0; i < NCALLBACKS; i++)
    call(i % NKINDS, s->code[i]);
}

static void *call_all_fn(void *s) {
  call_all(s);
  return NULL;
}

TEST(hardening_no_writable_executable_mapping) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  struct set s;
  make_all(h, &s);
  check_no_wx_mapping("after rt_callback_new");
  for (size_t i = 0; i < NCALLBACKS; i++)
    check_code_sealed(s.code[i]);

  /* Called from a foreign thread and from a worker (WAIT runs inline). */
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, call_all_fn, &s), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_RC(rt_block_on(h, call_all_fn, &s, NULL), RT_OK);
  check_no_wx_mapping("after the calls");

  /* Freed and made again: the new ones are sealed too. */
  for (size_t i = 0; i < NCALLBACKS; i += 2)
    rt_callback_free(s.cb[i]);
  for (size_t i = 0; i < NCALLBACKS; i += 2) {
    const struct kind *k = &kinds[i % NKINDS];
    s.cb[i] = rt_callback_new(h, k->mode, k->ret, k->args, k->nargs, handler, NULL, &s.code[i]);
    CHECK_NOT_NULL(s.cb[i]);
    check_code_sealed(s.code[i]);
  }
  call_all(&s);
  check_no_wx_mapping("after freeing and making again");

  for (size_t i = 0; i < NCALLBACKS; i++)
    rt_callback_free(s.cb[i]);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  /* 3 rounds of calls, the last after half were made again. POST calls
   * ran before rt_callback_free returned. */
  CHECK_EQ(atomic_load(&handled), 3 * NCALLBACKS);
}
