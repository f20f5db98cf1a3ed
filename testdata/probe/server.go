package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// maxValueBytes bounds a PUT body: values are test markers, never bulk data.
const maxValueBytes = 1 << 20

// shutdownGrace is shorter than swarm's default 10 s stop grace period, so a clean shutdown
// always finishes before the engine resorts to SIGKILL.
const shutdownGrace = 5 * time.Second

// server answers the HTTP API. Its environment and filesystem locations are fields so tests
// can point them at temporary directories and fake variables.
type server struct {
	version    string
	dataDir    string
	secretsDir string
	lookupEnv  func(string) (string, bool)
}

// handler routes the API and logs one line per request to logOut.
func (s *server) handler(logOut io.Writer) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.getVersion)
	mux.HandleFunc("GET /version", s.getVersion)
	mux.HandleFunc("GET /healthz", s.getHealth)
	mux.HandleFunc("GET /data/{key}", s.getData)
	mux.HandleFunc("PUT /data/{key}", s.putData)
	mux.HandleFunc("GET /env/{name}", s.getEnv)
	mux.HandleFunc("GET /secret/{name}", s.getSecret)
	return logRequests(log.New(logOut, "", log.LstdFlags), mux)
}

func (s *server) getVersion(w http.ResponseWriter, _ *http.Request) {
	fmt.Fprintln(w, s.version)
}

// getHealth fails when PROBE_UNHEALTHY=1 so a compose file can declare a healthcheck that
// never passes without a special image.
func (s *server) getHealth(w http.ResponseWriter, _ *http.Request) {
	if v, _ := s.lookupEnv("PROBE_UNHEALTHY"); v == "1" {
		http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		return
	}
	fmt.Fprintln(w, "ok")
}

func (s *server) getData(w http.ResponseWriter, r *http.Request) {
	key, ok := safeName(w, r.PathValue("key"))
	if !ok {
		return
	}
	b, err := os.ReadFile(filepath.Join(s.dataDir, key))
	if errors.Is(err, fs.ErrNotExist) {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Write(b)
}

// putData stores the body under the data dir, which tests mount as a volume to prove data
// survives a task being replaced.
func (s *server) putData(w http.ResponseWriter, r *http.Request) {
	key, ok := safeName(w, r.PathValue("key"))
	if !ok {
		return
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxValueBytes))
	if err != nil {
		http.Error(w, err.Error(), http.StatusRequestEntityTooLarge)
		return
	}
	if err := writeFile(s.dataDir, key, b); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *server) getEnv(w http.ResponseWriter, r *http.Request) {
	v, ok := s.lookupEnv(r.PathValue("name"))
	if !ok {
		http.Error(w, "not set", http.StatusNotFound)
		return
	}
	fmt.Fprintln(w, v)
}

// getSecret proves a secret is mounted and which one, by digest: the content itself must
// never appear in test logs.
func (s *server) getSecret(w http.ResponseWriter, r *http.Request) {
	name, ok := safeName(w, r.PathValue("name"))
	if !ok {
		return
	}
	b, err := os.ReadFile(filepath.Join(s.secretsDir, name))
	if err != nil || len(b) == 0 {
		http.Error(w, "no such secret", http.StatusNotFound)
		return
	}
	sum := sha256.Sum256(b)
	fmt.Fprintln(w, hex.EncodeToString(sum[:]))
}

// safeName rejects names that could escape their directory (an escaped %2F still arrives
// in a single path segment) and answers 400 itself.
func safeName(w http.ResponseWriter, name string) (string, bool) {
	if name == "" || name == "." || strings.Contains(name, "/") || strings.Contains(name, "..") {
		http.Error(w, "bad name", http.StatusBadRequest)
		return "", false
	}
	return name, true
}

// writeFile creates dir when missing (a container without a volume has no /data) and
// replaces dir/name atomically, so a reader never sees half a value.
func writeFile(dir, name string, b []byte) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), filepath.Join(dir, name))
}

// statusRecorder remembers the status code for the request log.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

// logRequests writes one line per request: `docker service logs` is how a test author sees
// what reached a task.
func logRequests(l *log.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		l.Printf("%s %s %d %s %s", r.Method, r.URL.RequestURI(), rec.status, time.Since(start).Round(time.Microsecond), r.RemoteAddr)
	})
}

// runServer serves until ctx ends (SIGTERM from swarm), then drains requests in flight.
func runServer(ctx context.Context, cfg config, stdout, stderr io.Writer) int {
	s := &server{version: version, dataDir: cfg.dataDir, secretsDir: "/run/secrets", lookupEnv: os.LookupEnv}
	srv := &http.Server{Addr: cfg.listen, Handler: s.handler(stdout), ReadHeaderTimeout: 10 * time.Second}
	// Listen before announcing, so the log line means the port is really open.
	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		fmt.Fprintln(stderr, "probe:", err)
		return 1
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "probe %s listening on %s\n", version, ln.Addr())

	select {
	case err := <-errc:
		fmt.Fprintln(stderr, "probe:", err)
		return 1
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		fmt.Fprintln(stderr, "probe: shutdown:", err)
		return 1
	}
	fmt.Fprintln(stdout, "probe stopped")
	return 0
}
