package auth

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

// The monitoring pack (CONTRACT.md "Compliance"): what a lead agency hands a HUD or CoC monitor
// to show its user-access policy is kept. The files are built here (pack_files.go,
// pack_audit.go, pack_summary.go); the command line and the console only choose the scope
// and zip them with WriteZip.

// DefaultPackDays is the period a pack covers when none is given: the last year.
const DefaultPackDays = 365

// PackRequest says what a pack covers.
type PackRequest struct {
	// Agency is an agency's name: only its users and their events. "" is the whole site.
	Agency string
	// From and To are the period of the audit extracts, departures and reviews, both days
	// included, in the site's timezone. Zero To is today; zero From is DefaultPackDays before To.
	From, To hmisauth.Date
}

// Pack is a built monitoring pack: its files in the order they are zipped, manifest.json
// first, and the manifest they are listed in.
type Pack struct {
	Manifest PackManifest
	Files    []PackFile
}

// PackFile is one file of a pack.
type PackFile struct {
	Name string
	Data []byte
}

// PackManifest is manifest.json.
type PackManifest struct {
	GeneratedAt string         `json:"generated_at"`
	GeneratedBy string         `json:"generated_by"`
	Site        string         `json:"site"`
	Agency      string         `json:"agency,omitempty"`
	Period      PackPeriod     `json:"period"`
	Files       []PackFileHash `json:"files"`
	Audit       PackAudit      `json:"audit"`
}

// PackPeriod is the pack's period, both days included.
type PackPeriod struct {
	From hmisauth.Date `json:"from"`
	To   hmisauth.Date `json:"to"`
}

// PackFileHash is one file's name and SHA-256 (hex) in the manifest.
type PackFileHash struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
}

// PackAudit is the audit chain when the pack was made: its newest event, as `hmisauth audit
// verify` prints it, and whether the whole chain verified. Problem says what broke it.
type PackAudit struct {
	HeadID   int64  `json:"head_id"`
	HeadHash string `json:"head_hash"`
	Verified bool   `json:"verified"`
	Events   int    `json:"events"`
	Problem  string `json:"problem,omitempty"`
}

// CompliancePack builds the monitoring pack. A sysadmin (or the command line) may pack the
// whole site or any agency; an agency's security officer only their own agency, whatever
// req.Agency says; anyone else is refused.
func (a *Admin) CompliancePack(ctx context.Context, req PackRequest) (*Pack, error) {
	var agency *hmisauth.Agency
	switch {
	case a.IsSysadmin():
		if req.Agency != "" {
			ag, err := a.svc.store.AgencyByName(ctx, a.p.Site.Key, req.Agency)
			if hmisauth.ErrorCode(err) == hmisauth.ENOTFOUND {
				return nil, hmisauth.FieldError("agency", fmt.Sprintf("There is no agency called %q on %s. Check its name on the agencies page, or leave it empty for the whole site.", req.Agency, a.p.Site.Name))
			}
			if err != nil {
				return nil, err
			}
			agency = ag
		}
	case a.p.User.SecurityOfficer:
		ag, err := a.ownAgency(ctx)
		if err != nil {
			return nil, err
		}
		agency = ag
	default:
		return nil, hmisauth.Errorf(hmisauth.EFORBIDDEN,
			"Only a system administrator or the agency's security officer can download the monitoring pack.")
	}
	return a.svc.compliancePack(ctx, a.p.Site, agency, req, a.p.User.Username)
}

// packData is everything a pack's files are made from, read once.
type packData struct {
	site       *hmisauth.Site
	agency     *hmisauth.Agency // nil: the whole site
	now        time.Time
	from, to   time.Time // the period as moments: [from, to)
	period     PackPeriod
	agencies   []*hmisauth.Agency
	agencyByID map[int64]*hmisauth.Agency
	users      []*hmisauth.User // in scope, by username
	usernames  map[string]*hmisauth.User
	trainings  map[int64][]*hmisauth.TrainingRecord
	departures []*hmisauth.Departure         // disabled in the period
	departed   map[int64]*hmisauth.Departure // every disabled user's, by user ID
	reviews    []*hmisauth.LogReview
	events     []*hmisauth.Event // the site's, in scope, in ID order (every period)
	chain      audit.Report
}

func (s *Service) compliancePack(ctx context.Context, site *hmisauth.Site, agency *hmisauth.Agency, req PackRequest, by string) (*Pack, error) {
	now := s.clock.Now()
	d := &packData{site: site, agency: agency, now: now}
	if err := d.setPeriod(req, site.Today(now)); err != nil {
		return nil, err
	}
	if err := s.readPackData(ctx, d); err != nil {
		return nil, err
	}
	files := []PackFile{
		{"policy.json", policyJSON(site)},
		{"policy_history.csv", d.policyHistory()},
		{"users.csv", d.usersCSV()},
		{"agencies.csv", d.agenciesCSV()},
		{"exceptions.csv", csvBytes(exceptionHeader, d.exceptionRows(d.exceptions()))},
		{"failed_sign_ins.csv", d.eventsCSV(isFailedSignIn)},
		{"lockouts.csv", d.eventsCSV(isLockout)},
		{"admin_actions.csv", d.eventsCSV(isAdminAction)},
		{"overlapping_sessions.csv", d.overlapsCSV()},
		{"reviews.csv", d.reviewsCSV()},
		{"departures.csv", d.departuresCSV()},
	}
	m := PackManifest{GeneratedAt: now.UTC().Format(time.RFC3339), GeneratedBy: by, Site: site.Key,
		Period: d.period, Audit: PackAudit{Verified: d.chain.OK, Events: d.chain.Events, Problem: d.chain.Problem}}
	if agency != nil {
		m.Agency = agency.Name
	}
	if h := d.chain.Head; h != nil {
		m.Audit.HeadID, m.Audit.HeadHash = h.ID, hex.EncodeToString(h.Hash)
	}
	summary, err := d.summaryHTML(m, files)
	if err != nil {
		return nil, err
	}
	files = append(files, PackFile{"summary.html", summary})
	for _, f := range files {
		sum := sha256.Sum256(f.Data)
		m.Files = append(m.Files, PackFileHash{Name: f.Name, SHA256: hex.EncodeToString(sum[:])})
	}
	mj, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return &Pack{Manifest: m, Files: append([]PackFile{{"manifest.json", append(mj, '\n')}}, files...)}, nil
}

