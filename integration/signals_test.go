package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Signals sent to a foreground `hako run` or `hako exec` reach the
// program: as runc, hako passes on whatever a user, a supervisor or a
// terminal sends (real-time ones too: systemd stops on SIGRTMIN+3), and
// exits with the program's status. nsrun's Go parent (--setgroups makes
// it take that path) does the same.
func TestSignalsForwarded(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		name string
		bin  string
		args func(id string) []string
	}{
		{"run", hakoBin, func(id string) []string {
			return []string{"--root", e.root, "run", "--bundle", e.bundle([]string{"testinit", "signals"}, nil), id}
		}},
		{"exec", hakoBin, func(id string) []string {
			e.mustHako("run", "--detach", "--bundle", e.bundle([]string{"testinit", "sleep"}, nil), id)
			t.Cleanup(func() { e.hako("delete", "--force", id) })
			return []string{"--root", e.root, "exec", id, "testinit", "signals"}
		}},
		{"nsrun", nsrunBin, func(string) []string {
			return []string{"--setgroups", "allow", "--new", "uts,ipc", "--", probeBin, "signals"}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cmd := exec.CommandContext(ctx, tc.bin, tc.args(e.id("sig-"+tc.name))...)
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			var stderr strings.Builder
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			lines := make(chan string)
			go func() {
				defer close(lines)
				sc := bufio.NewScanner(out)
				for sc.Scan() {
					lines <- sc.Text()
				}
			}()
			expect := func(want string) {
				t.Helper()
				select {
				case l, ok := <-lines:
					if !ok || l != want {
						t.Fatalf("program printed %q (open %v), want %q; stderr %q", l, ok, want, stderr.String())
					}
				case <-time.After(20 * time.Second):
					t.Fatalf("no %q from the program in 20s; stderr %q", want, stderr.String())
				}
			}
			expect("ready")
			for _, s := range []unix.Signal{unix.SIGUSR1, unix.SIGHUP, unix.SIGUSR2, 37, unix.SIGINT, unix.SIGTERM} {
				if err := cmd.Process.Signal(s); err != nil {
					t.Fatal(err)
				}
				expect(fmt.Sprintf("got %d", int(s)))
			}
			for range lines {
			}
			err = cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Errorf("%s ended with %v, want exit status 3; stderr %q", tc.name, err, stderr.String())
			}
		})
	}
}

// A created container's init (the waiting stage, pid 1 of its pid
// namespace, which the kernel sends only the signals it has a handler
// for) dies of what `kill` sends before start: real-time signals too,
// 34 among them (glibc's SIGRTMIN, which musl, the C library hako links,
// keeps for itself).
func TestKillCreated(t *testing.T) {
	e := newEnv(t)
	for _, sig := range []string{"TERM", "34", "35", "64"} {
		t.Run(sig, func(t *testing.T) {
			id := e.id("k" + sig)
			e.mustHako("create", "--bundle", e.bundle([]string{"true"}, nil), id)
			e.mustHako("kill", id, sig)
			e.waitStatus(id, "stopped")
			e.mustHako("delete", id)
		})
	}
}
