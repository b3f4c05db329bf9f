/*
 * The parking handshake with the signal doorbell: parking.pml with one
 * post from a signal handler and no pushed jobs (NJOBS 2 with a post is
 * 5.6 M states, 100 s: too long for make check; NJOBS 1 and 2 posts
 * likewise). What it adds to parking.pml, and mirrors:
 *   Sources/RtctxCore/Tasks/SignalSlot.swift: SignalSlot.post (the
 *     bitwiseOr of pendingBit, a ring if the slot was idle), run (clear
 *     pending, fn, queued -> idle or queue itself again), and
 *     SignalSlots.queuePosted/queueAll (the bell lowered under the
 *     registry's lock, admitRun's CAS pending -> queued, the run queued).
 *   Sources/RtctxCore/Scheduler/Parking.swift: SignalDoorbell.ring (raise
 *     the bell; per worker CAS its word 0 -> 2 and wake it, stop at the
 *     first wake that woke a sleeper: the model leaves the futex's answer
 *     open, so it may stop early, the dangerous choice), sleep's check of
 *     signalBell before it waits, the wait ending on any non-zero word,
 *     and a notified worker waiting for the 1 (a 2 is not its wake).
 *   Sources/RtctxCore/Lifecycle/Runtime.swift: fireDueTimers, where a
 *     worker calls queuePosted before it looks at timers or the stop.
 * Left out: the admission checks of post and the shutdown's close of the
 * registry (the shutdown here starts once the post was answered; drain.pml
 * has admission vs. drain), the tick%61 call of fireDueTimers (one more
 * chance to hear the bell, not one the protocol needs).
 *
 * Property: parking.pml's LTL formula, with `seen == NPOSTS`: the post is
 * followed by the start of a run (a lost doorbell is a run where the
 * post's slot stays pending while every worker sleeps: the shutdown then
 * waits for ever).
 *
 * Seeded bugs (each must make the check fail):
 *   BUG_BELL_NOT_RECHECKED  sleep() does not read the bell: a ring whose
 *                           CASes found every word non-zero (workers
 *                           awake) is erased when they store 0 to sleep
 *   BUG_RING_WAKES_NONE     ring() raises the bell and wakes nobody: a
 *                           worker already asleep never hears it
 */
#define NJOBS 0
#define NPOSTS 1
#include "parking.pml"
