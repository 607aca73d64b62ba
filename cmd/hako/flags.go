package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// longFlags rewrites runc's single-dash long flags ("-no-subreaper",
// "-root=/x"), which its CLI library accepts and some clients send, into
// the double-dash form cobra parses. Only names that are long flags of the
// command line's command (or global ones) are touched, and only before the
// first argument that is not a flag: what follows the container id (exec's
// COMMAND) is left alone.
func longFlags(root *cobra.Command, args []string) []string {
	out := append([]string(nil), args...)
	cmd := root
	for i := 0; i < len(out); i++ {
		a := out[i]
		if a == "--" {
			break
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			if cmd != root {
				break // the first positional of the command: its flags end here
			}
			sub, _, err := root.Find([]string{a})
			if err != nil || sub == root {
				break
			}
			cmd = sub
			continue
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := lookup(cmd, name)
		if f == nil && len(name) == 1 && !strings.HasPrefix(a, "--") {
			f = cmd.Flags().ShorthandLookup(name) // "-p FILE": skip FILE too
		}
		if f == nil {
			continue
		}
		if !strings.HasPrefix(a, "--") && len(name) > 1 && f.Name == name {
			out[i] = "-" + a
		}
		if !hasValue && f.NoOptDefVal == "" {
			i++ // its value
		}
	}
	return out
}

func lookup(cmd *cobra.Command, name string) *pflag.Flag {
	if f := cmd.Flags().Lookup(name); f != nil {
		return f
	}
	if f := cmd.InheritedFlags().Lookup(name); f != nil {
		return f
	}
	return cmd.Root().PersistentFlags().Lookup(name)
}
