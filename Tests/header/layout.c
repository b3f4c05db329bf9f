/* Prints the layout of the header's versioned structs, so that check-header
 * can compare a C89 build of it with a C11 one: RT_BOOL is bool in C99 and
 * later, but _Bool taken as an extension or unsigned char in C89. */
#include "rtctx.h"

#include <stddef.h>
#include <stdio.h>

int main(void) {
  printf("sizeof(RT_BOOL) %u\n", (unsigned)sizeof(RT_BOOL));
  printf("sizeof(rt_config_t) %u\n", (unsigned)sizeof(rt_config_t));
  printf("sizeof(rt_stats_t) %u\n", (unsigned)sizeof(rt_stats_t));
  printf("offsetof(rt_stats_t, shutdown) %u\n", (unsigned)offsetof(rt_stats_t, shutdown));
  return 0;
}
