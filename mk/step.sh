#!/bin/sh
# mk/step.sh NAME COMMAND...: one step of `make check`, on one line.
#
# Runs COMMAND with its output in $(BUILD)/logs/NAME.log and prints
#   PASS  NAME           12 s
# or, when it fails, FAIL and the end of the log (the whole log when short),
# then exits with the command's status. With V=1 in the environment the
# output also goes to the terminal as it comes.
set -u
name=$1; shift
logs=${LOGS:-build/logs}
mkdir -p "$logs"
log=$logs/$name.log
start=$(date +%s)
if [ "${V:-0}" = 1 ]; then
  { "$@" 2>&1; echo $? > "$log.status"; } | tee "$log"
  status=$(cat "$log.status"); rm -f "$log.status"
else
  "$@" > "$log" 2>&1
  status=$?
fi
took=$(( $(date +%s) - start ))
if [ "$status" -eq 0 ]; then
  printf '  PASS  %-16s %4d s\n' "$name" "$took"
  exit 0
fi
printf '  FAIL  %-16s %4d s   (log: %s)\n' "$name" "$took" "$log"
if [ "${V:-0}" != 1 ]; then
  lines=$(wc -l < "$log")
  if [ "$lines" -gt 150 ]; then
    echo "  ... the last 150 of $lines lines:"
    tail -n 150 "$log"
  else
    cat "$log"
  fi
fi
exit "$status"
