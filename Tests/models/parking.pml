/*
 * The parking handshake: idle workers search, then sleep on their own
 * futex word; whoever makes work visible notifies; no wake-up is lost.
 *
 * Mirrors, as of commit 2960397 (the search bounded by time on branch idle;
 * doorbell; written at a2a81e1; lines move, the function names are what
 * to look for):
 *   Sources/RtctxCore/Scheduler/Parking.swift, class Parking:
 *     startSearching, stopSearching  (lines 56-63)
 *     sleep(index:deadline:hasWork:) (lines 69-98): the word reset to 0,
 *                                    count, re-check (hasWork, then the
 *                                    signal bell), wait while the word is
 *                                    0, leave the list or wait for the 1
 *     notify, wakeOne                (lines 104-121)
 *     notifyAll, wake                (lines 125-143)
 *     SignalDoorbell.ring            (lines 162-170; parking-doorbell.pml)
 *   Sources/RtctxCore/Scheduler/Worker.swift, extension RuntimeCore:
 *     runWorker    (lines 104-136)  the loop: find work, hand the search
 *                                   on, fire due timers and queue posted
 *                                   signal slots, exit when stopping,
 *                                   search, sleep
 *     findWork, findWorkSlowly (lines 167-202)  local queue, a batch off
 *                                   the inject ring (notify if it took more
 *                                   than one), stealing
 *     mayHaveWork  (lines 205-209)  the re-check
 *     searchBriefly (lines 220-243) (bounded by time there, SPINS rounds
 *                                   here; checks the signal bell too)
 *   Sources/RtctxCore/Scheduler/InjectQueue.swift: push's CAS on tail (the
 *     job becomes visible to mayHaveWork), then the slot's publication (it
 *     becomes poppable); mayHaveWork (lines 236-242).
 *   Sources/RtctxCore/Lifecycle/Runtime.swift: enqueue (push, then notify;
 *     lines 406-416), fireDueTimers (signals.queuePosted first, 513-514),
 *     and step 3 of shutdown, advance(to: .stopping): publish(.stopping),
 *     then parking.notifyAll().
 *
 * Granularity: one statement per atomic operation (a load, a store, a CAS,
 * a fetch-and-add); a section under the `idle` lock is one atomic step. All
 * the handshake's operations are sequentially consistent in the Swift, as
 * memory is here. A futex wait is a statement blocked until the word is 1:
 * every wake in the Swift follows the store of 1 (wake()), and a waiter
 * re-checks the word in a loop, so spurious returns change nothing.
 *
 * Abstracted away: the inject ring's internals (inject-ring.pml checks
 * them): a push is its CAS on tail, then its publication; a batch pop takes
 * the published jobs at once. The overflow list (its count is one more SC
 * word mayHaveWork reads, pushed after the list like tail after the CAS).
 * Local queues are counts, a pop or a steal one atomic step (LocalQueue's
 * own protocol is not modelled). Timers and deadlines (sleep without a
 * deadline: the case where a lost wake-up would be forever), the drain
 * event, the tick%61 path, strands, the monitor (monitor.pml). NPOSTS > 0
 * (parking-doorbell.pml) adds a signal handler posting to one slot. The shutdown thread waits until every
 * job ran (waitDrained, drain.pml) before it stops the workers.
 *
 * Bounds: NW workers (maxSearching = max(1, NW / 2)), one outside thread
 * pushing NJOBS jobs, BATCH jobs at most per batch pop. With 2 workers at
 * most one searches (but after notifyAll), so stopSearching always finds
 * itself the last searcher here.
 *
 * Properties:
 *   - LTL `all_run_and_exit`: eventually every job ran and every worker
 *     exited (checked with -a and weak fairness -f). A lost wake-up is a
 *     run where a job stays queued while every worker sleeps, or where a
 *     worker sleeps through the stop: then the shutdown thread waits
 *     forever, and the formula fails;
 *   - assertions: the searching and sleeper counts never go below zero,
 *     the sleeper count is the idle list's length under the lock, and no
 *     job is run that was not pushed.
 *
 * Seeded bugs (each must make the check fail):
 *   BUG_RECHECK_BEFORE_COUNT  sleep() looks at the queues before counting
 *                             itself a sleeper: a push and its notify fall
 *                             in between, see no sleeper, and the worker
 *                             sleeps with the job queued
 *   BUG_NOTIFY_BEFORE_PUSH    enqueue notifies before it pushes: the
 *                             notify sees no work to wake anyone for
 *   BUG_STOP_NOT_RECHECKED    the re-check leaves out isStopping: a worker
 *                             that counts itself a sleeper after
 *                             notifyAll sleeps through the stop
 */

