package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hmisauth/hmisauth/password"
)

// TestMain lets the test binary stand in for the real one: with RUN_HMISAUTH_MAIN=1 it runs
// main() on its arguments, so benchmarks can measure a server in a process of its own.
func TestMain(m *testing.M) {
	if os.Getenv("RUN_HMISAUTH_MAIN") == "1" {
		profileServer()
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// profileServer writes a CPU profile of the server process when BENCH_CPUPROFILE
// names a file, for BENCH_CPUSECONDS (default 10) seconds from start: how
// docs/PERFORMANCE.md says what dominates.
func profileServer() {
	path := os.Getenv("BENCH_CPUPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil || pprof.StartCPUProfile(f) != nil {
		return
	}
	secs, err := strconv.Atoi(os.Getenv("BENCH_CPUSECONDS"))
	if err != nil || secs <= 0 {
		secs = 10
	}
	time.AfterFunc(time.Duration(secs)*time.Second, func() {
		pprof.StopCPUProfile()
		f.Close()
	})
}

// BenchmarkLoginServer measures password sign-ins against the real server, a separate process
// at the default Argon2id cost, over HTTP on loopback, with 2, 8 and 64 concurrent clients. It
// reports sign-ins per second, that rate as a percentage of the machine's raw Argon2id rate
// (golang.org/x/crypto/argon2 on every core, measured first), and the server process's own
// peak resident memory during the run.
//
//	go test -run='^$' -bench=LoginServer -benchtime=500x ./cmd/hmisauth/
func BenchmarkLoginServer(b *testing.B) {
	raw := rawArgon2Rate(200)
	srv := startServer(b)
	for _, clients := range []int{2, 8, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			srv.resetPeak(b)
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range clients {
				wg.Go(func() {
					for next.Add(1) <= int64(b.N) {
						if status := srv.login(b); status != http.StatusOK {
							b.Errorf("sign-in answered %d", status)
							return
						}
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "logins/s")
			b.ReportMetric(raw, "raw_hashes/s")
			b.ReportMetric(100*rate/raw, "%_of_raw")
			b.ReportMetric(srv.peakMiB(b), "server_peak_MiB")
		})
	}
}

// rawArgon2Rate is the ceiling: upstream Argon2id at the default cost on every core, nothing else.
func rawArgon2Rate(n int) float64 {
	o := password.DefaultOptions()
	workers := runtime.GOMAXPROCS(0)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for i := w; i < n; i += workers {
				argon2.IDKey([]byte("Horse-battery-staple-7"), []byte("0123456789abcdef"), o.Iterations, o.MemoryKiB, o.Parallelism, 32)
			}
		})
	}
	wg.Wait()
	return float64(n) / time.Since(start).Seconds()
}

type benchServer struct {
	cmd    *exec.Cmd
	data   string
	base   string
	body   []byte
	client *http.Client
}

const benchPassword = "Kettle-Harbor-93!"

// startServer runs `hmisauth serve` in its own process on fresh data and gives its first
// administrator a password of their own, so every measured sign-in is a plain success.
func startServer(b *testing.B, environ ...string) *benchServer {
	b.Helper()
	s, temp := launchServer(b, true, environ...)
	token := s.call(b, "/login", "", map[string]string{"username": "admin", "password": temp})["token"]
	s.call(b, "/me/terms", token, map[string]int{"version": 1})
	s.call(b, "/me/password", token, map[string]string{"new_password": benchPassword, "confirm_password": benchPassword})
	return s
}

