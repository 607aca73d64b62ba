package container

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"hako.dev/rootfs"
)

// Tools are the step tools' host paths a Script runs.
type Tools struct {
	Cgctl, Nsrun, Rootfs, Capset, Seccomp string
}

// toolDir is where the tools that run after the root switch (capset,
// seccomp) and the config are bound in the container: /dev is a fresh
// tmpfs in any usual config, so nothing is written into the image.
const toolDir = "/dev/.hako"

// Script renders the container of bundle as a POSIX shell script that
// builds it with the step tools, each ending by exec'ing the next:
//
//	cgctl exec CG -- nsrun ... -- rootfs run ... -- sh (hostname, cwd) --
//	capset ... -- seccomp run ... -- env -i ENV ARGS
//
// with the config field behind each flag named in comments, and the fields
// it cannot express listed at the top. id names the cgroup as create would.
func Script(bundle, id string, t Tools) (string, error) {
	bundle, err := filepath.Abs(bundle)
	if err != nil {
		return "", err
	}
	spec, err := LoadSpec(bundle)
	if err != nil {
		return "", err
	}
	if err := validate(spec); err != nil {
		return "", err
	}
	cg, err := cgroupPath(spec, id)
	if err != nil {
		return "", err
	}
	p, l := spec.Process, spec.Linux
	// The config the rootfs step reads: absolute root, and the tools bound
	// into /dev (after the config's own /dev tmpfs).
	cfg := *spec
	root := *spec.Root
	if !filepath.IsAbs(root.Path) {
		root.Path = filepath.Join(bundle, root.Path)
	}
	cfg.Root = &root
	cfg.Mounts = append(append([]specs.Mount(nil), spec.Mounts...),
		specs.Mount{Destination: toolDir + "/capset", Type: "bind", Source: t.Capset, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: toolDir + "/seccomp", Type: "bind", Source: t.Seccomp, Options: []string{"bind", "ro"}},
		specs.Mount{Destination: toolDir + "/config.json", Type: "bind", Source: "@DIR@/config.json", Options: []string{"bind", "ro"}})
	cfgJSON, err := json.MarshalIndent(&cfg, "", "  ")
	if err != nil {
		return "", err
	}
	res := resources(spec)
	resJSON, err := json.Marshal(res)
	if err != nil {
		return "", err
	}

	var b strings.Builder
	w := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	w("#!/bin/sh\n# The container of %s, built by hand with hako's step tools\n", bundle)
	w("# (hako script). Each tool ends by exec'ing the next; the config field\n")
	w("# behind each flag is named in the comments. capset, seccomp and the config\n")
	w("# are bound into the container at %s, a fresh tmpfs.\n", toolDir)
	if missing := unscripted(spec); len(missing) > 0 {
		w("#\n# Not expressed here (hako run does them):\n")
		for _, m := range missing {
			w("#   %s\n", m)
		}
	}
	w("set -eu\nDIR=$(mktemp -d)\n")
	w("trap '%s delete %s 2>/dev/null || true; rm -rf \"$DIR\"' EXIT\n", shq(t.Cgctl), shq(cg))
	// Quoted heredocs: nothing in them is expanded. The config names its
	// own path (bound into the container), filled in once it exists.
	w("cat >\"$DIR/config.json\" <<'EOF'\n%s\nEOF\n", cfgJSON)
	w("sed -i \"s|@DIR@|$DIR|\" \"$DIR/config.json\"\n")
	w("cat >\"$DIR/resources.json\" <<'EOF'\n%s\nEOF\n", resJSON)

	w("\n# linux.cgroupsPath: %s; linux.resources (with the default devices' rules)\n", cg)
	w("%s create %s --resources \"$DIR/resources.json\"\n", shq(t.Cgctl), shq(cg))

	var ns []string
	var joins []string
	for _, n := range l.Namespaces {
		k, ok := nsKinds[n.Type]
		if !ok {
			continue
		}
		if n.Path != "" {
			joins = append(joins, "--join "+shq(string(k)+"="+n.Path))
		} else {
			ns = append(ns, string(k))
		}
	}
	sort.Strings(ns)
	nsrun := []string{shq(t.Nsrun)}
	if len(ns) > 0 {
		nsrun = append(nsrun, "--new "+strings.Join(ns, ","))
	}
	nsrun = append(nsrun, joins...)
	for _, m := range l.UIDMappings {
		nsrun = append(nsrun, fmt.Sprintf("--uid-map %d:%d:%d", m.ContainerID, m.HostID, m.Size))
	}
	for _, m := range l.GIDMappings {
		nsrun = append(nsrun, fmt.Sprintf("--gid-map %d:%d:%d", m.ContainerID, m.HostID, m.Size))
	}

	capset := []string{toolDir + "/capset"}
	if c := p.Capabilities; c != nil {
		// A non-root program keeps only its ambient capabilities across
		// execve, and capset makes what it keeps ambient for a non-root
		// user: so keep the ambient set there, the permitted one for root.
		keep, amb := c.Permitted, c.Ambient
		if p.User.UID != 0 {
			keep, amb = c.Ambient, nil
		}
		capset = append(capset, "--bounding "+capList(c.Bounding), "--drop all", "--keep "+capList(keep))
		if len(amb) > 0 {
			capset = append(capset, "--ambient "+capList(amb))
		}
	}
	capset = append(capset, fmt.Sprintf("--user %d:%d", p.User.UID, p.User.GID))
	if len(p.User.AdditionalGids) > 0 {
		var gs []string
		for _, g := range p.User.AdditionalGids {
			gs = append(gs, strconv.Itoa(int(g)))
		}
		capset = append(capset, "--groups "+strings.Join(gs, ","))
	}
	for _, r := range p.Rlimits {
		capset = append(capset, fmt.Sprintf("--rlimit %s=%d:%d", strings.TrimPrefix(r.Type, "RLIMIT_"), r.Soft, r.Hard))
	}
	if p.NoNewPrivileges {
		capset = append(capset, "--no-new-privs")
	}

	env := []string{"env", "-i"}
	for _, e := range p.Env {
		env = append(env, shq(e))
	}
	for _, a := range p.Args {
		env = append(env, shq(a))
	}

	w("\n# linux.namespaces (new, and joined by path), linux.uidMappings and\n")
	w("# linux.gidMappings -- root, mounts, linux.devices, linux.rootfsPropagation,\n")
	w("# linux.maskedPaths, linux.readonlyPaths, root.readonly -- hostname and\n")
	w("# process.cwd -- process.capabilities, process.user, process.rlimits,\n")
	w("# process.noNewPrivileges -- linux.seccomp -- process.env, process.args\n")
	w("status=0\n%s exec %s -- \\\n", shq(t.Cgctl), shq(cg))
	w("\t%s -- \\\n", strings.Join(nsrun, " "))
	w("\t%s run --config \"$DIR/config.json\" -- \\\n", shq(t.Rootfs))
	w("\t/bin/sh -c 'if [ -n \"$0\" ]; then hostname \"$0\"; fi; cd \"$1\"; shift; exec \"$@\"' %s %s \\\n", shq(spec.Hostname), shq(p.Cwd))
	seccompStep := ""
	if l.Seccomp != nil {
		nnp := "--no-new-privs=false"
		if p.NoNewPrivileges {
			nnp = "--no-new-privs"
		}
		seccompStep = fmt.Sprintf("\t%s/seccomp run %s --profile %s/config.json -- \\\n", toolDir, nnp, toolDir)
	}
	// The filter goes last, as late as it can: after capset, unless
	// loading it needs CAP_SYS_ADMIN (no no_new_privs), which capset drops.
	if !p.NoNewPrivileges {
		b.WriteString(seccompStep)
		seccompStep = ""
	}
	w("\t%s -- \\\n", strings.Join(capset, " "))
	b.WriteString(seccompStep)
	w("\t%s || status=$?\n", strings.Join(env, " "))
	w("exit $status\n")
	return b.String(), nil
}