#ifndef NW
#define NW 2
#endif
#ifndef NJOBS
#define NJOBS 2
#endif
#ifndef BATCH
#define BATCH 8
#endif
#ifndef NPOSTS
#define NPOSTS 0       /* parking-doorbell.pml: 1, with NJOBS 0 */
#endif
#ifndef SPINS
#define SPINS 2
#endif
#define MAXSEARCHING (NW / 2 > 1 -> NW / 2 : 1)

#define RUNNING 0
#define STOPPING 3

/* The inject ring, as its positions: tail is CAS'd first (mayHaveWork sees
   the job), published counts the slots written (a pop can take them). */
byte tail;
byte published;
byte head;
byte lq[NW];        /* jobs in each worker's local queue */

/* Parking */
short searching;
short sleepers;
byte idle[NW];         /* the idle list (a stack: wakeOne takes the last) */
byte nidle;
byte word[NW];         /* each worker's futex word: 0, 1 (notify), 2 (a signal) */

/* Signal slots: one slot, its state word, the doorbell. */
#define PENDING 1
#define QUEUED 2
byte slot;             /* SignalSlot.state: pendingBit | queuedBit */
bit bell;              /* Parking.signalBell */
byte posted;           /* posts begun (tickets) */
byte seen;             /* `posted` when the latest run started */
byte lqs[NW];          /* slot runs in each worker's local queue */

byte phase = RUNNING;
byte ran;              /* jobs executed (not counting slot runs) */
byte exited;           /* workers that left their loop */

ltl all_run_and_exit { <> (ran == NJOBS && seen == NPOSTS && exited == NW) }

/* mayHaveWork(): the inject ring's tail != head (sequentially consistent
   loads, tail first; the overflow count is left out, see above), then each
   local queue's count. */
inline mayHaveWork(r) {
  t = tail;
  if
  :: t != head -> r = 1
  :: t == head ->
     r = 0;
     v = 0;
     do
     :: v < NW && r == 0 -> r = (lq[v] + lqs[v] > 0); v++
     :: v == NW || r == 1 -> break
     od;
     v = 0
  fi;
  t = 0
}

/* notify(): nothing while a worker searches or nobody sleeps, else wakeOne. */
inline notify() {
  if
  :: searching > 0 -> skip
  :: searching <= 0 ->
     if
     :: sleepers == 0 -> skip
     :: sleepers != 0 ->
        atomic {                 /* wakeOne: idle.withLock */
          if
          :: nidle > 0 && searching == 0 ->
             nidle--;
             w = idle[nidle];
             idle[nidle] = 0;
             sleepers--;
             searching++;
             woke = 1;
             assert(sleepers >= 0 && sleepers == nidle)
          :: else -> woke = 0
          fi
        }
        if
        :: woke -> word[w] = 1; woke = 0; w = 0  /* wake(w): store 1, futex wake */
        :: else -> skip
        fi
     fi
  fi
}

/* notifyAll(): every sleeper leaves the idle list, counted as searching,
   and is woken after the lock (`all` is the caller's copy of the list). */
inline notifyAll() {
  atomic {
    n = 0;
    do
    :: n < nidle -> all[n] = idle[n]; idle[n] = 0; n++
    :: n == nidle -> break
    od;
    sleepers = sleepers - nidle;
    searching = searching + nidle;
    nidle = 0;
    assert(sleepers == 0)
  }
  do                             /* all.forEach(wake) */
  :: n > 0 -> n--; word[all[n]] = 1; all[n] = 0
  :: n == 0 -> break
  od
}

proctype Pusher() {
  byte w, n, k;
  bit woke;
  k = 0;
  do
  :: k < NJOBS ->
#ifdef BUG_NOTIFY_BEFORE_PUSH
     notify();
#endif
     tail++;                     /* the ring's CAS on tail: visible */
     published++;                /* the slot's sequence: poppable */
#ifndef BUG_NOTIFY_BEFORE_PUSH
     notify();                   /* enqueue: parking.notify() */
#endif
     k++
  :: k == NJOBS -> break
  od
}

/* SignalDoorbell.ring(): raise the bell, then for each worker CAS its word
   0 -> 2 and, if that took, wake its futex; stop at the first wake that
   woke a sleeper. */
