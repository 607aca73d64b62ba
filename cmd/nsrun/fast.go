package main

// Opts nsrun into the pre-init stage reading its command line: the common
// forms (--new, --join, --target --all, --fork, --mount-proc) are carried
// out before the Go runtime starts, as fast as unshare(1) and nsenter(1);
// everything else reaches the Go code below.

/*
const int hako_nsrun_argv = 1;
*/
import "C"
