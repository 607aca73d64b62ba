package container

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako.dev/runtime/timerslack"
)

// runHooks runs hooks one after the other, as the spec orders them, each
// with the container's state as JSON on its stdin, its own args and env
// only, and its timeout; the first failure stops the rest. kind names the
// hooks in errors ("poststart hook /usr/bin/x: exit status 1: <stderr>").
func runHooks(kind string, hooks []specs.Hook, st State) error {
	if len(hooks) == 0 {
		return nil
	}
	state, err := json.Marshal(specs.State{
		Version: st.OCIVersion, ID: st.ID, Status: specs.ContainerState(st.Status),
		Pid: st.Pid, Bundle: st.Bundle, Annotations: st.Annotations,
	})
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if err := runHook(h, state); err != nil {
			return fmt.Errorf("%s hook %s: %w", kind, h.Path, err)
		}
	}
	return nil
}

// warmHooks readies os/exec for the config's hooks, if this process runs
// any (prestart, createRuntime; poststart and poststop too in a run,
// startNow): the os package's first process start checks that pidfds
// work, by cloning a child and reaping it (0.1-0.4 ms here), which it
// does here on another goroutine while the container is set up. The
// container's own processes are started and waited for without os
// (nsenter.Launch, child.go), so a config without hooks skips it (the
// helper process of an idmapped mount with mappings of its own, rare,
// makes the check where it starts).
func warmHooks(spec *specs.Spec, startNow bool) {
	h := spec.Hooks
	if h == nil {
		return
	}
	n := len(h.Prestart) + len(h.CreateRuntime)
	if startNow {
		n += len(h.Poststart) + len(h.Poststop)
	}
	if n == 0 {
		return
	}
	go func() {
		// FindProcess makes the same check as the first process start.
		if p, err := os.FindProcess(os.Getpid()); err == nil {
			p.Release()
		}
	}()
}

func runHook(h specs.Hook, state []byte) error {
	ctx := context.Background()
	if h.Timeout != nil {
		if *h.Timeout <= 0 {
			return fmt.Errorf("timeout %d: must be positive", *h.Timeout)
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, time.Duration(*h.Timeout)*time.Second)
		defer cancel()
	}
	cmd := exec.CommandContext(ctx, h.Path)
	if len(h.Args) > 0 {
		cmd.Args = h.Args // args[0] included, as in execv(3)
	}
	cmd.Env = h.Env
	if cmd.Env == nil {
		cmd.Env = []string{} // the hook's env only, never the runtime's
	}
	cmd.Stdin = bytes.NewReader(state)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	// A hook that leaves a child holding stderr open must not hang us.
	cmd.WaitDelay = time.Second
	err := timerslack.Spawn(cmd.Start)
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() == context.DeadlineExceeded {
		return fmt.Errorf("timed out after %ds", *h.Timeout)
	}
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return fmt.Errorf("%w: %s", err, msg)
		}
		return err
	}
	return nil
}