inline ring() {
  bell = 1;
#ifndef BUG_RING_WAKES_NONE
  i = 0;
  do
  :: i < NW ->
     atomic {
       if
       :: word[i] == 0 -> word[i] = 2; rung = 1
       :: else -> rung = 0
       fi
     }
     /* wakeOneFromSignalHandler: > 0 if the worker slept, which this
        model leaves open (stopping too early is the dangerous choice) */
     if
     :: rung -> break
     :: rung -> i++
     :: else -> i++
     fi
  :: i == NW -> break
  od;
  i = 0; rung = 0
#endif
}

/* A signal handler (on any thread: as its own process it may run between
   any two steps of the thread it interrupts) posting NPOSTS times:
   SignalSlot.post, without the admission checks (the shutdown here begins
   once every post was answered). */
proctype Poster() {
  byte k, old, i;
  bit rung;
  k = 0;
  do
  :: k < NPOSTS ->
     posted++;                   /* the test's ticket, taken before the post */
     atomic { old = slot; slot = slot | PENDING }   /* bitwiseOr */
     if
     :: old == 0 -> ring()
     :: else -> skip
     fi;
     k++
  :: k == NPOSTS -> break
  od
}

/* Runtime.enqueue from a worker of its own queue: push, then notify. */
inline pushSlotRun() {
  lqs[me]++;
  notify()
}

/* SignalSlot.run: clear pending, fn (reads `posted`), then queued -> idle,
   or queue itself once more if posted during the run. */
inline runSlot() {
  atomic { slot = slot & ~PENDING }
  seen = posted;
  atomic {
    if
    :: slot == QUEUED -> slot = 0; r = 0
    :: else -> r = 1
    fi
  }
  if
  :: r -> r = 0; pushSlotRun()   /* runtime.submit(.posted(self), owed: true) */
  :: else -> skip
  fi
}

