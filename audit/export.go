package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// TimeLayout is how exports write an event's time: RFC 3339 in UTC, to the microsecond the
// hash covers, so an exported event can be checked against its hash outside hmisauth.
const TimeLayout = "2006-01-02T15:04:05.000000Z07:00"

// CSVHeader is the first row of a CSV export.
var CSVHeader = []string{"id", "time", "site", "actor", "subject", "action", "client_addr", "detail", "hash"}

// Record is one event as a JSON export writes it. PrevHash is there too, so each event can
// be checked on its own — hash = EventHash(prev_hash, event) — even in an export filtered by
// site or time, whose rows are not each other's neighbours in the chain.
type Record struct {
	ID         int64  `json:"id"`
	Time       string `json:"time"`
	Site       string `json:"site"`
	Actor      string `json:"actor"`
	Subject    string `json:"subject"`
	Action     string `json:"action"`
	ClientAddr string `json:"client_addr"`
	Detail     string `json:"detail"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

// NewRecord is ev as exported.
func NewRecord(ev *hmisauth.Event) Record {
	return Record{ID: ev.ID, Time: ev.At.UTC().Format(TimeLayout), Site: ev.Site, Actor: ev.Actor,
		Subject: ev.Subject, Action: ev.Action, ClientAddr: ev.ClientAddr, Detail: ev.Detail,
		PrevHash: hex.EncodeToString(ev.PrevHash), Hash: hex.EncodeToString(ev.Hash)}
}

// Writer writes events one at a time in an export format:
//
//   - "csv": CSVHeader, then one row per event. A text cell that a spreadsheet would run as a
//     formula (starting with = + - @, a tab or a carriage return) gets a leading apostrophe:
//     a failed sign-in's subject is whatever a visitor typed. Use JSON for a byte-exact copy.
//   - "json": one JSON array holding a Record per event, one per line, so it streams however
//     long the log, is one document for any JSON reader, and `jq -c '.[]'` turns it into JSON
//     lines for a log collector.
//
// Close finishes the document; nothing is complete until it returns.
type Writer struct {
	bw    *bufio.Writer
	csv   *csv.Writer   // for csv
	json  *json.Encoder // for json, into buf
	buf   bytes.Buffer
	count int
}

// NewWriter returns a Writer of format ("csv" or "json") to w.
func NewWriter(w io.Writer, format string) (*Writer, error) {
	x := &Writer{bw: bufio.NewWriter(w)}
	switch format {
	case "csv":
		x.csv = csv.NewWriter(x.bw)
		if err := x.csv.Write(CSVHeader); err != nil {
			return nil, err
		}
	case "json":
		x.json = json.NewEncoder(&x.buf)
		x.json.SetEscapeHTML(false) // "<" stays "<" in a detail, for a human reading the file
	default:
		return nil, fmt.Errorf("unknown export format %q: use csv or json", format)
	}
	return x, nil
}

// Write writes one event.
func (x *Writer) Write(ev *hmisauth.Event) error {
	x.count++
	r := NewRecord(ev)
	if x.csv != nil {
		return x.csv.Write([]string{strconv.FormatInt(r.ID, 10), r.Time, cell(r.Site), cell(r.Actor),
			cell(r.Subject), cell(r.Action), cell(r.ClientAddr), cell(r.Detail), r.Hash})
	}
	sep := ",\n"
	if x.count == 1 {
		sep = "[\n"
	}
	if _, err := x.bw.WriteString(sep); err != nil {
		return err
	}
	x.buf.Reset()
	if err := x.json.Encode(r); err != nil {
		return err
	}
	_, err := x.bw.Write(bytes.TrimSuffix(x.buf.Bytes(), []byte("\n")))
	return err
}

// Close ends the document and flushes it to the underlying writer.
func (x *Writer) Close() error {
	if x.csv != nil {
		x.csv.Flush()
		if err := x.csv.Error(); err != nil {
			return err
		}
	} else {
		end := "\n]\n"
		if x.count == 0 {
			end = "[]\n"
		}
		if _, err := x.bw.WriteString(end); err != nil {
			return err
		}
	}
	return x.bw.Flush()
}

// cell defuses a text cell a spreadsheet would take for a formula.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// Filter selects the events to export; zero fields select every event.
type Filter struct {
	Site  string
	Since time.Time // at or after
}

func (f Filter) match(ev *hmisauth.Event) bool {
	return (f.Site == "" || ev.Site == f.Site) && (f.Since.IsZero() || !ev.At.Before(f.Since))
}

// Export writes the log's events that f selects, in ID order, to w in format ("csv" or
// "json"; see Writer). It reads the log as it goes, so memory stays flat however long it is.
func Export(ctx context.Context, w io.Writer, format string, log EventLog, f Filter) error {
	x, err := NewWriter(w, format)
	if err != nil {
		return err
	}
	err = log.EachEvent(ctx, func(ev *hmisauth.Event) error {
		if !f.match(ev) {
			return nil
		}
		return x.Write(ev)
	})
	if err != nil {
		return err
	}
	return x.Close()
}
