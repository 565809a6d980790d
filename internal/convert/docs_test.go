package convert

import (
	"os"
	"strings"
	"testing"

	"github.com/lvsd/lvsd/internal/config"
)

// The migration guide lists every keyword the converter drops or refuses, and its worked
// example is the golden example's input and output.
func TestMigrationGuide(t *testing.T) {
	doc, err := os.ReadFile("../../docs/migrating-from-keepalived.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	for k := range dropped {
		if !strings.Contains(text, "`"+k+"`") {
			t.Errorf("dropped keyword %s is not in docs/migrating-from-keepalived.md", k)
		}
	}
	for _, k := range config.KeepalivedUnsupportedKeywords() {
		if !strings.Contains(text, "`"+k+"`") {
			t.Errorf("refused keyword %s is not in docs/migrating-from-keepalived.md", k)
		}
	}
	conf, _ := os.ReadFile("testdata/golden/example.conf")
	hcl, _ := os.ReadFile("testdata/golden/example.hcl")
	hclText := strings.ReplaceAll(string(hcl), "testdata/golden/example.conf", "keepalived.conf")
	if len(conf) == 0 || !strings.Contains(text, string(conf)) || !strings.Contains(text, hclText) {
		t.Error("the worked example differs from testdata/golden/example.conf / example.hcl")
	}
}
