/* test-callback.c — FFI callback trampolines (rt_callback_new/free): real C
 * function pointers that carry every rt_type_t, in POST and WAIT mode, from
 * foreign threads and from workers; after shutdown; bad signatures. */
#include "harness.h"

#include <float.h>
#include <limits.h>
#include <stdlib.h>

/* ------------------------------------------------------------------------ */
/* Helpers                                                                   */
/* ------------------------------------------------------------------------ */

static size_t type_size(rt_type_t t) {
  switch (t) {
  case RT_TYPE_VOID: return 0;
  case RT_TYPE_INT: return sizeof(int);
  case RT_TYPE_UINT: return sizeof(unsigned);
  case RT_TYPE_LONG: return sizeof(long);
  case RT_TYPE_ULONG: return sizeof(unsigned long);
  case RT_TYPE_INT8: return sizeof(int8_t);
  case RT_TYPE_UINT8: return sizeof(uint8_t);
  case RT_TYPE_INT16: return sizeof(int16_t);
  case RT_TYPE_UINT16: return sizeof(uint16_t);
  case RT_TYPE_INT32: return sizeof(int32_t);
  case RT_TYPE_UINT32: return sizeof(uint32_t);
  case RT_TYPE_INT64: return sizeof(int64_t);
  case RT_TYPE_UINT64: return sizeof(uint64_t);
  case RT_TYPE_SIZE: return sizeof(size_t);
  case RT_TYPE_FLOAT: return sizeof(float);
  case RT_TYPE_DOUBLE: return sizeof(double);
  case RT_TYPE_POINTER: return sizeof(void *);
  }
  FAIL("unknown type %d", (int)t);
}

/* Runs fn(arg) on a new thread the runtime never saw, and joins it. */
static void on_foreign_thread(void *(*fn)(void *), void *arg) {
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, fn, arg), 0);
  CHECK_EQ(pthread_join(t, NULL), 0);
}

/* What a handler saw: argument bytes, the thread and the current handle. */
enum { MAX_SLOTS = 64 };
struct record {
  const rt_type_t *types;   /* argument types, for sizes */
  size_t nargs;
  rt_type_t ret;
  unsigned char ret_bytes[8]; /* what the handler writes as its result */
  unsigned char got[MAX_SLOTS][8];
  atomic_int calls;
  atomic_int off_caller;  /* calls that ran on another thread than `caller` */
  atomic_int wrong_handle; /* calls where rt_handle_current() != handle */
  pthread_t caller;
  rt_handle_t *handle;
};

static void record_init(struct record *r, rt_handle_t *h, rt_type_t ret,
                        const rt_type_t *types, size_t nargs) {
  memset(r, 0, sizeof *r);
  r->types = types;
  r->nargs = nargs;
  r->ret = ret;
  r->handle = h;
  r->caller = pthread_self();
  atomic_init(&r->calls, 0);
  atomic_init(&r->off_caller, 0);
  atomic_init(&r->wrong_handle, 0);
}

static void note_context(struct record *r) {
  if (!pthread_equal(pthread_self(), r->caller))
    atomic_fetch_add(&r->off_caller, 1);
  if (rt_handle_current() != r->handle)
    atomic_fetch_add(&r->wrong_handle, 1);
}

/* Copies every argument into got[0..nargs) and ret_bytes into the result. */
static void record_handler(void *result, void **args, void *user) {
  struct record *r = user;
  note_context(r);
  for (size_t i = 0; i < r->nargs; i++)
    memcpy(r->got[i], args[i], type_size(r->types[i]));
  if (r->ret == RT_TYPE_VOID) {
    CHECK_NULL(result);
  } else {
    CHECK_NOT_NULL(result);
    memcpy(result, r->ret_bytes, type_size(r->ret));
  }
  atomic_fetch_add(&r->calls, 1);
}

/* ------------------------------------------------------------------------ */
/* Every type, both modes, from a foreign thread                            */
/* ------------------------------------------------------------------------ */

/* POST: void(T value, int slot) stores value in got[slot].
 * WAIT: T(T value) returns value. */
static void slot_handler(void *result, void **args, void *user) {
  struct record *r = user;
  note_context(r);
  int slot = *(int *)args[1];
  CHECK_NULL(result);
  CHECK_TRUE(slot >= 0 && slot < MAX_SLOTS);
  memcpy(r->got[slot], args[0], type_size(r->types[0]));
  atomic_fetch_add(&r->calls, 1);
}

static void identity_handler(void *result, void **args, void *user) {
  struct record *r = user;
  note_context(r);
  memcpy(result, args[0], type_size(r->ret));
  atomic_fetch_add(&r->calls, 1);
}

struct type_case {
  rt_type_t type;
  void *post;
  void *wait;
  struct record *post_rec;
};

static int marker;

/* Calls both trampolines with a few edge values of T; POST values go to
 * slots 0..n-1 and are checked after rt_callback_free waited for them. */
