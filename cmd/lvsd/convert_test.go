package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const keepalivedConf = `! Configuration File for keepalived
global_defs {
   router_id LVS_A
   smtp_server 127.0.0.1
}
vrrp_instance VI_1 {
    state MASTER
    interface eth0
    virtual_router_id 51
    priority 150
    virtual_ipaddress {
        192.0.2.10
    }
}
virtual_server 192.0.2.10 80 {
    lb_algo rr
    lb_kind DR
    real_server 192.0.2.21 80 {
        TCP_CHECK {
            connect_timeout 3
        }
    }
}
`

func TestConvert(t *testing.T) {
	in := writeFile(t, "keepalived.conf", keepalivedConf)
	code, out, errOut := runCLI("convert", in)
	if code != 0 || !strings.Contains(out, `virtual_server "192.0.2.10:80"`) || !strings.Contains(out, `router_id = "LVS_A"`) {
		t.Fatalf("convert: code %d, stdout %q, stderr %q", code, out, errOut)
	}
	if want := in + ":4: warning: smtp_server: dropped"; !strings.HasPrefix(errOut, want) {
		t.Errorf("stderr %q, want it to start with %q", errOut, want)
	}

	// -o after the file name writes the file; it validates.
	hcl := filepath.Join(t.TempDir(), "lvsd.hcl")
	if code, _, errOut := runCLI("convert", in, "-o", hcl); code != 0 {
		t.Fatalf("convert -o: code %d, stderr %q", code, errOut)
	}
	if code, out, errOut := runCLI("validate", "--config", hcl); code != 0 {
		t.Fatalf("validate of the converted file: code %d, %q %q", code, out, errOut)
	}
}

func TestConvertRefused(t *testing.T) {
	in := writeFile(t, "keepalived.conf", strings.Replace(keepalivedConf, "priority 150", "priority 150\n    use_vmac", 1))
	out := filepath.Join(t.TempDir(), "lvsd.hcl")
	code, stdout, errOut := runCLI("convert", "-o", out, in)
	if code != 1 || stdout != "" {
		t.Errorf("code %d, stdout %q", code, stdout)
	}
	if want := in + ":11: use_vmac: not supported by lvsd ("; !strings.Contains(errOut, want) {
		t.Errorf("stderr %q, want %q", errOut, want)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Errorf("a refused conversion wrote %s", out)
	}
}

// A result lvsd refuses is reported at the keepalived line it came from.
func TestConvertInvalidResult(t *testing.T) {
	in := writeFile(t, "keepalived.conf", strings.Replace(keepalivedConf, "virtual_router_id 51", "virtual_router_id 300", 1))
	code, stdout, errOut := runCLI("convert", in)
	if code != 1 || stdout != "" || !strings.Contains(errOut, in+":9: virtual_router_id must be from 1 to 255") {
		t.Errorf("code %d, stdout %q, stderr %q", code, stdout, errOut)
	}
}

// A position inside a message names the keepalived line too, not the unwritten HCL.
func TestConvertDuplicateNamesKeepalivedLines(t *testing.T) {
	in := writeFile(t, "keepalived.conf", keepalivedConf+`vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 52
}
`)
	code, _, errOut := runCLI("convert", in)
	if code != 1 || !strings.Contains(errOut, in+":24: duplicate vrrp_instance \"VI_1\"") || !strings.Contains(errOut, in+":6") {
		t.Errorf("code %d, stderr %q", code, errOut)
	}
}

func TestValidateKeepalivedSyntax(t *testing.T) {
	in := writeFile(t, "keepalived.conf", keepalivedConf)
	for _, cmd := range [][]string{{"validate", "--config", in}, {"run", "--config", in}} {
		code, _, errOut := runCLI(cmd...)
		lines := strings.Split(strings.TrimSpace(errOut), "\n")
		if code != 1 || len(lines) != 1 || !strings.Contains(errOut, "looks like a keepalived.conf") || !strings.Contains(errOut, "lvsd convert "+in) {
			t.Errorf("%s: code %d, stderr %q: want one line pointing to lvsd convert", cmd[0], code, errOut)
		}
	}
}
