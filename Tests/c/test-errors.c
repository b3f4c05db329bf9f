/* test-errors.c — error codes, rt_strerror, version. */
#include "harness.h"

#include <limits.h>
#include <stdlib.h>

static const int known_codes[] = {
    RT_OK,        RT_EINVAL,    RT_ENOMEM,    RT_EAGAIN, RT_EDEADLK,
    RT_ETIMEDOUT, RT_ESHUTDOWN, RT_ECANCELED, RT_EBUSY,
};
enum { NKNOWN = sizeof known_codes / sizeof known_codes[0] };

/* API.md "Conventions": the enumerator values are ABI. */
TEST(errors_values) {
  CHECK_EQ(RT_OK, 0);
  CHECK_EQ(RT_EINVAL, -22);
  CHECK_EQ(RT_ENOMEM, -12);
  CHECK_EQ(RT_EAGAIN, -11);
  CHECK_EQ(RT_EDEADLK, -35);
  CHECK_EQ(RT_ETIMEDOUT, -110);
  CHECK_EQ(RT_ESHUTDOWN, -108);
  CHECK_EQ(RT_ECANCELED, -125);
  CHECK_EQ(RT_EBUSY, -16);
  /* rt_type_t and rt_callback_mode_t count up from 0 in the listed order. */
  CHECK_EQ(RT_TYPE_VOID, 0);
  CHECK_EQ(RT_TYPE_INT, 1);
  CHECK_EQ(RT_TYPE_SIZE, 13);
  CHECK_EQ(RT_TYPE_FLOAT, 14);
  CHECK_EQ(RT_TYPE_DOUBLE, 15);
  CHECK_EQ(RT_TYPE_POINTER, 16);
  CHECK_EQ(RT_CALLBACK_POST, 0);
  CHECK_EQ(RT_CALLBACK_WAIT, 1);
}

/* rt_strerror: never NULL, a real text per known code, distinct texts. */
TEST(errors_strerror_known) {
  for (size_t i = 0; i < NKNOWN; i++) {
    const char *s = rt_strerror(known_codes[i]);
    CHECK_NOT_NULL(s);
    CHECK_GT(strlen(s), 0);
    if (strcmp(s, "unknown error") == 0)
      FAIL("rt_strerror(%d) is \"unknown error\" for a known code",
           known_codes[i]);
    for (size_t j = 0; j < i; j++) {
      if (strcmp(s, rt_strerror(known_codes[j])) == 0)
        FAIL("rt_strerror(%d) == rt_strerror(%d) == \"%s\"", known_codes[i],
             known_codes[j], s);
    }
  }
}

/* rt_strerror: never NULL, also for unknown codes ("unknown error"). */
TEST(errors_strerror_unknown) {
  const int unknown[] = {1, 22, -1, -9999, 12345, INT_MIN, INT_MAX};
  for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
    const char *s = rt_strerror(unknown[i]);
    CHECK_NOT_NULL(s);
    CHECK_STR_EQ(s, "unknown error");
  }
}

/* rt_version / rt_version_string agree with each other and the header. */
TEST(errors_version) {
  CHECK_EQ(rt_version(), RTCTX_VERSION);
  const char *v = rt_version_string();
  CHECK_NOT_NULL(v);
  char want[64];
  snprintf(want, sizeof want, "%u.%u.%u", rt_version() / 10000,
           rt_version() / 100 % 100, rt_version() % 100);
  CHECK_STR_EQ(v, want);
}