#define TYPE_CASE(T, ctype, ...)                                               \
  case T: {                                                                    \
    ctype vals_[] = {__VA_ARGS__};                                             \
    size_t n_ = sizeof vals_ / sizeof vals_[0];                                \
    for (size_t k_ = 0; k_ < n_; k_++) {                                       \
      ((void (*)(ctype, int))c->post)(vals_[k_], (int)k_);                     \
      ctype got_ = ((ctype(*)(ctype))c->wait)(vals_[k_]);                      \
      if (memcmp(&got_, &vals_[k_], sizeof got_) != 0)                         \
        FAIL("WAIT %s: value %zu did not round-trip", #T, k_);                 \
    }                                                                          \
    expected_ = malloc(sizeof vals_);                                          \
    CHECK_NOT_NULL(expected_);                                                 \
    memcpy(expected_, vals_, sizeof vals_);                                    \
    count_ = n_;                                                               \
    break;                                                                     \
  }

struct type_run {
  struct type_case *c;
  void *expected; /* malloc'd copy of the values posted */
  size_t count;
};

static void *call_every_value(void *arg) {
  struct type_run *run = arg;
  struct type_case *c = run->c;
  void *expected_ = NULL;
  size_t count_ = 0;
  switch (c->type) {
    TYPE_CASE(RT_TYPE_INT, int, INT_MIN, -1, 0, INT_MAX)
    TYPE_CASE(RT_TYPE_UINT, unsigned, 0u, 1u, 0x80000000u, UINT_MAX)
    TYPE_CASE(RT_TYPE_LONG, long, LONG_MIN, -1L, LONG_MAX)
    TYPE_CASE(RT_TYPE_ULONG, unsigned long, 0ul, ULONG_MAX, ULONG_MAX / 2 + 1)
    TYPE_CASE(RT_TYPE_INT8, int8_t, INT8_MIN, -1, 0, INT8_MAX)
    TYPE_CASE(RT_TYPE_UINT8, uint8_t, 0, 0x7f, 0x80, UINT8_MAX)
    TYPE_CASE(RT_TYPE_INT16, int16_t, INT16_MIN, -1, 0, INT16_MAX)
    TYPE_CASE(RT_TYPE_UINT16, uint16_t, 0, 0x8000, UINT16_MAX)
    TYPE_CASE(RT_TYPE_INT32, int32_t, INT32_MIN, -1, 0, INT32_MAX)
    TYPE_CASE(RT_TYPE_UINT32, uint32_t, 0, 0x80000000u, UINT32_MAX)
    TYPE_CASE(RT_TYPE_INT64, int64_t, INT64_MIN, -1, 0, INT64_MAX)
    TYPE_CASE(RT_TYPE_UINT64, uint64_t, 0, 0x8000000000000000ull, UINT64_MAX)
    TYPE_CASE(RT_TYPE_SIZE, size_t, 0, SIZE_MAX / 2 + 1, SIZE_MAX)
    TYPE_CASE(RT_TYPE_FLOAT, float, -1.5f, 0.0f, FLT_MIN, FLT_MAX, -FLT_MAX)
    TYPE_CASE(RT_TYPE_DOUBLE, double, -2.25, 0.0, DBL_MIN, DBL_MAX, -1e300)
    TYPE_CASE(RT_TYPE_POINTER, void *, NULL, &marker, (void *)UINTPTR_MAX)
  case RT_TYPE_VOID:
    break;
  }
  run->expected = expected_;
  run->count = count_;
  return NULL;
}

/* Every argument and return type crosses a trampoline unchanged: as a POST
 * argument (copied, handler later) and as a WAIT argument and result, called
 * from a foreign thread; the handler runs on a worker with the runtime
 * current. */
TEST(callback_every_type_round_trips) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  uint64_t calls = 0;
  for (int t = RT_TYPE_INT; t <= RT_TYPE_POINTER; t++) {
    rt_type_t post_types[2] = {(rt_type_t)t, RT_TYPE_INT};
    rt_type_t wait_types[1] = {(rt_type_t)t};
    struct record post_rec, wait_rec;
    record_init(&post_rec, h, RT_TYPE_VOID, post_types, 2);
    record_init(&wait_rec, h, (rt_type_t)t, wait_types, 1);
    struct type_case c = {(rt_type_t)t, NULL, NULL, &post_rec};
    rt_callback_t *post = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, post_types,
                                          2, slot_handler, &post_rec, &c.post);
    rt_callback_t *wait = rt_callback_new(h, RT_CALLBACK_WAIT, (rt_type_t)t, wait_types,
                                          1, identity_handler, &wait_rec, &c.wait);
    CHECK_NOT_NULL(post);
    CHECK_NOT_NULL(wait);
    CHECK_NOT_NULL(c.post);
    CHECK_NOT_NULL(c.wait);
    CHECK_PTR_NE(c.post, c.wait);

    struct type_run run = {&c, NULL, 0};
    /* The records' caller is this thread; the calls come from another one,
     * and the handlers must run on neither. */
    on_foreign_thread(call_every_value, &run);
    rt_callback_free(post); /* waits for the POST calls */
    rt_callback_free(wait);

    CHECK_GT(run.count, 0);
    CHECK_EQ(atomic_load(&post_rec.calls), run.count);
    CHECK_EQ(atomic_load(&wait_rec.calls), run.count);
    size_t size = type_size((rt_type_t)t);
    for (size_t k = 0; k < run.count; k++) {
      if (memcmp(post_rec.got[k], (unsigned char *)run.expected + k * size, size) != 0)
        FAIL("POST type %d: value %zu did not round-trip", t, k);
    }
    CHECK_EQ(atomic_load(&post_rec.off_caller), run.count);
    CHECK_EQ(atomic_load(&wait_rec.off_caller), run.count);
    CHECK_EQ(atomic_load(&post_rec.wrong_handle), 0);
    CHECK_EQ(atomic_load(&wait_rec.wrong_handle), 0);
    calls += 2 * run.count;
    free(run.expected);
  }
  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  /* Each call from outside is one task; none was refused. */
  CHECK_EQ(s.spawned, calls);
  CHECK_EQ(s.completed, calls);
  CHECK_EQ(s.rejected, 0);
  rt_handle_release(h);
}

