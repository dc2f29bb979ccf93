package config

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	// Sites name IANA time zones; embedding the database means the default configuration works
	// in a minimal container that has no /usr/share/zoneinfo.
	_ "time/tzdata"

	"gopkg.in/yaml.v3"

	"github.com/hmisauth/hmisauth"
	"github.com/hmisauth/hmisauth/password"
)

// Config is the whole configuration of one hmisauth installation.
type Config struct {
	Listen    string `yaml:"listen"`
	PublicURL string `yaml:"public_url"`
	Database  string `yaml:"database"`
	// TrustedProxies are the reverse proxies in front of the server, as CIDR ranges or single
	// addresses: only from them is X-Forwarded-For or Forwarded believed (TrustedProxyPrefixes).
	TrustedProxies []string         `yaml:"trusted_proxies"`
	Mail           Mail             `yaml:"mail"`
	PasswordHash   password.Options `yaml:"password_hash"`
	// SecretKey (base64 of 32 bytes) seals 2-step verification secrets at rest; every server
	// on one database needs the same. Empty: SecretKeyFile is read, or, when that is empty
	// too, the data folder's secret.key, made on first start.
	SecretKey     string `yaml:"secret_key"`
	SecretKeyFile string `yaml:"secret_key_file"`
	Log           Log    `yaml:"log"`
	// MetricsListen, when set, serves /metrics (Prometheus) on its own address, e.g.
	// 127.0.0.1:9090, kept off the users' listener. MetricsToken, when set, serves it on the
	// main listener too, to requests carrying "Authorization: Bearer TOKEN", and is required
	// on MetricsListen as well. Neither set: no /metrics at all.
	MetricsListen string                    `yaml:"metrics_listen"`
	MetricsToken  string                    `yaml:"metrics_token"`
	OIDC          OIDC                      `yaml:"oidc"`
	Sites         map[string]*hmisauth.Site `yaml:"sites"`

	// DataDir is where the default database and mail directory live (the --data flag).
	DataDir string `yaml:"-"`
	// SiteKeys are the keys of Sites, sorted, so that lists and menus are stable.
	SiteKeys []string `yaml:"-"`
}

// Mail says how e-mail leaves the server.
type Mail struct {
	// Transport is dev (kept for the /dev/mail inbox page), file (one .eml per message in Dir)
	// or smtp.
	Transport string `yaml:"transport"`
	Dir       string `yaml:"dir"`
	From      string `yaml:"from"`
	SMTP      SMTP   `yaml:"smtp"`
	DKIM      DKIM   `yaml:"dkim"`
}

// SMTP is the mail server used when Mail.Transport is smtp.
type SMTP struct {
	Host     string `yaml:"host"`
	Port     int    `yaml:"port"`
	Username string `yaml:"username"`
	Password string `yaml:"password"`
	// TLS is starttls, tls (implicit TLS, usually port 465) or none.
	TLS string `yaml:"tls"`
}

// DKIM signs outgoing mail so that reset links land in the inbox rather than in spam. All
// three fields are set, or none.
type DKIM struct {
	Domain         string `yaml:"domain"`
	Selector       string `yaml:"selector"`
	PrivateKeyFile string `yaml:"private_key_file"`
}

// OIDC configures the OpenID Connect provider every site is.
type OIDC struct {
	// KeyRotation is how long a signing key signs before the next one takes over.
	KeyRotation time.Duration `yaml:"key_rotation"`
}

// Log says what the server logs and how.
type Log struct {
	Level  string `yaml:"level"`  // debug, info, warn, error
	Format string `yaml:"format"` // text, json
}

// Site returns the site with the given key.
func (c *Config) Site(key string) (*hmisauth.Site, bool) {
	s, ok := c.Sites[key]
	return s, ok
}

