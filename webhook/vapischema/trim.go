package vapischema

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// ResponsePrefix starts the name of every reply schema in Vapi's specification
// (ServerMessageResponseToolCalls, ...). Trim keeps these and what they reference.
const ResponsePrefix = "ServerMessageResponse"

// structural lists the schema keywords Trim keeps: the ones that decide whether a value is
// valid. Everything else (description, example, title, default, deprecated, x-...) is prose
// or tooling and is dropped. discriminator is dropped too: normalise reads every oneOf as
// anyOf, so the discriminator would be an unused annotation.
var structural = map[string]bool{
	"type": true, "properties": true, "required": true, "enum": true, "const": true,
	"items": true, "additionalProperties": true,
	"minimum": true, "maximum": true, "exclusiveMinimum": true, "exclusiveMaximum": true, "multipleOf": true,
	"minLength": true, "maxLength": true, "minItems": true, "maxItems": true, "uniqueItems": true,
	"minProperties": true, "maxProperties": true,
	"format": true, "pattern": true,
	"oneOf": true, "anyOf": true, "allOf": true, "not": true,
	"nullable": true, "$ref": true,
}

// Trim reads Vapi's OpenAPI document and returns the file vapimon embeds: every
// ServerMessageResponse* schema and every schema they reference, transitively, with only
// their structure (types, properties, required, enums, items, limits, formats, patterns,
// unions, nullable, $ref). The result is an OpenAPI-shaped JSON document, one schema per
// line in name order, so that a regenerated file diffs well; LoadBytes reads it like the
// full specification. Its "x-vapimon" member says where it came from.
func Trim(spec []byte) ([]byte, error) {
	var doc struct {
		Info struct {
			Version string `json:"version"`
		} `json:"info"`
		Components struct {
			Schemas map[string]json.RawMessage `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(spec, &doc); err != nil {
		return nil, fmt.Errorf("read Vapi OpenAPI spec: %w", err)
	}
	all := doc.Components.Schemas
	if len(all) == 0 {
		return nil, fmt.Errorf("read Vapi OpenAPI spec: no components.schemas")
	}
	var queue []string
	for name := range all {
		if strings.HasPrefix(name, ResponsePrefix) {
			queue = append(queue, name)
		}
	}
	if len(queue) == 0 {
		return nil, fmt.Errorf("read Vapi OpenAPI spec: no %s* schemas", ResponsePrefix)
	}
	sort.Strings(queue)
	kept := map[string]any{}
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, done := kept[name]; done {
			continue
		}
		raw, ok := all[name]
		if !ok {
			return nil, fmt.Errorf("read Vapi OpenAPI spec: a schema refers to #/components/schemas/%s, which does not exist", name)
		}
		var v any
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.UseNumber() // keep limits such as 1e-7 or 9007199254740991 exactly as written
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("read schema %s: %w", name, err)
		}
		var refs []string
		trimmed, err := trimSchema(v, &refs)
		if err != nil {
			return nil, fmt.Errorf("schema %s: %w", name, err)
		}
		kept[name] = trimmed
		queue = append(queue, refs...)
	}

	names := make([]string, 0, len(kept))
	for n := range kept {
		names = append(names, n)
	}
	sort.Strings(names)
	sum := sha256.Sum256(spec)
	var b bytes.Buffer
	meta, _ := json.Marshal(map[string]any{
		"generatedBy":   "go generate ./webhook/vapischema (webhook/vapischema/gen); do not edit",
		"sourceVersion": doc.Info.Version,
		"sourceSha256":  hex.EncodeToString(sum[:]),
		"schemas":       len(names),
	})
	b.WriteString("{\"openapi\":\"3.0.0\",\n\"x-vapimon\":")
	b.Write(meta)
	b.WriteString(",\n\"components\":{\"schemas\":{\n")
	for i, n := range names {
		if i > 0 {
			b.WriteString(",\n")
		}
		key, _ := json.Marshal(n)
		val, err := marshalPlain(kept[n])
		if err != nil {
			return nil, fmt.Errorf("write schema %s: %w", n, err)
		}
		b.Write(key)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteString("\n}}}\n")
	return b.Bytes(), nil
}

const refPrefix = "#/components/schemas/"

// trimSchema returns a copy of the schema v with only structural keywords, and appends the
// names of the component schemas it refers to. Property maps are walked by name (a property
// may be called "description"), and values that are data, not schemas (enum, required,
// const), are copied as they are.
func trimSchema(v any, refs *[]string) (any, error) {
	switch x := v.(type) {
	case bool:
		return x, nil
	case map[string]any:
		out := map[string]any{}
		for k, child := range x {
			if !structural[k] {
				continue
			}
			switch k {
			case "$ref":
				ref, ok := child.(string)
				if !ok || !strings.HasPrefix(ref, refPrefix) {
					return nil, fmt.Errorf("$ref %v does not point into %s", child, refPrefix)
				}
				*refs = append(*refs, strings.TrimPrefix(ref, refPrefix))
				out[k] = ref
			case "properties":
				props, ok := child.(map[string]any)
				if !ok {
					return nil, fmt.Errorf("properties is not an object")
				}
				tp := make(map[string]any, len(props))
				for name, p := range props {
					t, err := trimSchema(p, refs)
					if err != nil {
						return nil, fmt.Errorf("property %s: %w", name, err)
					}
					tp[name] = t
				}
				out[k] = tp
			case "items", "additionalProperties", "not":
				if list, ok := child.([]any); ok && k == "items" { // tuple form
					t, err := trimList(list, refs)
					if err != nil {
						return nil, err
					}
					out[k] = t
					continue
				}
				t, err := trimSchema(child, refs)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out[k] = t
			case "oneOf", "anyOf", "allOf":
				list, ok := child.([]any)
				if !ok {
					return nil, fmt.Errorf("%s is not a list", k)
				}
				t, err := trimList(list, refs)
				if err != nil {
					return nil, fmt.Errorf("%s: %w", k, err)
				}
				out[k] = t
			default:
				out[k] = child
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("a schema is %T, not an object", v)
}

func trimList(list []any, refs *[]string) ([]any, error) {
	out := make([]any, len(list))
	for i, s := range list {
		t, err := trimSchema(s, refs)
		if err != nil {
			return nil, err
		}
		out[i] = t
	}
	return out, nil
}

// marshalPlain is json.Marshal without HTML escaping, so patterns with < > & stay readable.
func marshalPlain(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
