// Package preinit will be the C stage that runs before the Go runtime
// starts (a cgo constructor, imported with _ by main packages): the only
// place where a process is still single-threaded and so may setns(2) into
// a user or mount namespace. It returns at once unless its environment
// variable is set, so importing it costs other invocations nothing.
//
// Today it holds no code; see package nsenter.
package preinit
