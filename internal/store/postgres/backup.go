package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/acme/crm/internal/store/sqlstore"
)

// MigrationVersions lists the versions of the embedded goose migrations,
// ascending: the schema is current when every one of them is applied.
func MigrationVersions() ([]int64, error) { return sqlstore.MigrationVersions(migrations) }

// DumpHeader is how a pg_dump custom-format archive begins.
var DumpHeader = []byte("PGDMP")

// Backup runs pg_dump in its custom format: one consistent snapshot of the
// database (a repeatable-read transaction) while the server keeps serving.
// The archive is written next to out under a temporary name and renamed to
// out once pg_dump succeeded.
func Backup(ctx context.Context, dsn, out string) error {
	bin, err := tool("pg_dump")
	if err != nil {
		return err
	}
	conn, err := connectOne(ctx, dsn)
	if err != nil {
		return err
	}
	server, err := serverMajor(ctx, conn)
	conn.Close(ctx)
	if err != nil {
		return err
	}
	client, err := toolMajor(ctx, bin)
	if err != nil {
		return err
	}
	if client < server {
		return fmt.Errorf("pg_dump %d is older than the PostgreSQL %d server and cannot dump it; install the client tools of version %d "+
			"(Debian/Ubuntu: apt-get install postgresql-client-%d) and put them first on PATH", client, server, server, server)
	}
	uri, env, err := libpq(dsn)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(out), "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return fmt.Errorf("cannot write next to %s: %w", out, err)
	}
	tmp := f.Name()
	f.Close()
	defer os.Remove(tmp)
	if err := runTool(ctx, bin, env, "--format=custom", "--no-password", "--file="+tmp, "--dbname="+uri); err != nil {
		return err
	}
	return sqlstore.CommitFile(tmp, out)
}

// Restore loads a pg_dump archive into the database of dsn, which must be
// empty (no tables, views or sequences outside the system schemas):
// pg_restore --no-owner --no-privileges --exit-on-error --single-transaction,
// so a failed restore leaves the database empty. The caller then opens it,
// which migrates a backup of an older version.
func Restore(ctx context.Context, file, dsn string) error {
	if err := checkDump(file); err != nil {
		return err
	}
	bin, err := tool("pg_restore")
	if err != nil {
		return err
	}
	conn, err := connectOne(ctx, dsn)
	if err != nil {
		return err
	}
	var n int
	err = conn.QueryRow(ctx, `SELECT count(*) FROM pg_class c JOIN pg_namespace s ON s.oid = c.relnamespace
		WHERE s.nspname NOT IN ('pg_catalog', 'information_schema') AND s.nspname NOT LIKE 'pg_toast%'
		AND c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')`).Scan(&n)
	name := conn.Config().Database
	conn.Close(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		return fmt.Errorf("the database %s is not empty (it has %d tables, views or sequences); restore only into an empty database "+
			"(createdb a new one and name it with --db), never over data", name, n)
	}
	uri, env, err := libpq(dsn)
	if err != nil {
		return err
	}
	if err := runTool(ctx, bin, env, "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction", "--no-password",
		"--dbname="+uri, file); err != nil {
		return err
	}
	return rebaseFeed(ctx, dsn)
}

