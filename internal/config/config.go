// Package config is the one configuration of the product: defaults, then
// environment variables, then command-line flags; Validate says what is wrong,
// one line per problem. It is passed around, never global.
package config

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Config holds every setting.
type Config struct {
	Addr         string // CRM_ADDR: where to listen
	DB           string // CRM_DB: file path, sqlite:PATH or postgres://...
	BaseURL      string // CRM_BASE_URL: public address for links in e-mails; default the served address
	WebhookToken string // CRM_WEBHOOK_TOKEN: bearer token of the bounce/complaint webhook
	SMTPHost     string // CRM_SMTP_HOST
	SMTPPort     int    // CRM_SMTP_PORT
	SMTPUser     string // CRM_SMTP_USER
	SMTPPassword string // CRM_SMTP_PASSWORD
	SMTPFrom     string // CRM_SMTP_FROM
	DataDir      string // CRM_DATA_DIR: uploads and the default SQLite file
	LogLevel     string // CRM_LOG_LEVEL: debug, info, warn, error
	// CRM_JOB_RESCUE_AFTER: how soon a background job whose process died
	// (or outlived its shutdown grace) is taken up again
	JobRescueAfter time.Duration
	// CRM_TRUSTED_PROXIES: comma-separated CIDRs (or addresses) of reverse
	// proxies whose X-Forwarded-For is believed; see TrustedProxyList.
	TrustedProxies string
	// CRM_SMTP_TLS: starttls (required), opportunistic or none; default
	// starttls when a password is set, else opportunistic.
	SMTPTLS string
	// CRM_IMPORT_UPLOAD_CAP: bytes the uploaded files of one user's
	// unfinished imports may take on disk
	ImportUploadCap int64
	// CRM_GRAVATAR: on (default) or off. On, the server fetches customers'
	// Gravatar pictures and serves them from our origin (GET /avatars/...);
	// off, nobody asks Gravatar and pages show initials.
	Gravatar string
	// CRM_GRAVATAR_URL: where pictures are fetched (hash appended); tests
	// point it at a local server. Default https://www.gravatar.com/avatar/.
	GravatarURL string
	// CRM_DB_READ: a streaming replica of the PostgreSQL database CRM_DB,
	// postgres://..., for the table, counts, search, drawer and exports.
	DBRead string
	// CRM_DB_READ_MAX_LAG: a replica further behind than this is skipped
	// (reads go to the primary) until it catches up.
	DBReadMaxLag time.Duration
	// CRM_LOG_FORMAT: text (key=value lines, the default) or json (one
	// object a line, for a log collector).
	LogFormat string
	// CRM_METRICS_TOKEN: GET /metrics on the main address answers only
	// requests with Authorization: Bearer <token>; unset, it is not served
	// there (404). Environment only: a flag would show it in ps.
	MetricsToken string
	// CRM_METRICS_ADDR: HOST:PORT of a second listener serving only
	// /metrics, without a token (keep it on a private network).
	MetricsAddr string
	// CRM_PPROF_ADDR: HOST:PORT of a separate listener serving Go's
	// profiler (net/http/pprof) for performance work; empty (the default):
	// no profiler anywhere.
	PprofAddr string
	// CRM_WEBHOOK_ALLOW_PRIVATE: true lets webhook endpoints be on loopback
	// and private addresses (a receiver on the same machine or network);
	// default false: only public addresses, checked after name resolution.
	WebhookAllowPrivate bool
}

// Defaults returns the settings used when nothing is said.
func Defaults() Config {
	return Config{Addr: "127.0.0.1:8080", DataDir: "data", SMTPPort: 587, LogLevel: "info", JobRescueAfter: 2 * time.Minute, ImportUploadCap: 2 << 30, Gravatar: "on",
		DBReadMaxLag: 5 * time.Second, LogFormat: "text"}
}

