package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hmisauth/hmisauth"
)

// inboxLimit is how many of the newest messages the development inbox shows.
const inboxLimit = 50

// inboxView is the development inbox: the newest e-mails, as their text parts.
type inboxView struct {
	Messages []inboxMessage
	Limit    int
}

type inboxMessage struct {
	Site     string // the site's name
	Training bool
	To       string
	Subject  string
	Kind     string
	Time     string // when it was queued, in the site's timezone
	Status   string // sent, waiting or abandoned
	Problem  string // the last delivery error, if any
	Text     []textPart
}

// textPart is a run of an e-mail's text; Href is set when the run is a link we trust.
type textPart struct {
	Text string
	Href string
}

// devMail is the development inbox at /dev/mail: with the "dev" transport no e-mail leaves the
// machine, and this page is where a developer or tester reads them and follows their links.
// It shows each message's text part only, escaped like any text; the HTML part is never
// rendered, so nothing in an e-mail can run or restyle this page.
func (s *Server) devMail(w http.ResponseWriter, r *http.Request) {
	msgs, err := s.opt.DevInbox(r.Context(), inboxLimit)
	if err != nil {
		s.log.ErrorContext(r.Context(), "development inbox failed", "err", err)
		s.internalError(w, r)
		return
	}
	origins := s.trustedOrigins(r)
	in := &inboxView{Limit: inboxLimit}
	for _, m := range msgs {
		in.Messages = append(in.Messages, s.inboxMessage(m, origins))
	}
	v := s.newView(r, nil)
	v.Inbox = in
	s.render(w, r, http.StatusOK, "devmail", v)
}

func (s *Server) inboxMessage(m *hmisauth.Message, origins []string) inboxMessage {
	im := inboxMessage{Site: m.Site, To: m.To, Subject: m.Subject, Kind: m.Kind,
		Text: linkify(m.Text, origins), Problem: m.LastError}
	loc := time.UTC
	if site, err := s.svc.Site(m.Site); err == nil {
		im.Site, im.Training, loc = site.Name, site.Training, site.Loc()
	}
	im.Time = m.CreatedAt.In(loc).Format("Mon Jan 2, 3:04:05 PM MST")
	switch {
	case !m.SentAt.IsZero():
		im.Status = "sent"
	case !m.AbandonedAt.IsZero():
		im.Status = "abandoned"
	default:
		im.Status = "waiting"
	}
	return im
}

// trustedOrigins are the origins whose links the inbox makes clickable: the address the page
// was opened at, and the public URL that e-mail links are built on.
func (s *Server) trustedOrigins(r *http.Request) []string {
	scheme := "http"
	if r.TLS != nil || s.opt.Secure {
		scheme = "https"
	}
	origins := []string{scheme + "://" + r.Host}
	if o := origin(s.opt.PublicURL); o != "" {
		origins = append(origins, o)
	}
	return origins
}

// origin is the scheme://host[:port] of an http(s) URL without user information, or "".
func origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// linkify splits an e-mail's text into runs, marking as links only the words that are
// http(s) URLs on one of the trusted origins or paths on this server ("/live/login"). Every
// run is still plain text for the template to escape: the e-mail is never trusted as HTML,
// and a link to anywhere else stays unclickable text.
func linkify(text string, origins []string) []textPart {
	var parts []textPart
	plain := func(s string) {
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && parts[n-1].Href == "" {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, textPart{Text: s})
	}
	for text != "" {
		// The next word and the white space before it.
		start := strings.IndexFunc(text, func(r rune) bool { return !isSpace(r) })
		if start < 0 {
			plain(text)
			break
		}
		end := strings.IndexFunc(text[start:], isSpace)
		if end < 0 {
			end = len(text)
		} else {
			end += start
		}
		plain(text[:start])
		word := text[start:end]
		text = text[end:]

		// Brackets and sentence punctuation around a link are not part of it.
		lead := len(word) - len(strings.TrimLeft(word, "(<[\"'"))
		core := strings.TrimRight(word[lead:], ".,;:!?)>]\"'")
		if href := trustedLink(core, origins); href != "" {
			plain(word[:lead])
			parts = append(parts, textPart{Text: core, Href: href})
			plain(word[lead+len(core):])
		} else {
			plain(word)
		}
	}
	return parts
}

func isSpace(r rune) bool {
	return r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\f' || r == '\v'
}

// trustedLink returns word as a link target when it is safe to make clickable, else "".
func trustedLink(word string, origins []string) string {
	if strings.ContainsAny(word, "\\<>\"'`") {
		return ""
	}
	if strings.HasPrefix(word, "/") {
		// A path on this server; "//host" would be another server.
		if len(word) > 1 && word[1] != '/' {
			return word
		}
		return ""
	}
	o := origin(word)
	if o == "" || len(word) < len(o) || !strings.EqualFold(word[:len(o)], o) {
		return ""
	}
	for _, trusted := range origins {
		// "http://localhost:8080" must not trust "http://localhost:8080.evil.example".
		if strings.EqualFold(o, trusted) && (len(word) == len(o) || strings.ContainsRune("/?#", rune(word[len(o)]))) {
			return word
		}
	}
	return ""
}
