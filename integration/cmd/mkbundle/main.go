// Command mkbundle builds a busybox bundle for demos and manual tests:
//
//	mkbundle [-probe bin/testinit] [-terminal] DIR [-- CMD ARGS...]
package main

import (
	"flag"
	"fmt"
	"os"

	"hako.dev/integration/fixture"
)

func main() {
	probe := flag.String("probe", "", "testinit binary to copy to /bin/testinit")
	terminal := flag.Bool("terminal", false, "keep process.terminal on")
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: mkbundle [-probe FILE] [-terminal] DIR [-- CMD ARGS...]")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() < 1 {
		flag.Usage()
		os.Exit(2)
	}
	var args []string
	if flag.NArg() > 1 {
		args = flag.Args()[1:]
		if args[0] == "--" {
			args = args[1:]
		}
	}
	if _, err := fixture.Build(flag.Arg(0), fixture.Options{Probe: *probe, Args: args, Terminal: *terminal}); err != nil {
		fmt.Fprintf(os.Stderr, "mkbundle: %v\n", err)
		os.Exit(1)
	}
}
