package main

import (
	"context"
	"io"
)

// runTUI runs the interactive monitor. Until the TUI is wired, it runs headless.
func runTUI(ctx context.Context, f *listenFlags, stderr io.Writer) error {
	return runHeadless(ctx, f, nilWriter{}, stderr)
}

type nilWriter struct{}

func (nilWriter) Write(p []byte) (int, error) { return len(p), nil }
