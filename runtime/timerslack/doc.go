// Package timerslack gives the Go runtime's monitor thread a coarse timer
// slack, and starts processes with the process's own.
//
// A thread's timed sleeps may end up to its timer slack later than asked,
// so that the kernel can coalesce wake-ups (prctl(2), PR_SET_TIMERSLACK;
// proc(5), /proc/pid/timerslack_ns; 50 µs by default). The Go runtime's
// monitor thread (sysmon) naps 20 µs at a time while any goroutine runs or
// sits in a system call, and doubles the nap only after 50 naps with
// nothing to do: a command that lives a few milliseconds, most of them
// waiting for its children, is woken ~50 times for nothing, a context
// switch each (and timer exits, in a virtual machine) on CPUs its children
// want. hako's run: 49 naps and ~100 context switches per run; with a
// millisecond of slack on that one thread, 16 and ~53.
//
// The monitor's duties bear it where more than one processor runs Go
// code: preempting a goroutine after 10 ms, polling the network after 10
// ms without, taking a processor back from a system call only when no
// other is idle. With one processor (GOMAXPROCS=1) that last one hands the
// processor to the other goroutines whenever the one running blocks in a
// system call, and a coarse nap would delay them: RelaxMonitor leaves such
// a process alone.
//
// A thread's slack passes to the threads and processes it starts, and
// through execve(2). The monitor starts threads itself (when it hands a
// processor over), and those keep the coarse slack: a timer that fires
// while one of them waits for the next may fire up to that much later.
// Any thread may so carry it, and so would a process forked from one:
// Spawn forks from a thread set back to the process's own slack, so that
// no child (a container's init, a hook) inherits it.
//
// Not for programs that do not call RelaxMonitor: Spawn is then start
// itself.
package timerslack
