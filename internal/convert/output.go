package convert

import (
	"bytes"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/hashicorp/hcl/v2/hclwrite"
	"github.com/zclconf/go-cty/cty"
)

// The mapping builds this small tree first and renders it with hclwrite at the end, so
// that later statements (global defaults, an old lvs_sync_daemon_interface) can still
// change blocks written earlier.

type hblock struct {
	typ      string
	labels   []string
	items    []*item
	comments []string
	pos      Pos
}

// item is one attribute or one nested block, with the comments to write above it.
type item struct {
	attr     string
	val      cty.Value
	block    *hblock
	comments []string
	pos      Pos
}

func (b *hblock) set(name string, v cty.Value, pos Pos, comments ...string) *item {
	for _, it := range b.items {
		if it.attr == name {
			it.val, it.pos = v, pos
			it.comments = append(it.comments, comments...)
			return it
		}
	}
	it := &item{attr: name, val: v, pos: pos, comments: comments}
	b.items = append(b.items, it)
	return it
}

func (b *hblock) get(name string) *item {
	for _, it := range b.items {
		if it.attr == name {
			return it
		}
	}
	return nil
}

// appendList adds values to a list attribute.
func (b *hblock) appendList(name string, vals []string, pos Pos) {
	it := b.get(name)
	if it == nil {
		b.set(name, strList(vals), pos)
		return
	}
	var all []cty.Value
	if it.val.LengthInt() > 0 {
		all = it.val.AsValueSlice()
	}
	for _, v := range vals {
		all = append(all, cty.StringVal(v))
	}
	it.val = cty.TupleVal(all)
}

func (b *hblock) add(child *hblock) {
	b.items = append(b.items, &item{block: child, pos: child.pos})
}

// note adds a comment line above the block's next item.
func (b *hblock) note(text string) {
	b.items = append(b.items, &item{comments: []string{text}})
}

func strList(vals []string) cty.Value {
	if len(vals) == 0 {
		return cty.EmptyTupleVal
	}
	out := make([]cty.Value, len(vals))
	for i, v := range vals {
		out[i] = cty.StringVal(v)
	}
	return cty.TupleVal(out)
}

// render writes the blocks as formatted HCL.
func render(header []string, blocks []*hblock) []byte {
	return hclwrite.Format(renderFile(header, blocks).Bytes())
}

func renderFile(header []string, blocks []*hblock) *hclwrite.File {
	f := hclwrite.NewEmptyFile()
	body := f.Body()
	writeComments(body, header)
	for i, b := range blocks {
		if i > 0 || len(header) > 0 {
			body.AppendNewline()
		}
		renderBlock(body, b)
	}
	return f
}

// sourceLines maps each line of the rendered HCL to the keepalived position it came from:
// attributes and blocks are rendered in the order of the tree, so walking both in order
// pairs them.
func sourceLines(src []byte, blocks []*hblock) map[int]Pos {
	var order []Pos
	var walk func(b *hblock)
	walk = func(b *hblock) {
		order = append(order, b.pos)
		for _, it := range b.items {
			switch {
			case it.block != nil:
				walk(it.block)
			case it.attr != "":
				order = append(order, it.pos)
			}
		}
	}
	for _, b := range blocks {
		walk(b)
	}
	f, diags := hclsyntax.ParseConfig(src, "", hcl.InitialPos)
	if diags.HasErrors() {
		return nil
	}
	var starts []int
	var visit func(body *hclsyntax.Body)
	visit = func(body *hclsyntax.Body) {
		type el struct {
			line  int
			block *hclsyntax.Block
		}
		var els []el
		for _, a := range body.Attributes {
			els = append(els, el{line: a.SrcRange.Start.Line})
		}
		for _, b := range body.Blocks {
			els = append(els, el{line: b.TypeRange.Start.Line, block: b})
		}
		slices.SortFunc(els, func(x, y el) int { return x.line - y.line })
		for _, e := range els {
			starts = append(starts, e.line)
			if e.block != nil {
				visit(e.block.Body)
			}
		}
	}
	visit(f.Body.(*hclsyntax.Body))
	out := map[int]Pos{}
	last := Pos{}
	lines := bytes.Count(src, []byte("\n")) + 1
	k := 0
	for line := 1; line <= lines; line++ {
		for k < len(starts) && k < len(order) && starts[k] <= line {
			if order[k].Line != 0 {
				last = order[k]
			}
			k++
		}
		out[line] = last
	}
	return out
}

func renderBlock(parent *hclwrite.Body, b *hblock) {
	writeComments(parent, b.comments)
	blk := parent.AppendNewBlock(b.typ, b.labels)
	body := blk.Body()
	for _, it := range b.items {
		writeComments(body, it.comments)
		switch {
		case it.block != nil:
			renderBlock(body, it.block)
		case it.attr != "":
			body.SetAttributeValue(it.attr, it.val)
		}
	}
}

func writeComments(body *hclwrite.Body, comments []string) {
	for _, c := range comments {
		c = strings.ReplaceAll(c, "\n", " ")
		body.AppendUnstructuredTokens(hclwrite.Tokens{{
			Type:  hclsyntax.TokenComment,
			Bytes: []byte(strings.TrimRight("# "+c, " ") + "\n"),
		}})
	}
}
