// The trampolines and the core are two modules in the SwiftPM build (the
// `Rtctx` product links the core without libffi) and one module in the
// Makefile's Embedded Swift build of librtctx (see
// Sources/RtctxExports/ModuleLayout.swift for why). Here, as there, is the
// one place this module tells the two builds apart.
#if !hasFeature(Embedded)
@_exported import RtctxCore
#endif
