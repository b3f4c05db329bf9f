/* The C ABI of librtctx as include/rtctx.h declares it, in a form that
 * libabigail can read (mk/abi.mk builds it into build/abi/rtctx-types.so).
 *
 * The library's own debug info cannot serve: every rt_* function is a Swift
 * @_cdecl thunk, and its DWARF is Swift's (a subprogram returning the Swift
 * struct Int32, without parameters, inside the module RtctxExports), which
 * abidw does not turn into a C function. So the types come from the header,
 * as C: for each RT_EXPORT function one pointer variable of exactly that
 * function's type, abi_<name>. Its DWARF holds the signature, and through
 * it every public type it reaches (rt_config_t, rt_stats_t, rt_type_t, the
 * callback types, ...), with sizes, offsets and enumerator values.
 *
 * That the library has these types is proved elsewhere: the Swift side
 * imports the same header (module CRtctx) and HeaderCheck.swift checks at
 * compile time that each export has the header's type; make check-exports
 * checks that the exports are exactly the header's functions.
 *
 * rtctx-exports.inc is generated from the header's RT_EXPORT lines, one
 * RTCTX_ABI_FN(rt_name) per function. */
#include "rtctx.h"

#define RTCTX_ABI_FN(name) __typeof__(name) *abi_##name;
#include "rtctx-exports.inc"
