package auth_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/password"
	"github.com/hmisauth/hmisauth/store/teststore"
)

func (f *fixture) agency(name string, seats int) {
	f.t.Helper()
	if _, err := f.svc.CreateAgency(f.ctx, "live", auth.AgencyChange{Name: &name, Seats: &seats}); err != nil {
		f.t.Fatal(err)
	}
}

func (f *fixture) preview(csv string) *auth.ImportPlan {
	f.t.Helper()
	plan, err := f.svc.ParseImport(f.ctx, "live", strings.NewReader(csv))
	if err != nil {
		f.t.Fatalf("ParseImport: %v", err)
	}
	return plan
}

func (f *fixture) userCount() int {
	f.t.Helper()
	us, err := f.store.Users(f.ctx, hmisauth.UserQuery{Site: "live"})
	if err != nil {
		f.t.Fatal(err)
	}
	return len(us)
}

func usernames(plan *auth.ImportPlan) string {
	var out []string
	for _, r := range plan.Rows {
		out = append(out, r.Username)
	}
	return strings.Join(out, ",")
}

func TestImportCreatesEveryUserWithATemporaryPassword(t *testing.T) {
	f := newFixture(t)
	f.agency("Hope Shelter", 10)
	plan := f.preview("First Name,Last Name,E-mail,Phone,Agency,Role\n" +
		"John,Doe,jdoe@hope.example.org,555-0101,Hope Shelter,user\n" +
		"María,Núñez,mnunez@hope.example.org,,hope shelter,Agency Admin\n" +
		"Sam,Lee,,,,\n")
	if !plan.OK() {
		t.Fatalf("problems: %v", plan.Problems())
	}
	if got := usernames(plan); got != "jdoe,mnunez,slee" {
		t.Fatalf("planned usernames %s", got)
	}
	if r := plan.Rows[1]; r.Line != 3 || r.FirstName != "María" || r.Email != "mnunez@hope.example.org" || r.Role != "agency_admin" {
		t.Fatalf("row: %+v", r)
	}
	if n := f.userCount(); n != 0 {
		t.Fatalf("the preview wrote %d users", n)
	}

	created, err := f.svc.Import(auth.WithActor(f.ctx, auth.Actor{Username: "helpdesk"}), plan)
	if err != nil {
		t.Fatal(err)
	}
	if len(created) != 3 {
		t.Fatalf("created %d", len(created))
	}
	for i, c := range created {
		if c.User.Username != plan.Rows[i].Username || c.User.ID == 0 || len(c.TemporaryPassword) < 12 {
			t.Fatalf("created %d: %+v %q", i, c.User, c.TemporaryPassword)
		}
		u := f.reload(c.User.Username)
		if !u.PasswordTemporary || u.PasswordHash == "" || strings.Contains(u.PasswordHash, c.TemporaryPassword) {
			t.Fatalf("%s stored as %+v", u.Username, u)
		}
	}
	if u := f.reload("mnunez"); u.Role != hmisauth.RoleAgencyAdmin || u.AgencyID == 0 || u.LastName != "Núñez" {
		t.Fatalf("mnunez: %+v", u)
	}
	// The temporary password works, once, like one from CreateUser.
	res := f.login("jdoe", created[0].TemporaryPassword)
	if len(res.Principal.RequiredActions) == 0 {
		t.Fatal("no required actions after a temporary password")
	}
	evs, err := f.store.Events(f.ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventUserCreated})
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 3 {
		t.Fatalf("%d user_created events", len(evs))
	}
	for _, ev := range evs {
		if ev.Actor != "helpdesk" || !strings.HasPrefix(ev.Detail, "imported") {
			t.Errorf("event %+v", ev)
		}
		for _, c := range created {
			if strings.Contains(ev.Detail, c.TemporaryPassword) {
				t.Error("a temporary password reached the audit log")
			}
		}
	}
}