/* ------------------------------------------------------------------------ */
/* Mixed signatures, 0 to 12 arguments                                       */
/* ------------------------------------------------------------------------ */

/* Twelve arguments of mixed classes; signature n takes the first n. With 8
 * integer-class arguments, two go on the stack on x86-64 (six registers). */
static const rt_type_t mixed_types[12] = {
    RT_TYPE_INT,   RT_TYPE_DOUBLE, RT_TYPE_POINTER, RT_TYPE_INT8,
    RT_TYPE_FLOAT, RT_TYPE_UINT64, RT_TYPE_INT16,   RT_TYPE_DOUBLE,
    RT_TYPE_UINT8, RT_TYPE_LONG,   RT_TYPE_FLOAT,   RT_TYPE_SIZE,
};
static const int v0 = -123456;
static const double v1 = 3.25;
static void *const v2 = &marker;
static const int8_t v3 = -5;
static const float v4 = -0.5f;
static const uint64_t v5 = 0xFEDCBA9876543210ull;
static const int16_t v6 = -30000;
static const double v7 = -1e-300;
static const uint8_t v8 = 200;
static const long v9 = LONG_MIN + 1;
static const float v10 = 7.75f;
static const size_t v11 = SIZE_MAX - 1;
static const void *const mixed_values[12] = {&v0, &v1, &v2, &v3,  &v4,  &v5,
                                             &v6, &v7, &v8, &v9, &v10, &v11};

#define A0 void
#define A1 int
#define A2 A1, double
#define A3 A2, void *
#define A4 A3, int8_t
#define A5 A4, float
#define A6 A5, uint64_t
#define A7 A6, int16_t
#define A8 A7, double
#define A9 A8, uint8_t
#define A10 A9, long
#define A11 A10, float
#define A12 A11, size_t
#define V0
#define V1 v0
#define V2 V1, v1
#define V3 V2, v2
#define V4 V3, v3
#define V5 V4, v4
#define V6 V5, v5
#define V7 V6, v6
#define V8 V7, v7
#define V9 V8, v8
#define V10 V9, v9
#define V11 V10, v10
#define V12 V11, v11

static void check_mixed_args(const struct record *r, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (memcmp(r->got[i], mixed_values[i], type_size(mixed_types[i])) != 0)
      FAIL("arity %zu: argument %zu did not arrive intact", n, i);
  }
}

/* A WAIT trampoline of arity n returning R: the handler must see the n
 * arguments and the caller must get the value the handler wrote. */
