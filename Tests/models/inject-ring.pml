/*
 * The inject queue: a bounded lock-free MPMC ring (Vyukov) with a mutex-
 * protected overflow list behind it, several pushers and several poppers.
 *
 * Mirrors Sources/RtctxCore/Scheduler/InjectQueue.swift, class InjectQueue:
 *   tryPushRing        (lines 111-142)  push a job into the ring, or "full"
 *   push, pushOverflow (lines 91-109)   the ring, else the overflow list;
 *                                       pushOverflow(_ jobs:) is a worker's
 *                                       spill of its local queue
 *   popBatch           (lines 144-178)  up to `max` ready slots with one CAS
 *   pop, popRing       (lines 180-212)  one job off the ring, else overflow
 *   popOverflow, popOverflowBatch (lines 214-234)
 * Callers: workers (Worker.swift, findWork: popBatch, pop every 61st job,
 * findWorkSlowly: popOverflowBatch) and the shutdown thread (Runtime.swift,
 * dropQueuedJobs: pop, popOverflowBatch). Line numbers are as of commit
 * 2960397 (checked again then; InjectQueue.swift is unchanged since
 * a2a81e1, when this model was written); the function names are what to
 * look for when the lines move.
 *
 * Granularity: one Promela statement per atomic operation of the Swift (a
 * load, a store, a CAS); what only a thread's locals see is folded into the
 * neighbouring statement. A section under the overflow lock is one atomic
 * step (only lock holders touch the list). Memory is sequentially
 * consistent here: the Swift's acquiring/releasing pairs on the slot
 * sequences give the same outcomes for this message passing, and the
 * weaker orderings themselves are TSan's job, not this model's.
 *
 * Abstracted away: the 32-bit storage of the sequences (a sequence is a
 * full position here; the wrap has its own Swift test, firstPosition); the
 * job's two words (code, payload) are one value, both written before the
 * slot's sequence is published and read before it is handed back; the
 * overflow list's chunks (a FIFO channel); overflowPushes (a statistic).
 *
 * Bounds: CAP slots, NPROD pushers sharing NJOBS jobs (pusher k pushes
 * jobs k, k + NPROD, ...), NCONS poppers, batches of BATCH. With CAP 2 and
 * 3 jobs the ring laps, fills and overflows; each pusher may also spill a
 * job straight to the overflow, as a worker's full local queue does.
 * (2 pushers of 2 jobs each: 17.5 million states, over a minute here.)
 *
 * Properties:
 *   - take(): every job taken is one that was pushed (never an unwritten
 *     slot) and is taken once (never twice): assertions;
 *   - at the end, when the pushers are done and every popper saw the queue
 *     empty, every job was taken exactly once (nothing lost): assertion;
 *   - no deadlock: every process ends (spin's invalid end states).
 *
 * Seeded bugs (each must make the check fail):
 *   BUG_PUBLISH_BEFORE_READ  a popper hands the slot back to the next lap
 *                            (sequence pos + CAP) before reading its job: a
 *                            pusher overwrites it first, one job is taken
 *                            twice and one lost
 *   BUG_PUBLISH_BEFORE_WRITE a pusher publishes pos + 1 before writing the
 *                            job: a popper reads an unwritten slot
 *   BUG_BATCH_STALE_COUNT    popBatch retries a lost CAS at the new head
 *                            with the count of ready slots it made at the
 *                            old one, instead of counting again
 */

#ifndef CAP
#define CAP 2
#endif
#define MASK (CAP - 1)
#ifndef NPROD
#define NPROD 2
#endif
#ifndef NJOBS
#define NJOBS 3
#endif
#ifndef NCONS
#define NCONS 2
#endif
#ifndef BATCH
#define BATCH 2
#endif

byte head;
byte tail;
byte seq[CAP];          /* slot i: free for push at pos, holds pos's job at pos + 1 */
byte data[CAP];         /* the job id in the slot; 0: never written */
chan overflow = [NJOBS] of { byte };
short overflowCount;    /* may pass below 0: a pop decrements after its list pop */
byte taken[NJOBS + 1];  /* how often each job was taken */
byte pushersDone;

/* A popper got job j: it was written, and nobody took it before. */
inline take(j) {
  assert(j != 0);
  assert(taken[j] == 0);
  taken[j]++
}

/* pushOverflow(_ job:) and pushOverflow(_ jobs:) with one job. */
inline pushOverflow(job) {
  overflow!job;                  /* overflow.withLock { $0.push(job) } */
  overflowCount++                /* sequentially consistent add */
}

/* tryPushRing: ok = 1 when the job went into the ring, 0 when full. */
inline tryPushRing(job, ok) {
  pos = tail;                    /* relaxed load */
  do
  :: s = seq[pos & MASK];        /* acquiring load of the slot's sequence */
     if
     :: s == pos ->
        atomic {                 /* compareExchange(tail, pos, pos + 1) */
          if
          :: tail == pos -> tail = pos + 1; won = 1
          :: else -> pos = tail; won = 0
          fi
        }
        if
        :: won ->
#ifdef BUG_PUBLISH_BEFORE_WRITE
           seq[pos & MASK] = pos + 1;
           data[pos & MASK] = job;
#else
           data[pos & MASK] = job;        /* code and payload, relaxed */
           seq[pos & MASK] = pos + 1;     /* releasing: the job is visible */
#endif
           ok = 1;
           break
        :: else -> skip
        fi
     :: s < pos -> ok = 0; break  /* full: the slot holds the last lap's job */
     :: s > pos -> pos = tail      /* another pusher took pos: look again */
     fi
  od
}

