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
			b, err := json.MarshalIndent(container.Example(), "", "\t")
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
	return cmd
}
