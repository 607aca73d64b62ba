package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"hako.dev/cmd/internal/cli"
	"hako.dev/runtime/container"
)

// Set at build time with -ldflags "-X main.version=... -X main.commit=...".
var (
	version = "0.1.0-dev"
	commit  = "unknown"
)

// globals are runc's global flags.
type globals struct {
	root      string
	logFile   string
	logFormat string
	debug     bool
	systemd   bool
	rootless  string
	log       *slog.Logger
}

// exitError carries a container's exit status out of `run`.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", e.code) }

func execute(args []string) int {
	g := &globals{}
	root := &cobra.Command{
		Use: "hako",
		Example: `  mkdir demo && cd demo && mkdir rootfs && tar -C rootfs -xf busybox.tar
  hako spec                          # runc's default config.json
  hako run demo1                     # in the foreground, on this terminal
  hako create demo2 && hako start demo2 && hako state demo2
  hako exec demo2 ps && hako kill demo2 KILL && hako delete demo2`,
		Short: "hako runs OCI containers",
		// runc's three lines through cobra's own "NAME version VERSION":
		// a version template would link text/template, whose reflective
		// method calls keep every exported method of every type in the
		// binary (1.5 MB more, ~100 page faults and ~0.3 ms at each start).
		Version:       fmt.Sprintf("%s\ncommit: %s\nspec: %s", version, commit, specs.Version),
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := g.setupLog(); err != nil {
				return err
			}
			switch g.rootless {
			case "true", "false", "auto":
			default:
				return fmt.Errorf("--rootless %q: want true, false or auto", g.rootless)
			}
			// Refused where it would matter (making cgroups), not where a
			// client passes it along to every command (containerd does).
			if g.systemd && (cmd.Name() == "create" || cmd.Name() == "run") {
				return fmt.Errorf("%s: the systemd cgroup driver (--systemd-cgroup) is not supported by this hako yet; use the cgroupfs driver", cmd.Name())
			}
			return nil
		},
	}
	f := root.PersistentFlags()
	f.StringVar(&g.root, "root", "/run/hako", "directory holding the containers' state")
	f.StringVar(&g.logFile, "log", "", "write log lines to this file instead of stderr")
	f.StringVar(&g.logFormat, "log-format", "text", "log line format: text or json")
	f.BoolVar(&g.debug, "debug", false, "log debug lines too")
	f.BoolVar(&g.systemd, "systemd-cgroup", false, "use the systemd cgroup driver (not supported yet: create and run refuse it)")
	// runc's rootless mode: with "auto" it decides from the euid. hako
	// needs no switch: it works out what it may do from the config (a user
	// namespace) and its privileges, so the flag is accepted and checked
	// only, for the clients that pass it.
	f.StringVar(&g.rootless, "rootless", "auto", "rootless mode: true, false or auto (accepted: hako adapts to its privileges either way)")
	root.AddCommand(
		specCmd(g), createCmd(g), startCmd(g), runCmd(g), stateCmd(g), infoCmd(g), scriptCmd(g),
		killCmd(g), deleteCmd(g), listCmd(g), execCmd(g), psCmd(g), updateCmd(g), featuresCmd(g), eventsCmd(g),
		freezeCmd(g, "pause", "freeze every process of a running container", (*container.Container).Pause),
		freezeCmd(g, "resume", "thaw a paused container", (*container.Container).Resume),
	)
	cli.MaybeGenMan(root)
	root.SetArgs(longFlags(root, args))
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if g.log == nil {
		// The command line failed before --log was opened (a bad flag,
		// a missing argument): containerd still looks there for why.
		early(g, args)
		if g.setupLog() != nil {
			g.log = nil
		}
	}
	switch {
	case g.log != nil && g.logFile == "" && g.logFormat == "json":
		g.log.Error(err.Error()) // as runc: the error as a JSON line on stderr
	default:
		fmt.Fprintf(os.Stderr, "hako: %v\n", err)
		if g.log != nil && g.logFile != "" {
			// containerd shows its user the msg of the last error line here.
			g.log.Error(err.Error())
		}
	}
	return 1
}

// early picks --log and --log-format out of a command line cobra could
// not parse, ignoring everything else.
func early(g *globals, args []string) {
	fs := pflag.NewFlagSet("hako", pflag.ContinueOnError)
	fs.ParseErrorsAllowlist.UnknownFlags = true
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	fs.StringVar(&g.logFile, "log", g.logFile, "")
	fs.StringVar(&g.logFormat, "log-format", g.logFormat, "")
	fs.Parse(args)
}

// setupLog installs the --log/--log-format handler. JSON lines carry a
// lower-case level ("error", "warning", "info", "debug"), as runc's logrus
// lines do and containerd parses.
func (g *globals) setupLog() error {
	var w io.Writer = os.Stderr
	if g.logFile != "" {
		f, err := os.OpenFile(g.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND|os.O_SYNC, 0o644)
		if err != nil {
			return fmt.Errorf("open log file: %w", err)
		}
		w = f
	}
	level := slog.LevelInfo
	if g.debug {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.LevelKey {
			lv := strings.ToLower(a.Value.String())
			if lv == "warn" {
				lv = "warning"
			}
			a.Value = slog.StringValue(lv)
		}
		return a
	}}
	switch g.logFormat {
	case "json":
		g.log = slog.New(slog.NewJSONHandler(w, opts))
	case "text":
		g.log = slog.New(slog.NewTextHandler(w, opts))
	default:
		return fmt.Errorf("unknown --log-format %q: want text or json", g.logFormat)
	}
	slog.SetDefault(g.log)
	g.log.Log(context.Background(), slog.LevelDebug, "hako", "args", os.Args[1:])
	return nil
}
