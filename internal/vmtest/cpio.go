package vmtest

import (
	"bufio"
	"fmt"
	"io"
	"io/fs"
)

// cpioWriter writes the "newc" (SVR4, no CRC) cpio format, the only one the kernel's
// initramfs unpacker reads. Written here rather than by exec'ing cpio so that device nodes
// (/dev/console) can be added without root and without another package.
type cpioWriter struct {
	w   *bufio.Writer
	ino uint32
	err error
}

func newCpioWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriter(w), ino: 1}
}

// cpioEntry is one archive member. Mode carries both the type bits (S_IF*) and permissions.
type cpioEntry struct {
	Name  string
	Mode  uint32
	Data  []byte // file contents, or the target of a symlink
	Major uint32 // for device nodes
	Minor uint32
}

// Unix type bits as stored in a cpio header.
const (
	sIFDIR  = 0o040000
	sIFREG  = 0o100000
	sIFLNK  = 0o120000
	sIFCHR  = 0o020000
	sIFMT   = 0o170000
	trailer = "TRAILER!!!"
)

func (c *cpioWriter) header(e cpioEntry) {
	nlink := 1
	if e.Mode&sIFMT == sIFDIR {
		nlink = 2
	}
	fmt.Fprintf(c.w, "070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		c.ino, e.Mode, 0, 0, nlink, 0, len(e.Data), 0, 0, e.Major, e.Minor, len(e.Name)+1, 0)
	c.ino++
	c.w.WriteString(e.Name)
	c.w.WriteByte(0)
	c.pad(110 + len(e.Name) + 1)
	c.w.Write(e.Data)
	c.pad(len(e.Data))
}

// pad aligns the stream to 4 bytes after n bytes of header+name or data.
func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.w.Write(make([]byte, 4-r))
	}
}

// Add appends one entry.
func (c *cpioWriter) Add(e cpioEntry) {
	if e.Name == "" || e.Name[0] == '/' {
		c.err = fmt.Errorf("cpio entry %q: name must be relative", e.Name)
		return
	}
	c.header(e)
}

// Dir, File, Symlink and CharDev are shorthands for Add.
func (c *cpioWriter) Dir(name string) { c.Add(cpioEntry{Name: name, Mode: sIFDIR | 0o755}) }
func (c *cpioWriter) File(name string, perm fs.FileMode, data []byte) {
	c.Add(cpioEntry{Name: name, Mode: sIFREG | uint32(perm.Perm()), Data: data})
}
func (c *cpioWriter) Symlink(name, target string) {
	c.Add(cpioEntry{Name: name, Mode: sIFLNK | 0o777, Data: []byte(target)})
}
func (c *cpioWriter) CharDev(name string, major, minor uint32) {
	c.Add(cpioEntry{Name: name, Mode: sIFCHR | 0o600, Major: major, Minor: minor})
}

// Close writes the trailer and flushes; it reports the first error seen.
func (c *cpioWriter) Close() error {
	c.header(cpioEntry{Name: trailer})
	if err := c.w.Flush(); err != nil && c.err == nil {
		c.err = fmt.Errorf("write cpio: %w", err)
	}
	return c.err
}
