package config

import (
	"strings"
	"testing"
)

func TestTrustedProxiesAndSMTPTLS(t *testing.T) {
	c := Defaults()
	c.DB = "x.db"
	env := map[string]string{"CRM_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7 ,::ffff:198.51.100.1,fd00::/8", "CRM_SMTP_PASSWORD": "p"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	ps, _ := c.TrustedProxyList()
	var got []string
	for _, p := range ps {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 198.51.100.1/32 fd00::/8" {
		t.Fatalf("proxies %v", got)
	}
	if c.SMTPTLSMode() != SMTPStartTLS {
		t.Fatalf("with a password the default is %q", c.SMTPTLSMode())
	}
	c.SMTPPassword = ""
	if c.SMTPTLSMode() != SMTPOpportunistic {
		t.Fatalf("without a password the default is %q", c.SMTPTLSMode())
	}

	c.TrustedProxies = "10.0.0.0/33,proxy.example"
	c.SMTPTLS = "none"
	c.SMTPPassword = "p"
	err := c.Validate()
	if err == nil || strings.Count(err.Error(), "\n") != 1 || !strings.Contains(err.Error(), "trusted-proxies") ||
		!strings.Contains(err.Error(), "in clear") {
		t.Fatalf("errors: %v", err)
	}
	c.TrustedProxies, c.SMTPTLS = "", "sometimes"
	if err := c.Validate(); err == nil || !strings.Contains(err.Error(), `"sometimes"`) {
		t.Fatalf("unknown mode: %v", err)
	}
}
