package config

import (
	_ "embed"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"github.com/hmisauth/hmisauth"
)

// defaultTerms is shown to sites that set no terms.text_file, so that first login always has
// something sensible to accept. End users read it as the site's own terms, so it is complete
// as it stands and says nothing about being a default; docs/CONFIG.md asks every site to set
// its agency's own.
//
//go:embed default_terms.txt
var defaultTerms string

// DefaultTerms returns the built-in Terms of Agreement text.
func DefaultTerms() string { return strings.TrimSpace(defaultTerms) }

// loadTerms fills t.Text from t.TextFile, read relative to the configuration file's directory
// so that a config and its terms can move together, or with the built-in text.
func (l *loader) loadTerms(key string, t *hmisauth.Terms, baseDir string) {
	if t.TextFile == "" {
		t.Text = DefaultTerms()
		return
	}
	path := t.TextFile
	if !filepath.IsAbs(path) {
		path = filepath.Join(baseDir, path)
	}
	data, err := readSmallFile(path)
	switch {
	case err != nil:
		l.bad(key, "cannot be read: %v", err)
	case !utf8.Valid(data):
		l.bad(key, "must be UTF-8 text: %s is not", path)
	case strings.TrimSpace(string(data)) == "":
		l.bad(key, "is empty: users must have terms to accept (%s)", path)
	default:
		t.Text = strings.TrimSpace(string(data))
	}
}
