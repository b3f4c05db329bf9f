/*
 * Admission against the shutdown's drain: a job is admitted (counted in)
 * or refused in one CAS on the admission word; the drain compares the
 * accepted count with the finished counts and waits on the drain event.
 *
 * Mirrors, as of commit 2960397 (checked again then; written at a2a81e1;
 * lines move, the function names are what to look for):
 *   Sources/RtctxCore/Lifecycle/Admission.swift, class Admission:
 *     enter(fromWorker:) (lines 27-40), close, seal (lines 65-69),
 *     accepted (line 50)
 *   Sources/RtctxCore/Scheduler/Ledger.swift, class Ledger:
 *     inFlight (lines 200-212): the finished counts first, then accepted;
 *     claimed, droppedByWorker, entryDone (lines 92-120);
 *     droppedByShutdown, entryDoneElsewhere (lines 134-142)
 *   Sources/RtctxCore/Scheduler/QueueBound.swift: reserve, release
 *     (lines 20-40)
 *   Sources/RtctxCore/Lifecycle/Runtime.swift, class RuntimeCore:
 *     shutdown(timeout:) (lines 218-262), steps 1 to 3; advance(_:)
 *     (lines 163-197): publish(.draining) then close, seal then
 *     publish(.dropping), seal then publish(.stopping);
 *     waitDrained (lines 272-280): the event read before the count;
 *     dropQueuedJobs (lines 282-294); submit, admit, enqueue (lines 374-416)
 *   Sources/RtctxCore/Scheduler/Worker.swift: workerMain (the drain event
 *     bumped when a worker runs out of work outside .running, exit when
 *     stopping) and execute (run, or drop once .dropping; entryDone).
 *
 * Granularity: one statement per atomic operation (a load, a store, a CAS,
 * an add); a queue push or pop is one step (inject-ring.pml checks the
 * queue itself). Memory is sequentially consistent here; the Swift uses
 * acquire/release on the counts and the event, sequentially consistent
 * stores for the phase and the close.
 *
 * Abstracted away: timers (fired ones counted in flight by the ledger,
 * the timer heap's close under inFlight == 0), the signal registry's close
 * (signals.close, SignalSlot.swift: between the drain and the timers'
 * close, it queues what was posted and closes once nothing is in flight;
 * parking-doorbell.pml has the doorbell), blocking jobs (their queue is
 * dropped like the run queues), strands, groups, join handles and cancels (a job is never
 * claimed elsewhere), the local queues (one shared queue: the shutdown
 * thread empties them all), the parking of workers (a worker with nothing
 * to do waits until the queue has a job or the phase is .stopping:
 * parking.pml checks that no wake-up is lost), the lifecycle lock (only
 * the one shutdown thread moves it).
 *
 * Bounds: NW workers; one outside thread submitting jobs 1 to NSUB, one
 * after the other; job 1, when it runs, spawns a child from its worker
 * (job NSUB + 1); queue capacity CAP, so that a spawn can also be refused
 * for a full queue. The shutdown is given a timeout or not (both are
 * explored), and the timeout may elapse at any wait. (NSUB 3: 18 million
 * states, over a minute here.)
 *
 * Properties (assertions):
 *   - exactly once: a job is run or dropped only if admitted, and once;
 *     at the end every admitted job was run or dropped;
 *   - the drain never declares "drained" while an admitted job is in
 *     flight, and no job is admitted after it did;
 *   - refusals consume nothing: at the end the accepted count is the
 *     number of jobs run or dropped and the queue bound is back to 0;
 *   - the shutdown ends (no deadlock: spin's invalid end states), and
 *     inFlight is 0 after the workers stopped (its precondition).
 *
 * Seeded bugs (each must make the check fail):
 *   BUG_ACCEPTED_FIRST     inFlight reads the accepted count before the
 *                          finished counts: a job finishing after spawning
 *                          a child makes the difference 0 with the child
 *                          in flight
 *   BUG_CLOSE_SEPARATE     the closed flag lives apart from the count: the
 *                          CAS in enter checks the count only, so a caller
 *                          that read "open" is admitted after the close
 *   BUG_REFUSE_KEEPS_BOUND admit refuses a job for shutdown without
 *                          releasing its queue-capacity reservation
 *   BUG_EVENT_AFTER_CHECK  waitDrained reads the drain event after the
 *                          in-flight count: the last worker's bump falls
 *                          in between and the drain waits forever
 */

