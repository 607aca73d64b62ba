// Command nsrun runs a command in new or existing namespaces of any kind:
// unshare(1) and nsenter(1) in one, composable with hako's other step
// tools.
//
//	nsrun --new pid,mnt,uts,ipc --mount-proc -- sh
//	nsrun --target 1234 --all -- sh
//	nsrun --new user,mnt --map-root -- id
package main

import (
	"os"

	// nsrun re-executes itself; in that copy this C stage enters the
	// namespaces and executes CMD before any Go code runs.
	_ "hako.dev/nsenter/preinit"
)

func main() {
	os.Exit(execute(os.Args[1:]))
}
