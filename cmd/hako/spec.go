package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

func specCmd(_ *globals) *cobra.Command {
	var bundle string
	var rootless bool
	cmd := &cobra.Command{
		Use:   "spec",
		Short: "write a default config.json (runc's) into the bundle",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			p := filepath.Join(bundle, "config.json")
			if _, err := os.Stat(p); err == nil {
				return fmt.Errorf("spec: %s already exists; remove it first", p)
			} else if !errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("spec: %w", err)
			}
			spec := container.Example()
			if rootless {
				container.ToRootless(spec, uint32(os.Geteuid()), uint32(os.Getegid()))
			}
			b, err := json.MarshalIndent(spec, "", "\t")
			if err != nil {
				return err
			}
			if err := os.WriteFile(p, append(b, '\n'), 0o666); err != nil {
				return fmt.Errorf("spec: %w", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&bundle, "bundle", "b", ".", "bundle directory to write config.json into")
	cmd.Flags().BoolVar(&rootless, "rootless", false, "a config for an unprivileged user: a user namespace mapping you to root, no network namespace, no cgroup limits")
	return cmd
}