// FromEnv overlays environment variables onto c.
func (c *Config) FromEnv(getenv func(string) string) error {
	str := func(name string, dst *string) {
		if v := getenv(name); v != "" {
			*dst = v
		}
	}
	str("CRM_ADDR", &c.Addr)
	str("CRM_DB", &c.DB)
	str("CRM_BASE_URL", &c.BaseURL)
	str("CRM_WEBHOOK_TOKEN", &c.WebhookToken)
	str("CRM_SMTP_HOST", &c.SMTPHost)
	str("CRM_SMTP_USER", &c.SMTPUser)
	str("CRM_SMTP_PASSWORD", &c.SMTPPassword)
	str("CRM_SMTP_FROM", &c.SMTPFrom)
	str("CRM_DATA_DIR", &c.DataDir)
	str("CRM_LOG_LEVEL", &c.LogLevel)
	str("CRM_TRUSTED_PROXIES", &c.TrustedProxies)
	str("CRM_SMTP_TLS", &c.SMTPTLS)
	str("CRM_GRAVATAR", &c.Gravatar)
	str("CRM_GRAVATAR_URL", &c.GravatarURL)
	str("CRM_LOG_FORMAT", &c.LogFormat)
	str("CRM_METRICS_TOKEN", &c.MetricsToken)
	str("CRM_METRICS_ADDR", &c.MetricsAddr)
	str("CRM_PPROF_ADDR", &c.PprofAddr)
	if v := getenv("CRM_SMTP_PORT"); v != "" {
		p, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("CRM_SMTP_PORT: %q is not a port number", v)
		}
		c.SMTPPort = p
	}
	if v := getenv("CRM_JOB_RESCUE_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("CRM_JOB_RESCUE_AFTER: %q is not a duration (say 2m or 90s)", v)
		}
		c.JobRescueAfter = d
	}
	str("CRM_DB_READ", &c.DBRead)
	if v := getenv("CRM_DB_READ_MAX_LAG"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("CRM_DB_READ_MAX_LAG: %q is not a duration (say 5s or 500ms)", v)
		}
		c.DBReadMaxLag = d
	}
	if v := getenv("CRM_WEBHOOK_ALLOW_PRIVATE"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("CRM_WEBHOOK_ALLOW_PRIVATE: %q is not true or false", v)
		}
		c.WebhookAllowPrivate = b
	}
	if v := getenv("CRM_IMPORT_UPLOAD_CAP"); v != "" {
		n, err := ParseBytes(v)
		if err != nil {
			return fmt.Errorf("CRM_IMPORT_UPLOAD_CAP: %v", err)
		}
		c.ImportUploadCap = n
	}
	return nil
}

