package metrics

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

const namespace = "hmisauth"

// scrapeTimeout bounds the store's part of a scrape, so a slow database makes a scrape report
// hmisauth_database_up 0 instead of hanging it.
const scrapeTimeout = 3 * time.Second

// Deps are what the metrics read when scraped.
type Deps struct {
	Store  hmisauth.Store
	Hasher *password.Hasher
	// Sites are the configured sites' keys: their counters start at zero, so that rate() and
	// alerts work before the first event.
	Sites []string
	Clock hmisauth.Clock
	Log   *slog.Logger
}

// Registry holds hmisauth's metrics. It is an hmisauth.Metrics, and it observes HTTP requests
// (Request) and the hashing pool's waits. Safe for concurrent use.
type Registry struct {
	reg *prometheus.Registry

	signIns, lockouts, resetsRequested, resetsCompleted *prometheus.CounterVec
	sessionsStarted, sessionsEnded, rateLimited         *prometheus.CounterVec
	mail, deleted                                       *prometheus.CounterVec
	requests                                            *prometheus.CounterVec
	latency                                             *prometheus.HistogramVec
	hashWait                                            prometheus.Histogram
}

var _ hmisauth.Metrics = (*Registry)(nil)

// New makes the registry and starts observing d.Hasher's waits.
func New(d Deps) *Registry {
	if d.Clock == nil {
		d.Clock = hmisauth.SystemClock{}
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	}
	m := &Registry{
		reg:             prometheus.NewRegistry(),
		signIns:         counter("sign_ins_total", "Sign-in attempts by outcome.", "site", "outcome"),
		lockouts:        counter("lockouts_total", "Accounts (or unknown usernames' counters) locked by failed attempts.", "site"),
		resetsRequested: counter("password_resets_requested_total", "Forgot-password requests accepted.", "site"),
		resetsCompleted: counter("password_resets_completed_total", "Passwords set through a reset link.", "site"),
		sessionsStarted: counter("sessions_started_total", "Sessions opened.", "site"),
		sessionsEnded:   counter("sessions_ended_total", "Sessions ended, by reason.", "site", "reason"),
		rateLimited:     counter("rate_limited_total", "Requests refused with 429 rate_limited, by limit.", "site", "limit"),
		mail:            counter("mail_deliveries_total", "Outbox delivery attempts by outcome: sent, retried (will be tried again) or abandoned.", "outcome"),
		deleted:         counter("retention_deleted_total", "Rows removed by the retention job, by kind.", "kind"),
		requests:        counter("http_requests_total", "HTTP requests by route pattern, method and status.", "route", "method", "status"),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace,
			Name: "http_request_duration_seconds", Help: "Time to answer HTTP requests, by route pattern.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10}}, []string{"route"}),
		hashWait: prometheus.NewHistogram(prometheus.HistogramOpts{Namespace: namespace,
			Name: "password_hash_wait_seconds", Help: "Time waited for a password-hashing slot (0 when one was free).",
			Buckets: []float64{0, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}),
	}
	m.reg.MustRegister(m.signIns, m.lockouts, m.resetsRequested, m.resetsCompleted, m.sessionsStarted,
		m.sessionsEnded, m.rateLimited, m.mail, m.deleted, m.requests, m.latency, m.hashWait,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		&state{store: d.Store, hasher: d.Hasher, clock: d.Clock, log: d.Log})
	if d.Hasher != nil {
		d.Hasher.ObserveWaits(func(w time.Duration) { m.hashWait.Observe(w.Seconds()) })
	}
	for _, site := range d.Sites {
		for _, o := range []string{hmisauth.OutcomeSuccess, hmisauth.OutcomeFailed, hmisauth.OutcomeLocked,
			hmisauth.OutcomeTOTPRequired, hmisauth.OutcomeBusy, hmisauth.OutcomeRateLimited} {
			m.signIns.WithLabelValues(site, o)
		}
		m.lockouts.WithLabelValues(site)
		m.resetsRequested.WithLabelValues(site)
		m.resetsCompleted.WithLabelValues(site)
		m.sessionsStarted.WithLabelValues(site)
	}
	for _, o := range []string{"sent", "retried", "abandoned"} {
		m.mail.WithLabelValues(o)
	}
	return m
}

// Handler serves the metrics in the Prometheus text format. With a token, only a request
// carrying "Authorization: Bearer TOKEN" is answered; any other gets 401.
func (m *Registry) Handler(token string) http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Timeout: 2 * scrapeTimeout})
	if token == "" {
		return h
	}
	want := []byte("Bearer " + token)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			http.Error(w, "Unauthorized: /metrics needs the configured metrics_token.", http.StatusUnauthorized)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// Request counts one HTTP request. route is the matched pattern ("GET /{site}/login"), never
