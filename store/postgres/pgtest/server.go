package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// Server is a PostgreSQL server of one test's own, which the test may stop and start again
// (same port, same data) to see what the product does while its database is away. The
// shared test server (ServerURL) must never be stopped: other packages' tests use it.
type Server struct {
	t    testing.TB
	bin  string   // the folder holding initdb, pg_ctl
	dir  string   // the server's folder: data/, its log and its socket
	as   []string // runuser -u postgres -- when the test runs as root
	port int

	mu      sync.Mutex
	running bool
}

// NewServer initdb's a new cluster in a folder of its own and starts it on a free loopback
// port; it is stopped and removed when t ends. Without the PostgreSQL programs the test is
// skipped, except under CI, where that is a failure.
func NewServer(t testing.TB) *Server {
	t.Helper()
	bin := binDir()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("pgtest: PostgreSQL's initdb and pg_ctl are not installed (scripts/install-test-deps.sh installs them)")
		}
		t.Skip("pgtest: PostgreSQL's initdb and pg_ctl are not installed: this test needs a server of its own")
	}
	// Not t.TempDir(): its parent is private to this user, and when the test runs as root the
	// server runs as postgres, who could not reach it.
	dir, err := os.MkdirTemp("", "hmisauth-pg-")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{t: t, bin: bin, dir: dir}
	t.Cleanup(s.remove)
	if os.Geteuid() == 0 {
		// PostgreSQL refuses to run as root.
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("pgtest: running as root needs a postgres user to run the server as: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		s.as = []string{"runuser", "-u", "postgres", "--"}
	}
	data := filepath.Join(dir, "data")
	if out, err := s.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8"); err != nil {
		if out2, err2 := s.run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"); err2 != nil {
			t.Fatalf("pgtest: initdb: %v\n%s\n%s", err2, out, out2)
		}
	}
	// A free port, tried a few times: another process may take it between the check and
	// the server's start.
	var lastErr error
	for range 5 {
		s.port = freePort(t)
		if lastErr = s.start(); lastErr == nil {
			return s
		}
	}
	t.Fatalf("pgtest: the private PostgreSQL server did not start: %v", lastErr)
	return nil
}

// URL is the server's maintenance database ("postgres"), which a test may use as its own.
func (s *Server) URL() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Stop shuts the server down (fast: open sessions are ended, nothing committed is lost) and
// returns once it has stopped.
func (s *Server) Stop() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.running {
		return
	}
	if out, err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "-t", "60", "stop"); err != nil {
		s.t.Fatalf("pgtest: stop: %v\n%s", err, out)
	}
	s.running = false
}

// Start starts the stopped server again on the same port with the same data, returning once
// it accepts connections.
func (s *Server) Start() {
	s.t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return
	}
	if err := s.startLocked(); err != nil {
		s.t.Fatalf("pgtest: start: %v", err)
	}
}

func (s *Server) start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.startLocked()
}

// startLocked runs pg_ctl start with scripts/with-postgres.sh's settings (durability off:
// a test's data need not survive a crash of the machine, only a stop of the server).
func (s *Server) startLocked() error {
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "+
		"-c full_page_writes=off -c max_connections=200 -c shared_buffers=32MB", s.port, s.dir)
	out, err := s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-l", filepath.Join(s.dir, "server.log"),
		"-w", "-t", "60", "-o", opts, "start")
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "server.log"))
		return fmt.Errorf("%v\n%s\n%s", err, out, tail(string(log), 20))
	}
	s.running = true
	return nil
}

// remove stops the server at once and deletes its folder.
func (s *Server) remove() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		s.run("pg_ctl", "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
		s.running = false
	}
	os.RemoveAll(s.dir)
}

// run runs one of PostgreSQL's programs (as postgres when the test runs as root).
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	argv := append(append(append([]string{}, s.as...), filepath.Join(s.bin, prog)), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = s.dir // the postgres user may not be able to read the test's working folder
	return cmd.CombinedOutput()
}

// binDir is the newest /usr/lib/postgresql/*/bin (Debian's layout), else the folder of the
// initdb on PATH, else "".
func binDir() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) < version(dirs[j]) })
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if _, err := exec.LookPath("pg_ctl"); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

// version is the major version in /usr/lib/postgresql/VERSION/bin, for sorting (16 after 9).
func version(dir string) float64 {
	v, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(dir)), 64)
	return v
}

func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
