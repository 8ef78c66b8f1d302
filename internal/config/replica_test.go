package config

import (
	"flag"
	"strings"
	"testing"
	"time"
)

// The read replica is read from the environment and the flags, needs a
// PostgreSQL primary, and its lag bound defaults to 5 s.
func TestDBRead(t *testing.T) {
	c := Defaults()
	if c.DBReadMaxLag != 5*time.Second {
		t.Fatalf("default max lag %s", c.DBReadMaxLag)
	}
	env := map[string]string{"CRM_DB": "postgres://p@h/crm", "CRM_DB_READ": "postgres://r@h2/crm", "CRM_DB_READ_MAX_LAG": "2s"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if c.DBRead != "postgres://r@h2/crm" || c.DBReadMaxLag != 2*time.Second {
		t.Fatalf("from env: %q %s", c.DBRead, c.DBReadMaxLag)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.ServeFlags(fs)
	if err := fs.Parse([]string{"--db-read", "postgres://r@h3/crm", "--db-read-max-lag", "750ms"}); err != nil ||
		c.DBRead != "postgres://r@h3/crm" || c.DBReadMaxLag != 750*time.Millisecond {
		t.Fatalf("flags: %q %s %v", c.DBRead, c.DBReadMaxLag, err)
	}
	if err := c.FromEnv(func(k string) string { return map[string]string{"CRM_DB_READ_MAX_LAG": "soon"}[k] }); err == nil {
		t.Fatal("a max lag that is no duration was accepted")
	}

	c.DB = "data/crm.db"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "needs a PostgreSQL database") {
		t.Fatalf("a replica for SQLite: %v", err)
	}
	c.DB, c.DBRead = "postgres://p@h/crm", "mysql://r@h/crm"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), "db-read") {
		t.Fatalf("a replica that is no PostgreSQL: %v", err)
	}
	c.DBRead, c.DBReadMaxLag = "postgres://r:secret@h/crm", time.Millisecond
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "db-read-max-lag") {
		t.Fatalf("a tiny max lag: %v", err)
	}
	if strings.Contains(c.RedactedDBRead(), "secret") {
		t.Fatalf("password shown: %s", c.RedactedDBRead())
	}
}
