package main

import (
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/relay"
)

func newRestoreCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "restore",
		Short: "Put back the Vapi server URLs that vapimon changed (after a crash)",
		Long: `When vapimon points an assistant, phone number or tool at itself (--assistant,
--phone-number, --tool), it first saves their previous server settings to the state
directory and restores them on exit. If vapimon was killed before it could, run this.

Needs VAPI_API_KEY (and VAPI_BASE_URL if you use a non-default API base).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return relay.RestoreSaved(cmd.Context(), cmd.OutOrStdout())
		},
	}
}
