// Package timerslack gives the Go runtime's monitor thread a coarse timer
// slack, and starts processes with the process's own.
//
// A thread's timed sleeps may end up to its timer slack later than asked,
// so that the kernel can coalesce wake-ups (prctl(2), PR_SET_TIMERSLACK;
// 50 µs by default). The Go runtime's monitor thread (sysmon) naps 20 µs at
// a time while any goroutine runs or sits in a system call, and doubles
// the nap only after 50 naps with nothing to do: a command that lives a
// few milliseconds, most of them waiting for its children, is woken ~50
// times for nothing, a context switch each (and timer exits, in a virtual
// machine) on CPUs its children want. hako's run: 49 naps and ~100 context
// switches; with a millisecond of slack on that one thread, 16 and ~53.
// The monitor's duties bear it where more than one processor runs Go
// code: preempting a goroutine after 10 ms, polling the network after 10
// ms without, taking a processor back from a system call only when no
// other is idle. With one processor (GOMAXPROCS=1), that last one hands
// the processor to the other goroutines whenever the one goroutine blocks
// in a system call, and a coarse nap would delay them: RelaxMonitor leaves
// such a process alone.
//
// A thread's slack passes to the threads and processes it starts, and
// through execve(2). The monitor starts threads itself (when it hands a
// processor over), so after RelaxMonitor any thread may carry the coarse
// slack, and so would a process forked from it: Spawn forks from a thread
// whose slack is the process's own, so that no child (a container's init,
// a hook) inherits it.
//
// Not for programs that do not call RelaxMonitor: Spawn is then start
// itself.
package timerslack

import (
	"errors"
	"os"
	"runtime"
	"strconv"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// own is the process's timer slack, in ns, once RelaxMonitor has given the
// monitor another (0 until then). Process-wide, as the slack it records.
var own atomic.Int64

// RelaxMonitor gives the Go runtime's monitor thread a timer slack of d,
// where GOMAXPROCS is more than 1; it does nothing otherwise, or when
// called again. Changing another thread's slack takes CAP_SYS_NICE: an
// error without it.
func RelaxMonitor(d time.Duration) error {
	if runtime.GOMAXPROCS(0) < 2 || own.Load() != 0 {
		return nil
	}
	// No thread has changed its slack yet: the caller's is the process's.
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err != nil {
		return os.NewSyscallError("prctl PR_GET_TIMERSLACK", err)
	}
	tid, err := monitorThread()
	if err != nil {
		return err
	}
	// The per-thread file is under the thread's id, not under task/.
	// The monitor never exits, so its id cannot be another's meanwhile.
	path := "/proc/" + strconv.Itoa(tid) + "/timerslack_ns"
	fd, err := unix.Open(path, unix.O_WRONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return &os.PathError{Op: "open", Path: path, Err: err}
	}
	defer unix.Close(fd)
	if _, err := unix.Write(fd, []byte(strconv.FormatInt(d.Nanoseconds(), 10))); err != nil {
		return &os.PathError{Op: "write", Path: path, Err: err}
	}
	own.Store(int64(cur))
	return nil
}

// monitorThread finds the monitor among this process's threads: the first
// thread the runtime starts (runtime.main, before any package's init
// runs), so the first id handed out after the process's own. That is the
// lowest id above the pid, or, where ids wrapped around before it was
// handed out, the lowest of all.
func monitorThread() (int, error) {
	fd, err := unix.Open("/proc/self/task", unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0, &os.PathError{Op: "open", Path: "/proc/self/task", Err: err}
	}
	defer unix.Close(fd)
	pid := unix.Getpid()
	above, below := 0, 0
	var buf [4096]byte
	for {
		n, err := unix.Getdents(fd, buf[:])
		if err != nil {
			return 0, &os.PathError{Op: "getdents", Path: "/proc/self/task", Err: err}
		}
		if n <= 0 {
			break
		}
		_, _, names := unix.ParseDirent(buf[:n], -1, nil)
		for _, name := range names {
			tid, err := strconv.Atoi(name)
			switch {
			case err != nil || tid == pid:
			case tid > pid && (above == 0 || tid < above):
				above = tid
			case tid < pid && (below == 0 || tid < below):
				below = tid
			}
		}
	}
	if above != 0 {
		return above, nil
	}
	if below != 0 {
		return below, nil
	}
	return 0, errors.New("timer slack: no runtime thread besides the main one")
}

// Spawn calls start, which starts processes from the calling thread
// (os/exec, syscall.ForkExec do), on a thread whose timer slack is the
// process's own.
func Spawn(start func() error) error {
	slack := own.Load()
	if slack == 0 {
		return start()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cur, err := unix.PrctlRetInt(unix.PR_GET_TIMERSLACK, 0, 0, 0, 0)
	if err == nil && int64(cur) != slack {
		// The thread keeps it: only the monitor needs the coarse one.
		if err := unix.Prctl(unix.PR_SET_TIMERSLACK, uintptr(slack), 0, 0, 0); err != nil {
			return os.NewSyscallError("prctl PR_SET_TIMERSLACK", err)
		}
	}
	return start()
}
