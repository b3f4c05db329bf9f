// The export layer and the core are two modules in the SwiftPM build (the
// `Rtctx` product and the Swift tests link the core without the C API) and
// one module in the Makefile's Embedded Swift build of librtctx: Embedded
// Swift specializes generic code only where it can see its definition, so
// the core's generic types cannot cross a module boundary there. This is
// the one place the export layer tells the two builds apart: in the
// SwiftPM build, every file of this module sees the core and the
// trampolines (RtctxFFI) through these imports; in the Embedded build
// their files are part of this module.
#if !hasFeature(Embedded)
@_exported import RtctxCore
@_exported import RtctxFFI
#endif
