package container

import (
	"fmt"
	"os"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako.dev/nsenter"
)

// premadeNet is a container's new network namespace, made by this process
// (nsenter.MakeNet) while create goes on: unshare(CLONE_NEWNET) is ~0.45
// ms, most of what the init's namespaces cost, and off the init's path
// the init joins it instead (~0.02 ms). Only for an init that stays in
// this process's user namespace, which then owns it, as it would own one
// the init made.
type premadeNet struct {
	made  chan struct{}
	f     *os.File
	err   error
	taken bool
}

// premakeNet starts making the config's network namespace, where the
// init may join one made here: a new one, and no user namespace, new or
// joined (which would have to own it). nil otherwise.
func premakeNet(spec *specs.Spec) *premadeNet {
	if hasNS(spec, specs.UserNamespace) || !newNS(spec, specs.NetworkNamespace) {
		return nil
	}
	p := &premadeNet{made: make(chan struct{})}
	go func() {
		defer close(p.made)
		p.f, p.err = nsenter.MakeNet()
	}()
	return p
}

// use has r join the namespace instead of making one, once: a second
// init (a Go init redoing a failed setup, in new namespaces) makes its
// own, as the config says. Where it could not be made, r is left as it
// is.
func (p *premadeNet) use(r *nsenter.Request) {
	if p == nil || p.taken {
		return
	}
	p.taken = true
	if <-p.made; p.err != nil {
		return
	}
	for i, k := range r.New {
		if k == nsenter.Net {
			r.New = append(r.New[:i:i], r.New[i+1:]...)
			// The init opens it through this process's /proc, before
			// it enters any namespace.
			r.Join = append(r.Join, nsenter.Join{Kind: nsenter.Net, Path: fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), p.f.Fd())})
			return
		}
	}
}

// close lets go of the namespace (the init holds it once it joined).
func (p *premadeNet) close() {
	if p == nil {
		return
	}
	<-p.made
	if p.f != nil {
		p.f.Close()
		p.f = nil
	}
}