// TrustedProxyPrefixes is trusted_proxies as address ranges, a single address being a range
// of one. Load has refused every entry that is not one.
func (c *Config) TrustedProxyPrefixes() []netip.Prefix {
	var out []netip.Prefix
	for _, s := range c.TrustedProxies {
		if p, err := parseTrustedProxy(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// parseTrustedProxy reads one trusted_proxies entry: a CIDR range (10.0.0.0/8, fd00::/8) or a
// single address (192.0.2.10, 2001:db8::10). The error says what is wrong, without the key.
func parseTrustedProxy(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return p, fmt.Errorf("has %q, which is not a CIDR range like 10.0.0.0/8", s)
		}
		if p.Masked() != p {
			return p, fmt.Errorf("has %q, whose address has bits past the /%d set; write %s", s, p.Bits(), p.Masked())
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return p, fmt.Errorf("has %q, which is not an address like 192.0.2.10 or a CIDR range like 10.0.0.0/8", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Bits() == 0 {
		return p, fmt.Errorf("has %q, which trusts every address: anyone could then choose the address they are recorded under", s)
	}
	if p.Addr().Is4In6() {
		// The server sees IPv4 peers as IPv4, so a range written as ::ffff:… would match
		// nothing.
		return p, fmt.Errorf("has %q; write IPv4 addresses as IPv4, like 10.0.0.0/8", s)
	}
	return p, nil
}

// Secure reports whether users reach the server over HTTPS, so cookies are marked Secure and
// HSTS is sent. It follows public_url because TLS usually ends at a proxy in front of us.
func (c *Config) Secure() bool {
	u, err := url.Parse(c.PublicURL)
	return err == nil && u.Scheme == "https"
}

// Load reads the configuration: defaults, then the YAML file at path (none when path is ""),
// then the HMISAUTH_… variables of environ (os.Environ() in production), then validates it all.
// dataDir is where the default database and mail directory go. Every problem found is returned
// together, one per line, each naming its key.
func Load(path, dataDir string, environ []string) (*Config, error) {
	c := defaults(dataDir)
	l := &loader{where: map[string]string{}, done: map[doneKey]bool{}}
	baseDir := ""
	if path != "" {
		doc, err := readFile(path)
		if err != nil {
			return nil, err
		}
		if doc != nil {
			l.decodeStruct("", doc, reflectValue(c))
		}
		baseDir = filepath.Dir(path)
	}
	l.applyEnv(c, environ)
	l.finish(c, baseDir)
	l.validate(c)
	if len(l.errs) > 0 {
		return nil, errors.Join(l.errs...)
	}
	return c, nil
}

// defaults is the configuration with no file: enough to try the product on one machine.
func defaults(dataDir string) *Config {
	return &Config{
		Listen:   "127.0.0.1:8080",
		Database: "sqlite:" + filepath.Join(dataDir, "hmisauth.db"),
		Mail: Mail{
			Transport: "dev",
			Dir:       filepath.Join(dataDir, "mail"),
			From:      "HMIS Helpdesk <donotreply@localhost>",
			SMTP:      SMTP{Host: "localhost", Port: 587, TLS: "starttls"},
		},
		PasswordHash: password.DefaultOptions(),
		Log:          Log{Level: "info", Format: "text"},
		OIDC:         OIDC{KeyRotation: 90 * 24 * time.Hour},
		Sites:        map[string]*hmisauth.Site{"live": defaultSite("live"), "training": defaultSite("training")},
		DataDir:      dataDir,
	}
}

// defaultSite is what a site gets for every key it leaves out. A site keyed "training" is a
// training site unless it says otherwise, so the built-in pair and a file's pair agree.
func defaultSite(key string) *hmisauth.Site {
	name := "HMIS " + strings.ToUpper(key[:1]) + key[1:]
	return &hmisauth.Site{
		Name:     name,
		Training: key == "training",
		Timezone: "America/Chicago",
		Helpdesk: hmisauth.Helpdesk{Email: "helpdesk@example.org"},
		Policy:   hmisauth.DefaultPolicy(),
	}
}

// maxFileSize bounds what is read for a configuration or terms file: a mistyped path to a
// device or a log file must fail fast instead of filling memory.
const maxFileSize = 1 << 20

// readFile parses the configuration file into its top YAML node; nil means an empty file.
func readFile(path string) (*yaml.Node, error) {
	data, err := readSmallFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	var doc, extra yaml.Node
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	err = guard(func() error { return dec.Decode(&doc) })
	if errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("config: %s is not valid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if err := guard(func() error { return dec.Decode(&extra) }); err == nil {
		return nil, fmt.Errorf("config: %s must hold one YAML document, not several", path)
	} else if !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config: %s is not valid YAML: %s", path, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	return doc.Content[0], nil
}

// readSmallFile reads a regular file of at most maxFileSize bytes.
func readSmallFile(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("%s is larger than %d bytes", path, maxFileSize)
	}
	return data, nil
}

// guard turns a panic inside the YAML library into an error: a configuration file is input,
// and a malformed one must produce a message, never a crash.
func guard(f func() error) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("yaml: cannot parse: %v", r)
		}
	}()
	return f()
}

// finish derives what depends on other settings, once file and environment are applied:
// site keys, time zones, terms text and the default public URL.
func (l *loader) finish(c *Config, baseDir string) {
	if c.PublicURL == "" {
		if _, port, err := net.SplitHostPort(c.Listen); err == nil {
			c.PublicURL = "http://localhost:" + port
		}
	}
	// Links are built as public_url + "/live/…", so a trailing slash would double.
	c.PublicURL = strings.TrimRight(c.PublicURL, "/")
	c.SiteKeys = c.SiteKeys[:0]
	for key, s := range c.Sites {
		c.SiteKeys = append(c.SiteKeys, key)
		s.Key = key
	}
	sort.Strings(c.SiteKeys)
	for _, key := range c.SiteKeys {
		s := c.Sites[key]
		prefix := "sites." + key + "."
		if s.Timezone == "" || s.Timezone == "Local" {
			// "Local" is whatever the host says, which silently changes with the container.
			l.bad(prefix+"timezone", "must name a time zone like America/Chicago")
		} else if loc, err := time.LoadLocation(s.Timezone); err != nil {
			l.bad(prefix+"timezone", "%q is not a known time zone; use a name like America/Chicago", s.Timezone)
		} else {
			s.Location = loc
		}
		l.applyPasswordProfile(prefix+"policy.password.", &s.Policy.Password)
		l.loadTerms(prefix+"policy.terms.text_file", &s.Policy.Terms, baseDir)
		l.loadClientSecrets(prefix+"clients.", s.Clients, baseDir)
	}
}
