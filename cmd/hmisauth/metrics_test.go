package main

import (
	"io"
	"net/http"
	"strings"
	"testing"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
)

const metricsToken = "scrape-token-0123456789abcdef"

// scrape reads /metrics at url with the token ("" for none) and parses it, failing the test
// unless it answers 200.
func scrape(t *testing.T, url, token string) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := getMetrics(t, url, token)
	if status != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse /metrics: %v\n%s", err, body)
	}
	return fams
}

func getMetrics(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := apiClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// value is the value of the counter or gauge name whose labels include want; -1 when absent.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	f, ok := fams[name]
	if !ok {
		return -1
	}
next:
	for _, m := range f.GetMetric() {
		labels := map[string]string{}
		for _, l := range m.GetLabel() {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		switch {
		case m.Counter != nil:
			return m.GetCounter().GetValue()
		case m.Gauge != nil:
			return m.GetGauge().GetValue()
		case m.Histogram != nil:
			return float64(m.GetHistogram().GetSampleCount())
		}
	}
	return -1
}

func TestMetricsCountScriptedSignIns(t *testing.T) {
	metricsAddr := freeAddr(t)
	env := append(clusterEnv("", nil), "HMISAUTH_METRICS_LISTEN="+metricsAddr, "HMISAUTH_METRICS_TOKEN="+metricsToken)
	p := startProc(t, "server", t.TempDir(), "", env)
	admin, temp := p.firstAdmin()
	api := p.base

	// The first administrator's first sign-in (a success), one wrong password, and a
	// success; then four tries of a username no one has: two failures, the third locks its
	// counter, the fourth is refused as locked.
	token := setUpAdmin(t, api, admin, temp)
	login := func(username, password string, want int) {
		t.Helper()
		must(t, want, api, "POST", "/login", "", map[string]string{"username": username, "password": password})
	}
	login(admin, "Wrong-Password-1!", http.StatusUnauthorized)
	second := signIn(t, api, admin, adminPassword)
	for _, want := range []int{401, 401, 423, 423} {
		login("ghost.user", "Whatever-Password-9!", want)
	}
	must(t, http.StatusNoContent, api, "POST", "/logout", second, nil)
	must(t, http.StatusAccepted, api, "POST", "/password/forgot", "", map[string]string{"username": admin})
	must(t, http.StatusOK, api, "GET", "/me", token, nil)

	for _, where := range []string{"http://" + metricsAddr + "/metrics", p.base + "/metrics"} {
		if status, _ := getMetrics(t, where, ""); status != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", where, status)
		}
		if status, _ := getMetrics(t, where, metricsToken+"x"); status != http.StatusUnauthorized {
			t.Errorf("GET %s with a wrong token: %d, want 401", where, status)
		}
	}
	fams := scrape(t, "http://"+metricsAddr+"/metrics", metricsToken)
	for _, c := range []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"hmisauth_sign_ins_total", map[string]string{"site": "live", "outcome": "success"}, 2},
		{"hmisauth_sign_ins_total", map[string]string{"site": "live", "outcome": "failed"}, 3},
		{"hmisauth_sign_ins_total", map[string]string{"site": "live", "outcome": "locked"}, 2},
		{"hmisauth_sign_ins_total", map[string]string{"site": "live", "outcome": "busy"}, 0},
		{"hmisauth_sign_ins_total", map[string]string{"site": "training", "outcome": "success"}, 0},
		{"hmisauth_lockouts_total", map[string]string{"site": "live"}, 1},
		{"hmisauth_password_resets_requested_total", map[string]string{"site": "live"}, 1},
		{"hmisauth_password_resets_completed_total", map[string]string{"site": "live"}, 0},
		{"hmisauth_sessions_started_total", map[string]string{"site": "live"}, 2},
		{"hmisauth_sessions_ended_total", map[string]string{"site": "live", "reason": "signed_out"}, 1},
		{"hmisauth_http_requests_total", map[string]string{"route": "POST /api/v1/sites/{site}/login", "status": "423"}, 2},
		{"hmisauth_http_requests_total", map[string]string{"route": "GET /api/v1/sites/{site}/me", "method": "GET", "status": "200"}, 1},
		{"hmisauth_http_request_duration_seconds", map[string]string{"route": "POST /api/v1/sites/{site}/me/password"}, 1},
		{"hmisauth_password_hash_slots_in_use", nil, 0},
		{"hmisauth_password_hash_queue_length", nil, 0},
		{"hmisauth_database_up", nil, 1},
		{"hmisauth_outbox_queued", nil, 0},
	} {
		if got := value(fams, c.name, c.labels); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Every sign-in computed at least one hash; the first sign-in's events are in the chain.
	if got := value(fams, "hmisauth_password_hashes_total", nil); got < 7 {
		t.Errorf("hmisauth_password_hashes_total = %v, want at least 7", got)
	}
	if got := value(fams, "hmisauth_audit_events", nil); got < 8 {
		t.Errorf("hmisauth_audit_events = %v, want at least 8", got)
	}
	if got := value(fams, "hmisauth_password_hash_wait_seconds", nil); got < 7 {
		t.Errorf("hmisauth_password_hash_wait_seconds counts %v waits, want at least 7", got)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := fams[name]; !ok {
			t.Errorf("no %s", name)
		}
	}
	// No label value names a person or an address. (The administrator is "admin", a word
	// route patterns hold; the unknown username is the one that must not appear.)
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				v := strings.ToLower(l.GetValue())
				for _, secret := range []string{"ghost", "127.0.0.1", "::1"} {
					if strings.Contains(v, secret) {
						t.Errorf("%s has label %s=%q", name, l.GetName(), l.GetValue())
					}
				}
			}
		}
	}
	// The main listener serves the same metrics to the token.
	if got := value(scrape(t, p.base+"/metrics", metricsToken), "hmisauth_lockouts_total", map[string]string{"site": "live"}); got != 1 {
		t.Errorf("lockouts on the main listener: %v", got)
	}
}

func TestMetricsAreNotServedUnlessConfigured(t *testing.T) {
	metricsAddr := freeAddr(t)
	p := startProc(t, "server", t.TempDir(), "", append(clusterEnv("", nil), "HMISAUTH_METRICS_LISTEN="+metricsAddr))
	if status, body := getMetrics(t, p.base+"/metrics", ""); status != http.StatusNotFound {
		t.Errorf("/metrics on the users' listener without metrics_token: %d %.200s", status, body)
	}
	// Without a token, the metrics listener (loopback by the operator's choice) answers all.
	fams := scrape(t, "http://"+metricsAddr+"/metrics", "")
	if got := value(fams, "hmisauth_sign_ins_total", map[string]string{"site": "live", "outcome": "success"}); got != 0 {
		t.Errorf("sign-ins: %v, want 0", got)
	}
	if status, _ := getMetrics(t, "http://"+metricsAddr+"/readyz", ""); status != http.StatusNotFound {
		t.Errorf("the metrics listener serves more than /metrics: /readyz %d", status)
	}
}
