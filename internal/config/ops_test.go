package config

import (
	"strings"
	"testing"
)

func TestOpsSettings(t *testing.T) {
	c := Defaults()
	c.DB = "x.db"
	env := map[string]string{"CRM_LOG_FORMAT": "json", "CRM_METRICS_TOKEN": "0123456789abcdef", "CRM_METRICS_ADDR": "127.0.0.1:9464"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil || c.LogFormat != "json" || c.MetricsAddr != "127.0.0.1:9464" || c.MetricsToken == "" {
		t.Fatalf("%v %+v", err, c)
	}
	bad := c
	bad.LogFormat, bad.MetricsToken, bad.MetricsAddr = "xml", "short", "nowhere"
	err := bad.Validate()
	if err == nil || len(strings.Split(err.Error(), "\n")) != 3 || !strings.Contains(err.Error(), "log-format") ||
		!strings.Contains(err.Error(), "shorter than 16") || !strings.Contains(err.Error(), "metrics-addr") || strings.Contains(err.Error(), "short\"") {
		t.Fatalf("%v", err)
	}
	same := c
	same.MetricsAddr = same.Addr
	if err := same.Validate(); err == nil || !strings.Contains(err.Error(), "the main address") {
		t.Fatalf("same address: %v", err)
	}
}
