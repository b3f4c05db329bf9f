/*
 * The monitor's sleep/wake handshake: the monitor deep-sleeps on a futex
 * while no local queue holds a job; a push onto a local queue wakes it.
 * No lost wake-up: a job pushed to a local queue is always looked at by
 * the monitor, or run by its worker, or moved.
 *
 * Mirrors, as of commit 2960397 (lines move; the names are what to look
 * for):
 *   Sources/RtctxCore/Scheduler/Monitor.swift:
 *     noteLocalWork, wake (lines 41-48): after the tail store, an SC load
 *       of `asleep`; if set, an SC exchange to 0 and a futex wake;
 *     monitorMain (lines 58-96): a pass over the workers (claimed count,
 *       local.count > 0, move if stalled); a timed wait if any queue held
 *       jobs; else store asleep = 1 (SC), look at every queue once more,
 *       and either clear it and go round, or wait while it is 1;
 *     moveStranded (lines 100-107): the queue's jobs to the inject queue.
 *   Sources/RtctxCore/Lifecycle/Runtime.swift, enqueue (lines 406-416):
 *     pushLocal, then monitor.noteLocalWork() (then parking.notify,
 *     parking.pml's part).
 *   Sources/RtctxCore/Scheduler/LocalQueue.swift: push stores the tail
 *     (the count the monitor reads) before noteLocalWork; a pop or a
 *     steal is one step here.
 *
 * Granularity: one statement per atomic operation; the futex wait is a
 * statement blocked until `asleep` is 0 (every wake follows an exchange or
 * store of 0, and the Swift re-waits on nothing: a spurious return only
 * makes one more pass). The timed wait always returns (its deadline is a
 * period away): it is a skip.
 *
 * Abstracted away: time and the stall clocks (a queue that holds jobs may
 * be moved on any pass: more behaviour than the real "stalled for
 * strandedAfter"), the inject queue and whoever runs what is moved
 * (inject-ring.pml, parking.pml), stop() and the shutdown (a stuck task
 * keeps the runtime from draining anyway), the claimed counts.
 *
 * Bounds: NW workers, each pushing NPUSH jobs onto its own queue and
 * running some of them, then stuck for ever in a task that blocks (the
 * case the monitor is for).
 *
 * Property: LTL `pushed_is_looked_at`: whenever a local queue holds a
 * job, eventually the monitor looked at a queue holding one since it last
 * went to sleep, or the queues are empty (checked with -a -f). `looked` is
 * cleared when the monitor goes to sleep.
 *
 * Seeded bugs (each must make the check fail):
 *   BUG_CHECK_BEFORE_STORE  the push reads `asleep` before its tail store:
 *                           the monitor's re-check and the push's check
 *                           both miss, and the monitor sleeps on a job
 *   BUG_NO_RECHECK          the monitor sleeps right after storing
 *                           asleep = 1, without its second look
 */

#ifndef NW
#define NW 2
#endif
#ifndef NPUSH
#define NPUSH 2
#endif

byte lq[NW];       /* local.count of each worker */
bit asleep;        /* Monitor.asleep's futex word */
bit looked;        /* the monitor saw a queue holding a job since it last slept */
byte moved, ran;

ltl pushed_is_looked_at { [] ((lq[0] + lq[1] > 0) -> <> (looked || lq[0] + lq[1] == 0)) }

/* noteLocalWork(): if asleep, exchange it to 0 and wake the futex. */
inline noteLocalWork() {
  if
  :: asleep != 0 ->
     atomic { was = asleep; asleep = 0 };
     skip                         /* asleep.wake(1) if `was` */
  :: else -> skip
  fi
}

proctype Worker(byte me) {
  byte k;
  bit was;
  k = 0;
  do
  :: k < NPUSH ->
#ifdef BUG_CHECK_BEFORE_STORE
     noteLocalWork();
     lq[me]++;
#else
     lq[me]++;                    /* the push's tail store */
     noteLocalWork();
#endif
     k++
  :: atomic { lq[me] > 0 -> lq[me]--; ran++ }   /* the worker runs one */
  :: k == NPUSH -> break          /* stuck in a task that blocks */
  od
}

proctype Monitor() {
  byte w;
  bit anyQueued, q;
  do
  :: anyQueued = 0;
     w = 0;
     do
     :: w < NW ->
        q = (lq[w] > 0);          /* worker.local.count > 0 */
        if
        :: q -> looked = 1; anyQueued = 1;
           if
           :: atomic { moved = moved + lq[w]; lq[w] = 0 }   /* moveStranded */
           :: skip
           fi
        :: else -> skip
        fi;
        w++
     :: w == NW -> break
     od;
     w = 0;
     if
     :: anyQueued -> skip         /* a wait of one period, then round again */
     :: else ->
        asleep = 1;
#ifndef BUG_NO_RECHECK
        if
        :: lq[0] + lq[1] > 0 -> asleep = 0   /* a push came between: round again */
        :: else ->
#endif
           looked = 0;
           asleep == 0            /* wait(whileEqualTo: 1) */
#ifndef BUG_NO_RECHECK
        fi
#endif
     fi
  od
}

init {
  byte i;
  atomic {
    i = 0;
    do
    :: i < NW -> run Worker(i); i++
    :: i == NW -> break
    od;
    run Monitor()
  }
}
