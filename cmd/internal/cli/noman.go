//go:build !mangen

// Package cli holds what every hako command-line tool shares.
package cli

import "github.com/spf13/cobra"

// MaybeGenMan does nothing in a normal build: the man page generator (and
// its markdown libraries, a megabyte) is only in binaries built with the
// mangen tag, which `make docs` builds for itself.
func MaybeGenMan(*cobra.Command) {}