#define MIXED_WAIT(n, RT, R, value)                                            \
  do {                                                                         \
    struct record r_;                                                          \
    record_init(&r_, h, RT, mixed_types, n);                                   \
    R want_ = (value);                                                         \
    memcpy(r_.ret_bytes, &want_, sizeof want_);                                \
    void *code_ = NULL;                                                        \
    rt_callback_t *cb_ = rt_callback_new(h, RT_CALLBACK_WAIT, RT, mixed_types, \
                                         n, record_handler, &r_, &code_);      \
    CHECK_NOT_NULL(cb_);                                                       \
    R got_ = ((R(*)(A##n))code_)(V##n);                                        \
    if (memcmp(&got_, &want_, sizeof got_) != 0)                               \
      FAIL("arity %d: result did not round-trip", n);                          \
    CHECK_EQ(atomic_load(&r_.calls), 1);                                       \
    CHECK_EQ(atomic_load(&r_.off_caller), 1);                                  \
    check_mixed_args(&r_, n);                                                  \
    rt_callback_free(cb_);                                                     \
  } while (0)

/* The same signature in POST mode (void result): checked after the free. */
#define MIXED_POST(n)                                                          \
  do {                                                                         \
    struct record r_;                                                          \
    record_init(&r_, h, RT_TYPE_VOID, mixed_types, n);                         \
    void *code_ = NULL;                                                        \
    rt_callback_t *cb_ = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID,    \
                                         n ? mixed_types : NULL, n,            \
                                         record_handler, &r_, &code_);         \
    CHECK_NOT_NULL(cb_);                                                       \
    ((void (*)(A##n))code_)(V##n);                                             \
    rt_callback_free(cb_);                                                     \
    CHECK_EQ(atomic_load(&r_.calls), 1);                                       \
    CHECK_EQ(atomic_load(&r_.off_caller), 1);                                  \
    check_mixed_args(&r_, n);                                                  \
  } while (0)

static void *mixed_signatures(void *arg) {
  rt_handle_t *h = arg;
  MIXED_WAIT(0, RT_TYPE_INT64, int64_t, INT64_MIN + 3);
  MIXED_WAIT(1, RT_TYPE_DOUBLE, double, -6.5);
  MIXED_WAIT(2, RT_TYPE_INT8, int8_t, -77);
  MIXED_WAIT(3, RT_TYPE_FLOAT, float, 1e-30f);
  MIXED_WAIT(4, RT_TYPE_POINTER, void *, &marker);
  MIXED_WAIT(5, RT_TYPE_UINT16, uint16_t, 0xBEEF);
  MIXED_WAIT(6, RT_TYPE_INT, int, -42);
  MIXED_WAIT(7, RT_TYPE_UINT64, uint64_t, 0x0123456789ABCDEFull);
  MIXED_WAIT(8, RT_TYPE_UINT8, uint8_t, 0xFE);
  MIXED_WAIT(9, RT_TYPE_DOUBLE, double, 1e300);
  MIXED_WAIT(10, RT_TYPE_LONG, long, LONG_MIN);
  MIXED_WAIT(11, RT_TYPE_FLOAT, float, -3.0f);
  MIXED_WAIT(12, RT_TYPE_INT16, int16_t, -2);
  MIXED_POST(0);
  MIXED_POST(1);
  MIXED_POST(2);
  MIXED_POST(3);
  MIXED_POST(4);
  MIXED_POST(5);
  MIXED_POST(6);
  MIXED_POST(7);
  MIXED_POST(8);
  MIXED_POST(9);
  MIXED_POST(10);
  MIXED_POST(11);
  MIXED_POST(12);
  return NULL;
}

/* Twelve floating-point arguments: four go on the stack on x86-64. */
static const rt_type_t float_types[12] = {
    RT_TYPE_DOUBLE, RT_TYPE_FLOAT, RT_TYPE_DOUBLE, RT_TYPE_FLOAT,
    RT_TYPE_DOUBLE, RT_TYPE_FLOAT, RT_TYPE_DOUBLE, RT_TYPE_FLOAT,
    RT_TYPE_DOUBLE, RT_TYPE_FLOAT, RT_TYPE_DOUBLE, RT_TYPE_FLOAT,
};

static void weighted_sum(void *result, void **args, void *user) {
  (void)user;
  double sum = 0;
  for (int i = 0; i < 12; i++)
    sum += (i + 1) * (i % 2 == 0 ? *(double *)args[i] : (double)*(float *)args[i]);
  *(double *)result = sum;
}

/* Argument i of a 32-argument trampoline is worth 2^i. */
static void bit_sum(void *result, void **args, void *user) {
  size_t n = *(size_t *)user;
  uint64_t sum = 0;
  for (size_t i = 0; i < n; i++)
    sum += *(uint64_t *)args[i] << i;
  *(uint64_t *)result = sum;
}

#define U4 uint64_t, uint64_t, uint64_t, uint64_t
#define U32 U4, U4, U4, U4, U4, U4, U4, U4

/* Signatures of 0 to 12 arguments mixing integers of every width, floats,
 * doubles and pointers (some on the stack), in both modes; and the most
 * arguments a trampoline takes. */
TEST(callback_mixed_signatures) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  on_foreign_thread(mixed_signatures, h);

  void *code = NULL;
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_DOUBLE, float_types, 12,
                                      weighted_sum, NULL, &code);
  CHECK_NOT_NULL(cb);
  double got = ((double (*)(double, float, double, float, double, float, double, float,
                            double, float, double, float))code)(
      1.0, 2.0f, 3.0, 4.0f, 5.0, 6.0f, 7.0, 8.0f, 9.0, 10.0f, 11.0, 12.0f);
  double want = 0;
  for (int i = 1; i <= 12; i++)
    want += i * i;
  CHECK_TRUE(got == want);
  rt_callback_free(cb);

  rt_type_t many[RT_CALLBACK_MAX_ARGS];
  for (size_t i = 0; i < RT_CALLBACK_MAX_ARGS; i++)
    many[i] = RT_TYPE_UINT64;
  size_t n = RT_CALLBACK_MAX_ARGS;
  cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_UINT64, many, n, bit_sum, &n, &code);
  CHECK_NOT_NULL(cb);
  /* Every other bit: 0x55555555. */
  uint64_t bits = ((uint64_t (*)(U32))code)(1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0,
                                            1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0);
  CHECK_EQ(bits, 0x55555555ull);
  rt_callback_free(cb);

  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
}

/* ------------------------------------------------------------------------ */
/* Many threads at once                                                      */
/* ------------------------------------------------------------------------ */

enum { THREADS = 8, CALLS_PER_THREAD = 2000 };

struct crowd {
  void *post;
  void *wait;
  pthread_barrier_t start;
  atomic_int per_thread[THREADS];
  atomic_uint_least64_t seq_sum;
  atomic_int waits;
};

struct crowd_member {
  struct crowd *crowd;
  int index;
};

static void crowd_post(void *result, void **args, void *user) {
  struct crowd *c = user;
  CHECK_NULL(result);
  int index = *(int *)args[0];
  CHECK_TRUE(index >= 0 && index < THREADS);
  atomic_fetch_add(&c->per_thread[index], 1);
  atomic_fetch_add(&c->seq_sum, *(uint64_t *)args[1]);
}

static void crowd_wait(void *result, void **args, void *user) {
  struct crowd *c = user;
  atomic_fetch_add(&c->waits, 1);
  *(uint64_t *)result = *(uint64_t *)args[0] * 2 + 1;
}

static void *crowd_main(void *arg) {
  struct crowd_member *m = arg;
  struct crowd *c = m->crowd;
  pthread_barrier_wait(&c->start);
  for (uint64_t i = 0; i < CALLS_PER_THREAD; i++) {
    ((void (*)(int, uint64_t))c->post)(m->index, i);
    uint64_t x = ((uint64_t)m->index << 32) | i;
    uint64_t got = ((uint64_t (*)(uint64_t))c->wait)(x);
    if (got != x * 2 + 1)
      FAIL("thread %d call %" PRIu64 ": WAIT returned %" PRIu64, m->index, i, got);
  }
  return NULL;
}

/* Eight foreign threads call one POST and one WAIT trampoline at once:
 * every call runs exactly once, with its own arguments. */
TEST(callback_many_threads) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  struct crowd *c = calloc(1, sizeof *c);
  CHECK_NOT_NULL(c);
  pthread_barrier_init(&c->start, NULL, THREADS);
  const rt_type_t post_types[2] = {RT_TYPE_INT, RT_TYPE_UINT64};
  const rt_type_t wait_types[1] = {RT_TYPE_UINT64};
  rt_callback_t *post = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, post_types, 2,
                                        crowd_post, c, &c->post);
  rt_callback_t *wait = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_UINT64, wait_types,
                                        1, crowd_wait, c, &c->wait);
  CHECK_NOT_NULL(post);
  CHECK_NOT_NULL(wait);

  pthread_t threads[THREADS];
  struct crowd_member members[THREADS];
  for (int i = 0; i < THREADS; i++) {
    members[i] = (struct crowd_member){c, i};
    CHECK_EQ(pthread_create(&threads[i], NULL, crowd_main, &members[i]), 0);
  }
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_join(threads[i], NULL), 0);
  rt_callback_free(post); /* every POST call has run when this returns */
  rt_callback_free(wait);

  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(atomic_load(&c->per_thread[i]), CALLS_PER_THREAD);
  uint64_t per_thread_sum = (uint64_t)CALLS_PER_THREAD * (CALLS_PER_THREAD - 1) / 2;
  CHECK_EQ(atomic_load(&c->seq_sum), THREADS * per_thread_sum);
  CHECK_EQ(atomic_load(&c->waits), THREADS * CALLS_PER_THREAD);

  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 2 * THREADS * CALLS_PER_THREAD);
  CHECK_EQ(s.completed, s.spawned);
  CHECK_EQ(s.dropped, 0);
  rt_handle_release(h);
  pthread_barrier_destroy(&c->start);
  free(c);
}

