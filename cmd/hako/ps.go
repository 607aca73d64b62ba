package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
	"hako.dev/runtime/timerslack"
)

// psCmd is runc's ps: the container's processes as JSON pids, or ps(1)'s
// table filtered to them (containerd's `ps --format json`, docker top).
func psCmd(g *globals) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ps [--format table|json] <container-id> [ps options]",
		Short: "list the processes of a container",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Load(g.root, id)
			if err != nil {
				return fmt.Errorf("ps %s: %w", id, err)
			}
			pids, err := c.Pids()
			if err != nil {
				return fmt.Errorf("ps %s: %w", id, err)
			}
			switch format {
			case "json":
				if pids == nil {
					pids = []int{}
				}
				return json.NewEncoder(os.Stdout).Encode(pids)
			case "table":
			default:
				return fmt.Errorf("ps %s: unknown --format %q: want table or json", id, format)
			}
			psArgs := args[1:]
			if len(psArgs) == 0 {
				psArgs = []string{"-ef"}
			}
			var out strings.Builder
			ps := exec.Command("ps", psArgs...)
			ps.Stdout = &out
			if err = timerslack.Spawn(ps.Start); err == nil {
				err = ps.Wait()
			}
			if err != nil {
				return fmt.Errorf("ps %s: ps %s: %w", id, strings.Join(psArgs, " "), err)
			}
			return filterPs(out.String(), pids)
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "table (ps(1) output) or json (pids)")
	cmd.Flags().SetInterspersed(false)
	return cmd
}

// filterPs prints ps(1)'s header and the lines whose PID column is one of
// pids.
func filterPs(out string, pids []int) error {
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	col := -1
	for i, h := range strings.Fields(lines[0]) {
		if h == "PID" {
			col = i
		}
	}
	if col < 0 {
		return errors.New("ps: no PID column in ps's output")
	}
	in := map[int]bool{}
	for _, p := range pids {
		in[p] = true
	}
	fmt.Println(lines[0])
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		if len(f) <= col {
			continue
		}
		if p, err := strconv.Atoi(f[col]); err == nil && in[p] {
			fmt.Println(l)
		}
	}
	return nil
}
