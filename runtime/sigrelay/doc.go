// Package sigrelay catches signals that a process passes on to another (a
// container's program, a child it waits for), cheaply.
//
// os/signal costs a round trip between two of the Go runtime's threads for
// every signal first caught (it updates the mask of the thread it keeps
// for signals): some 20 µs each on a small VM, 1-2 ms and ~200 futex
// calls for the 55-odd signals a runtime forwards. That is a tenth of a
// whole `hako run`. With cgo, Catch instead installs one tiny C handler
// for the signals asked (one sigaction(2) each) that writes the signal's
// number to a pipe the Go side reads through the runtime's poller. (It
// also relays each of a real-time signal's queued instances, where
// os/signal coalesces them, as it does any signal pending twice.)
//
// Only for signals the Go runtime does not need itself: Catch refuses
// SIGURG (preemption), SIGCHLD, SIGPROF, the synchronous faults (SIGSEGV,
// SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS) and glibc's 32 and 33, and it
// must not be mixed with os/signal for the same signals. Without cgo it
// falls back to os/signal, with the same API.
//
// When not to use it: a long-lived daemon that catches a handful of
// signals gains nothing over os/signal.
package sigrelay