/* ------------------------------------------------------------------------ */
/* qsort with a comparator on the runtime                                    */
/* ------------------------------------------------------------------------ */

static const rt_type_t compare_types[2] = {RT_TYPE_POINTER, RT_TYPE_POINTER};

struct sort_job {
  rt_handle_t *handle;
  void *compare;
  pthread_t task_thread; /* the worker running the sorting task */
  atomic_int calls;
  atomic_int off_task; /* comparisons that ran on another thread than the task */
  atomic_int wrong_handle;
};

/* int (*)(const void *, const void *) comparing ints. args[i] points at the
 * pointer argument, not at the element. */
static void compare_ints(void *result, void **args, void *user) {
  struct sort_job *job = user;
  const int *a = *(const int **)args[0];
  const int *b = *(const int **)args[1];
  atomic_fetch_add(&job->calls, 1);
  if (!pthread_equal(pthread_self(), job->task_thread))
    atomic_fetch_add(&job->off_task, 1);
  if (rt_handle_current() != job->handle)
    atomic_fetch_add(&job->wrong_handle, 1);
  *(int *)result = (*a > *b) - (*a < *b);
}

static int compare_direct(const void *a, const void *b) {
  int x = *(const int *)a, y = *(const int *)b;
  return (x > y) - (x < y);
}

enum { SORT_N = 2000 };

static int *random_ints(uint64_t *seed) {
  int *v = malloc(SORT_N * sizeof *v);
  CHECK_NOT_NULL(v);
  for (int i = 0; i < SORT_N; i++)
    v[i] = (int)(rng_next(seed) % 1000) - 500; /* with duplicates */
  return v;
}

static void check_sorted_like(const int *got, const int *original) {
  int *want = malloc(SORT_N * sizeof *want);
  CHECK_NOT_NULL(want);
  memcpy(want, original, SORT_N * sizeof *want);
  qsort(want, SORT_N, sizeof *want, compare_direct);
  for (int i = 0; i < SORT_N; i++) {
    if (got[i] != want[i])
      FAIL("element %d: got %d, want %d", i, got[i], want[i]);
  }
  free(want);
}

/* qsort from outside the runtime: each comparison runs on a worker while
 * the sorting thread waits, and the elements it points at stay valid. */
