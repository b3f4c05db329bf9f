// What the library sets up when it is loaded, before any thread of the
// program can call into it (see rtctx_core_load in the shim's header).
//
// Swift initialises a global on first use, behind a once-token. A process
// that forks while another thread is inside such an initialisation leaves
// the child a token marked "in progress" that no thread will ever finish:
// the child's first use waits forever. So every global of the library is
// touched here, and later uses find it done.

import CRtctxShim

@_cdecl("rtctx_core_load")
public func rtctxCoreLoad() {
  Fork.install()
  _ = Environment.debugLog
  _ = PointerID.key
}

/// Settings read from the environment once, when the library is loaded.
package enum Environment {
  /// `RTCTX_LOG=debug` (or `1`, in any case): the C export layer reports
  /// every misuse on stderr. Ignored in a setuid or setgid program (and
  /// one with file capabilities): there the environment is its caller's,
  /// who must not make it write to the stderr it was given.
  package static let debugLog: Bool = {
    guard let value = secureEnvironmentValue("RTCTX_LOG") else { return false }
    return strcasecmp(value, "debug") == 0 || strcmp(value, "1") == 0
  }()
}
