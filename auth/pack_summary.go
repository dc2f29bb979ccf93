package auth

import (
	"bytes"
	"html/template"
	"time"

	"github.com/hmisauth/hmisauth"
)

// summary.html: the pack on one page for the monitor's first read, with links to nothing
// (it is opened from the zip, not served): counts, the exceptions, timeliness and the chain.

type packSummary struct {
	M                       PackManifest
	SiteName, Zone          string
	Users, Active, Locked   int
	Disabled, Admins        int
	Exceptions              []PackException
	ExceptionCounts         []codeCount
	FailedSignIns, Lockouts int
	AdminActions            int
	Departures, OnTime      int
	NotReported             int
	LastReview              *hmisauth.LogReview
	ReviewScope             string
	Files                   []PackFile
	PolicyChanges           int
	Generated               string
}

type codeCount struct {
	Code  string
	Count int
}

func (d *packData) summaryHTML(m PackManifest, files []PackFile) ([]byte, error) {
	s := packSummary{M: m, SiteName: d.site.Name, Zone: d.site.Loc().String(), Files: files,
		Exceptions: d.exceptions(), Generated: d.localTime(d.now)}
	for _, u := range d.users {
		s.Users++
		switch Status(u) {
		case "disabled":
			s.Disabled++
		case "locked":
			s.Locked++
		default:
			s.Active++
		}
		if u.Role.IsAdmin() && !u.Disabled {
			s.Admins++
		}
	}
	idx := map[string]int{}
	for _, e := range s.Exceptions {
		if i, ok := idx[e.Code]; ok {
			s.ExceptionCounts[i].Count++
			continue
		}
		idx[e.Code] = len(s.ExceptionCounts)
		s.ExceptionCounts = append(s.ExceptionCounts, codeCount{e.Code, 1})
	}
	for _, ev := range d.events {
		switch {
		case ev.Action == hmisauth.EventPolicyChanged:
			s.PolicyChanges++
		case !d.inPeriod(ev.At):
		case isFailedSignIn(ev):
			s.FailedSignIns++
		case isLockout(ev):
			s.Lockouts++
		}
		if d.inPeriod(ev.At) && isAdminAction(ev) {
			s.AdminActions++
		}
	}
	for _, dep := range d.departures {
		s.Departures++
		if _, within, ok := d.departureHours(dep); !ok {
			s.NotReported++
		} else if within {
			s.OnTime++
		}
	}
	s.ReviewScope = "the whole site"
	var scope int64
	if d.agency != nil {
		scope, s.ReviewScope = d.agency.ID, d.agency.Name
	}
	s.LastReview = d.lastReview(scope)
	var buf bytes.Buffer
	err := summaryTemplate.Execute(&buf, s)
	return buf.Bytes(), err
}

var summaryTemplate = template.Must(template.New("summary").Funcs(template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Monitoring pack: {{.SiteName}}{{with .M.Agency}}, {{.}}{{end}}</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #1a1a1a; }
table { border-collapse: collapse; width: 100%; margin: 1rem 0; }
th, td { border: 1px solid #999; padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #eee; }
.ok { color: #05602a; font-weight: bold; }
.bad { color: #a00; font-weight: bold; }
code { overflow-wrap: anywhere; }
</style>
</head>
<body>
<h1>Monitoring pack: {{.SiteName}}{{with .M.Agency}}, {{.}}{{end}}</h1>
<p>Made {{.Generated}} ({{.Zone}}) by {{.M.GeneratedBy}}, for the period {{.M.Period.From}} to {{.M.Period.To}}.
{{- if .M.Agency}} It holds only the users of {{.M.Agency}} and their events.{{end}}
Times in the CSV files are in {{.Zone}}.</p>

<h2>Audit log</h2>
{{- if .M.Audit.Verified}}
<p class="ok">The audit log's hash chain verified: {{.M.Audit.Events}} events, none changed, deleted or moved.</p>
<p>Newest event: {{.M.Audit.HeadID}}, hash <code>{{.M.Audit.HeadHash}}</code>. Compare it with <code>hmisauth audit verify</code>.</p>
{{- else}}
<p class="bad">The audit log's hash chain did NOT verify: {{.M.Audit.Problem}}</p>
{{- end}}

<h2>Accounts</h2>
<table>
<tr><th scope="row">Accounts</th><td>{{.Users}}</td></tr>
<tr><th scope="row">Active</th><td>{{.Active}}</td></tr>
<tr><th scope="row">Locked</th><td>{{.Locked}}</td></tr>
<tr><th scope="row">Disabled</th><td>{{.Disabled}}</td></tr>
<tr><th scope="row">Administrators (enabled)</th><td>{{.Admins}}</td></tr>
</table>

<h2>In the period</h2>
<table>
<tr><th scope="row">Failed sign-ins (failed_sign_ins.csv)</th><td>{{.FailedSignIns}}</td></tr>
<tr><th scope="row">Lockouts (lockouts.csv)</th><td>{{.Lockouts}}</td></tr>
<tr><th scope="row">Administrative actions (admin_actions.csv)</th><td>{{.AdminActions}}</td></tr>
<tr><th scope="row">Departures (departures.csv)</th><td>{{.Departures}}: {{.OnTime}} disabled within 24 hours of the day reported{{if .NotReported}}, {{.NotReported}} with no report date{{end}}</td></tr>
<tr><th scope="row">Policy changes recorded, ever (policy_history.csv)</th><td>{{.PolicyChanges}}</td></tr>
</table>

<h2>Access-log review</h2>
{{- with .LastReview}}
<p>Last review of {{$.ReviewScope}}'s access log: recorded {{when .At}} by {{.Reviewer}}, covering {{.From}} to {{.To}}.</p>
{{- else}}
<p class="bad">No review of {{.ReviewScope}}'s access log has been recorded.</p>
{{- end}}

<h2>Exceptions ({{len .Exceptions}})</h2>
{{- if .Exceptions}}
<table>
<tr><th scope="col">Exception</th><th scope="col">Accounts</th></tr>
{{- range .ExceptionCounts}}
<tr><td>{{.Code}}</td><td>{{.Count}}</td></tr>
{{- end}}
</table>
<table>
<tr><th scope="col">Username</th><th scope="col">Agency</th><th scope="col">Exception</th><th scope="col">What</th></tr>
{{- range .Exceptions}}
<tr><td>{{.Username}}</td><td>{{.Agency}}</td><td>{{.Code}}</td><td>{{.What}}</td></tr>
{{- end}}
</table>
{{- else}}
<p class="ok">No exceptions.</p>
{{- end}}

<h2>Files</h2>
<p>manifest.json lists each file's SHA-256; these are the files it describes.</p>
<ul>
{{- range .Files}}
<li>{{.Name}}</li>
{{- end}}
</ul>
</body>
</html>
`))
