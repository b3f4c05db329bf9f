/* connections.c — per-connection events from a callback-driven C library,
 * handled in order through strands.
 *
 * A "network library" (two threads of its own, which rtctx never created)
 * reports data for 64 connections by calling on_data() from whichever of
 * its threads saw it. Each connection's events must be handled in the
 * order they came and one at a time: the handler keeps per-connection
 * state (a sequence number and a running checksum) without a lock. With a
 * strand per connection the callback only posts; the runtime's workers run
 * the handlers, different connections in parallel, each connection's in
 * order. At the end every connection's checksum is compared with one
 * computed in order on the side.
 *
 *   cc connections.c $(pkg-config --cflags --libs rtctx) -pthread -o connections
 */
#include <rtctx.h>

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

enum { CONNECTIONS = 64, EVENTS = 5000, LIBRARY_THREADS = 2 };

struct connection {
  rt_strand_t *strand;
  /* Touched only by the connection's strand jobs: no lock. */
  uint32_t next_seq;
  uint64_t checksum;
  int out_of_order;
  uint64_t expected; /* computed by the library thread, in order */
};

struct event {
  struct connection *conn;
  uint32_t seq;
  uint32_t payload;
};

static struct connection conns[CONNECTIONS];

static uint64_t mix(uint64_t sum, uint32_t payload) { return (sum ^ payload) * 0x100000001B3ull; }

/* Runs on a worker, in the connection's order. */
static void handle_event(void *arg) {
  struct event *ev = arg;
  struct connection *c = ev->conn;
  if (ev->seq != c->next_seq)
    c->out_of_order++;
  c->next_seq = ev->seq + 1;
  c->checksum = mix(c->checksum, ev->payload);
  free(ev);
}

/* The library's callback: no user-data pointer, just the connection id.
 * It must return quickly, so it only posts. */
static void on_data(int conn_id, uint32_t seq, uint32_t payload) {
  struct event *ev = malloc(sizeof *ev);
  if (ev == NULL)
    return;
  *ev = (struct event){&conns[conn_id], seq, payload};
  int rc;
  while ((rc = rt_strand_spawn(conns[conn_id].strand, handle_event, ev)) == RT_EAGAIN) {
  }
  if (rc != RT_OK) {
    fprintf(stderr, "rt_strand_spawn: %s\n", rt_strerror(rc));
    free(ev);
  }
}

/* One of the library's own threads: it owns every LIBRARY_THREADS-th
 * connection and delivers their events interleaved. */
static void *library_thread(void *arg) {
  int first = (int)(intptr_t)arg;
  uint64_t rng = 0x9E3779B97F4A7C15ull * (uint64_t)(first + 1);
  uint32_t seq[CONNECTIONS] = {0};
  for (int n = 0; n < EVENTS * CONNECTIONS / LIBRARY_THREADS; n++) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    int id = first + LIBRARY_THREADS * (int)(rng % (CONNECTIONS / LIBRARY_THREADS));
    uint32_t payload = (uint32_t)(rng >> 32);
    conns[id].expected = mix(conns[id].expected, payload);
    on_data(id, seq[id]++, payload);
  }
  return NULL;
}

int main(void) {
  rt_runtime_t *rt = rt_new(NULL);
  rt_handle_t *h = rt_handle(rt);
  for (int i = 0; i < CONNECTIONS; i++) {
    conns[i].strand = rt_strand_new(h);
    if (conns[i].strand == NULL)
      return 1;
  }
  pthread_t threads[LIBRARY_THREADS];
  for (int i = 0; i < LIBRARY_THREADS; i++)
    pthread_create(&threads[i], NULL, library_thread, (void *)(intptr_t)i);
  for (int i = 0; i < LIBRARY_THREADS; i++)
    pthread_join(threads[i], NULL);

  int rc = rt_shutdown(rt); /* runs every event still queued, in order */
  int bad = 0;
  uint64_t events = 0;
  for (int i = 0; i < CONNECTIONS; i++) {
    events += conns[i].next_seq;
    if (conns[i].out_of_order || conns[i].checksum != conns[i].expected)
      bad++;
    rt_strand_release(conns[i].strand);
  }
  rt_stats_t st = {.size = sizeof st};
  if (rt_stats_get(h, &st) != RT_OK)
    return 1;
  printf("connections: %d connections, %llu events handled in order on %u workers; %d out of order\n",
         CONNECTIONS, (unsigned long long)events, st.workers, bad);
  rt_handle_release(h);
  return rc == RT_OK && bad == 0 && events == (uint64_t)EVENTS * CONNECTIONS ? 0 : 1;
}
