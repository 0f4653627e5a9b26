# Pipelines, subshells, command substitution, background jobs.
echo "alpha beta gamma delta" | tr ' ' '\n' | sort -r | head -3 | tr '\n' ',' ; echo
x=$(echo inner; echo second)
echo "subst: $x"
(cd /usr && pwd; exit 4); echo "subshell status $?"
{ echo one; echo two; } | wc -l
sleep 0.2 & p1=$!
sleep 0.1 & p2=$!
wait $p2; echo "job2 $?"
wait $p1; echo "job1 $?"
false | true; echo "pipe status $?"
i=0; while [ $i -lt 5 ]; do i=$((i+1)); done; echo "loop $i"
seq 1 10000 | while read n; do s=$((${s:-0} + n)); echo $s; done | tail -1
case "$(uname -s)" in Linux) echo linux ;; *) echo other ;; esac
