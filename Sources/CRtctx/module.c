/* Exposes include/rtctx.h to the Swift export layer, which checks at compile
 * time that every @_cdecl function has the header's exact signature. */
#include "rtctx.h"
