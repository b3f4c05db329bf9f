/*
 * main.c — the rtctx C test runner.
 *
 *   rtctx-tests              run every test
 *   rtctx-tests NAME...      run only these tests
 *   rtctx-tests --list       print the test names
 *   rtctx-tests -j N ...     run N tests at a time (default 2)
 *   rtctx-tests --run NAME   run one test in this process (what the runner
 *                            execs; handy under gdb)
 *
 * Each test runs in a fresh process (fork, then execv of this program with
 * --run NAME), so library state never leaks between tests. A watchdog kills
 * a test after 30 s ($RTCTX_TEST_TIMEOUT seconds). A test's output is shown
 * only when it fails. The last line is "N passed, N failed"; the exit status
 * is non-zero if any test failed.
 */
#include "harness.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct test {
  const char *name;
  void (*fn)(void);
};

static const struct test tests[] = {
#define TEST_ENTRY(name) {#name, test_##name},
#include "tests.list"
#undef TEST_ENTRY
};

enum { NTESTS = sizeof tests / sizeof tests[0] };

static const struct test *find_test(const char *name) {
  for (size_t i = 0; i < NTESTS; i++)
    if (strcmp(tests[i].name, name) == 0)
      return &tests[i];
  return NULL;
}

struct slot {
  const struct test *test;
  pid_t pid;
  uint64_t deadline;
  bool timed_out;
  FILE *output; /* the child's stdout and stderr */
};

static char self_path[4096];

static void find_self(const char *argv0) {
  ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
  if (n > 0) {
    self_path[n] = '\0';
  } else {
    snprintf(self_path, sizeof self_path, "%s", argv0);
  }
}

static void start(struct slot *s, const struct test *t, uint64_t timeout_ns) {
  s->test = t;
  s->timed_out = false;
  s->output = tmpfile();
  if (s->output == NULL) {
    perror("tmpfile");
    exit(2);
  }
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(2);
  }
  if (pid == 0) {
    int fd = fileno(s->output);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    char *args[] = {self_path, "--run", (char *)t->name, NULL};
    execv(self_path, args);
    perror("execv");
    _exit(127);
  }
  s->pid = pid;
  s->deadline = now_ns() + timeout_ns;
}

static void dump_output(FILE *f) {
  fflush(f);
  rewind(f);
  char line[1024];
  while (fgets(line, sizeof line, f) != NULL) {
    fputs("  | ", stdout);
    fputs(line, stdout);
    size_t len = strlen(line);
    if (len > 0 && line[len - 1] != '\n')
      fputc('\n', stdout);
  }
}

/* Prints the result line; returns true if the test passed. */
static bool finish(struct slot *s, int status) {
  bool passed = false;
  if (s->timed_out) {
    printf("FAIL %s (timeout)\n", s->test->name);
  } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    printf("ok %s\n", s->test->name);
    passed = true;
  } else if (WIFEXITED(status)) {
    printf("FAIL %s (exit %d)\n", s->test->name, WEXITSTATUS(status));
  } else if (WIFSIGNALED(status)) {
    printf("FAIL %s (signal %d)\n", s->test->name, WTERMSIG(status));
  } else {
    printf("FAIL %s (status %d)\n", s->test->name, status);
  }
  if (!passed)
    dump_output(s->output);
  fflush(stdout);
  fclose(s->output);
  s->output = NULL;
  s->pid = 0;
  return passed;
}

static int run_all(const struct test **list, size_t n, unsigned jobs,
                   uint64_t timeout_ns) {
  struct slot *slots = calloc(jobs, sizeof *slots);
  if (slots == NULL) {
    perror("calloc");
    return 2;
  }
  size_t next = 0, passed = 0, failed = 0, running = 0;
  while (next < n || running > 0) {
    for (unsigned i = 0; i < jobs && next < n; i++) {
      if (slots[i].pid == 0) {
        start(&slots[i], list[next++], timeout_ns);
        running++;
      }
    }
    int status;
    pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid < 0 && errno != EINTR && errno != ECHILD) {
      perror("waitpid");
      return 2;
    }
    if (pid > 0) {
      for (unsigned i = 0; i < jobs; i++) {
        if (slots[i].pid == pid) {
          if (finish(&slots[i], status))
            passed++;
          else
            failed++;
          running--;
          break;
        }
      }
      continue;
    }
    uint64_t now = now_ns();
    for (unsigned i = 0; i < jobs; i++) {
      if (slots[i].pid != 0 && !slots[i].timed_out && now > slots[i].deadline) {
        slots[i].timed_out = true;
        kill(slots[i].pid, SIGKILL);
      }
    }
    sleep_ms(2);
  }
  free(slots);
  printf("%zu passed, %zu failed\n", passed, failed);
  return failed == 0 ? 0 : 1;
}

static void usage(void) {
  fprintf(stderr, "usage: rtctx-tests [-j N] [--list] [--run NAME] [NAME...]\n");
}

int main(int argc, char **argv) {
  find_self(argv[0]);
  unsigned jobs = 2;
  uint64_t timeout_s = 30;
  const char *env = getenv("RTCTX_TEST_TIMEOUT");
  if (env != NULL && atoi(env) > 0)
    timeout_s = (uint64_t)atoi(env);

  const struct test **list = calloc(NTESTS + (size_t)argc, sizeof *list);
  if (list == NULL)
    return 2;
  size_t n = 0;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--list") == 0) {
      for (size_t k = 0; k < NTESTS; k++)
        printf("%s\n", tests[k].name);
      free(list);
      return 0;
    } else if (strcmp(argv[i], "--run") == 0) {
      free(list);
      if (i + 1 >= argc) {
        usage();
        return 2;
      }
      const struct test *t = find_test(argv[i + 1]);
      if (t == NULL) {
        fprintf(stderr, "no test named %s\n", argv[i + 1]);
        return 2;
      }
      setvbuf(stdout, NULL, _IONBF, 0);
      t->fn();
      return 0;
    } else if (strcmp(argv[i], "-j") == 0) {
      if (i + 1 >= argc || atoi(argv[i + 1]) <= 0) {
        usage();
        free(list);
        return 2;
      }
      jobs = (unsigned)atoi(argv[++i]);
    } else if (argv[i][0] == '-') {
      usage();
      free(list);
      return 2;
    } else {
      const struct test *t = find_test(argv[i]);
      if (t == NULL) {
        fprintf(stderr, "no test named %s (see --list)\n", argv[i]);
        free(list);
        return 2;
      }
      list[n++] = t;
    }
  }
  if (n == 0)
    for (size_t k = 0; k < NTESTS; k++)
      list[n++] = &tests[k];
  /* Our own output goes through a pipe in CI: keep result lines in order
   * with respect to the children's. */
  setvbuf(stdout, NULL, _IOLBF, 0);
  int rc = run_all(list, n, jobs, timeout_s * 1000000000ull);
  free(list);
  return rc;
}