// ParseBytes reads a size: a number of bytes, or one with a unit (KiB,
// MiB, GiB, TiB; K, M, G, T and KB, MB, GB, TB are read as the same).
func ParseBytes(v string) (int64, error) {
	s := strings.TrimSpace(v)
	i := len(s)
	for i > 0 && (s[i-1] < '0' || s[i-1] > '9') {
		i--
	}
	unit := strings.ToUpper(strings.TrimSpace(s[i:]))
	unit = strings.TrimSuffix(strings.TrimSuffix(unit, "B"), "I")
	shift, ok := map[string]uint{"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[unit]
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if !ok || err != nil || n < 0 || n > (1<<62)>>shift {
		return 0, fmt.Errorf("%q is not a size (write it like 2GiB, 500MiB or 1048576)", v)
	}
	return n << shift, nil
}

// bytesValue is a flag holding a size.
type bytesValue struct{ p *int64 }

func (b bytesValue) String() string {
	if b.p == nil {
		return ""
	}
	return strconv.FormatInt(*b.p, 10)
}

func (b bytesValue) Set(v string) error {
	n, err := ParseBytes(v)
	if err != nil {
		return err
	}
	*b.p = n
	return nil
}

// DBFlag registers --db on fs (every command has it).
func (c *Config) DBFlag(fs *flag.FlagSet) {
	fs.StringVar(&c.DB, "db", c.DB, "database: a file path, sqlite:PATH or postgres://... (env CRM_DB; default DATA_DIR/crm.db)")
	fs.StringVar(&c.DataDir, "data-dir", c.DataDir, "folder for the default SQLite file and uploads (env CRM_DATA_DIR)")
}

// ServeFlags registers the flags of crm serve on fs.
func (c *Config) ServeFlags(fs *flag.FlagSet) {
	c.DBFlag(fs)
	fs.StringVar(&c.Addr, "addr", c.Addr, "HOST:PORT to listen on (env CRM_ADDR); port 0 picks a free one")
	fs.StringVar(&c.BaseURL, "base-url", c.BaseURL, "public URL used in links sent by e-mail (env CRM_BASE_URL)")
	fs.StringVar(&c.LogLevel, "log-level", c.LogLevel, "debug, info, warn or error (env CRM_LOG_LEVEL)")
	fs.StringVar(&c.TrustedProxies, "trusted-proxies", c.TrustedProxies,
		"comma-separated CIDRs of reverse proxies whose X-Forwarded-For names the client (env CRM_TRUSTED_PROXIES)")
	fs.Var(bytesValue{&c.ImportUploadCap}, "import-upload-cap",
		"disk the uploads of one user's unfinished imports may take, like 2GiB; 0 for no cap (env CRM_IMPORT_UPLOAD_CAP)")
	fs.StringVar(&c.Gravatar, "gravatar", c.Gravatar,
		"on: customers' Gravatar pictures, fetched and cached by the server; off: initials only, Gravatar never asked (env CRM_GRAVATAR)")
	fs.StringVar(&c.GravatarURL, "gravatar-url", c.GravatarURL, "where Gravatar pictures are fetched from (env CRM_GRAVATAR_URL)")
	c.ReplicaFlags(fs)
	fs.StringVar(&c.LogFormat, "log-format", c.LogFormat, "text or json: how log lines are written (env CRM_LOG_FORMAT)")
	fs.StringVar(&c.MetricsAddr, "metrics-addr", c.MetricsAddr,
		"HOST:PORT of a separate listener serving /metrics without a token; keep it private (env CRM_METRICS_ADDR). "+
			"On the main address /metrics needs CRM_METRICS_TOKEN")
	fs.StringVar(&c.PprofAddr, "pprof-addr", c.PprofAddr,
		"HOST:PORT of a separate listener serving Go's profiler under /debug/pprof/, for performance work; off when empty (env CRM_PPROF_ADDR)")
	fs.BoolVar(&c.WebhookAllowPrivate, "webhook-allow-private", c.WebhookAllowPrivate,
		"let webhook endpoints be on loopback and private addresses (env CRM_WEBHOOK_ALLOW_PRIVATE)")
}

// ReplicaFlags registers the read replica's flags on fs.
func (c *Config) ReplicaFlags(fs *flag.FlagSet) {
	fs.StringVar(&c.DBRead, "db-read", c.DBRead,
		"postgres://... of a streaming replica of --db (PostgreSQL only) for the table, counts, search, drawer and exports (env CRM_DB_READ)")
	fs.DurationVar(&c.DBReadMaxLag, "db-read-max-lag", c.DBReadMaxLag,
		"a replica further behind the primary is skipped until it catches up (env CRM_DB_READ_MAX_LAG)")
}

// validateReplica checks the read replica's settings.
func (c Config) validateReplica() []error {
	var errs []error
	if c.DBRead != "" {
		switch {
		case !strings.HasPrefix(c.DBRead, "postgres://") && !strings.HasPrefix(c.DBRead, "postgresql://"):
			errs = append(errs, fmt.Errorf("db-read: %q is not a postgres:// address", redact(c.DBRead)))
		case !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://"):
			errs = append(errs, errors.New("db-read: a read replica needs a PostgreSQL database (--db postgres://...); SQLite is read by the process's own reader connections"))
		}
	}
	if c.DBReadMaxLag < 100*time.Millisecond {
		errs = append(errs, fmt.Errorf("db-read-max-lag: %s is shorter than 100ms", c.DBReadMaxLag))
	}
	return errs
}

// RedactedDBRead is the replica setting with any password hidden, safe to log.
func (c Config) RedactedDBRead() string { return redact(c.DBRead) }

// ErrUsage marks a command line that could not be parsed.
var ErrUsage = errors.New("usage")

// Load builds the configuration of one command: defaults, env, then flags.
func Load(fs *flag.FlagSet, register func(*Config, *flag.FlagSet), args []string) (Config, error) {
	c := Defaults()
	if err := c.FromEnv(os.Getenv); err != nil {
		return c, err
	}
	register(&c, fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return c, err
		}
		return c, fmt.Errorf("%w: %v", ErrUsage, err) // the FlagSet has printed its usage
	}
	if c.DB == "" {
		c.DB = filepath.Join(c.DataDir, "crm.db")
	}
	return c, c.Validate()
}

