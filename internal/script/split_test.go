package script

import (
	"errors"
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	tests := []struct {
		in   string
		want []string
		err  string
	}{
		{in: "/etc/lvsd/bypass_ipvs.sh del 172.16.0.30", want: []string{"/etc/lvsd/bypass_ipvs.sh", "del", "172.16.0.30"}},
		{in: "  /bin/echo   a\tb  ", want: []string{"/bin/echo", "a", "b"}},
		{in: `/bin/echo 'a b' "c d"`, want: []string{"/bin/echo", "a b", "c d"}},
		{in: `/bin/echo "say \"hi\"" 'it''s'`, want: []string{"/bin/echo", `say "hi"`, "its"}},
		{in: `/bin/echo a\ b $HOME`, want: []string{"/bin/echo", "a b", "$HOME"}},
		{in: `/bin/echo ''`, want: []string{"/bin/echo", ""}},
		{in: `/bin/echo "unterminated`, err: `unterminated " quote at column 11 in "/bin/echo \"unterminated"`},
		{in: `/bin/echo a\`, err: `trailing backslash in "/bin/echo a\\"`},
		{in: "   ", err: "empty command"},
	}
	for _, tt := range tests {
		got, err := Split(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("Split(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Split(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := Split(""); !errors.Is(err, ErrEmpty) {
		t.Errorf("Split(\"\") error = %v, want ErrEmpty", err)
	}
}

func FuzzSplit(f *testing.F) {
	f.Add(`a 'b c' "d \" e" f\ g`)
	f.Fuzz(func(t *testing.T, s string) {
		_, _ = Split(s)
	})
}