// the path itself: "" (nothing matched) is counted as "unmatched".
func (m *Registry) Request(route, method string, status int, took time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, knownMethod(method), strconv.Itoa(status)).Inc()
	m.latency.WithLabelValues(route).Observe(took.Seconds())
}

// knownMethod keeps the method label to the standard methods: any other word a client sends
// is "other".
func knownMethod(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "other"
}

func (m *Registry) SignIn(site, outcome string) { m.signIns.WithLabelValues(site, outcome).Inc() }
func (m *Registry) Lockout(site string)         { m.lockouts.WithLabelValues(site).Inc() }
func (m *Registry) ResetRequested(site string)  { m.resetsRequested.WithLabelValues(site).Inc() }
func (m *Registry) ResetCompleted(site string)  { m.resetsCompleted.WithLabelValues(site).Inc() }
func (m *Registry) SessionStarted(site string)  { m.sessionsStarted.WithLabelValues(site).Inc() }
func (m *Registry) SessionEnded(site, reason string, n int) {
	if n > 0 {
		m.sessionsEnded.WithLabelValues(site, reason).Add(float64(n))
	}
}
func (m *Registry) RateLimited(site, limit string) { m.rateLimited.WithLabelValues(site, limit).Inc() }
func (m *Registry) Mail(outcome string)            { m.mail.WithLabelValues(outcome).Inc() }
func (m *Registry) Deleted(kind string, n int) {
	if n > 0 {
		m.deleted.WithLabelValues(kind).Add(float64(n))
	}
}

// state reads, when scraped, what lives elsewhere: the hashing pool's gauges and the store's
// outbox and audit counts.
type state struct {
	store  hmisauth.Store
	hasher *password.Hasher
	clock  hmisauth.Clock
	log    *slog.Logger
}

func desc(name, help string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, nil, nil)
}

var (
	slotsDesc      = desc("password_hash_slots", "Password hashes that may run at once (the pool's size).")
	inUseDesc      = desc("password_hash_slots_in_use", "Password-hashing slots held now.")
	queueDesc      = desc("password_hash_queue_length", "Sign-ins and password changes waiting for a hashing slot.")
	hashesDesc     = desc("password_hashes_total", "Argon2id computations run.")
	dbUpDesc       = desc("database_up", "1 when the database answered this scrape's questions, 0 when it did not.")
	queuedDesc     = desc("outbox_queued", "E-mails waiting in the outbox (not sent, not abandoned).")
	oldestDesc     = desc("outbox_oldest_age_seconds", "Age of the oldest e-mail waiting in the outbox (0 when none waits).")
	auditDescEvent = desc("audit_events", "Length of the audit chain (its newest event's ID).")
)

func (c *state) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{slotsDesc, inUseDesc, queueDesc, hashesDesc, dbUpDesc, queuedDesc, oldestDesc, auditDescEvent} {
		ch <- d
	}
}

func (c *state) Collect(ch chan<- prometheus.Metric) {
	if c.hasher != nil {
		running, waiting := c.hasher.Stats()
		ch <- prometheus.MustNewConstMetric(slotsDesc, prometheus.GaugeValue, float64(c.hasher.Slots()))
		ch <- prometheus.MustNewConstMetric(inUseDesc, prometheus.GaugeValue, float64(running))
		ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(waiting))
		ch <- prometheus.MustNewConstMetric(hashesDesc, prometheus.CounterValue, float64(c.hasher.Hashes()))
	}
	if c.store == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), scrapeTimeout)
	defer cancel()
	st, err := c.store.Stats(ctx)
	if err != nil {
		c.log.Warn("metrics: the database did not answer", "err", err)
		ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 0)
		return
	}
	ch <- prometheus.MustNewConstMetric(dbUpDesc, prometheus.GaugeValue, 1)
	ch <- prometheus.MustNewConstMetric(queuedDesc, prometheus.GaugeValue, float64(st.MailQueued))
	var age float64
	if !st.OldestQueued.IsZero() {
		age = max(c.clock.Now().Sub(st.OldestQueued).Seconds(), 0)
	}
	ch <- prometheus.MustNewConstMetric(oldestDesc, prometheus.GaugeValue, age)
	ch <- prometheus.MustNewConstMetric(auditDescEvent, prometheus.GaugeValue, float64(st.AuditEvents))
}
