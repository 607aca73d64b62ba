package main

import (
	"github.com/spf13/cobra"

	"hako.dev/runtime/container"
)

func featuresCmd(*globals) *cobra.Command {
	return &cobra.Command{
		Use:   "features",
		Short: "print what this hako supports, as the OCI features document",
		Args:  cobra.NoArgs,
		RunE:  func(*cobra.Command, []string) error { return printJSON(container.Features()) },
	}
}
