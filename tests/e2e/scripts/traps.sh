# trap on INT and TERM, kill -STOP/-CONT of a background job.
trap 'echo got INT' INT
trap 'echo got TERM' TERM
kill -INT $$
kill -TERM $$
sleep 5 &
job=$!
# Let the job exec `sleep` first: before that it still runs the shell's inherited traps, and
# what a signal does then depends on timing, natively too.
sleep 0.3
kill -STOP $job
sleep 0.1
kill -CONT $job
kill $job
wait $job; echo "job status $?"
( trap 'echo child TERM; exit 3' TERM; kill -TERM $$ 2>/dev/null; sleep 0.2 ) ; echo "after $?"
echo done
