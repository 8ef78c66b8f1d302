package config

import (
	"flag"
	"strings"
	"testing"
)

func TestGravatarSetting(t *testing.T) {
	c := Defaults()
	c.DB = "x.db"
	if on, err := c.GravatarOn(); !on || err != nil || c.Validate() != nil {
		t.Fatalf("default: %v %v", on, err)
	}
	env := map[string]string{"CRM_GRAVATAR": "off", "CRM_GRAVATAR_URL": "http://127.0.0.1:9/avatar/"}
	if err := c.FromEnv(func(k string) string { return env[k] }); err != nil {
		t.Fatal(err)
	}
	if on, _ := c.GravatarOn(); on || c.GravatarURL != "http://127.0.0.1:9/avatar/" || c.Validate() != nil {
		t.Fatalf("env: %+v", c)
	}
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.ServeFlags(fs)
	if err := fs.Parse([]string{"--gravatar", "on"}); err != nil {
		t.Fatal(err)
	}
	if on, _ := c.GravatarOn(); !on {
		t.Fatal("--gravatar on did not win over the environment")
	}
	c.Gravatar, c.GravatarURL = "sometimes", "ftp://x/?s=1"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "gravatar: ") || !strings.Contains(err.Error(), "gravatar-url") {
		t.Fatalf("errors: %v", err)
	}
}
