package storetest

import (
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

var statsTests = []test{
	{"EmptyStoreCountsNothing", func(t *testing.T, s hmisauth.Store) {
		st, err := s.Stats(t.Context())
		must(t, err)
		equal(t, "Stats", st, hmisauth.StoreStats{})
	}},
	{"CountsWaitingMailAndTheAuditLog", func(t *testing.T, s hmisauth.Store) {
		sent, abandoned := enqueue(t, s, 5), enqueue(t, s, 10)
		enqueue(t, s, 20)
		failing := enqueue(t, s, 30)
		ms := claim(t, s, at(40), 10)
		byID := map[int64]*hmisauth.Message{}
		for _, m := range ms {
			byID[m.ID] = m
		}
		must(t, s.MailSent(t.Context(), byID[sent.ID], at(41), false))
		must(t, s.AbandonMail(t.Context(), byID[abandoned.ID], at(41), "expired"))
		// A message waiting for its next try after a failure is still waiting.
		must(t, s.MailFailed(t.Context(), byID[failing.ID], at(100), "451 try later"))
		must(t, s.AppendEvents(t.Context(), event(hmisauth.EventLoginFailed, "jdoe", "one", 1),
			event(hmisauth.EventAccountLocked, "jdoe", "two", 2)))
		must(t, s.AppendEvents(t.Context(), event(hmisauth.EventLoginFailed, "jdoe", "three", 3)))

		st, err := s.Stats(t.Context())
		must(t, err)
		equal(t, "Stats", st, hmisauth.StoreStats{MailQueued: 2, OldestQueued: at(20), AuditEvents: 3})
		if st.OldestQueued.Location() != time.UTC {
			t.Errorf("OldestQueued in %v, want UTC", st.OldestQueued.Location())
		}
	}},
}
