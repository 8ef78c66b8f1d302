package config

import (
	"flag"
	"testing"
)

// The cap on a user's unfinished uploads is read from the environment and
// the flag, with or without a unit, and a wrong value stops the start.
func TestImportUploadCap(t *testing.T) {
	if c := Defaults(); c.ImportUploadCap != 2<<30 {
		t.Fatalf("default %d", c.ImportUploadCap)
	}
	for in, want := range map[string]int64{"2GiB": 2 << 30, "500 MiB": 500 << 20, "1g": 1 << 30, "1048576": 1 << 20, "0": 0, "3KB": 3 << 10} {
		c := Defaults()
		if err := c.FromEnv(func(k string) string { return map[string]string{"CRM_IMPORT_UPLOAD_CAP": in}[k] }); err != nil || c.ImportUploadCap != want {
			t.Errorf("%q: %d %v, want %d", in, c.ImportUploadCap, err, want)
		}
	}
	for _, in := range []string{"lots", "-1", "2XB", "GiB", "99999999999T"} {
		c := Defaults()
		if err := c.FromEnv(func(k string) string { return map[string]string{"CRM_IMPORT_UPLOAD_CAP": in}[k] }); err == nil {
			t.Errorf("%q accepted as %d", in, c.ImportUploadCap)
		}
	}
	c := Defaults()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	c.ServeFlags(fs)
	if err := fs.Parse([]string{"--import-upload-cap", "3GiB"}); err != nil || c.ImportUploadCap != 3<<30 {
		t.Fatalf("flag: %d %v", c.ImportUploadCap, err)
	}
}
