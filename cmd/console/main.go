// Command console is the terminal side of a container, by hand:
//
//	console recv /tmp/c.sock &                      # waits for a pty master
//	hako run -d --console-socket /tmp/c.sock web1   # the runtime sends it
//	console run -- sh                               # CMD on a new pty
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	cconsole "github.com/containerd/console"
	"github.com/spf13/cobra"
	"golang.org/x/sys/unix"

	"hako.dev/cmd/internal/cli"
	"hako.dev/console"
)

func main() {
	r := root()
	cli.MaybeGenMan(r)
	if err := r.Execute(); err != nil {
		var ee exitStatus
		if errors.As(err, &ee) {
			os.Exit(int(ee))
		}
		fmt.Fprintf(os.Stderr, "console: %v\n", err)
		os.Exit(1)
	}
}

type exitStatus int

func (e exitStatus) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func root() *cobra.Command {
	r := &cobra.Command{
		Use: "console",
		Example: `  console recv /tmp/web1.sock &
  hako run -d --console-socket /tmp/web1.sock web1 && fg
  console run -- sh`,
		Short:         "receive a container's terminal, or run a command on a new one",
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	r.AddCommand(&cobra.Command{
		Use:   "recv SOCKET",
		Short: "listen on SOCKET for a pty master (--console-socket) and relay it to this terminal",
		Long: `recv creates the unix socket SOCKET, waits for a runtime to send a pty master
over it (hako or runc with --console-socket SOCKET), then connects it to this
terminal (raw mode, window size, both directions) until the container's side
closes. The socket is removed once the master is received.`,
		Example: `  console recv /tmp/web1.sock &
  hako run -d --console-socket /tmp/web1.sock web1
  fg`,
		Args: cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, a []string) error { return recv(a[0]) },
	}, &cobra.Command{
		Use:     "run -- CMD [ARGS...]",
		Short:   "run CMD on a new pty relayed to this terminal, and exit with its status",
		Example: "  console run -- sh -c 'tty; stty size'",
		Args:    cobra.MinimumNArgs(1),
		RunE:    func(_ *cobra.Command, a []string) error { return run(a) },
	})
	return r
}

func recv(path string) error {
	l, err := console.Listen(path)
	if err != nil {
		return err
	}
	master, err := l.Accept()
	l.Close()
	if err != nil {
		return err
	}
	return relay(master, nil)
}

func run(argv []string) error {
	master, slavePath, err := cconsole.NewPty()
	if err != nil {
		return fmt.Errorf("new pty: %w", err)
	}
	m := os.NewFile(master.Fd(), "/dev/ptmx")
	slave, err := os.OpenFile(slavePath, os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		return err
	}
	if c, err := cconsole.ConsoleFromFile(os.Stdin); err == nil {
		if ws, err := c.Size(); err == nil {
			master.Resize(ws)
		}
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	// A session of its own with the pty as its controlling terminal: job
	// control and ^C work in it as in a login.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		slave.Close()
		return err
	}
	slave.Close()
	return relay(m, cmd)
}

// relay attaches master to this terminal until its other side is gone
// (and cmd, if any, has exited), resizing it on SIGWINCH.
func relay(master *os.File, cmd *exec.Cmd) error {
	sess, err := console.Attach(master, os.Stdin, os.Stdout)
	if err != nil {
		return err
	}
	winch := make(chan os.Signal, 1)
	signal.Notify(winch, unix.SIGWINCH)
	go func() {
		for range winch {
			sess.Resize()
		}
	}()
	var werr error
	if cmd != nil {
		werr = cmd.Wait()
	} else {
		sess.Wait()
	}
	sess.Close()
	var ee *exec.ExitError
	if errors.As(werr, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return exitStatus(128 + int(ws.Signal()))
		}
		return exitStatus(ee.ExitCode())
	}
	return werr
}
