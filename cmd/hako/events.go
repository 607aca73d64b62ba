package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

// event is one line of `events`, in runc's shape: {"type":"stats",
// "id":..., "data":{...}} or {"type":"oom","id":...}.
type event struct {
	Type string `json:"type"`
	ID   string `json:"id"`
	Data any    `json:"data,omitempty"`
}

func eventsCmd(g *globals) *cobra.Command {
	var stats bool
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "events [--stats] [--interval 5s] <container-id>",
		Short: "print a container's resource usage, and its OOM kills, as JSON lines",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			id := args[0]
			c, err := container.Load(g.root, id)
			if err != nil {
				return fmt.Errorf("events %s: %w", id, err)
			}
			if c.Status() == container.Stopped {
				return fmt.Errorf("events %s: %w", id, container.ErrNotRunning)
			}
			if interval <= 0 {
				return fmt.Errorf("events %s: --interval must be positive", id)
			}
			enc := json.NewEncoder(os.Stdout)
			var lastOOM uint64
			for first := true; ; first = false {
				s, err := c.Stats()
				if err != nil {
					return fmt.Errorf("events %s: %w", id, err)
				}
				if !first && s.Memory.OOMKill > lastOOM {
					if err := enc.Encode(event{Type: "oom", ID: id}); err != nil {
						return err
					}
				}
				lastOOM = s.Memory.OOMKill
				if err := enc.Encode(event{Type: "stats", ID: id, Data: s}); err != nil {
					return err
				}
				if stats {
					return nil
				}
				time.Sleep(interval)
				if c.Status() == container.Stopped {
					return nil
				}
			}
		},
	}
	cmd.Flags().BoolVar(&stats, "stats", false, "print the counters once and exit")
	cmd.Flags().DurationVar(&interval, "interval", 5*time.Second, "time between two lines")
	return cmd
}