TEST(callback_qsort_from_outside) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  uint64_t seed = test_seed();
  int *original = random_ints(&seed);
  int *v = malloc(SORT_N * sizeof *v);
  CHECK_NOT_NULL(v);
  memcpy(v, original, SORT_N * sizeof *v);

  struct sort_job job = {.handle = h, .task_thread = pthread_self()};
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, compare_types, 2,
                                      compare_ints, &job, &job.compare);
  CHECK_NOT_NULL(cb);
  qsort(v, SORT_N, sizeof *v, (int (*)(const void *, const void *))job.compare);
  check_sorted_like(v, original);
  CHECK_GT(atomic_load(&job.calls), SORT_N);
  CHECK_EQ(atomic_load(&job.off_task), atomic_load(&job.calls));
  CHECK_EQ(atomic_load(&job.wrong_handle), 0);
  rt_callback_free(cb);

  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, atomic_load(&job.calls));
  rt_handle_release(h);
  free(v);
  free(original);
}

struct sort_task {
  struct sort_job *job;
  int *v;
};

static void *sort_in_task(void *arg) {
  struct sort_task *t = arg;
  t->job->task_thread = pthread_self();
  qsort(t->v, SORT_N, sizeof *t->v, (int (*)(const void *, const void *))t->job->compare);
  return t->v;
}

/* qsort inside a task, on the only worker: every comparison runs inline on
 * that worker (waiting for a worker would wait on itself) and is not
 * counted as a task. */
TEST(callback_qsort_inline_on_worker) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  uint64_t seed = test_seed();
  int *original = random_ints(&seed);
  int *v = malloc(SORT_N * sizeof *v);
  CHECK_NOT_NULL(v);
  memcpy(v, original, SORT_N * sizeof *v);

  struct sort_job job = {.handle = h};
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, compare_types, 2,
                                      compare_ints, &job, &job.compare);
  CHECK_NOT_NULL(cb);
  struct sort_task task = {&job, v};
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(h, sort_in_task, &task, NULL, &t), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  CHECK_PTR_EQ(res, v);
  rt_task_release(t);
  check_sorted_like(v, original);
  CHECK_GT(atomic_load(&job.calls), SORT_N);
  CHECK_EQ(atomic_load(&job.off_task), 0);
  CHECK_EQ(atomic_load(&job.wrong_handle), 0);
  rt_callback_free(cb);

  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 1); /* the sorting task only */
  rt_handle_release(h);
  free(v);
  free(original);
}

struct cross_call {
  void *wait;
  pthread_t task_thread;
  pthread_t handler_thread;
  rt_handle_t *handler_handle;
};

static void where_handler(void *result, void **args, void *user) {
  struct cross_call *x = user;
  x->handler_thread = pthread_self();
  x->handler_handle = rt_handle_current();
  *(int *)result = *(int *)args[0] + 1;
}

static void *call_across(void *arg) {
  struct cross_call *x = arg;
  x->task_thread = pthread_self();
  return (void *)(intptr_t)((int (*)(int))x->wait)(41);
}

/* A WAIT call from a worker of another runtime runs on the trampoline's
 * runtime, and the calling worker waits like any other thread. */
TEST(callback_wait_from_other_runtime) {
  rt_runtime_t *front = make_rt(1, 0);
  rt_runtime_t *back = make_rt(1, 0);
  rt_handle_t *hf = rt_handle(front);
  rt_handle_t *hb = rt_handle(back);
  struct cross_call x = {0};
  const rt_type_t types[1] = {RT_TYPE_INT};
  rt_callback_t *cb =
      rt_callback_new(hb, RT_CALLBACK_WAIT, RT_TYPE_INT, types, 1, where_handler, &x, &x.wait);
  CHECK_NOT_NULL(cb);
  rt_task_t *t = NULL;
  CHECK_RC(rt_spawn_full(hf, call_across, &x, NULL, &t), RT_OK);
  void *res = NULL;
  CHECK_RC(rt_task_join(t, -1, &res), RT_OK);
  rt_task_release(t);
  CHECK_EQ((intptr_t)res, 42);
  CHECK_FALSE(pthread_equal(x.task_thread, x.handler_thread));
  CHECK_PTR_EQ(x.handler_handle, hb);
  rt_callback_free(cb);
  CHECK_RC(rt_shutdown(front), RT_OK);
  CHECK_RC(rt_shutdown(back), RT_OK);
  rt_handle_release(hf);
  rt_handle_release(hb);
}

/* ------------------------------------------------------------------------ */
/* Shutdown and free                                                         */
/* ------------------------------------------------------------------------ */

static atomic_int must_not_run;

static void never_handler(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  (void)user;
  atomic_fetch_add(&must_not_run, 1);
}

static void *post_from_thread(void *code) {
  ((void (*)(int, double))code)(1, 2.0);
  return NULL;
}

/* After shutdown a POST call is dropped and a WAIT call returns zeros (for
 * every return type), without running the handler; each counts as
 * rejected. Nothing crashes or hangs. */