#ifndef NW
#define NW 2
#endif
#ifndef NSUB
#define NSUB 2
#endif
#define CHILD (NSUB + 1)
#define NJOBS (NSUB + 1)
#ifndef CAP
#define CAP 1
#endif

#define RUNNING  0
#define DRAINING 1
#define DROPPING 2
#define STOPPING 3

/* a job's life, for the checks only */
#define NONE     0
#define ADMITTED 1
#define RUNNING_JOB 2
#define RAN      3
#define DROPPED  4
#define REFUSED  5

/* The admission word: bits 62 and 61 and the count, one atomic word. */
byte accepted;
bit closed;
bit sealed;

byte phase = RUNNING;
short bound;                   /* QueueBound.queued */
chan queue = [NJOBS] of { byte };
byte finished[NW];             /* WorkerCounters.finished */
byte doneElsewhere;            /* Ledger.entriesDoneOffWorkers */
byte drainEvent;               /* the futex word workers bump */
byte exited;

/* ghost state */
byte status[NJOBS + 1];
byte inFlightNow;              /* admitted, queue entry not yet done with */
bit drained;                   /* the drain declared nothing in flight */

/* RuntimeCore.inFlight: the finished counts, then the accepted count. */
inline inFlight(n) {
#ifdef BUG_ACCEPTED_FIRST
  a = accepted;
#endif
  f = doneElsewhere;
  i = 0;
  do
  :: i < NW -> f = f + finished[i]; i++
  :: i == NW -> break
  od;
#ifndef BUG_ACCEPTED_FIRST
  a = accepted;
#endif
  n = a - f;
  a = 0; f = 0; i = 0
}

/* Admission.enter(fromWorker:): ok = 1 when counted in. */
inline enter(job, fromWorker, ok) {
  atomic { sc = accepted; scl = closed; sse = sealed }   /* relaxed load */
  do
  :: sse -> ok = 0; break
  :: !sse && scl && !fromWorker -> ok = 0; break
  :: !sse && (!scl || fromWorker) ->
     atomic {                  /* compareExchange(current, current + 1) */
#ifdef BUG_CLOSE_SEPARATE
       if
       :: accepted == sc ->
#else
       if
       :: accepted == sc && closed == scl && sealed == sse ->
#endif
          accepted++;
          assert(!drained);
          inFlightNow++;
          status[job] = ADMITTED;
          ok = 1
       :: else -> sc = accepted; scl = closed; sse = sealed; ok = 0
       fi
     }
     if
     :: ok -> break
     :: !ok -> skip
     fi
  od;
  sc = 0; scl = 0; sse = 0
}

/* RuntimeCore.submit(job, bounded: true, fromWorker:): admit (reserve the
   queue capacity, then enter), then enqueue; a refusal consumes the job. */
inline submit(job, fromWorker) {
  atomic {                     /* QueueBound.reserve: increment below CAP */
    if
    :: bound < CAP -> bound++; ok = 1
    :: else -> ok = 0; status[job] = REFUSED   /* .queueFull */
    fi
  }
  if
  :: ok ->
     enter(job, fromWorker, ok);
     if
     :: ok -> queue!job        /* enqueue (and notify: parking.pml) */
     :: !ok ->
#ifndef BUG_REFUSE_KEEPS_BOUND
        bound--;               /* ledger.bound.release() */
#endif
        status[job] = REFUSED  /* refuse(job, .shutDown) */
     fi
  :: !ok -> skip
  fi;
  ok = 0
}

proctype Outside() {
  byte job, sc;
  bit scl, sse, ok;
  job = 1;
  do
  :: job <= NSUB -> submit(job, 0); job++
  :: job > NSUB -> break
  od
}

