package web_test

import (
	"bytes"
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Browsers ask for /favicon.ico on every page; it must be a real icon, cached, linked from the
// layout, and logged quietly rather than as a 404 on every page view.
func TestBrowsersGetTheFavicon(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	b.get("/live/login").wantText(`<link rel="icon" href="/favicon.ico">`)

	r := b.get("/favicon.ico")
	if r.Status != http.StatusOK {
		t.Fatalf("favicon: status %d", r.Status)
	}
	if ct := r.Header.Get("Content-Type"); ct != "image/x-icon" {
		t.Errorf("Content-Type %q, want image/x-icon", ct)
	}
	if cc := r.Header.Get("Cache-Control"); !strings.Contains(cc, "max-age=") {
		t.Errorf("Cache-Control %q, want a max-age", cc)
	}
	// An ICO file: reserved 0, type 1 (icon), then how many images; each directory entry of
	// 16 bytes names an image that lies inside the file.
	if len(r.Body) < 22 || !bytes.Equal(r.Body[:4], []byte{0, 0, 1, 0}) {
		t.Fatalf("not an ICO file: % x", r.Body[:min(len(r.Body), 8)])
	}
	n := int(binary.LittleEndian.Uint16(r.Body[4:6]))
	if n < 1 || len(r.Body) < 6+16*n {
		t.Fatalf("ICO directory of %d images in %d bytes", n, len(r.Body))
	}
	for i := range n {
		entry := r.Body[6+16*i : 22+16*i]
		size, offset := binary.LittleEndian.Uint32(entry[8:12]), binary.LittleEndian.Uint32(entry[12:16])
		if size == 0 || int(offset)+int(size) > len(r.Body) {
			t.Errorf("image %d: %d bytes at %d, past the end of a %d-byte file", i, size, offset, len(r.Body))
		}
	}

	// A browser revalidating its copy gets a 304 without the icon again.
	req, err := http.NewRequest("GET", e.srv.URL+"/favicon.ico", nil)
	if err != nil {
		t.Fatal(err)
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	req.Header.Set("If-None-Match", etag)
	if again := e.do(b.c, req); again.Status != http.StatusNotModified || len(again.Body) != 0 {
		t.Errorf("revalidation: status %d, %d bytes", again.Status, len(again.Body))
	}

	// The request log line is written once the handler returns, which may be just after the
	// client has the answer.
	var line string
	for deadline := time.Now().Add(5 * time.Second); line == "" && time.Now().Before(deadline); {
		for _, l := range strings.Split(e.logs.String(), "\n") {
			if strings.Contains(l, "path=/favicon.ico") {
				line = l
				break
			}
		}
		if line == "" {
			time.Sleep(10 * time.Millisecond)
		}
	}
	if !strings.Contains(line, "level=DEBUG") || !strings.Contains(line, "status=200") {
		t.Errorf("favicon request logged as %q, want a debug line with status 200", line)
	}
}
