//go:build tools

// Package tools pins OPA v0.60.0, the OPA of Gatekeeper 3.15, for `opa test` on our Rego.
// `go install github.com/open-policy-agent/opa@v0.60.0` is refused (its go.mod has replace
// directives), so scripts/go-tool builds it from this module: go build github.com/open-policy-agent/opa.
package tools

import _ "github.com/open-policy-agent/opa"
