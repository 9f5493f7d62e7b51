package vapischema

import (
	"errors"
	"sync"
	"testing"
)

var shared struct {
	once sync.Once
	s    *Schemas
	err  error
}

// SkipIfMissing returns the specification for a test, loading it once per test binary (the
// file is 3 MB). When the file is absent, as in a user's clone, it skips the test; any other
// load failure fails it.
func SkipIfMissing(t testing.TB) *Schemas {
	t.Helper()
	shared.once.Do(func() { shared.s, shared.err = Load() })
	if errors.Is(shared.err, ErrNotFound) {
		t.Skip("Vapi OpenAPI spec not found (../shared/vapi/openapi.json): schema checks skipped")
	}
	if shared.err != nil {
		t.Fatal(shared.err)
	}
	return shared.s
}
