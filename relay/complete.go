package relay

import (
	"github.com/vapimon/vapimon/fixtures"
	"github.com/vapimon/vapimon/webhook"
)

// ControlCompletions completes `vapimon control CALL ACTION ARG` after args: the recent
// call ids of the latest tapes (newest first, labelled), then the actions, then a mute's
// side; "name<TAB>description" where there is one.
func ControlCompletions(args []string, recentTapes int) []string {
	var out []string
	switch len(args) {
	case 0:
		tapes, _ := fixtures.LatestTapes(recentTapes)
		calls, _ := fixtures.RecentCalls(tapes)
		for _, c := range calls {
			out = append(out, c.ID+"\t"+CallLabel(c))
		}
	case 1:
		for _, a := range webhook.ControlActions {
			out = append(out, a.Name+"\t"+a.Help)
		}
	case 2:
		if args[1] == "mute" || args[1] == "unmute" {
			out = []string{"assistant", "customer"}
		}
	}
	return out
}
