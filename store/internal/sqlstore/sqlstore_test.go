package sqlstore_test

import (
	"slices"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/store/internal/sqlstore"
)

func TestListRoundTripsAndEmptyIsNil(t *testing.T) {
	for _, l := range [][]string{nil, {}, {"openid"}, {"openid", "profile", `a "quoted" one`}} {
		got := []string{"stale"}
		if err := sqlstore.ScanList(&got).Scan([]byte(sqlstore.ListArg(l))); err != nil {
			t.Fatal(err)
		}
		if len(l) == 0 {
			if got != nil {
				t.Errorf("%q came back as %q, want nil", l, got)
			}
		} else if !slices.Equal(got, l) {
			t.Errorf("%q came back as %q", l, got)
		}
	}
	var got []string
	if err := sqlstore.ScanList(&got).Scan(nil); err != nil || got != nil {
		t.Errorf("NULL: %q, %v", got, err)
	}
	if err := sqlstore.ScanList(&got).Scan(int64(1)); err == nil {
		t.Error("an integer column scanned as a list")
	}
}

func TestNewEventsAreCheckedBeforeAppending(t *testing.T) {
	ok := &hmisauth.Event{Action: "login"}
	for name, evs := range map[string][]*hmisauth.Event{
		"nil":      {ok, nil},
		"appended": {{ID: 7, Action: "login"}},
		"twice":    {ok, ok},
		"unnamed":  {{Site: "live"}},
	} {
		if err := sqlstore.CheckNewEvents(evs); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := sqlstore.CheckNewEvents([]*hmisauth.Event{ok, {Action: "logout"}}); err != nil {
		t.Error(err)
	}
}

func TestStampAtKeepsWhatTheLogStores(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 123456789, time.FixedZone("EST", -5*3600))
	ev := &hmisauth.Event{At: at}
	sqlstore.StampAt(ev)
	if want := at.UTC().Truncate(time.Microsecond); !ev.At.Equal(want) || ev.At.Location() != time.UTC {
		t.Errorf("At = %v, want %v", ev.At, want)
	}
	ev = &hmisauth.Event{}
	before := time.Now().Add(-time.Second)
	sqlstore.StampAt(ev)
	if ev.At.Before(before) || ev.At.Nanosecond()%1000 != 0 {
		t.Errorf("a zero At stamped as %v", ev.At)
	}
}

func TestForgetEventsUnnumbers(t *testing.T) {
	ev := &hmisauth.Event{ID: 3, Action: "login", PrevHash: []byte{1}, Hash: []byte{2}}
	sqlstore.ForgetEvents([]*hmisauth.Event{ev, nil})
	if ev.ID != 0 || ev.PrevHash != nil || ev.Hash != nil {
		t.Errorf("still numbered: %+v", ev)
	}
}

func TestRowErrorNamesTheRow(t *testing.T) {
	err := sqlstore.RowError(2, hmisauth.FieldError("username", "Username is required."))
	if e := hmisauth.AsError(err); e == nil || e.Field != "row 3" || e.Code != hmisauth.EINVALID {
		t.Errorf("got %#v", err)
	}
}