// setPeriod reads the request's period, defaulting to the year up to today.
func (d *packData) setPeriod(req PackRequest, today hmisauth.Date) error {
	to, from := req.To, req.From
	if to.IsZero() {
		to = today
	}
	if from.IsZero() {
		from = to.AddDays(-(DefaultPackDays - 1))
	}
	d.from, d.to = d.site.StartOf(from), d.site.StartOf(to.AddDays(1))
	switch {
	case d.from.IsZero():
		return hmisauth.FieldError("from", "The start of the period must be a date written YYYY-MM-DD, like 2026-03-02.")
	case d.to.IsZero():
		return hmisauth.FieldError("to", "The end of the period must be a date written YYYY-MM-DD, like 2026-03-02.")
	case to.Before(from):
		return hmisauth.FieldError("to", "The end of the period must not be before its start.")
	}
	d.period = PackPeriod{From: from, To: to}
	return nil
}

// readPackData reads the site's agencies, users in scope, trainings, departures, reviews and
// events, and verifies the audit chain.
func (s *Service) readPackData(ctx context.Context, d *packData) error {
	var err error
	if d.agencies, err = s.store.Agencies(ctx, d.site.Key); err != nil {
		return err
	}
	d.agencyByID = make(map[int64]*hmisauth.Agency, len(d.agencies))
	for _, ag := range d.agencies {
		d.agencyByID[ag.ID] = ag
	}
	if d.agency != nil {
		d.agencies = []*hmisauth.Agency{d.agency}
	}
	all, err := s.siteUsers(ctx, d.site.Key)
	if err != nil {
		return err
	}
	d.usernames = make(map[string]*hmisauth.User)
	for _, u := range all {
		if d.agency == nil || u.AgencyID == d.agency.ID {
			d.users = append(d.users, u)
			d.usernames[hmisauth.UsernameKey(u.Username)] = u
		}
	}
	trainings, err := s.store.SiteTrainings(ctx, d.site.Key)
	if err != nil {
		return err
	}
	d.trainings = make(map[int64][]*hmisauth.TrainingRecord)
	for _, r := range trainings {
		d.trainings[r.UserID] = append(d.trainings[r.UserID], r)
	}
	deps, err := s.store.Departures(ctx, d.site.Key)
	if err != nil {
		return err
	}
	d.departed = make(map[int64]*hmisauth.Departure, len(deps))
	for _, dep := range deps {
		d.departed[dep.UserID] = dep
		if d.inScope(dep.AgencyID) && d.inPeriod(dep.DisabledAt) {
			d.departures = append(d.departures, dep)
		}
	}
	reviews, err := s.store.AllLogReviews(ctx, d.site.Key)
	if err != nil {
		return err
	}
	for _, r := range reviews {
		if d.agency == nil || r.AgencyID == d.agency.ID {
			d.reviews = append(d.reviews, r)
		}
	}
	err = s.store.EachEvent(ctx, func(ev *hmisauth.Event) error {
		if ev.Site == d.site.Key && (d.agency == nil || ev.Action == hmisauth.EventPolicyChanged || d.concerns(ev)) {
			d.events = append(d.events, ev)
		}
		return nil
	})
	if err != nil {
		return err
	}
	d.chain, err = audit.Verify(ctx, s.store)
	return err
}

// inScope reports whether something of agencyID belongs in the pack.
func (d *packData) inScope(agencyID int64) bool { return d.agency == nil || agencyID == d.agency.ID }

// inPeriod reports whether t falls in the pack's period.
func (d *packData) inPeriod(t time.Time) bool { return !t.Before(d.from) && t.Before(d.to) }

// concerns reports whether ev is about, or by, a user in the pack's scope.
func (d *packData) concerns(ev *hmisauth.Event) bool {
	return d.usernames[hmisauth.UsernameKey(ev.Subject)] != nil || d.usernames[hmisauth.UsernameKey(ev.Actor)] != nil
}

// policyJSON is the site's policy in force, indented for a reader.
func policyJSON(site *hmisauth.Site) []byte {
	var buf bytes.Buffer
	json.Indent(&buf, []byte(hmisauth.PolicySnapshot(site.Policy)), "", "  ")
	buf.WriteByte('\n')
	return buf.Bytes()
}

// WriteZip writes the pack as a zip archive, its files in order.
func (p *Pack) WriteZip(w io.Writer) error {
	zw := zip.NewWriter(w)
	when, _ := time.Parse(time.RFC3339, p.Manifest.GeneratedAt)
	for _, f := range p.Files {
		fw, err := zw.CreateHeader(&zip.FileHeader{Name: f.Name, Method: zip.Deflate, Modified: when})
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
	}
	return zw.Close()
}

// FileNames lists the pack's files, for a reader's overview.
func (p *Pack) FileNames() []string {
	var names []string
	for _, f := range p.Files {
		names = append(names, f.Name)
	}
	return slices.Clip(names)
}
