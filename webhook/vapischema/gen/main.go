// Command gen writes webhook/vapischema/responses.json: the trimmed copy of Vapi's reply
// schemas that vapimon embeds to check replies (see vapischema.Trim). Run it through
// `go generate ./webhook/vapischema` after updating Vapi's OpenAPI document.
//
//	go run ./webhook/vapischema/gen -spec path/to/openapi.json -out webhook/vapischema/responses.json
//
// Without -spec it finds the document as the tests do: $VAPIMON_OPENAPI, else
// shared/vapi/openapi.json in the working directory or one of its parents.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/vapimon/vapimon/webhook/vapischema"
)

func main() {
	spec := flag.String("spec", "", "Vapi's OpenAPI document (default: found like the tests find it, "+vapischema.EnvPath+" or ../shared/vapi/openapi.json)")
	out := flag.String("out", "responses.json", "file to write")
	flag.Parse()
	if err := run(*spec, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(spec, out string) error {
	if spec == "" {
		p, err := vapischema.Find()
		if err != nil {
			return fmt.Errorf("%w: pass -spec PATH", err)
		}
		spec = p
	}
	data, err := os.ReadFile(spec)
	if err != nil {
		return err
	}
	trimmed, err := vapischema.Trim(data)
	if err != nil {
		return fmt.Errorf("%s: %w", spec, err)
	}
	// Refuse to write a file vapimon could not load: the build's tests would catch it, but
	// a generator should not leave a broken file behind.
	if _, err := vapischema.LoadBytes(out, trimmed); err != nil {
		return fmt.Errorf("the trimmed schemas do not load: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(out), ".responses-*.json")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(trimmed); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return err
	}
	fmt.Printf("wrote %s: %d bytes from %s\n", out, len(trimmed), spec)
	return nil
}
