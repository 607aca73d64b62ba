package main

import (
	"fmt"
	"os"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

func listCmd(g *globals) *cobra.Command {
	var format string
	var quiet bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "list the containers under --root",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			cs, err := container.List(g.root)
			if err != nil {
				return fmt.Errorf("list: %w", err)
			}
			states := make([]container.State, 0, len(cs))
			for _, c := range cs {
				states = append(states, c.State())
			}
			switch {
			case quiet:
				for _, s := range states {
					fmt.Println(s.ID)
				}
				return nil
			case format == "json":
				return printJSON(states)
			case format != "table":
				return fmt.Errorf("list: unknown --format %q: want table or json", format)
			}
			w := tabwriter.NewWriter(os.Stdout, 12, 1, 3, ' ', 0)
			fmt.Fprint(w, "ID\tPID\tSTATUS\tBUNDLE\tCREATED\tOWNER\n")
			for _, s := range states {
				fmt.Fprintf(w, "%s\t%d\t%s\t%s\t%s\t%s\n", s.ID, s.Pid, s.Status, s.Bundle,
					s.Created.Format(time.RFC3339Nano), ownerName(s.Owner))
			}
			return w.Flush()
		},
	}
	cmd.Flags().StringVarP(&format, "format", "f", "table", "output format: table or json")
	cmd.Flags().BoolVarP(&quiet, "quiet", "q", false, "print only the ids")
	return cmd
}

func ownerName(o string) string {
	if o == "" {
		return "root"
	}
	return o
}
