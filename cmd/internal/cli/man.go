//go:build mangen

package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// GenManEnv, set to a directory, makes a tool built with the mangen tag
// write its man pages there (section 1, one per command) and exit: `make
// docs` builds and runs each tool so. An
// environment variable rather than a command: these tools run other
// programs, whose names must stay free.
const GenManEnv = "HAKO_GEN_MAN"

// MaybeGenMan writes root's man pages and exits when GenManEnv is set.
func MaybeGenMan(root *cobra.Command) {
	dir := os.Getenv(GenManEnv)
	if dir == "" {
		return
	}
	root.DisableAutoGenTag = true
	hdr := &doc.GenManHeader{Section: "1", Source: "hako", Manual: "hako manual"}
	if err := doc.GenManTree(root, hdr, dir); err != nil {
		fmt.Fprintf(os.Stderr, "%s: man pages: %v\n", root.Name(), err)
		os.Exit(1)
	}
	os.Exit(0)
}