TEST(callback_after_shutdown) {
  rt_runtime_t *rt = make_rt(2, 0);
  rt_handle_t *h = rt_handle(rt);
  const rt_type_t types[2] = {RT_TYPE_INT, RT_TYPE_DOUBLE};
  void *post_code = NULL, *int_code = NULL, *dbl_code = NULL, *i8_code = NULL,
       *ptr_code = NULL, *void_code = NULL;
  rt_callback_t *post = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, types, 2,
                                        never_handler, NULL, &post_code);
  rt_callback_t *wi = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, types, 2,
                                      never_handler, NULL, &int_code);
  rt_callback_t *wd = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_DOUBLE, types, 2,
                                      never_handler, NULL, &dbl_code);
  rt_callback_t *w8 = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT8, types, 2,
                                      never_handler, NULL, &i8_code);
  rt_callback_t *wp = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_POINTER, types, 2,
                                      never_handler, NULL, &ptr_code);
  rt_callback_t *wv = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_VOID, NULL, 0,
                                      never_handler, NULL, &void_code);
  CHECK_NOT_NULL(post);
  CHECK_NOT_NULL(wi);
  CHECK_NOT_NULL(wd);
  CHECK_NOT_NULL(w8);
  CHECK_NOT_NULL(wp);
  CHECK_NOT_NULL(wv);
  CHECK_RC(rt_shutdown(rt), RT_OK);

  ((void (*)(int, double))post_code)(1, 2.0);
  CHECK_EQ(((int (*)(int, double))int_code)(1, 2.0), 0);
  CHECK_TRUE(((double (*)(int, double))dbl_code)(1, 2.0) == 0.0);
  CHECK_EQ(((int8_t (*)(int, double))i8_code)(1, 2.0), 0);
  CHECK_NULL(((void *(*)(int, double))ptr_code)(1, 2.0));
  ((void (*)(void))void_code)();
  /* From a foreign thread too. */
  on_foreign_thread(post_from_thread, post_code);

  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.rejected, 7);
  CHECK_EQ(s.spawned, 0);
  CHECK_EQ(atomic_load(&must_not_run), 0);
  rt_callback_free(post); /* nothing queued: returns at once */
  rt_callback_free(wi);
  rt_callback_free(wd);
  rt_callback_free(w8);
  rt_callback_free(wp);
  rt_callback_free(wv);
  rt_handle_release(h);
}

static atomic_int posted_ran;

static void count_posted(void *result, void **args, void *user) {
  (void)result;
  (void)user;
  CHECK_EQ(*(int *)args[0], 7);
  atomic_fetch_add(&posted_ran, 1);
}

struct freer {
  rt_callback_t *cb;
  gate_t returned;
  int ran_at_return;
};

static void *free_it(void *arg) {
  struct freer *f = arg;
  rt_callback_free(f->cb);
  f->ran_at_return = atomic_load(&posted_ran);
  gate_open(&f->returned);
  return NULL;
}

/* rt_callback_free returns only after every call already queued ran. */
TEST(callback_free_waits_for_queued) {
  enum { N = 100 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b); /* the only worker is busy: calls stay queued */

  const rt_type_t types[1] = {RT_TYPE_INT};
  void *code = NULL;
  struct freer f = {0};
  gate_init(&f.returned);
  f.cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, types, 1, count_posted, NULL,
                         &code);
  CHECK_NOT_NULL(f.cb);
  for (int i = 0; i < N; i++)
    ((void (*)(int))code)(7);
  CHECK_EQ(atomic_load(&posted_ran), 0);

  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, free_it, &f), 0);
  /* Still blocked while the calls cannot run. */
  CHECK_FALSE(gate_wait_ms(&f.returned, 50));
  gate_open(&b.gate);
  gate_wait(&f.returned);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_EQ(f.ran_at_return, N);

  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_handle_release(h);
  gate_destroy(&f.returned);
  gate_destroy(&b.gate);
}

/* Queued POST calls that a shutdown timeout drops are freed (no handler
 * call), and rt_callback_free does not wait for them any more. */
TEST(callback_shutdown_timeout_drops_posted) {
  enum { N = 10 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  const rt_type_t types[1] = {RT_TYPE_INT};
  void *code = NULL;
  rt_callback_t *cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, types, 1,
                                      count_posted, NULL, &code);
  CHECK_NOT_NULL(cb);
  for (int i = 0; i < N; i++)
    ((void (*)(int))code)(7);
  pthread_t opener = gate_open_later(&b.gate, 100);
  CHECK_RC(rt_shutdown_timeout(rt, 10 * MS), RT_ETIMEDOUT);
  CHECK_EQ(pthread_join(opener, NULL), 0);
  CHECK_EQ(atomic_load(&posted_ran), 0);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.dropped, N);
  rt_callback_free(cb);
  rt_handle_release(h);
  gate_destroy(&b.gate);
}

struct self_freeing {
  rt_callback_t *cb;
  atomic_int calls;
};

static void free_self_on_first(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  struct self_freeing *sf = user;
  if (atomic_fetch_add(&sf->calls, 1) == 0)
    rt_callback_free(sf->cb); /* on its own worker: must not wait on itself */
}

/* rt_callback_free from a handler of the same trampoline (the foreign side
 * stopped calling): no deadlock, and the calls already queued still run. */
