package main

import (
	"github.com/spf13/cobra"
	"github.com/vapimon/vapimon/fixtures/report"
	"github.com/vapimon/vapimon/webhook"
)

func newSecretCmd() *cobra.Command {
	var mode string
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "Print a new random webhook secret and how to use it with vapimon and Vapi",
		Long: `Print a new random secret (256 bits) on standard output, and on standard error the
--secret and VAPI_WEBHOOK_SECRET lines to use it with vapimon and where to paste it in
Vapi's dashboard, for --auth secret (X-Vapi-Secret, the default), bearer or hmac.`,
		Example: `  vapimon secret
  export VAPI_WEBHOOK_SECRET="$(vapimon secret --auth hmac)"`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return report.NewSecret(cmd.OutOrStdout(), cmd.ErrOrStderr(), webhook.AuthMode(mode))
		},
	}
	cmd.Flags().StringVar(&mode, "auth", string(webhook.AuthSecret), "how Vapi will send it: secret|bearer|hmac")
	_ = cmd.RegisterFlagCompletionFunc("auth", fixedCompletion("secret", "bearer", "hmac"))
	return cmd
}