// capList renders capability names for capset's flags (empty: none).
func capList(caps []string) string {
	if len(caps) == 0 {
		return "''"
	}
	return strings.Join(caps, ",")
}

// unscripted lists the config fields Script cannot express.
func unscripted(s *specs.Spec) []string {
	var out []string
	add := func(cond bool, what string) {
		if cond {
			out = append(out, what)
		}
	}
	p, l := s.Process, s.Linux
	add(s.Hooks != nil, "hooks")
	add(p.Terminal, "process.terminal (the script runs on your terminal as it is)")
	add(p.Capabilities != nil && !sameSet(p.Capabilities.Effective, p.Capabilities.Permitted), "process.capabilities.effective apart from permitted")
	add(p.Capabilities != nil && !sameSet(p.Capabilities.Inheritable, p.Capabilities.Permitted) && len(p.Capabilities.Inheritable) > 0, "process.capabilities.inheritable apart from permitted")
	add(p.OOMScoreAdj != nil, "process.oomScoreAdj")
	add(p.ApparmorProfile != "" || p.SelinuxLabel != "", "process.apparmorProfile, process.selinuxLabel")
	add(p.Scheduler != nil || p.IOPriority != nil || p.ExecCPUAffinity != nil, "process.scheduler, ioPriority, execCPUAffinity")
	add(s.Domainname != "", "domainname")
	add(len(l.Sysctl) > 0, "linux.sysctl")
	add(len(l.TimeOffsets) > 0, "linux.timeOffsets")
	add(l.Personality != nil, "linux.personality")
	add(l.MemoryPolicy != nil, "linux.memoryPolicy")
	return out
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	m := map[string]bool{}
	for _, x := range a {
		m[x] = true
	}
	for _, x := range b {
		if !m[x] {
			return false
		}
	}
	return true
}

func shq(s string) string { return rootfs.ShellQuote(s) }
