package config

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
)

// Diagnostic is one problem found in the configuration, with its position.
type Diagnostic struct {
	File      string
	Line, Col int // 1-based; 0 when the problem concerns a whole file
	Message   string
	Warning   bool // true for things keepalived accepts but that are dubious
	More      int  // > 0: this line stands for More problems not listed (see MaxDiagnostics)
}

// String renders the diagnostic compiler-style: "FILE:LINE:COL: message"
// ("FILE:LINE:COL: warning: message" for warnings, "FILE: message" without a line).
func (d Diagnostic) String() string {
	msg := d.Message
	if d.Warning {
		msg = "warning: " + msg
	}
	if d.Line == 0 {
		return d.File + ": " + msg
	}
	return fmt.Sprintf("%s:%d:%d: %s", d.File, d.Line, d.Col, msg)
}

// Pos is the diagnostic's position.
func (d Diagnostic) Pos() Pos { return Pos{File: d.File, Line: d.Line, Col: d.Col} }

// Diagnostics is a list of problems; as an error it prints one line per problem.
type Diagnostics []Diagnostic

func (ds Diagnostics) Error() string {
	lines := make([]string, len(ds))
	for i, d := range ds {
		lines[i] = d.String()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the diagnostics by file, line, column and then message.
func (ds Diagnostics) Sort() {
	slices.SortStableFunc(ds, func(a, b Diagnostic) int {
		return cmp.Or(cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line),
			cmp.Compare(a.Col, b.Col), cmp.Compare(a.Message, b.Message))
	})
}
