package config

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"unicode/utf8"

	"github.com/zclconf/go-cty/cty"
)

// Limits that keep time and memory bounded whatever the input is. The HCL library holds
// every token of a file in memory (about 200 bytes each) and parses nested expressions
// recursively, so a binary file, a file of random text or a few hundred thousand nested
// brackets would otherwise cost gigabytes or crash on stack exhaustion. Each source is
// screened by a cheap linear scan before it reaches the HCL parser.
const (
	// MaxFileSize is the largest configuration file read.
	MaxFileSize = 16 << 20
	// MaxTokens bounds the HCL tokens of all sources together (the parser's memory grows
	// with them): about 2.6 MB of ordinary config. keepalived's largest published
	// configuration (2,277 virtual servers, 37,205 real servers) is 508,000 tokens in HCL.
	MaxTokens = 600_000
	// MaxNesting bounds nested blocks, lists and templates; real configs nest 5 deep.
	MaxNesting = 64
	// MaxStringLen bounds one string value (paths, commands, names).
	MaxStringLen = 4096
	// MaxDiagnostics is how many problems are listed; the rest are counted in one line.
	MaxDiagnostics = 50
)

// readSource reads at most MaxFileSize bytes of path; larger files are refused unread.
func readSource(path string) ([]byte, *Diagnostic) {
	f, err := os.Open(path)
	if err != nil {
		return nil, &Diagnostic{File: path, Message: "cannot read config: " + errText(err)}
	}
	defer f.Close()
	src, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, &Diagnostic{File: path, Message: "cannot read config: " + errText(err)}
	}
	if len(src) > MaxFileSize {
		return nil, &Diagnostic{File: path, Message: tooBig()}
	}
	return src, nil
}

func tooBig() string {
	return fmt.Sprintf("file is larger than %d MiB: not a configuration, refused before parsing", MaxFileSize>>20)
}

// screen refuses, in one diagnostic, a source that is not a text file lvsd can parse within
// its limits. tokens is the running count over all sources (MaxTokens is for all of them).
func screen(f File, tokens *int) *Diagnostic {
	if len(f.Src) > MaxFileSize {
		return &Diagnostic{File: f.Name, Message: tooBig()}
	}
	if i := bytes.IndexByte(f.Src, 0); i >= 0 {
		return diagAt(f, i, "not a text file (NUL byte): refused before parsing")
	}
	if !utf8.Valid(f.Src) {
		i := 0
		for i < len(f.Src) {
			r, n := utf8.DecodeRune(f.Src[i:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			i += n
		}
		return diagAt(f, i, "not a text file (invalid UTF-8): refused before parsing")
	}
	n, deep := scanShape(f.Src)
	if deep >= 0 {
		return diagAt(f, deep, fmt.Sprintf("nested more than %d levels deep: refused before parsing", MaxNesting))
	}
	*tokens += n
	if *tokens > MaxTokens {
		return &Diagnostic{File: f.Name, Message: fmt.Sprintf(
			"too large: more than %d tokens in the configuration (about 2.6 MB of ordinary config): refused before parsing", MaxTokens)}
	}
	return nil
}

// diagAt positions a diagnostic at byte offset off of f (columns counted in characters).
func diagAt(f File, off int, msg string) *Diagnostic {
	before := f.Src[:off]
	line := bytes.Count(before, []byte{'\n'}) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return &Diagnostic{File: f.Name, Line: line, Col: col, Message: msg}
}

// scanShape estimates the number of HCL tokens in src (an upper bound is not needed: the
// estimate only has to grow with the parser's memory) and returns the offset at which
// nesting first exceeds MaxNesting, or -1. It follows HCL's lexical structure closely
// enough for that: strings with escapes and ${...} / %{...} templates, comments, brackets.
func scanShape(src []byte) (tokens, deep int) {
	const inString = 0 // stack entry for a quoted string; anything else is a bracket
	var stack []byte
	for i := 0; i < len(src); i++ {
		c := src[i]
		if len(stack) > 0 && stack[len(stack)-1] == inString {
			switch {
			case c == '\\':
				i++
			case c == '"' || c == '\n':
				stack = stack[:len(stack)-1]
				tokens++
			case (c == '$' || c == '%') && i+1 < len(src) && src[i+1] == '{' && (i == 0 || src[i-1] != c):
				i++
				tokens++
				if stack = append(stack, '{'); len(stack) > MaxNesting {
					return tokens, i
				}
			}
			continue
		}
		switch c {
		case ' ', '\t', '\r':
		case '#':
			i = skipPast(src, i, "\n") - 1 // the newline is a token of its own
			tokens++
		case '/':
			tokens++
			if i+1 < len(src) && src[i+1] == '/' {
				i = skipPast(src, i, "\n") - 1
			} else if i+1 < len(src) && src[i+1] == '*' {
				i = skipPast(src, i+2, "*/") - 1
			}
		case '"':
			tokens += 2 // the quote and the literal
			if stack = append(stack, inString); len(stack) > MaxNesting {
				return tokens, i
			}
		case '{', '[', '(':
			tokens++
			if stack = append(stack, c); len(stack) > MaxNesting {
				return tokens, i
			}
		case '}', ']', ')':
			tokens++
			if len(stack) > 0 {
				stack = stack[:len(stack)-1]
			}
		default:
			tokens++
			for i+1 < len(src) && isWordByte(src[i]) && isWordByte(src[i+1]) {
				i++
			}
		}
	}
	return tokens, -1
}

// skipPast returns the offset just after the first end at or after i (len(src) if none).
func skipPast(src []byte, i int, end string) int {
	j := bytes.Index(src[i:], []byte(end))
	if j < 0 {
		return len(src)
	}
	return i + j + len(end)
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || c == '.' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

// longString returns the length of the first string in v longer than MaxStringLen, or 0.
func longString(v cty.Value) int {
	switch {
	case v.IsNull() || !v.IsKnown():
		return 0
	case v.Type() == cty.String:
		if n := len(v.AsString()); n > MaxStringLen {
			return n
		}
	case v.Type().IsTupleType() || v.Type().IsListType():
		for it := v.ElementIterator(); it.Next(); {
			_, e := it.Element()
			if n := longString(e); n > 0 {
				return n
			}
		}
	}
	return 0
}

// capped keeps the first MaxDiagnostics of sorted diagnostics and sums up the rest in one
// last line, so that a hostile file cannot print millions of lines.
func (ds Diagnostics) capped() Diagnostics {
	if len(ds) <= MaxDiagnostics {
		return ds
	}
	more := len(ds) - MaxDiagnostics
	what := "problems"
	if ds[MaxDiagnostics].Warning {
		what = "warnings"
	}
	return append(ds[:MaxDiagnostics:MaxDiagnostics], Diagnostic{File: ds[MaxDiagnostics].File,
		Message: fmt.Sprintf("and %d more %s not listed", more, what), More: more, Warning: ds[MaxDiagnostics].Warning})
}

// Count is the number of problems, including those counted but not listed.
func (ds Diagnostics) Count() int {
	n := 0
	for _, d := range ds {
		if d.More > 0 {
			n += d.More
		} else {
			n++
		}
	}
	return n
}