proctype Worker(byte me) {
  byte job, child, sc;
  bit scl, sse, ok, dropping;
  do
  :: queue?job ->              /* findWork */
     dropping = (phase == DROPPING);   /* execute: inPhase(.dropping) */
     if
     :: dropping ->            /* dropQueued, droppedByWorker */
        atomic { assert(status[job] == ADMITTED); status[job] = DROPPED };
        bound--
     :: !dropping ->
        atomic { assert(status[job] == ADMITTED); status[job] = RUNNING_JOB };
        bound--;               /* claimed: bound.release() */
        if
        :: job == 1 ->         /* the job's body spawns a child */
           child = CHILD;
           submit(child, 1);
           child = 0
        :: job != 1 -> skip
        fi;
        status[job] = RAN      /* ran */
     fi;
     atomic {                  /* entryDone(by:): releasing store */
       finished[me]++;
       inFlightNow--
     };
     job = 0; dropping = 0
  :: empty(queue) ->
     if
     :: phase != RUNNING -> drainEvent++   /* drainEvent add, wakeAll */
     :: phase == RUNNING -> skip
     fi;
     if
     :: phase == STOPPING -> break         /* isStopping */
     :: phase != STOPPING ->
        len(queue) > 0 || phase == STOPPING  /* parked until work or stop */
     fi
  od;
  exited++
}

/* waitDrained(deadline:): result = 1 when nothing is in flight. */
inline waitDrained(timed, result) {
  do
  ::
#ifndef BUG_EVENT_AFTER_CHECK
     ev = drainEvent;          /* acquiring load, before the count */
#endif
     inFlight(n);
#ifdef BUG_EVENT_AFTER_CHECK
     ev = drainEvent;
#endif
     if
     :: n == 0 -> result = 1; break
     :: n != 0 ->
        if
        :: drainEvent != ev -> skip          /* woken, or the word moved */
        :: timed ->                          /* the deadline passed */
           inFlight(n);
           result = (n == 0);
           break
        fi
     fi
  od;
  if
  :: result -> atomic { assert(inFlightNow == 0); drained = 1 }
  :: !result -> skip
  fi;
  ev = 0; n = 0
}

proctype Shutdown() {
  byte ev, n, a, f, i, job;
  bit timed, result;

  /* Step 1: advance(.draining): publish(.draining), admission.close() */
  phase = DRAINING;
  closed = 1;
  if                           /* rt_shutdown or rt_shutdown_timeout */
  :: timed = 0
  :: timed = 1
  fi;
  /* Step 2 */
  waitDrained(timed, result);
  if
  :: !result ->
     atomic { closed = 1; sealed = 1 };   /* advance(.dropping): seal, */
     phase = DROPPING;                    /* then publish(.dropping) */
     do                                   /* dropQueuedJobs */
     :: queue?job ->
        atomic { assert(status[job] == ADMITTED); status[job] = DROPPED };
        bound--;                          /* droppedByShutdown: claimedElsewhere */
        atomic { doneElsewhere++; inFlightNow-- };   /* entryDoneElsewhere */
        job = 0
     :: empty(queue) -> break
     od;
     waitDrained(0, result)
  :: result -> skip
  fi;
  do                           /* timers.close(if: { inFlight == 0 }) */
  :: inFlight(n);
     if
     :: n == 0 -> break
     :: n != 0 -> waitDrained(0, result)
     fi
  od;
  /* Step 3: advance(.stopping): seal, publish(.stopping), notifyAll */
  atomic { closed = 1; sealed = 1 };
  phase = STOPPING;
  exited == NW;                /* joinWorkers */
  inFlight(n);
  assert(n == 0)               /* the precondition of step 4 */
}

init {
  byte i, total;
  atomic {
    i = 0;
    do
    :: i < NW -> run Worker(i); i++
    :: i == NW -> break
    od;
    run Outside();
    run Shutdown()
  }
  _nr_pr == 1;
  /* every job admitted was run or dropped; a refused one neither */
  total = 0;
  i = 1;
  do
  :: i <= NJOBS ->
     assert(status[i] == NONE || status[i] == RAN || status[i] == DROPPED || status[i] == REFUSED);
     if
     :: status[i] == RAN || status[i] == DROPPED -> total++
     :: else -> skip
     fi;
     i++
  :: i > NJOBS -> break
  od;
  assert(accepted == total);   /* refusals counted nothing in */
  assert(bound == 0);          /* ... and hold no queue capacity */
  assert(inFlightNow == 0 && empty(queue))
}
