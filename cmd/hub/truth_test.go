package main

import (
	"bufio"
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/sys/unix"
)

func TestHelpListsDemo(t *testing.T) {
	_, out, _ := runCmd(t, "", "--help")
	for _, want := range []string{"serve --demo", "at least 8 characters", "without echo"} {
		if !strings.Contains(out, want) {
			t.Errorf("--help lacks %q:\n%s", want, out)
		}
	}
}

func TestCheckConfigRefusesPorts(t *testing.T) {
	dir := t.TempDir()
	for port, ok := range map[string]bool{"8080": true, "0": false, "65536": false, "99999": false} {
		path := filepath.Join(dir, "hub-"+port+".yaml")
		if err := os.WriteFile(path, []byte("server:\n  listen: \":"+port+"\"\n  data_dir: "+dir+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		code, _, errOut := runCmd(t, "", "check-config", path)
		if (code == 0) != ok {
			t.Errorf("port %s: exit %d (%s), want ok=%v", port, code, errOut, ok)
		}
		if !ok && !strings.Contains(errOut, "server.listen") {
			t.Errorf("port %s: error %q does not name server.listen", port, errOut)
		}
	}
}

// openPTY returns a pseudo-terminal's controlling and terminal ends.
func openPTY(t *testing.T) (control, term *os.File) {
	t.Helper()
	control, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skip("no /dev/ptmx:", err)
	}
	t.Cleanup(func() { control.Close() })
	if err := unix.IoctlSetPointerInt(int(control.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Skip("unlockpt:", err)
	}
	n, err := unix.IoctlGetInt(int(control.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Skip("ptsname:", err)
	}
	term, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skip("open pts:", err)
	}
	t.Cleanup(func() { term.Close() })
	return control, term
}

// On a terminal, hash-password prompts (naming the minimum), twice, and the
// password is never echoed.
func TestHashPasswordOnTerminal(t *testing.T) {
	control, term := openPTY(t)
	const password = "correct horse battery"
	var stdout strings.Builder
	promptR, promptW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer promptR.Close()
	done := make(chan error, 1)
	go func() { done <- runHashPassword(term, &stdout, promptW); promptW.Close() }()
	// Type each line only once its prompt is shown, as a person would.
	var prompts strings.Builder
	waitFor := func(text string) {
		buf := make([]byte, 256)
		for !strings.Contains(prompts.String(), text) {
			n, err := promptR.Read(buf)
			if err != nil {
				t.Fatalf("waiting for %q: %v (prompts %q)", text, err, prompts.String())
			}
			prompts.Write(buf[:n])
		}
	}
	waitFor("characters): ")
	if _, err := control.Write([]byte(password + "\n")); err != nil {
		t.Fatal(err)
	}
	waitFor("again: ")
	if _, err := control.Write([]byte(password + "\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("hash-password: %v (prompts %q)", err, prompts.String())
	}
	stderr := &prompts
	if !strings.Contains(stderr.String(), "at least 8 characters") || !strings.Contains(stderr.String(), "again") {
		t.Errorf("prompts %q", stderr.String())
	}
	hash := strings.TrimSpace(stdout.String())
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil {
		t.Fatalf("the hash %q is not of the typed password", hash)
	}
	// With the terminal end closed, the controlling end returns whatever
	// the terminal echoed, then an error.
	term.Close()
	var echoed []byte
	buf := make([]byte, 4096)
	for {
		n, err := control.Read(buf)
		echoed = append(echoed, buf[:n]...)
		if err != nil || n == 0 {
			break
		}
	}
	if strings.Contains(string(echoed), "horse") {
		t.Errorf("the terminal echoed the password: %q", echoed)
	}
}

// serve --demo on a temporary directory logs at warn, says where it is, and
// removes the directory when it stops.
func TestDemoCleansUp(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- runServe(ctx, []string{"--demo", "--demo-customers", "2"}, pw, []string{"HUB_SERVER_LISTEN=127.0.0.1:0"})
		pw.Close()
	}()
	var lines []string
	sc := bufio.NewScanner(pr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if strings.Contains(sc.Text(), "hub: demo with 2 simulated customers at http://127.0.0.1:") {
			break
		}
	}
	entries, err := os.ReadDir(tmp)
	if err != nil || len(entries) != 1 || !strings.HasPrefix(entries[0].Name(), "felhom-hub-demo-") {
		t.Fatalf("temp dir holds %v (%v), want the demo's data dir", entries, err)
	}
	if !strings.Contains(strings.Join(lines, "\n"), "removes "+filepath.Join(tmp, entries[0].Name())) {
		t.Errorf("the demo does not say it removes its directory:\n%s", strings.Join(lines, "\n"))
	}
	cancel()
	go io.Copy(io.Discard, pr)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, l := range lines {
		if strings.Contains(l, "level=INFO") {
			t.Errorf("the demo logs at info: %s", l)
		}
	}
	if entries, _ := os.ReadDir(tmp); len(entries) != 0 {
		t.Errorf("the demo left %v behind", entries)
	}
}
