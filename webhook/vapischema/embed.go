package vapischema

import _ "embed"

// The reply schemas vapimon checks replies against in the product, trimmed from Vapi's
// OpenAPI document by ./gen (see Trim). A test compiles every one of them, and another
// regenerates the file and compares it when the full document is at hand.
//
//go:generate go run ./gen -out responses.json
//go:embed responses.json
var responsesJSON []byte

// EmbeddedName is the name the embedded reply schemas are loaded under (Schemas.Path).
const EmbeddedName = "vapimon's embedded reply schemas (webhook/vapischema/responses.json)"

// Embedded loads the reply schemas embedded in vapimon: every ServerMessageResponse*
// schema of Vapi's specification and what they reference, structure only. Each call
// returns a new, uncompiled set (decoding takes a few milliseconds); keep the one you use.
func Embedded() (*Schemas, error) {
	return LoadBytes(EmbeddedName, responsesJSON)
}