// rebaseFeed makes the change feed of a restored database readable on
// this server: a feed row is handed out once its transaction id
// (activity.txid, migration 00021) is below every running transaction's,
// and ids are the server's own, so those written on another server may lie
// ahead of this one's and would stay hidden until it catches up. They are
// set to 0, the id of rows older than the feed: a reader that follows the
// feed starts again after a restore (README, "Change feed").
func rebaseFeed(ctx context.Context, dsn string) error {
	conn, err := connectOne(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var has bool
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM information_schema.columns
		WHERE table_schema = current_schema() AND table_name = 'activity' AND column_name = 'txid')`).Scan(&has); err != nil || !has {
		return err
	}
	_, err = conn.Exec(ctx, `UPDATE activity SET txid = '0' WHERE txid >= pg_snapshot_xmin(pg_current_snapshot())`)
	return err
}

func checkDump(file string) error {
	f, err := os.Open(file)
	if err != nil {
		return fmt.Errorf("cannot read the backup: %w", err)
	}
	defer f.Close()
	head := make([]byte, 16)
	n, _ := io.ReadFull(f, head)
	head = head[:n]
	if !bytes.HasPrefix(head, DumpHeader) {
		if bytes.HasPrefix(head, []byte("SQLite format 3")) {
			return fmt.Errorf("%s is a SQLite backup; restore it with --db PATH (a new SQLite file)", file)
		}
		return fmt.Errorf("%s is not a pg_dump archive of the custom format (crm backup makes one)", file)
	}
	return nil
}

// tool finds a PostgreSQL client program, or says how to install it.
func tool(name string) (string, error) {
	p, err := exec.LookPath(name)
	if err != nil {
		return "", fmt.Errorf("%s is not installed (or not on PATH); it comes with the PostgreSQL client tools, "+
			"of the server's major version or newer (Debian/Ubuntu: apt-get install postgresql-client)", name)
	}
	return p, nil
}

// connect opens one connection with the settings of dsn (pgx pool settings
// such as pool_max_conns in it are understood and left aside).
func connectOne(ctx context.Context, dsn string) (*pgx.Conn, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL address: %w", err)
	}
	c, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return nil, fmt.Errorf("cannot connect to PostgreSQL %s@%s/%s: %w", cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Database, err)
	}
	return c, nil
}

func serverMajor(ctx context.Context, c *pgx.Conn) (int, error) {
	var num string
	if err := c.QueryRow(ctx, `SHOW server_version_num`).Scan(&num); err != nil {
		return 0, err
	}
	v, err := strconv.Atoi(num)
	if err != nil {
		return 0, fmt.Errorf("server_version_num %q: %w", num, err)
	}
	return v / 10000, nil
}

var versionRe = regexp.MustCompile(`\(PostgreSQL\)\s+(\d+)`)

// toolMajor is the major version of a client program ("pg_dump (PostgreSQL) 15.20").
func toolMajor(ctx context.Context, bin string) (int, error) {
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("%s --version: %w", bin, err)
	}
	m := versionRe.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("%s --version said %q, not a version", bin, strings.TrimSpace(string(out)))
	}
	return strconv.Atoi(string(m[1]))
}

// libpqParams are the connection parameters libpq (pg_dump, pg_restore)
// understands; pgx's own (pool_max_conns, statement_cache_capacity...) and
// server settings in the address are left out.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true, "application_name": true,
	"fallback_application_name": true, "keepalives": true, "keepalives_idle": true, "keepalives_interval": true,
	"keepalives_count": true, "tcp_user_timeout": true, "sslmode": true, "sslnegotiation": true, "sslcompression": true,
	"sslcert": true, "sslkey": true, "sslpassword": true, "sslrootcert": true, "sslcrl": true, "sslcrldir": true,
	"sslsni": true, "requirepeer": true, "ssl_min_protocol_version": true, "ssl_max_protocol_version": true,
	"gssencmode": true, "krbsrvname": true, "gsslib": true, "gssdelegation": true, "service": true,
	"target_session_attrs": true, "load_balance_hosts": true, "require_auth": true,
}

// libpq turns dsn into an address for libpq without its password, which
// goes in the environment (PGPASSWORD) instead: a command line is visible
// to every user of the machine.
func libpq(dsn string) (string, []string, error) {
	u, err := url.Parse(dsn)
	if err != nil {
		return "", nil, fmt.Errorf("invalid PostgreSQL address: %w", err)
	}
	env := os.Environ()
	if u.User != nil {
		if pw, ok := u.User.Password(); ok {
			env = append(env, "PGPASSWORD="+pw)
			u.User = url.User(u.User.Username())
		}
	}
	q := url.Values{}
	for k, v := range u.Query() {
		if k == "password" {
			env = append(env, "PGPASSWORD="+v[len(v)-1])
			continue
		}
		if libpqParams[k] {
			q[k] = v
		}
	}
	u.RawQuery = q.Encode()
	return u.String(), env, nil
}

// runTool runs a client program; its error output (which names no password:
// none is on its command line) becomes the error.
func runTool(ctx context.Context, bin string, env []string, args ...string) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Stdout = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if len(msg) > 2000 {
			msg = msg[:2000] + "..."
		}
		if msg == "" {
			msg = err.Error()
		}
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s failed: %s", filepath.Base(bin), msg)
		}
		return fmt.Errorf("%s: %w", filepath.Base(bin), err)
	}
	return nil
}
