// rt_apply: the C face of RuntimeCore.apply (RtctxCore/Tasks/Apply.swift).

import CRtctx

@_cdecl("rt_apply")
public func rt_apply(
  _ h: OpaquePointer?, _ n: Int, _ fn: rt_apply_fn?, _ ctx: UnsafeMutableRawPointer?
) -> Int32 {
  guard let h else { return RuntimeError.fail(.invalidArgument, in: "rt_apply", "h is NULL") }
  guard let fn else { return RuntimeError.fail(.invalidArgument, in: "rt_apply", "fn is NULL") }
  return RuntimeCore.with(h, "rt_apply", orElse: Int32(RT_EINVAL)) { core in
    // size_t arrives as Int: its bit pattern is the count.
    RuntimeError.code(core.apply(UInt(bitPattern: n), fn, ctx), in: "rt_apply") { core.whyRefused($0) }
  }
}
