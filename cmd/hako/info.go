package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

func infoCmd(*globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "info [--format text|json]",
		Short: "describe this host and build: kernel, cgroups, namespaces, seccomp, LSMs",
		Long: `info reports what decides what containers can do here: the kernel, the
cgroup layout and the controllers of each hierarchy, the namespace kinds,
seccomp and its flags, AppArmor and SELinux, idmapped mounts, pidfd and
clone3, and this binary's version and build. Paste it into a bug report.`,
		Example: "  hako info\n  hako info --format json | jq .hierarchies",
		Args:    cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			in := container.Info()
			switch format {
			case "json":
				return printJSON(in)
			case "text":
				printInfo(os.Stdout, in)
				return nil
			}
			return fmt.Errorf("unknown --format %q: want text or json", format)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func printInfo(w io.Writer, in container.HostInfo) {
	yes := func(b bool) string {
		if b {
			return "yes"
		}
		return "no"
	}
	fmt.Fprintf(w, "hako:        %s (commit %s, %s, cgo %s)\n", version, commit, in.Build.GoVersion, yes(in.Build.Cgo))
	fmt.Fprintf(w, "kernel:      %s\n", in.Kernel)
	fmt.Fprintf(w, "os:          %s (%s)\n", in.OS, in.Arch)
	fmt.Fprintf(w, "cgroups:     %s\n", in.CgroupMode)
	for _, h := range in.Hierarchies {
		fmt.Fprintf(w, "  v%d %-32s %s\n", h.Version, h.Dir, strings.Join(h.Controllers, ","))
	}
	fmt.Fprintf(w, "namespaces:  %s\n", strings.Join(in.Namespaces, ","))
	sc := yes(in.Seccomp.Enabled)
	if in.Seccomp.LibraryVersion != "" {
		sc += " (libseccomp " + in.Seccomp.LibraryVersion + ")"
	}
	fmt.Fprintf(w, "seccomp:     %s\n", sc)
	if len(in.Seccomp.Flags) > 0 {
		fmt.Fprintf(w, "  flags:     %s\n", strings.Join(in.Seccomp.Flags, ","))
	}
	fmt.Fprintf(w, "apparmor:    %s\nselinux:     %s\n", yes(in.AppArmor), yes(in.SELinux))
	fmt.Fprintf(w, "idmapped mounts: %s\npidfd:       %s\nclone3:      %s\n", yes(in.IDMapMounts), yes(in.Pidfd), yes(in.Clone3))
}
