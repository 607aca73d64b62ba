package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

func scriptCmd(*globals) *cobra.Command {
	var id string
	cmd := &cobra.Command{
		Use:   "script [--id ID] <bundle>",
		Short: "print a shell script that builds the bundle's container with the step tools",
		Long: `script prints a POSIX shell script that reproduces the container of a bundle
with hako's step tools, each ending by exec'ing the next:
cgctl exec -- nsrun -- rootfs run -- sh (hostname, cwd) -- capset -- seccomp run
-- env -i ENV ARGS. Comments name the config field behind each flag, and list
the fields the script cannot express. The tools are looked up next to hako,
then in $PATH.`,
		Example: "  hako script demo > demo.sh && sh demo.sh",
		Args:    cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			t, err := tools()
			if err != nil {
				return fmt.Errorf("script: %w", err)
			}
			s, err := container.Script(args[0], id, t)
			if err != nil {
				return fmt.Errorf("script %s: %w", args[0], err)
			}
			_, err = os.Stdout.WriteString(s)
			return err
		},
	}
	cmd.Flags().StringVar(&id, "id", "script", "the container id its cgroup is named after")
	return cmd
}

// tools finds the step tools next to this binary, else in $PATH.
func tools() (container.Tools, error) {
	self, _ := os.Executable()
	find := func(name string) (string, error) {
		if p := filepath.Join(filepath.Dir(self), name); self != "" {
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				return p, nil
			}
		}
		p, err := exec.LookPath(name)
		if err != nil {
			return "", fmt.Errorf("%s not found next to hako or in $PATH", name)
		}
		return filepath.Abs(p)
	}
	var t container.Tools
	for _, f := range []struct {
		name string
		dst  *string
	}{{"cgctl", &t.Cgctl}, {"nsrun", &t.Nsrun}, {"rootfs", &t.Rootfs}, {"capset", &t.Capset}, {"seccomp", &t.Seccomp}} {
		p, err := find(f.name)
		if err != nil {
			return t, err
		}
		*f.dst = p
	}
	return t, nil
}
