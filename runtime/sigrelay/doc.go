// Package sigrelay catches signals that a process passes on to another (a
// container's program, a child it waits for), cheaply.
//
// os/signal costs a round trip between two of the Go runtime's threads for
// every signal first caught (it updates the mask of the thread it keeps
// for signals): some 20 µs each on a small VM, 1-2 ms and ~200 futex
// calls for the ~50 signals a runtime forwards. That is a tenth of a
// whole `hako run`. With cgo, Catch instead installs one tiny C handler
// for the signals asked (one sigaction(2) each) that writes the signal's
// number to a pipe the Go side reads through the runtime's poller and
// hands to every Relay catching it. (It also relays each of a real-time
// signal's queued instances, where os/signal coalesces them, as it does
// any signal pending twice.)
//
// Two signals the Go runtime acts on itself: SIGSYS, which the handler
// relays when a process sent it (si_code SI_USER or below: kill, tgkill,
// sigqueue) and passes to the runtime's handler it replaced when the
// kernel raised it (a seccomp filter's SECCOMP_RET_TRAP in this very
// process, which must still crash it); SIGPIPE, whose EPIPE on stdout or
// stderr would end the program unless os/signal catches it or it is
// ignored, is marked ignored for the runtime (signal.Ignore) and
// held by the C handler from its first Catch on: relayed while a Relay
// catches it, dropped after (a process that never catches it keeps the
// runtime's SIGPIPE handling). Catch refuses SIGURG (preemption),
// SIGCHLD, SIGPROF, the synchronous faults and the C library's own, 32
// and 33 (musl keeps 34 too, but that one, glibc's SIGRTMIN, which a
// container's program may use, is caught with the raw syscall on
// x86_64). While a Relay catches a signal through the C handler,
// os/signal does not see it; Stop gives it back. Without cgo, everything
// goes through os/signal under the same API.
//
// A child the Go runtime forks (os/exec) has the handler reset before it
// executes anything, as Go resets its own (SIGPIPE's at its execve(2),
// which resets every handler to the default action). A process that has
// a Relay catch SIGPIPE must not also want it from os/signal.
//
// When not to use it: a long-lived daemon that catches a handful of
// signals gains nothing over os/signal.
package sigrelay
