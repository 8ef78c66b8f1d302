package sqlstore

import (
	"os"
	"path/filepath"
)

// CommitFile makes tmp the file target: it limits tmp to its owner (a
// backup holds every customer), syncs it, renames it over target and syncs
// the folder, so that after a crash target is the old file or the whole new
// one (the backups of both engines).
func CommitFile(tmp, target string) error {
	f, err := os.OpenFile(tmp, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, target); err != nil {
		return err
	}
	if d, err := os.Open(filepath.Dir(target)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