// launchServer runs `hmisauth serve` in its own process on a free port and waits until it is
// ready. With first, the database is new and the first administrator's temporary password,
// which serve prints, is returned; otherwise (a second server on a shared database) none is
// printed.
func launchServer(b *testing.B, first bool, environ ...string) (*benchServer, string) {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	data := b.TempDir()
	cmd := exec.Command(os.Args[0], "serve", "--data", data, "--listen", addr)
	cmd.Env = append(append(serverEnviron(), "RUN_HMISAUTH_MAIN=1", "HMISAUTH_LOG_LEVEL=error",
		"HMISAUTH_SITES_LIVE_POLICY_PASSWORD_MAX_AGE_DAYS=0"), environ...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	temp := ""
	sc := bufio.NewScanner(out)
	for first && temp == "" && sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "temporary" {
			temp = f[2]
		}
	}
	go func() { // keep the pipe drained
		for sc.Scan() {
		}
	}()
	s := &benchServer{cmd: cmd, data: data, base: "http://" + addr + "/api/v1/sites/live",
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}},
		body:   []byte(`{"username":"admin","password":"` + benchPassword + `"}`)}
	waitReady(b, "http://"+addr)
	return s, temp
}

// serverEnviron is this process's environment for a server process, without its HMISAUTH_
// variables: the tests' own (HMISAUTH_TEST_POSTGRES, HMISAUTH_OAUTH2_PROXY …) are no
// configuration keys, which the server refuses, and the configuration must be the test's.
func serverEnviron() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HMISAUTH_") {
			env = append(env, kv)
		}
	}
	return env
}

func (s *benchServer) call(b *testing.B, path, token string, body any) map[string]string {
	b.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", s.base+path, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		b.Fatalf("%s answered %d", path, resp.StatusCode)
	}
	var m map[string]any
	json.NewDecoder(resp.Body).Decode(&m)
	out := map[string]string{}
	for k, v := range m {
		out[k] = fmt.Sprint(v)
	}
	return out
}

func (s *benchServer) login(b *testing.B) int {
	resp, err := s.client.Post(s.base+"/login", "application/json", bytes.NewReader(s.body))
	if err != nil {
		b.Error(err)
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// resetPeak starts a new peak-memory measurement of the server process (Linux clear_refs 5).
func (s *benchServer) resetPeak(b *testing.B) {
	path := fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid)
	if err := os.WriteFile(path, []byte("5"), 0); err != nil {
		b.Logf("cannot reset peak memory (%v): the figure covers the whole run", err)
	}
}

// peakMiB reads the server process's peak resident memory (VmHWM); 0 where /proc is missing.
func (s *benchServer) peakMiB(b *testing.B) float64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

// BenchmarkForgotPassword times POST /password/forgot against the real server (its own
// process) for an existing user with an e-mail address and for a username that does not
// exist, interleaved so both see the same machine. The two should not differ: the handler
// does one identical insert either way, and the link is made in the background.
//
//	go test -run='^$' -bench=ForgotPassword -benchtime=2000x ./cmd/hmisauth/
func BenchmarkForgotPassword(b *testing.B) {
	// Every request comes from 127.0.0.1: lift the per-address limit so none is dropped,
	// which would make both paths cheaper and the comparison meaningless.
	srv := startServer(b, "HMISAUTH_SITES_LIVE_POLICY_RESET_LIMITS_PER_ADDRESS=1000000",
		"HMISAUTH_SITES_LIVE_POLICY_RESET_LIMITS_PER_ACCOUNT_PER_HOUR=100")
	var out bytes.Buffer
	cmd := newRootCmd(&out, &out, nil)
	cmd.SetArgs([]string{"user", "update", "--site", "live", "admin", "--email", "admin@example.org", "--data", srv.data})
	if err := cmd.Execute(); err != nil {
		b.Fatal(err, out.String())
	}
	forgot := func(username string) time.Duration {
		start := time.Now()
		resp, err := srv.client.Post(srv.base+"/password/forgot", "application/json",
			strings.NewReader(`{"username":"`+username+`"}`))
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("forgot answered %d", resp.StatusCode)
		}
		return time.Since(start)
	}
	var real, unknown time.Duration
	for i := 0; i < b.N; i++ {
		real += forgot("admin")
		unknown += forgot("nosuchuser" + strconv.Itoa(i%50))
	}
	b.ReportMetric(float64(real.Microseconds())/float64(b.N), "real_µs/op")
	b.ReportMetric(float64(unknown.Microseconds())/float64(b.N), "unknown_µs/op")
}
