package realserver

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
)

// DefaultStateFile is where setup remembers what it changed, for teardown. /run is
// emptied at boot, as are the addresses and sysctls setup changed.
const DefaultStateFile = "/run/lvsd/realserver.json"

// State is what setup changed: the values it replaced and what it added. Teardown undoes
// exactly this.
type State struct {
	Mode      Mode              `json:"mode,omitempty"`
	Sysctls   map[string]string `json:"sysctls,omitempty"`   // key -> value before the first setup
	Addresses []Address         `json:"addresses,omitempty"` // VIPs setup added
	LinksUp   []string          `json:"links_up,omitempty"`  // links setup set up (were down)
}

// Address is one address setup added.
type Address struct {
	Dev    string       `json:"dev"`
	Prefix netip.Prefix `json:"prefix"`
}

// Empty reports whether s records no change.
func (s State) Empty() bool {
	return len(s.Sysctls) == 0 && len(s.Addresses) == 0 && len(s.LinksUp) == 0
}

func (s State) clone() State {
	c := State{Mode: s.Mode, Sysctls: maps.Clone(s.Sysctls), Addresses: slices.Clone(s.Addresses), LinksUp: slices.Clone(s.LinksUp)}
	if c.Sysctls == nil {
		c.Sysctls = map[string]string{}
	}
	return c
}

// LoadState reads the state file; a missing file is an empty state.
func LoadState(path string) (State, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, nil
	}
	if err != nil {
		return State{}, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return State{}, fmt.Errorf("state file %s: %w", path, err)
	}
	return s, nil
}

// SaveState writes s atomically, or removes the file when s is empty.
func SaveState(path string, s State) error {
	if s.Empty() {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove state: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("state directory: %w", err)
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("write state: %w", err)
	}
	return nil
}
