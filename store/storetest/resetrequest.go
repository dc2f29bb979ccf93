package storetest

import (
	"context"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/hmisauth/hmisauth"
)

// testResetRequestsQueue: requests come out oldest first, with what went in.
func testResetRequestsQueue(t *testing.T, s hmisauth.Store) {
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 15, 4, 5, 6000, time.UTC)
	for _, name := range []string{"jdoe", "nosuchuser", "JDoe"} {
		r := &hmisauth.ResetRequest{Site: "live", Username: name, ClientAddr: "192.0.2.7", At: at}
		if err := s.QueueResetRequest(ctx, r); err != nil || r.ID == 0 {
			t.Fatalf("queue %s: id %d, %v", name, r.ID, err)
		}
	}
	got, err := s.TakeResetRequests(ctx, 2)
	if err != nil || len(got) != 2 || got[0].Username != "jdoe" || got[1].Username != "nosuchuser" {
		t.Fatalf("first take: %+v %v", got, err)
	}
	if !got[0].At.Equal(at) || got[0].ClientAddr != "192.0.2.7" || got[0].Site != "live" {
		t.Fatalf("request did not round-trip: %+v", got[0])
	}
	got, err = s.TakeResetRequests(ctx, 10)
	if err != nil || len(got) != 1 || got[0].Username != "JDoe" {
		t.Fatalf("second take: %+v %v", got, err)
	}
	if got, _ := s.TakeResetRequests(ctx, 10); len(got) != 0 {
		t.Fatalf("queue not empty: %+v", got)
	}
}

// testResetRequestsTakenOnce: parallel takers share the queue without overlap or loss.
func testResetRequestsTakenOnce(t *testing.T, s hmisauth.Store) {
	ctx := context.Background()
	const n = 60
	for range n {
		if err := s.QueueResetRequest(ctx, &hmisauth.ResetRequest{Site: "live", Username: "x", At: time.Now()}); err != nil {
			t.Fatal(err)
		}
	}
	var mu sync.Mutex
	var ids []int64
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				got, err := s.TakeResetRequests(ctx, 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(got) == 0 {
					return
				}
				mu.Lock()
				for _, r := range got {
					ids = append(ids, r.ID)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	if len(ids) != n {
		t.Fatalf("taken %d requests, want %d", len(ids), n)
	}
	for i := 1; i < len(ids); i++ {
		if ids[i] == ids[i-1] {
			t.Fatalf("request %d taken twice", ids[i])
		}
	}
}

var resetRequestTests = []test{
	{"QueueThenTakeOldestFirst", testResetRequestsQueue},
	{"ParallelTakersNeverShare", testResetRequestsTakenOnce},
}