TEST(callback_free_from_own_handler) {
  enum { N = 5 };
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  blocker_t b;
  blocker_init(&b);
  blocker_start(h, &b);
  struct self_freeing sf = {0};
  void *code = NULL;
  sf.cb = rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, free_self_on_first,
                          &sf, &code);
  CHECK_NOT_NULL(sf.cb);
  for (int i = 0; i < N; i++)
    ((void (*)(void))code)();
  gate_open(&b.gate);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(atomic_load(&sf.calls), N);
  rt_handle_release(h);
  gate_destroy(&b.gate);
}

static void add_one(void *result, void **args, void *user) {
  (void)user;
  *(long *)result = *(long *)args[0] + 1;
}

/* The trampoline keeps its own reference to the handle: calls work after
 * the caller released every reference of its own, and after the shutdown
 * they are refused without touching freed memory. */
TEST(callback_keeps_its_handle) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  const rt_type_t types[1] = {RT_TYPE_LONG};
  void *code = NULL;
  rt_callback_t *cb =
      rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_LONG, types, 1, add_one, NULL, &code);
  CHECK_NOT_NULL(cb);
  rt_handle_release(h);
  CHECK_EQ(((long (*)(long))code)(-10), -9);
  CHECK_RC(rt_shutdown(rt), RT_OK);
  CHECK_EQ(((long (*)(long))code)(-10), 0);
  rt_callback_free(cb);
}

/* ------------------------------------------------------------------------ */
/* Bad signatures                                                            */
/* ------------------------------------------------------------------------ */

static void ok_handler(void *result, void **args, void *user) {
  (void)result;
  (void)args;
  (void)user;
}

#define CHECK_REFUSED(call)                                                    \
  do {                                                                         \
    code = &marker;                                                            \
    CHECK_NULL(call);                                                          \
    CHECK_PTR_EQ(code, &marker); /* code_out untouched */                      \
  } while (0)

/* Every signature the contract refuses gives NULL, touches nothing and
 * allocates nothing (valgrind checks the last part); the limits themselves
 * are accepted. */
TEST(callback_bad_signatures) {
  rt_runtime_t *rt = make_rt(1, 0);
  rt_handle_t *h = rt_handle(rt);
  void *code = NULL;
  const rt_type_t one_int[1] = {RT_TYPE_INT};
  const rt_type_t with_void[2] = {RT_TYPE_INT, RT_TYPE_VOID};
  const rt_type_t unknown_arg[2] = {RT_TYPE_INT, (rt_type_t)99};
  rt_type_t too_many[RT_CALLBACK_MAX_ARGS + 1];
  for (size_t i = 0; i < RT_CALLBACK_MAX_ARGS + 1; i++)
    too_many[i] = RT_TYPE_INT;

  /* POST with a result. */
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_INT, one_int, 1, ok_handler,
                                NULL, &code));
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_POINTER, NULL, 0, ok_handler,
                                NULL, &code));
  /* Unknown types, as result and as argument. */
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, (rt_type_t)99, one_int, 1, ok_handler,
                                NULL, &code));
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, (rt_type_t)-1, one_int, 1, ok_handler,
                                NULL, &code));
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, unknown_arg, 2,
                                ok_handler, NULL, &code));
  /* VOID as an argument type. */
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, with_void, 2, ok_handler,
                                NULL, &code));
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, with_void, 2,
                                ok_handler, NULL, &code));
  /* An unknown mode. */
  CHECK_REFUSED(rt_callback_new(h, (rt_callback_mode_t)2, RT_TYPE_VOID, one_int, 1,
                                ok_handler, NULL, &code));
  /* NULL handler, handle, code_out. */
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, one_int, 1, NULL, NULL,
                                &code));
  CHECK_REFUSED(rt_callback_new(NULL, RT_CALLBACK_WAIT, RT_TYPE_INT, one_int, 1,
                                ok_handler, NULL, &code));
  CHECK_NULL(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, one_int, 1, ok_handler,
                             NULL, NULL));
  /* Too many arguments; arg_types NULL with arguments. */
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, too_many,
                                RT_CALLBACK_MAX_ARGS + 1, ok_handler, NULL, &code));
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, too_many, SIZE_MAX,
                                ok_handler, NULL, &code));
  CHECK_REFUSED(rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, NULL, 1, ok_handler,
                                NULL, &code));

  /* The limits are fine: no arguments with NULL types, the most arguments. */
  code = NULL;
  rt_callback_t *cb =
      rt_callback_new(h, RT_CALLBACK_POST, RT_TYPE_VOID, NULL, 0, ok_handler, NULL, &code);
  CHECK_NOT_NULL(cb);
  CHECK_NOT_NULL(code);
  rt_callback_free(cb);
  code = NULL;
  cb = rt_callback_new(h, RT_CALLBACK_WAIT, RT_TYPE_INT, too_many, RT_CALLBACK_MAX_ARGS,
                       ok_handler, NULL, &code);
  CHECK_NOT_NULL(cb);
  CHECK_NOT_NULL(code);
  rt_callback_free(cb);
  rt_callback_free(NULL); /* a no-op */

  CHECK_RC(rt_shutdown(rt), RT_OK);
  rt_stats_t s = get_stats(h);
  CHECK_EQ(s.spawned, 0);
  CHECK_EQ(s.rejected, 0);
  rt_handle_release(h);
}