/* popRing: j = the job, or 0 for empty (or the next push not yet written). */
inline popRing(j) {
  pos = head;
  do
  :: s = seq[pos & MASK];        /* acquiring: pairs with the push's release */
     if
     :: s == pos + 1 ->
        atomic {                 /* compareExchange(head, pos, pos + 1) */
          if
          :: head == pos -> head = pos + 1; won = 1
          :: else -> pos = head; won = 0
          fi
        }
        if
        :: won ->
#ifdef BUG_PUBLISH_BEFORE_READ
           seq[pos & MASK] = pos + CAP;
           j = data[pos & MASK];
#else
           j = data[pos & MASK];
           seq[pos & MASK] = pos + CAP;   /* releasing: free for the next lap */
#endif
           take(j);
           break
        :: else -> skip
        fi
     :: s < pos + 1 -> j = 0; break
     :: s > pos + 1 -> pos = head
     fi
  od
}

/* popBatch(max: BATCH): got = how many jobs it took. */
inline popBatch(got) {
  pos = head;
  ready = 0;
  do
  :: /* count the ready slots from pos on, one acquiring load each */
#ifdef BUG_BATCH_STALE_COUNT
     if
     :: ready == 0 ->
#endif
     ready = 0;
     do
     :: ready < BATCH && seq[(pos + ready) & MASK] == pos + ready + 1 -> ready++
     :: else -> break
     od;
#ifdef BUG_BATCH_STALE_COUNT
     :: else -> skip
     fi;
#endif
     if
     :: ready == 0 ->
        s = seq[pos & MASK];
        if
        :: s > pos + 1 -> pos = head   /* another popper took pos */
        :: else -> got = 0; break      /* empty */
        fi
     :: else ->
        atomic {                 /* compareExchange(head, pos, pos + ready) */
          if
          :: head == pos -> head = pos + ready; won = 1
          :: else -> pos = head; won = 0
          fi
        }
        if
        :: won ->
           i = 0;
           do
           :: i < ready ->
#ifdef BUG_PUBLISH_BEFORE_READ
              seq[(pos + i) & MASK] = pos + i + CAP;
              j = data[(pos + i) & MASK];
#else
              j = data[(pos + i) & MASK];
              seq[(pos + i) & MASK] = pos + i + CAP;
#endif
              take(j);
              i++
           :: else -> break
           od;
           got = ready;
           break
        :: else -> skip
        fi
     fi
  od
}

/* popOverflow, after pop() read overflowCount != 0. */
inline popOverflow(j) {
  atomic {                       /* overflow.withLock { $0.pop() } */
    if
    :: nempty(overflow) -> overflow?j; take(j)
    :: empty(overflow) -> j = 0
    fi
  }
  if
  :: j != 0 -> overflowCount--   /* relaxed subtract */
  :: else -> skip
  fi
}

/* popOverflowBatch(max: BATCH): got = how many it moved. */
inline popOverflowBatch(got) {
  if
  :: overflowCount == 0 -> got = 0
  :: overflowCount != 0 ->   /* not else: this is the first step of a choice */
     atomic {
       got = 0;
       do
       :: got < BATCH && nempty(overflow) -> overflow?j; take(j); got++
       :: got == BATCH || empty(overflow) -> break
       od
     }
     if
     :: got > 0 -> overflowCount = overflowCount - got
     :: else -> skip
     fi
  fi
}

/* Pusher `first` pushes jobs first, first + NPROD, ... up to NJOBS. */
proctype Pusher(byte first) {
  byte pos, s, job, k;
  bit won, ok;
  k = first;
  do
  :: k <= NJOBS ->
     job = k;
     if
     :: tryPushRing(job, ok);    /* push(_:) */
        if
        :: !ok -> pushOverflow(job)
        :: else -> skip
        fi
     :: pushOverflow(job)        /* a worker spilling its local queue */
     fi;
     d_step { k = k + NPROD; job = 0; pos = 0; s = 0; won = 0; ok = 0 }
  :: else -> break
  od;
  pushersDone++
}

/* A popper keeps nothing between calls: its locals are reset after each,
   so that states differing only in dead locals are one state. */
inline forget() {
  d_step { pos = 0; s = 0; j = 0; i = 0; ready = 0; got = 0; won = 0 }
}

proctype Popper() {
  byte pos, s, j, i, ready, got;
  bit won, done;
  do
  :: popBatch(got); forget()            /* findWork */
  :: popOverflowBatch(got); forget()    /* findWorkSlowly, dropQueuedJobs */
  :: done = (pushersDone == NPROD);
     popRing(j);                        /* pop() */
     if
     :: j == 0 && overflowCount != 0 -> popOverflow(j)
     :: else -> skip
     fi;
     /* Done when the pushers were done before a pop() that found nothing. */
     if
     :: j == 0 && done -> break
     :: else -> forget(); done = 0
     fi
  od
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < CAP -> seq[i] = i; i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NPROD -> run Pusher(1 + i); i++
    :: else -> break
    od;
    i = 0;
    do
    :: i < NCONS -> run Popper(); i++
    :: else -> break
    od
  }
  _nr_pr == 1;                   /* every pusher and popper ended */
  i = 1;
  do
  :: i <= NJOBS -> assert(taken[i] == 1); i++
  :: else -> break
  od;
  assert(head == tail && empty(overflow))
}