func TestImportWithOneBadRowWritesNothing(t *testing.T) {
	f := newFixture(t)
	f.agency("Hope Shelter", 0)
	plan := f.preview("first,last,email,agency,role\n" +
		"John,Doe,jdoe@hope.example.org,Hope Shelter,\n" +
		"Ann,Lee,,,\n" +
		"Bo,,bo@hope.example.org,,\n" +
		"Cy,Ray,not-an-address,,\n" +
		"Di,Fox,,Hope Center,\n" +
		"Ed,Ng,,,root\n" +
		"Flo,Li,,,agency_admin\n")
	want := []string{
		"row 4: no last name",
		"row 5: enter an e-mail address like name@agency.org.",
		`row 6: there is no agency called "Hope Center" — create it first`,
		"row 7: role must be one of user, agency_admin or sysadmin.",
		"row 8: an agency administrator must belong to an agency.",
	}
	if got := plan.Problems(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if plan.OK() || len(plan.Rows[0].Errors) != 0 || len(plan.Rows[2].Errors) != 1 {
		t.Fatalf("rows: %+v", plan.Rows)
	}
	_, err := f.svc.Import(f.ctx, plan)
	wantCode(t, err, hmisauth.EINVALID)
	if !strings.Contains(hmisauth.ErrorMessage(err), "Fix the file first") {
		t.Fatalf("message: %s", hmisauth.ErrorMessage(err))
	}
	if n := f.userCount(); n != 0 {
		t.Fatalf("%d users written from a file with bad rows", n)
	}
	if evs, _ := f.store.Events(f.ctx, hmisauth.EventQuery{Site: "live", Action: hmisauth.EventUserCreated}); len(evs) != 0 {
		t.Fatalf("%d user_created events", len(evs))
	}
}

func TestImportNumbersSameNamesWithinTheFile(t *testing.T) {
	f := newFixture(t)
	plan := f.preview("first,last\nJohn,Doe\nJane,Doe\nJim,Doe\n")
	if got := usernames(plan); got != "jdoe,jdoe2,jdoe3" {
		t.Fatalf("usernames %s", got)
	}
	// A username chosen further down the file is kept for that row.
	plan = f.preview("first,last,username\nJohn,Doe,\nJane,Doe,\nJack,Doe,JDoe2\n")
	if got := usernames(plan); got != "jdoe,jdoe3,JDoe2" || !plan.OK() {
		t.Fatalf("usernames %s, problems %v", got, plan.Problems())
	}
	created, err := f.svc.Import(f.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	if created[2].User.Username != "JDoe2" || f.reload("jdoe2").FirstName != "Jack" {
		t.Fatalf("created %+v", created[2].User)
	}
}

func TestImportAvoidsExistingUsernames(t *testing.T) {
	f := newFixture(t)
	f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe"})
	plan := f.preview("first,last,username\n" +
		"John,Doe,\n" +
		"Jill,Doe,JDOE\n" +
		"Joe,Bloggs,jb\n" +
		"Jo,Bloggs,JB\n" +
		"Al,Bo,a b\n")
	if got := plan.Rows[0].Username; got != "jdoe2" {
		t.Fatalf("John Doe planned as %s", got)
	}
	want := []string{
		"row 3: the username JDOE cannot be used; jdoe3 is free — or leave the username empty to have one made",
		"row 5: the username JB is also on row 4",
		"row 6: a username may use only letters (a-z), digits, and . - _ (not first).",
	}
	if got := plan.Problems(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s", strings.Join(got, "\n"))
	}
	// The other site has its own usernames.
	plan, err := f.svc.ParseImport(f.ctx, "training", strings.NewReader("first,last\nJohn,Doe\n"))
	if err != nil || usernames(plan) != "jdoe" {
		t.Fatalf("training: %v %v", usernames(plan), err)
	}
}

func TestImportHeaderVariantsAndBOM(t *testing.T) {
	f := newFixture(t)
	for _, file := range []string{
		"first,last,email\nJohn,Doe,jd@example.org\n",
		"First Name,Last Name,E-mail Address\r\nJohn,Doe,jd@example.org\r\n",
		"\uFEFFLAST_NAME, first_name ,EMAIL\nDoe,John,jd@example.org\n",
		"\n\nEmail,Surname,FirstName,Phone Number,Agency Name,Role,User Name\n,,,,,,\nJd@example.org,Doe,John,,,,\n\n",
		`"first","last","e-mail"` + "\n" + `"John","Doe","jd@example.org"` + "\n",
	} {
		plan, err := f.svc.ParseImport(f.ctx, "live", strings.NewReader(file))
		if err != nil {
			t.Errorf("%q: %v", file, err)
			continue
		}
		if len(plan.Rows) != 1 || !plan.OK() {
			t.Errorf("%q: %+v %v", file, plan.Rows, plan.Problems())
			continue
		}
		r := plan.Rows[0]
		if r.FirstName != "John" || r.LastName != "Doe" || !strings.EqualFold(r.Email, "jd@example.org") || r.Username != "jdoe" {
			t.Errorf("%q: %+v", file, r)
		}
		if file[0] == '\n' && r.Line != 5 {
			t.Errorf("line %d, want 5 (blank lines count as lines of the file)", r.Line)
		}
	}
	// A quoted cell over two lines: the next row's line is still the file's.
	plan := f.preview("first,last,phone\n\"Mary\nAnn\",Lee,\nBo,Ray,\n")
	if plan.Rows[1].Line != 4 {
		t.Fatalf("line %d, want 4", plan.Rows[1].Line)
	}
}

func TestImportSeatLimitAcrossTheFile(t *testing.T) {
	f := newFixture(t)
	f.agency("Hope Shelter", 3)
	f.create(auth.NewUser{Site: "live", FirstName: "Ann", LastName: "Lee", Agency: "Hope Shelter"})
	file := "first,last,agency\nJohn,Doe,Hope Shelter\nJane,Roe,Hope Shelter\nJim,Poe,HOPE SHELTER\nSam,Moe,\n"
	plan := f.preview(file)
	want := "Hope Shelter has 2 free seats but the file adds 3 users (rows 2, 3, 4). Raise the agency's seats or take users out of the file."
	if len(plan.Errors) != 1 || plan.Errors[0] != want || plan.OK() {
		t.Fatalf("errors %q, want %q", plan.Errors, want)
	}
	if plan.Rows[2].Agency != "Hope Shelter" {
		t.Fatalf("agency spelt %q, not as the agency is", plan.Rows[2].Agency)
	}
	if _, err := f.svc.Import(f.ctx, plan); hmisauth.ErrorCode(err) != hmisauth.EINVALID || f.userCount() != 1 {
		t.Fatalf("import of an over-seated file: %v, %d users", err, f.userCount())
	}
	seats := 4
	if _, err := f.svc.UpdateAgency(f.ctx, "live", "Hope Shelter", auth.AgencyChange{Seats: &seats}); err != nil {
		t.Fatal(err)
	}
	plan = f.preview(file)
	if !plan.OK() {
		t.Fatalf("problems with enough seats: %v", plan.Problems())
	}
	if _, err := f.svc.Import(f.ctx, plan); err != nil || f.userCount() != 5 {
		t.Fatalf("import: %v, %d users", err, f.userCount())
	}
	plan = f.preview("first,last,agency\nNo,Room,Hope Shelter\n")
	if got := strings.Join(plan.Errors, ""); !strings.Contains(got, "Hope Shelter has no free seats but the file adds 1 user (row 2).") {
		t.Fatalf("full agency: %q", got)
	}
}

func TestImportRaceNamesTheRowAndWritesNothing(t *testing.T) {
	f := newFixture(t)
	plan := f.preview("first,last\nAnn,Lee\nJohn,Doe\n")
	f.create(auth.NewUser{Site: "live", FirstName: "Jane", LastName: "Doe"}) // takes jdoe meanwhile
	_, err := f.svc.Import(f.ctx, plan)
	wantCode(t, err, hmisauth.ECONFLICT)
	if msg := hmisauth.ErrorMessage(err); !strings.Contains(msg, "row 3: the username jdoe was taken") || !strings.Contains(msg, "Nothing was imported") {
		t.Fatalf("message: %s", msg)
	}
	if n := f.userCount(); n != 1 {
		t.Fatalf("%d users; only the one created meanwhile should exist", n)
	}
	if usernames(plan) != "alee,jdoe" {
		t.Fatalf("the plan changed: %s", usernames(plan))
	}
}

func TestImportRefusesFilesItCannotRead(t *testing.T) {
	f := newFixture(t)
	many := strings.Repeat("Ann,Lee\n", auth.MaxImportRows+1)
	huge := "first,last\n" + strings.Repeat("Ann,"+strings.Repeat("x", 1000)+"\n", 11*1024)
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "The file is empty."},
		{"blank", "\n\n", "The file is empty."},
		{"no header", "John,Doe,jdoe@example.org\n", `The first row has a column "John" that is not one we know.`},
		{"misspelt", "first,last,emial\nJohn,Doe,x@example.org\n", `column "emial"`},
		{"no last", "first,email\nJohn,x@example.org\n", "The first row has no last-name column."},
		{"twice", "first,last,E-mail,email address\n", "The first row has the email column twice"},
		{"semicolons", "first;last;email\n", "separated by semicolons"},
		{"header only", "first,last\n", "no users"},
		{"not utf-8", "first,last\nJohn,Doe\nJos\xe9,Nu\xf1ez\n", "Line 3 of the file is not UTF-8"},
		{"bad quote", "first,last\nJohn,\"Doe\n", "is not valid CSV"},
		{"too many", "first,last\n" + many, "more than 5000 users"},
		{"too large", huge, "larger than 10 MiB"},
	} {
		plan, err := f.svc.ParseImport(f.ctx, "live", strings.NewReader(tc.file))
		if hmisauth.ErrorCode(err) != hmisauth.EINVALID || !strings.Contains(hmisauth.ErrorMessage(err), tc.want) {
			t.Errorf("%s: plan %v, error %v; want %q", tc.name, plan, err, tc.want)
		}
	}
	// Exactly the limit is fine.
	plan := f.preview("first,last\n" + strings.Repeat("Ann,Lee\n", auth.MaxImportRows))
	if len(plan.Rows) != auth.MaxImportRows || plan.Rows[auth.MaxImportRows-1].Username != fmt.Sprintf("alee%d", auth.MaxImportRows) {
		t.Fatalf("%d rows, last %+v", len(plan.Rows), plan.Rows[len(plan.Rows)-1])
	}
	if _, err := f.svc.ParseImport(f.ctx, "moon", strings.NewReader("first,last\nA,B\n")); hmisauth.ErrorCode(err) != hmisauth.ENOTFOUND {
		t.Fatalf("unknown site: %v", err)
	}
}

