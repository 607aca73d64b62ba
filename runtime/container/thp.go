package container

import (
	"slices"
	"sync"

	"golang.org/x/sys/unix"

	"hako.dev/runtime/execstage"
	"hako.dev/seccomp"
)

// Transparent huge pages, where a host has them "always": the kernel backs
// the first touch of an anonymous mapping with a 2 MB page wherever a whole
// aligned 2 MB range lies inside it. hako's binary has a .bss of 34 MB
// (Go's FIPS entropy buffer, which nothing here touches), so the variables
// musl and the C stage touch at start-up may lie in such a range or not,
// as the linker lays them out: a waiting init of 2.5 MB instead of 0.5.
//
// A launch therefore disables them for its child (PR_SET_THP_DISABLE,
// which fork and execve pass on), and the child gives them back right
// before its program's execve (execstage.Plan.HugePages; the Go init and
// exec too): the program gets what it would have got from hako. Where
// hako runs with them disabled already, nothing changes hands and the
// container inherits that, as from runc.

// hugePagesOff tells whether launches disable huge pages: they are not
// disabled for this process.
var hugePagesOff = sync.OnceValue(func() bool {
	on, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0)
	return err == nil && on == 0
})

// withoutHugePages runs launch, which starts a child, with huge pages
// disabled where hugePagesOff says so. The flag is the whole process's for
// that moment: another child started meanwhile (a hook) runs without
// them, which is only slower.
func withoutHugePages[T any](launch func() (T, error)) (T, error) {
	if !hugePagesOff() {
		return launch()
	}
	if err := unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0); err != nil {
		return launch()
	}
	defer unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
	return launch()
}

// planHugePages puts the giving back into a stage's plan: right before
// the execve, or before a filter loaded early (SeccompEarly) that would
// not let the prctl through (filterOK false).
func planHugePages(plan *execstage.Plan, filterOK bool) {
	if !hugePagesOff() {
		return
	}
	if plan.SeccompEarly && len(plan.BPF) > 0 && !filterOK {
		plan.HugePagesEarly = true
	} else {
		plan.HugePages = true
	}
}

// thpPasses tells whether f lets the giving back through: a filter in
// force when it happens must, or the prctl could kill the process.
func thpPasses(f *seccomp.Filter) bool {
	act, err := f.Check("prctl", unix.PR_SET_THP_DISABLE, 0)
	return err == nil && slices.Contains([]string{"SCMP_ACT_ALLOW", "SCMP_ACT_LOG"}, act)
}

// hugePages is the Go init's and Go exec's side of it: back is
// initConfig's or execConfig's HugePages, cleared once done.
type hugePages struct{ back bool }

// beforeLoad gives them back before a filter that would refuse it.
func (h *hugePages) beforeLoad(f *seccomp.Filter) {
	if h.back && !thpPasses(f) {
		h.now()
	}
}

// now gives them back (best effort, as the C stage's).
func (h *hugePages) now() {
	if h.back {
		unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
		h.back = false
	}
}

// hugePagesDuring runs f, which starts processes (hooks in the
// container), with huge pages given back for it where on says the launch
// took them away (initConfig.HugePages), and then away again: what this
// process touches meanwhile may get them, the hooks get what they would
// from hako. No filter is loaded yet.
func hugePagesDuring(on bool, f func() error) error {
	if !on || unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0) != nil {
		return f()
	}
	defer unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
	return f()
}