proctype Worker(byte me) {
  byte w, v, t, taken;
  bit woke, isSearching, got, r, removed, isSlot;

loop:
  do
  :: /* findWork: the local queue, a batch off the ring, stealing */
     got = 0;
     atomic {                    /* local.pop(): either kind (order abstracted) */
       if
       :: lq[me] > 0 -> lq[me]--; got = 1
       :: lqs[me] > 0 -> lqs[me]--; got = 1; isSlot = 1
       :: else -> skip
       fi
     }
     if
     :: got == 0 ->
        atomic {                 /* popBatch into the local queue (refill) */
          taken = published - head;
          if
          :: taken > BATCH -> taken = BATCH
          :: else -> skip
          fi;
          head = head + taken;
          lq[me] = lq[me] + taken
        }
        if
        :: taken > 1 -> notify()
        :: else -> skip
        fi;
        if
        :: taken > 0 ->          /* local.pop(): a thief may have been first */
           atomic {
             if
             :: lq[me] > 0 -> lq[me]--; got = 1
             :: lqs[me] > 0 -> lqs[me]--; got = 1; isSlot = 1
             :: else -> skip
             fi
           }
        :: else -> skip
        fi;
        if
        :: got == 0 ->           /* findWorkSlowly: steal from the others */
           v = 1;
           do
           :: v < NW && got == 0 ->
              atomic {
                if
                :: lq[(me + v) % NW] > 0 -> lq[(me + v) % NW]--; got = 1
                :: lqs[(me + v) % NW] > 0 -> lqs[(me + v) % NW]--; got = 1; isSlot = 1
                :: else -> skip
                fi
              };
              v++
           :: v == NW || got == 1 -> break
           od;
           v = 0
        :: got == 1 -> skip
        fi;
        taken = 0
     :: else -> skip
     fi;

     if
     :: got ->
        if
        :: isSearching ->
           isSearching = 0;
           /* stopSearching(): true if this was the last searcher */
           atomic { searching--; r = (searching == 0); assert(searching >= 0) }
           if
           :: r -> mayHaveWork(r); if :: r -> notify() :: else -> skip fi
           :: else -> skip
           fi;
           r = 0
        :: else -> skip
        fi;
        if                                      /* execute(job) */
        :: isSlot -> isSlot = 0; runSlot()
        :: else -> atomic { assert(ran < head); ran++ }
        fi;
        got = 0
     :: else ->
        /* fireDueTimers(): signals.queuePosted first: if the bell rang,
           lower it under the registry's lock, admit the run a posted and
           idle slot is owed, and queue it (then `continue`) */
        if
        :: bell ->
           atomic {
             bell = 0;
             if
             :: slot == PENDING -> slot = QUEUED; r = 1
             :: else -> r = 0
             fi
           }
           if
           :: r -> r = 0; pushSlotRun(); goto loop
           :: else -> skip
           fi
        :: else -> skip
        fi;
        if
        :: phase == STOPPING -> break           /* isStopping */
        :: else -> skip
        fi;
        if
        :: !isSearching ->
           atomic {              /* startSearching: CAS while below the limit */
             if
             :: searching < MAXSEARCHING -> searching++; isSearching = 1
             :: else -> skip
             fi
           }
        :: else -> skip
        fi;
        if
        :: isSearching ->
           /* searchBriefly: mayHaveWork(), stopping or the signal bell,
              checked until true or the search gives up: it is bounded
              by time in the Swift (searchNanoseconds), by SPINS rounds
              here, and may give up after any round (a time-out); a due
              timer is left out, as everywhere in this model */
           r = 0;
           w = 0;
           do
           :: w < SPINS ->
              w++;
              mayHaveWork(r);
              if
              :: !r -> r = (phase == STOPPING)
              :: else -> skip
              fi;
              if
              :: !r -> r = bell
              :: else -> skip
              fi;
              if
              :: r -> break
              :: else -> skip
              fi
           :: break
           :: w == SPINS -> break
           od;
           w = 0;
           if
           :: r -> r = 0         /* found: back to findWork, searching */
           :: else ->
              isSearching = 0;
              atomic { searching--; assert(searching >= 0) }
           fi
        :: else -> skip
        fi;
        if
        :: isSearching -> skip  /* continue */
        :: else ->
           /* parking.sleep(index: me, deadline: nil, hasWork: ...) */
           word[me] = 0;
#ifdef BUG_RECHECK_BEFORE_COUNT
           mayHaveWork(r);
           if
           :: !r -> r = (phase == STOPPING)
           :: else -> skip
           fi;
#endif
           atomic {              /* idle.withLock: append, count */
             idle[nidle] = me;
             nidle++;
             sleepers++;
             assert(sleepers == nidle)
           }
#ifndef BUG_RECHECK_BEFORE_COUNT
           mayHaveWork(r);       /* hasWork(): mayHaveWork() ... */
#ifndef BUG_STOP_NOT_RECHECKED
           if
           :: !r -> r = (phase == STOPPING)   /* ... || isStoppingSequentiallyConsistent */
           :: else -> skip
           fi;
#endif
#endif
#ifndef BUG_BELL_NOT_RECHECKED
           if
           :: !r -> r = bell      /* && !signalBell (sequentially consistent) */
           :: else -> skip
           fi;
#endif
           if
           :: !r ->              /* while word == 0 { futex wait(whileEqualTo: 0) } */
              word[me] != 0       /* a wake follows every store of 1 or 2 */
           :: else -> skip
           fi;
           r = 0;
           atomic {              /* idle.withLock: leave the list if still in it */
             removed = 0;
             v = 0;
             do
             :: v < nidle && idle[v] != me -> v++
             :: v < nidle && idle[v] == me ->
                do
                :: v + 1 < nidle -> idle[v] = idle[v + 1]; v++
                :: v + 1 >= nidle -> break
                od;
                nidle--;
                idle[nidle] = 0;
                sleepers--;
                removed = 1;
                break
             :: v >= nidle -> break
             od;
             v = 0;
             assert(sleepers >= 0 && sleepers == nidle)
           }
           if
           :: removed -> removed = 0   /* not searching */
           :: else ->
              word[me] == 1;           /* a notifier owns our wake: wait for its 1 (a 2 is a ring's) */
              isSearching = 1          /* returned true: counted as searching */
           fi
        fi
     fi
  od;
  if
  :: isSearching -> atomic { searching--; assert(searching >= 0) }
  :: else -> skip
  fi;
  exited++
}

/* Shutdown, step 3 (after waitDrained saw every job done). */
proctype Shutdown() {
  byte n;
  byte all[NW];
  ran == NJOBS && seen == NPOSTS;
  phase = STOPPING;              /* publish(.stopping), sequentially consistent */
  notifyAll();
  exited == NW                   /* joinWorkers */
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NW -> run Worker(i); i++
    :: i == NW -> break
    od;
    run Pusher();
    run Poster();
    run Shutdown()
  }
}
