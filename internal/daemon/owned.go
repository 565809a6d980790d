package daemon

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/lvsd/lvsd/lvs"
)

// lvsd remembers which IPVS services it owns in a small file beside the control socket.
// Without it, a restart would only know the services of the new config: one dropped from
// the config while lvsd was down would stay in the kernel forever, looking foreign.

// ownedPath is the state file of the daemon whose control socket is socket.
func ownedPath(socket string) string { return socket + ".owned.json" }

// loadOwned reads the keys a previous run owned; a missing file means none.
func loadOwned(path string) ([]lvs.Key, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read owned IPVS services from %s: %w", path, err)
	}
	var keys []lvs.Key
	if err := json.Unmarshal(b, &keys); err != nil {
		return nil, fmt.Errorf("read owned IPVS services from %s: %w", path, err)
	}
	return keys, nil
}

// saveOwned replaces the file atomically (write, then rename), so a crash mid-write never
// leaves a truncated list; an empty set removes the file.
func saveOwned(path string, keys []lvs.Key) error {
	if len(keys) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove %s: %w", path, err)
		}
		return nil
	}
	keys = slices.Clone(keys)
	slices.SortFunc(keys, func(a, b lvs.Key) int { return strings.Compare(a.String(), b.String()) })
	b, err := json.MarshalIndent(keys, "", "  ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("save owned IPVS services: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("save owned IPVS services: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save owned IPVS services: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save owned IPVS services: %w", err)
	}
	return nil
}

func sameKeys(a, b []lvs.Key) bool {
	if len(a) != len(b) {
		return false
	}
	set := make(map[lvs.Key]bool, len(a))
	for _, k := range a {
		set[k] = true
	}
	for _, k := range b {
		if !set[k] {
			return false
		}
	}
	return true
}
