// The export layer and the core are two modules in the SwiftPM build (the
// `Rtctx` product and the Swift tests link the core without the C API) and
// one module in the Makefile's Embedded Swift build of librtctx: Embedded
// Swift specializes generic code only where it can see its definition, so
// the core's generic types cannot cross a module boundary there. This is
// the one place the export layer tells the two builds apart: in the
// SwiftPM build, every file of this module sees the core through this
// import; in the Embedded build the core's files are part of this module.
#if !hasFeature(Embedded)
@_exported import RtctxCore
#endif
