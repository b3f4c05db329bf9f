# The exported symbols of the built library against the Debian symbols
# file (mk/abi.mk). POSIX awk (mawk, gawk, busybox).
#
#   awk -v mode=check|update -v soname=SONAME -v version=X.Y.Z \
#       -f symbols.awk CURRENT SYMBOLS_FILE
#
# CURRENT: one "name@VERSION_NODE" line per defined dynamic symbol (just
# "name" if it has no version). SYMBOLS_FILE: "SONAME PACKAGE #MINVER#",
# then " name@NODE MINVER" lines (dpkg-gensymbols(1), deb-symbols(5)).
#
# check: prints "removed name@NODE", "version name@OLD -> name@NEW",
# "soname OLD -> NEW" (exit status 1 if any) and "added name@NODE" (not a
# failure: a program linked against the baseline still finds everything),
# followed by "(in the released node NODE)" when NODE is one the baseline
# already has: a new function belongs in a new node.
# update: prints the symbol lines of the new symbols file, unsorted: a
# symbol kept keeps its MINVER, a new one gets `version`.

function node(sym) { return index(sym, "@") ? substr(sym, index(sym, "@") + 1) : "" }
function name(sym) { return index(sym, "@") ? substr(sym, 1, index(sym, "@") - 1) : sym }

FNR == NR { if ($1 != "") cur[name($1)] = node($1); next }

/^[^ #*|]/ && !header_seen {
  header_seen = 1
  if (mode == "check" && $1 != soname) { print "soname " $1 " -> " soname; bad = 1 }
  next
}

/^ / {
  n = name($1); v = node($1)
  base[n] = v; minver[n] = $2; released[v] = 1
  if (mode != "check") next
  if (!(n in cur)) { print "removed " $1; bad = 1 }
  else if (cur[n] != v) { print "version " $1 " -> " n "@" cur[n]; bad = 1 }
}

END {
  for (n in cur) {
    sym = cur[n] == "" ? n : n "@" cur[n]
    if (mode == "check") {
      if (!(n in base)) print "added " sym ((cur[n] in released) ? " (in the released node " cur[n] ")" : "")
    }
    else print " " sym " " ((n in base) && base[n] == cur[n] ? minver[n] : version)
  }
  exit bad
}
