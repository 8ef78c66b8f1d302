package sqlite

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/acme/crm/internal/store/sqlstore"
)

// MigrationVersions lists the versions of the embedded goose migrations,
// ascending: the schema is current when every one of them is applied.
func MigrationVersions() ([]int64, error) { return sqlstore.MigrationVersions(migrations) }

// Header is how every SQLite database file begins.
var Header = []byte("SQLite format 3\x00")

// fileDSN opens path as it is: never created (mode=rw or ro), waiting for
// locks like the server does.
func fileDSN(path, mode string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?mode=" + mode + "&_pragma=busy_timeout(10000)"
}

// Backup writes a consistent copy of the database at path to out while
// other processes keep reading and writing it: VACUUM INTO reads one
// snapshot (a read transaction, which in WAL mode neither blocks writers
// nor sees their later commits) and writes a compact new file. The copy is
// written next to out under a temporary name, checked, synced and only then
// renamed to out, so out is always either the old file or a whole backup.
func Backup(ctx context.Context, path, out string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no SQLite database at %s: %w", path, err)
	}
	if same(path, out) {
		return fmt.Errorf("--out %s is the database itself; write the backup to another file", out)
	}
	db, err := sql.Open("sqlite", fileDSN(path, "rw"))
	if err != nil {
		return err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if err := isCRM(ctx, db, path); err != nil {
		return err
	}
	tmp, err := tempName(out)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // gone after the rename; removes a failed copy
	if _, err := db.ExecContext(ctx, `VACUUM INTO $1`, tmp); err != nil {
		return fmt.Errorf("copying %s: %w", path, err)
	}
	if err := checkFile(ctx, tmp, "quick_check"); err != nil {
		return fmt.Errorf("the copy of %s failed its check: %w", path, err)
	}
	return sqlstore.CommitFile(tmp, out)
}

// Restore puts the backup file in place as the database at path, which must
// not exist yet or be an empty database: the backup is checked first
// (PRAGMA integrity_check), copied next to path under a temporary name,
// synced, and renamed into place. The caller then opens it, which migrates
// a backup of an older version.
func Restore(ctx context.Context, file, path string) error {
	if err := checkHeader(file); err != nil {
		return err
	}
	if err := emptyTarget(ctx, path); err != nil {
		return err
	}
	if err := checkFile(ctx, file, "integrity_check"); err != nil {
		return fmt.Errorf("the backup %s is damaged: %w", file, err)
	}
	src, err := sql.Open("sqlite", fileDSN(file, "ro"))
	if err != nil {
		return err
	}
	err = isCRM(ctx, src, file)
	src.Close()
	if err != nil {
		return err
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("cannot create the database folder %s: %w", dir, err)
		}
	}
	tmp, err := tempName(path)
	if err != nil {
		return err
	}
	defer os.Remove(tmp)
	if err := copyFile(file, tmp); err != nil {
		return err
	}
	// an empty database left by someone (a zero-byte file, an empty WAL)
	// goes: the restored file replaces it whole
	for _, f := range []string{path + "-wal", path + "-shm", path + "-journal"} {
		if err := os.Remove(f); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return sqlstore.CommitFile(tmp, path)
}

func checkHeader(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("cannot read the backup: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(Header))
	if _, err := io.ReadFull(f, head); err != nil || !bytes.Equal(head, Header) {
		if bytes.HasPrefix(head, []byte("PGDMP")) {
			return fmt.Errorf("%s is a PostgreSQL backup (pg_dump); restore it with --db postgres://...", file)
		}
		return fmt.Errorf("%s is not a SQLite backup of Customers", file)
	}
	return nil
}

// emptyTarget refuses a path that holds a database with any table in it.
func emptyTarget(ctx context.Context, path string) error {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if st.IsDir() {
		return fmt.Errorf("%s is a folder; name the database file to create", path)
	}
	wal, _ := os.Stat(path + "-wal")
	if st.Size() == 0 && (wal == nil || wal.Size() == 0) {
		return nil
	}
	db, err := sql.Open("sqlite", fileDSN(path, "ro"))
	if err != nil {
		return err
	}
	defer db.Close()
	var n int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&n); err != nil {
		return fmt.Errorf("%s exists and is not an empty SQLite database (%v); restore into a new file", path, err)
	}
	if n > 0 {
		return fmt.Errorf("%s is not empty (it has %d tables); restore only into a new file or an empty database, never over data", path, n)
	}
	return nil
}

// isCRM checks that db has the goose version table of our migrations.
func isCRM(ctx context.Context, db *sql.DB, name string) error {
	var n int
	err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'`).Scan(&n)
	if err != nil {
		return fmt.Errorf("cannot read %s as SQLite: %w", name, err)
	}
	if n == 0 {
		return fmt.Errorf("%s is not a Customers database (no schema version table)", name)
	}
	return nil
}

// checkFile runs PRAGMA integrity_check or quick_check on a file, read-only.
func checkFile(ctx context.Context, file, pragma string) error {
	db, err := sql.Open("sqlite", fileDSN(file, "ro"))
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `PRAGMA `+pragma)
	if err != nil {
		return err
	}
	defer rows.Close()
	var problems []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			return err
		}
		if line != "ok" {
			problems = append(problems, line)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(problems) > 0 {
		if len(problems) > 5 {
			problems = append(problems[:5], fmt.Sprintf("and %d more", len(problems)-5))
		}
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

// tempName returns an unused file name next to target (same folder, so the
// final rename is atomic).
func tempName(target string) (string, error) {
	f, err := os.CreateTemp(filepath.Dir(target), "."+filepath.Base(target)+".tmp-*")
	if err != nil {
		return "", fmt.Errorf("cannot write next to %s: %w", target, err)
	}
	name := f.Name()
	f.Close()
	// VACUUM INTO wants a file that does not exist (or is empty); the name
	// is ours, random, in the target's folder
	return name, os.Remove(name)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

func same(a, b string) bool {
	sa, err := os.Stat(a)
	if err != nil {
		return false
	}
	sb, err := os.Stat(b)
	return err == nil && os.SameFile(sa, sb)
}
