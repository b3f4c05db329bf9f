/// Deadlines as the core takes them (monotonic nanoseconds, see
/// `monotonicNow`), for the Swift layer, which has no clock call of its own.
package enum Deadline {
  /// `nanoseconds` from now; a deadline too far to represent is no deadline.
  package static func after(nanoseconds: UInt64) -> UInt64? {
    let (deadline, overflow) = monotonicNow().addingReportingOverflow(nanoseconds)
    return overflow ? nil : deadline
  }
}
