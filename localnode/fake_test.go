package localnode

import (
	"fmt"
	"slices"
	"strings"
	"sync"
)

// FakeIPTables is an in-memory IPTables for tests: chains are ordered lists of rulespecs,
// compared word by word (ignoring case, as Rule comparison does). Fail makes the method
// calls whose "op table chain" (op: exists, insert, delete, list) has the given prefix
// return an error, to simulate a missing kernel feature.
type FakeIPTables struct {
	mu     sync.Mutex
	chains map[string][][]string // "table chain" -> rules
	Fail   map[string]error
	Calls  []string // "op table chain", in order (insert and delete only)
}

var _ IPTables = (*FakeIPTables)(nil)

// NewFakeIPTables returns an empty fake.
func NewFakeIPTables() *FakeIPTables {
	return &FakeIPTables{chains: map[string][][]string{}, Fail: map[string]error{}}
}

func (f *FakeIPTables) fail(op, table, chain string) error {
	k := op + " " + table + " " + chain
	for p, err := range f.Fail {
		if strings.HasPrefix(k, p) {
			return err
		}
	}
	return nil
}

func sameSpec(a, b []string) bool {
	return slices.EqualFunc(a, b, strings.EqualFold)
}

func (f *FakeIPTables) Exists(table, chain string, spec ...string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("exists", table, chain); err != nil {
		return false, err
	}
	for _, r := range f.chains[table+" "+chain] {
		if sameSpec(r, spec) {
			return true, nil
		}
	}
	return false, nil
}

func (f *FakeIPTables) Insert(table, chain string, spec ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("insert", table, chain); err != nil {
		return err
	}
	k := table + " " + chain
	f.chains[k] = append([][]string{slices.Clone(spec)}, f.chains[k]...)
	f.Calls = append(f.Calls, "insert "+k)
	return nil
}

func (f *FakeIPTables) Delete(table, chain string, spec ...string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("delete", table, chain); err != nil {
		return err
	}
	k := table + " " + chain
	for i, r := range f.chains[k] {
		if sameSpec(r, spec) {
			f.chains[k] = slices.Delete(f.chains[k], i, i+1)
			f.Calls = append(f.Calls, "delete "+k)
			return nil
		}
	}
	return fmt.Errorf("fake iptables: -t %s -D %s %s: no such rule", table, chain, strings.Join(spec, " "))
}

// List prints like `iptables -S`: a policy line, then `-A CHAIN` lines with words that
// contain spaces or colons quoted (iptables quotes comments).
func (f *FakeIPTables) List(table, chain string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.fail("list", table, chain); err != nil {
		return nil, err
	}
	out := []string{"-P " + chain + " ACCEPT"}
	for _, r := range f.chains[table+" "+chain] {
		words := []string{"-A", chain}
		for _, w := range r {
			if strings.ContainsAny(w, " :\"\\") {
				w = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(w) + `"`
			}
			words = append(words, w)
		}
		out = append(out, strings.Join(words, " "))
	}
	return out, nil
}

// Rules returns the chain's rules, first first, each as its words joined by spaces.
func (f *FakeIPTables) Rules(table, chain string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.chains[table+" "+chain] {
		out = append(out, strings.Join(r, " "))
	}
	return out
}

// FakeSysctl is an in-memory Sysctl; a key that was never set does not exist.
type FakeSysctl struct {
	mu     sync.Mutex
	Values map[string]string
	Writes []string // "key=value", in order
}

var _ Sysctl = (*FakeSysctl)(nil)

func (f *FakeSysctl) ReadSysctl(key string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	v, ok := f.Values[key]
	if !ok {
		return "", fmt.Errorf("fake sysctl %s: no such file or directory", key)
	}
	return v, nil
}

func (f *FakeSysctl) WriteSysctl(key, value string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.Values[key]; !ok {
		return fmt.Errorf("fake sysctl %s: no such file or directory", key)
	}
	f.Values[key] = value
	f.Writes = append(f.Writes, key+"="+value)
	return nil
}

// Get returns a key's value ("" if absent).
func (f *FakeSysctl) Get(key string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.Values[key]
}