func TestImportRefusesAPlanNotFromThePreview(t *testing.T) {
	f := newFixture(t)
	for _, plan := range []*auth.ImportPlan{nil, {Site: "live", Rows: []auth.ImportRow{{Line: 2, Username: "jdoe", FirstName: "J", LastName: "Doe"}}}} {
		if _, err := f.svc.Import(f.ctx, plan); hmisauth.ErrorCode(err) != hmisauth.EINVALID {
			t.Errorf("%+v: %v", plan, err)
		}
	}
}

// FuzzParseImport feeds arbitrary bytes to the preview, which reads files from outside: it
// never panics, refuses only with application errors, and a plan without problems has valid,
// distinct usernames and named people.
func FuzzParseImport(f *testing.F) {
	for _, seed := range []string{
		"first,last,email,phone,agency,role\nJohn,Doe,jd@example.org,555-0100,Hope Shelter,user\n",
		"\uFEFFFirst Name,Last Name,E-mail\r\nJohn,Doe,\r\nJane,Doe,\r\n",
		"first,last,username\nAnn,Lee,alee\nAnn,Lee,\n,,\nBo,,x\n",
		"last,first\n\"O'Brien, Jr\",\"Mary \"\"Mo\"\"\"\n李,小龙\n",
		"first,last,agency,role\nA,B,Hope Shelter,agency_admin\nC,D,hope shelter,sysadmin\nE,F,Nowhere,\n",
		"first,last\n" + strings.Repeat("x", 70) + "," + strings.Repeat("ß", 40) + "\n",
		"first,last\nJohn,\"Doe\n",
		"first,last\n\xff\xfe,x\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	ctx := context.Background()
	st := teststore.Open(f)
	site := &hmisauth.Site{Key: "live", Name: "HMIS Live", Timezone: "UTC", Location: time.UTC, Policy: hmisauth.DefaultPolicy()}
	svc := auth.NewService(auth.Deps{Store: st, Clock: &clock{now: time.Date(2026, 3, 2, 15, 0, 0, 0, time.UTC)},
		Hasher: password.NewHasher(testHashOptions), Sites: []*hmisauth.Site{site}})
	if err := svc.SyncSites(ctx); err != nil {
		f.Fatal(err)
	}
	name, seats := "Hope Shelter", 1
	if _, err := svc.CreateAgency(ctx, "live", auth.AgencyChange{Name: &name, Seats: &seats}); err != nil {
		f.Fatal(err)
	}
	if _, err := svc.CreateUser(ctx, auth.NewUser{Site: "live", FirstName: "John", LastName: "Doe"}); err != nil {
		f.Fatal(err)
	}

	f.Fuzz(func(t *testing.T, data []byte) {
		plan, err := svc.ParseImport(ctx, "live", bytes.NewReader(data))
		if err != nil {
			if hmisauth.ErrorCode(err) != hmisauth.EINVALID {
				t.Fatalf("not an application error: %v", err)
			}
			return
		}
		if len(plan.Rows) == 0 || len(plan.Rows) > auth.MaxImportRows {
			t.Fatalf("%d rows", len(plan.Rows))
		}
		seen := map[string]bool{"jdoe": true}
		last := 0
		for _, r := range plan.Rows {
			if r.Line <= last {
				t.Fatalf("line %d after %d", r.Line, last)
			}
			last = r.Line
			if !plan.OK() {
				continue
			}
			if err := auth.ValidateUsername(r.Username); err != nil {
				t.Fatalf("row %d: planned username %q: %v", r.Line, r.Username, err)
			}
			if key := hmisauth.UsernameKey(r.Username); seen[key] {
				t.Fatalf("row %d: username %q planned twice or taken", r.Line, r.Username)
			} else {
				seen[key] = true
			}
			if r.FirstName == "" || r.LastName == "" {
				t.Fatalf("row %d: no name in a clean plan: %+v", r.Line, r)
			}
		}
	})
}

func TestAgencyAdminImportsOnlyIntoTheirAgency(t *testing.T) {
	f := newFixture(t)
	f.addAgency("North", 0)
	f.addAgency("South", 0)
	a := f.adminOf(f.signedInAs("Nora", "Northadmin", "agency_admin", "North"))
	file := "first,last,email,phone,agency,role\n" +
		"Ann,Able,,,,user\n" + // no agency: joins North
		"Bob,Baker,,,north,agency admin\n" +
		"Cal,Cole,,,South,user\n" +
		"Dee,Dunn,,,,sysadmin\n"
	plan, err := a.ParseImport(f.ctx, strings.NewReader(file))
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		agency string
		err    string
	}{{"North", ""}, {"North", ""}, {"South", "row 4: you can only import users of your own agency, North"},
		{"", "row 5: only a system administrator can make someone a system administrator"}}
	for i, w := range want {
		r := plan.Rows[i]
		if r.Agency != w.agency || strings.Join(r.Errors, "; ") != w.err {
			t.Errorf("row %d: agency %q errors %q, want %q %q", r.Line, r.Agency, r.Errors, w.agency, w.err)
		}
	}
	if _, err := a.Import(f.ctx, plan); hmisauth.ErrorCode(err) != hmisauth.EINVALID {
		t.Fatalf("importing a plan with problems: %v", err)
	}

	plan, err = a.ParseImport(f.ctx, strings.NewReader("first,last\nAnn,Able\nBob,Baker\n"))
	if err != nil || !plan.OK() {
		t.Fatalf("plan: %v %v", err, plan.Problems())
	}
	// A sysadmin's plan may put users anywhere: an agency admin cannot carry it out.
	sys := f.adminOf(f.signedInAs("Sam", "Sysop", "sysadmin", ""))
	other, err := sys.ParseImport(f.ctx, strings.NewReader("first,last,agency\nCal,Cole,South\n"))
	if err != nil || !other.OK() {
		t.Fatalf("sysadmin plan: %v %v", err, other.Problems())
	}
	wantCode(t, func() error { _, err := a.Import(f.ctx, other); return err }(), hmisauth.EFORBIDDEN)

	created, err := a.Import(f.ctx, plan)
	if err != nil {
		t.Fatal(err)
	}
	north, err := f.store.AgencyByName(f.ctx, "live", "North")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range created {
		if c.User.AgencyID != north.ID || c.User.Role != hmisauth.RoleUser {
			t.Errorf("%s: agency %d role %s, want North's user", c.User.Username, c.User.AgencyID, c.User.Role)
		}
		evs, err := f.store.Events(f.ctx, hmisauth.EventQuery{Site: "live", Subject: c.User.Username, Action: hmisauth.EventUserCreated})
		if err != nil || len(evs) != 1 || evs[0].Actor != "nnorthadmin" {
			t.Errorf("%s: events %v %+v, want one by nnorthadmin", c.User.Username, err, evs)
		}
	}
}
