package console

import (
	"io"
	"os"
	"sync"
	"time"

	"github.com/containerd/console"
)

// Session is a pty master attached to the caller's stdin and stdout.
type Session struct {
	master  *os.File
	current console.Console // nil when stdin is not a terminal
	out     sync.WaitGroup
}

// Attach relays stdin to master and master to stdout. When stdin is a
// terminal it is put in raw mode (the container's pty does the line
// editing and signal keys) and its size is given to the pty.
func Attach(master, stdin, stdout *os.File) (*Session, error) {
	s := &Session{master: master}
	if c, err := console.ConsoleFromFile(stdin); err == nil {
		if err := c.SetRaw(); err != nil {
			return nil, err
		}
		s.current = c
		s.Resize()
	}
	go io.Copy(master, stdin) // ends with the process; never waited for
	s.out.Add(1)
	go func() {
		defer s.out.Done()
		// Ends with EIO once every slave descriptor is closed.
		io.Copy(stdout, master)
	}()
	return s, nil
}

// Resize copies the caller's terminal size to the pty (on SIGWINCH).
func (s *Session) Resize() {
	if s.current == nil {
		return
	}
	if ws, err := s.current.Size(); err == nil {
		if m, err := console.ConsoleFromFile(s.master); err == nil {
			m.Resize(ws)
		}
	}
}

// Wait blocks until the terminal's other side is gone: every slave
// descriptor closed, the program and what it left behind ended.
func (s *Session) Wait() { s.out.Wait() }

// drainTimeout bounds the wait for output once the program has exited: a
// process it left behind may hold the terminal open indefinitely.
const drainTimeout = 2 * time.Second

// Close waits until the container's output is drained (or drainTimeout),
// restores the caller's terminal and closes the master.
func (s *Session) Close() error {
	done := make(chan struct{})
	go func() { s.out.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(drainTimeout):
	}
	if s.current != nil {
		s.current.Reset()
	}
	return s.master.Close()
}
