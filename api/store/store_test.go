package store_test

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/swarmrun/swarmrun/api/store"
	"github.com/swarmrun/swarmrun/api/v1alpha1"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func openStore(t *testing.T, o store.Options) (*store.Store, *clock) {
	t.Helper()
	c := &clock{t: time.Date(2026, 6, 17, 10, 0, 0, 0, time.UTC)}
	if o.Now == nil {
		o.Now = c.Now
	}
	s, err := store.Open(filepath.Join(t.TempDir(), "store.db"), o)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s, c
}

func testRun(name, recipe string) *v1alpha1.TestRun {
	return &v1alpha1.TestRun{
		ObjectMeta: v1alpha1.ObjectMeta{Name: name},
		Spec:       v1alpha1.TestRunSpec{Recipe: recipe},
	}
}

func TestOpenCreatesFileWithMode0600(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "store.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if mode := fi.Mode().Perm(); mode != 0o600 {
		t.Errorf("mode = %v, want 0600", mode)
	}
}

// A second opener of a locked store gets ErrLocked quickly instead of hanging. flock locks are
// per open file, so a second Open in this process contends exactly as another process would.
func TestOpenLockedStoreFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	defer s.Close()

	start := time.Now()
	_, err = store.Open(path, store.Options{LockTimeout: 200 * time.Millisecond})
	if !errors.Is(err, store.ErrLocked) {
		t.Fatalf("second open: err = %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("second open took %s, want under 1s", d)
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestResourceVersionSurvivesReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "store.db")
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Create(t.Context(), testRun("a", "r")); err != nil {
		t.Fatal(err)
	}
	before := s.ResourceVersion()
	s.Close()

	s, err = store.Open(path, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := s.ResourceVersion(); got != before {
		t.Fatalf("resourceVersion after reopen = %s, want %s", got, before)
	}
	tr := testRun("b", "r")
	if err := s.Create(t.Context(), tr); err != nil {
		t.Fatal(err)
	}
	if tr.ResourceVersion == before {
		t.Errorf("new write reused resourceVersion %s", before)
	}
}

const helperEnv = "SWARMRUN_STORE_HELPER_PATH"

// TestHelperProcess is not a test: TestKillDuringWriteBurst runs the test binary again with
// helperEnv set, and this writes TestRuns in a loop, printing each name once its create has
// returned, until it is killed.
func TestHelperProcess(t *testing.T) {
	path := os.Getenv(helperEnv)
	if path == "" {
		t.Skip("helper process for TestKillDuringWriteBurst")
	}
	s, err := store.Open(path, store.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	w := bufio.NewWriter(os.Stdout)
	// Bounded so that a parent that never kills it does not leave it running for long.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; time.Now().Before(deadline); i++ {
		name := fmt.Sprintf("run-%d", i)
		if err := s.Create(t.Context(), testRun(name, "r")); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(3)
		}
		fmt.Fprintln(w, name)
		w.Flush()
	}
	os.Exit(0)
}

func TestKillDuringWriteBurst(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a child process")
	}
	path := filepath.Join(t.TempDir(), "store.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$")
	cmd.Env = append(os.Environ(), helperEnv+"="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}

	var acked []string
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		acked = append(acked, lines.Text())
		if len(acked) == 200 {
			// Mid-burst: the child is writing its next object right now.
			if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		t.Fatalf("child did not die by SIGKILL: %v\n%s", err, stderr.String())
	}
	if len(acked) < 200 {
		t.Fatalf("child acknowledged only %d writes:\n%s", len(acked), stderr.String())
	}

	checkFile(t, path)
	s, err := store.Open(path, store.Options{})
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	for _, name := range acked {
		var tr v1alpha1.TestRun
		if err := s.Get(t.Context(), name, &tr); err != nil {
			t.Errorf("acknowledged write %s lost: %v", name, err)
		}
	}
	if err := s.Create(t.Context(), testRun("after-kill", "r")); err != nil {
		t.Errorf("write after reopen: %v", err)
	}
}

// checkFile runs bbolt's consistency check on the file.
func checkFile(t *testing.T, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open file after kill: %v", err)
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("file corrupt after kill: %v", err)
	}
}
