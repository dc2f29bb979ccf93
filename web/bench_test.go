package web_test

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/sqlite"
	"github.com/hmisauth/hmisauth/web"
)

// rawArgon2Rate is the machine's raw Argon2id rate at the default cost with one goroutine per
// core and nothing else: the ceiling a password sign-in can approach.
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

// peakRSS reads the process's peak resident memory (VmHWM) in MiB; resetPeakRSS starts a
// new measurement (Linux clear_refs 5). Both are best effort: elsewhere they report 0.
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, _ := strconv.ParseFloat(f[1], 64)
			return kb / 1024
		}
	}
	return 0
}

func resetPeakRSS() { os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) }

// BenchmarkLoginHTTP signs in with the right password over real HTTP on loopback, at the
// default Argon2id cost, with 2, 8 and 64 concurrent clients. It reports sign-ins per second,
// that rate as a percentage of the raw Argon2id rate measured just before, and the peak
// memory of the whole test process (server and clients).
//
//	go test -run='^$' -bench=LoginHTTP -benchtime=400x ./web/
func BenchmarkLoginHTTP(b *testing.B) {
	ctx := context.Background()
	st, err := sqlite.Open(filepath.Join(b.TempDir(), "hmisauth.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	site := &hmisauth.Site{Key: "live", Name: "HMIS Live", Location: time.UTC, Policy: hmisauth.DefaultPolicy()}
	site.Policy.Password.MaxAgeDays = 0
	svc := auth.NewService(st, hmisauth.SystemClock{}, password.NewHasher(password.DefaultOptions()), []*hmisauth.Site{site}, nil)
	if err := svc.SyncSites(ctx); err != nil {
		b.Fatal(err)
	}
	c, err := svc.CreateUser(ctx, auth.NewUser{Site: "live", FirstName: "Bench", LastName: "Mark"})
	if err != nil {
		b.Fatal(err)
	}
	// Sign-ins with the temporary password work once, so give the user their own password.
	const pw = "Kettle-Harbor-93!"
	res, err := svc.Login(ctx, auth.LoginRequest{Site: "live", Username: c.User.Username, Password: c.TemporaryPassword})
	if err != nil {
		b.Fatal(err)
	}
	svc.AcceptTerms(ctx, res.Principal, site.Policy.Terms.Version)
	if err := svc.ChangePassword(ctx, res.Principal, auth.PasswordChangeRequest{New: pw, Confirm: pw}); err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(web.New(svc, web.Options{Log: slog.New(slog.DiscardHandler)}).Handler())
	defer srv.Close()
	body := []byte(`{"username":"` + c.User.Username + `","password":"` + pw + `"}`)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 128}}
	raw := rawArgon2Rate(200)

	for _, clients := range []int{2, 8, 64} {
		b.Run("clients="+strconv.Itoa(clients), func(b *testing.B) {
			debug.FreeOSMemory() // what earlier runs left behind is not this run's peak
			resetPeakRSS()
			b.SetParallelism((clients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					resp, err := client.Post(srv.URL+"/api/v1/sites/live/login", "application/json", bytes.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					resp.Body.Close()
					if resp.StatusCode != http.StatusOK {
						b.Errorf("status %d", resp.StatusCode)
					}
				}
			})
			rate := float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "logins/s")
			b.ReportMetric(raw, "raw_hashes/s")
			b.ReportMetric(100*rate/raw, "%_of_raw")
			b.ReportMetric(peakRSS(), "peak_MiB")
		})
	}
}