// Validate reports every problem, one line each.
func (c Config) Validate() error {
	var errs []error
	if _, port, err := net.SplitHostPort(c.Addr); err != nil {
		errs = append(errs, fmt.Errorf("addr: %q is not HOST:PORT", c.Addr))
	} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		errs = append(errs, fmt.Errorf("addr: %q has no valid port", c.Addr))
	}
	if c.DB == "" {
		errs = append(errs, errors.New("db: no database given"))
	} else if strings.Contains(c.DB, "://") && !strings.HasPrefix(c.DB, "postgres://") && !strings.HasPrefix(c.DB, "postgresql://") {
		errs = append(errs, fmt.Errorf("db: %q is neither a file path, sqlite:PATH nor postgres://", redact(c.DB)))
	}
	if c.BaseURL != "" {
		if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("base-url: %q is not an http(s) URL", c.BaseURL))
		}
	}
	if c.SMTPPort <= 0 || c.SMTPPort > 65535 {
		errs = append(errs, fmt.Errorf("smtp port: %d is not a port", c.SMTPPort))
	}
	if c.JobRescueAfter < time.Second {
		errs = append(errs, fmt.Errorf("job rescue after: %s is shorter than a second", c.JobRescueAfter))
	}
	if _, err := c.TrustedProxyList(); err != nil {
		errs = append(errs, err)
	}
	switch c.SMTPTLSMode() {
	case SMTPStartTLS, SMTPOpportunistic:
	case SMTPNoTLS:
		if c.SMTPPassword != "" {
			errs = append(errs, errors.New("smtp tls: none would send the SMTP password in clear; use starttls"))
		}
	default:
		errs = append(errs, fmt.Errorf("smtp tls: %q is not starttls, opportunistic or none", c.SMTPTLS))
	}
	if _, err := c.GravatarOn(); err != nil {
		errs = append(errs, err)
	}
	if c.GravatarURL != "" {
		if u, err := url.Parse(c.GravatarURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("gravatar-url: %q is not an http(s) URL without a query", c.GravatarURL))
		}
	}
	if c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			errs = append(errs, fmt.Errorf("pprof-addr: %q is not HOST:PORT", c.PprofAddr))
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		errs = append(errs, fmt.Errorf("log-level: %q is not debug, info, warn or error", c.LogLevel))
	}
	errs = append(errs, c.validateReplica()...)
	errs = append(errs, c.validateOps()...)
	return errors.Join(errs...)
}

// MinMetricsToken is the shortest CRM_METRICS_TOKEN accepted.
const MinMetricsToken = 16

// validateOps checks the settings of logs and metrics.
func (c Config) validateOps() []error {
	var errs []error
	switch c.LogFormat {
	case "text", "json":
	default:
		errs = append(errs, fmt.Errorf("log-format: %q is not text or json", c.LogFormat))
	}
	if c.MetricsToken != "" && len(c.MetricsToken) < MinMetricsToken {
		errs = append(errs, fmt.Errorf("metrics token: CRM_METRICS_TOKEN is shorter than %d characters; use a long random one (openssl rand -hex 24)", MinMetricsToken))
	}
	if c.MetricsAddr != "" {
		if _, port, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			errs = append(errs, fmt.Errorf("metrics-addr: %q is not HOST:PORT", c.MetricsAddr))
		} else if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("metrics-addr: %q has no valid port", c.MetricsAddr))
		} else if c.MetricsAddr == c.Addr && p != 0 {
			errs = append(errs, fmt.Errorf("metrics-addr: %q is the main address; give metrics a port of their own", c.MetricsAddr))
		}
	}
	return errs
}

// TrustedProxyList parses TrustedProxies: CIDRs or single addresses,
// separated by commas or spaces.
func (c Config) TrustedProxyList() ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(c.TrustedProxies, func(r rune) bool { return r == ',' || r == ' ' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
		} else if a, err := netip.ParseAddr(f); err == nil {
			a = a.Unmap()
			out = append(out, netip.PrefixFrom(a, a.BitLen()))
		} else {
			return nil, fmt.Errorf("trusted-proxies: %q is not a CIDR or an IP address", f)
		}
	}
	return out, nil
}

// GravatarOn reads CRM_GRAVATAR: on (also true, 1, yes) or off (false, 0, no).
func (c Config) GravatarOn() (bool, error) {
	switch strings.ToLower(strings.TrimSpace(c.Gravatar)) {
	case "on", "true", "1", "yes", "":
		return true, nil
	case "off", "false", "0", "no":
		return false, nil
	}
	return false, fmt.Errorf("gravatar: %q is neither on nor off", c.Gravatar)
}

// SMTP TLS modes (CRM_SMTP_TLS).
const (
	SMTPStartTLS      = "starttls"      // STARTTLS required: no mail without it
	SMTPOpportunistic = "opportunistic" // STARTTLS when the server offers it
	SMTPNoTLS         = "none"          // plain text (a local relay); no password allowed
)

// SMTPTLSMode is the SMTP TLS mode in force: SMTPTLS, or by default
// starttls when a password is set, else opportunistic.
func (c Config) SMTPTLSMode() string {
	if c.SMTPTLS != "" {
		return strings.ToLower(c.SMTPTLS)
	}
	if c.SMTPPassword != "" {
		return SMTPStartTLS
	}
	return SMTPOpportunistic
}

// RedactedDB is the database setting with any password hidden, safe to log.
func (c Config) RedactedDB() string { return redact(c.DB) }

func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.User == nil {
		return dsn
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}
