/*
 * Why examples-c/timer_callbacks.c does not run under ThreadSanitizer:
 * this program, which uses no rtctx at all, crashes the same way (SIGSEGV
 * in TSan's malloc interceptor, on glibc's timer_helper_thread). glibc
 * starts the SIGEV_THREAD helper thread without going through the
 * pthread_create that TSan intercepts, so the thread has no TSan state.
 * Known upstream: https://github.com/google/sanitizers/issues/1612 (open).
 *
 *   clang -fsanitize=thread -fuse-ld=lld tsan-sigev-thread.c -lrt \
 *     -L/opt/swift/usr/lib/swift/linux -ldispatch -lBlocksRuntime \
 *     -Wl,-rpath,/opt/swift/usr/lib/swift/linux && ./a.out   # Segmentation fault
 *
 * Under AddressSanitizer it runs (and check-asan runs the example).
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static void tick(union sigval v) { (void)v; }
int main(void) {
  struct sigevent sev = {0};
  sev.sigev_notify = SIGEV_THREAD;
  sev.sigev_notify_function = tick;
  timer_t t;
  if (timer_create(CLOCK_MONOTONIC, &sev, &t) != 0) return 2;
  struct itimerspec its = {{0, 1000000}, {0, 1000000}};
  timer_settime(t, 0, &its, NULL);
  struct timespec ts = {0, 50000000}; nanosleep(&ts, NULL);
  timer_delete(t);
  puts("done");
  return 0;
}
