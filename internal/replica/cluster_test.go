package replica_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is a PostgreSQL primary and a streaming replica of it, made for
// one test in a temporary folder from the server's binaries, each on a free
// port of 127.0.0.1.
type cluster struct {
	t           *testing.T
	bin, dir    string
	runAs       []string // runuser -u postgres -- when the test runs as root (PostgreSQL refuses root)
	primaryPort int
	replicaPort int
}

// unavailable skips the test where PostgreSQL's binaries cannot be run,
// and fails it in CI, which has them.
func unavailable(t *testing.T, format string, args ...any) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("CI must run the replica test: "+format, args...)
	}
	t.Skipf("no streaming replica here: "+format, args...)
}

// pgBin finds the server's binaries: CRM_PG_BIN, else the newest of
// /usr/lib/postgresql/*/bin, else those on PATH.
func pgBin() string {
	if b := os.Getenv("CRM_PG_BIN"); b != "" {
		return b
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return vb - va
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	return ""
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// newCluster starts a primary (wal_level=replica, a replication line in its
// pg_hba.conf) and returns it; startReplica makes the replica.
func newCluster(t *testing.T) *cluster {
	t.Helper()
	bin := pgBin()
	if bin == "" {
		unavailable(t, "PostgreSQL's initdb is not installed")
	}
	dir, err := os.MkdirTemp("", "crm-replica-test-")
	if err != nil {
		t.Fatal(err)
	}
	c := &cluster{t: t, bin: bin, dir: dir}
	t.Cleanup(func() {
		for _, d := range []string{"replica", "primary"} {
			if _, err := os.Stat(filepath.Join(dir, d, "postmaster.pid")); err == nil {
				_ = c.pg("pg_ctl", "-D", filepath.Join(dir, d), "-m", "immediate", "-w", "stop")
			}
		}
		if t.Failed() {
			for _, l := range []string{"primary.log", "replica.log"} {
				if b, err := os.ReadFile(filepath.Join(dir, l)); err == nil {
					t.Logf("%s:\n%s", l, tail(string(b), 40))
				}
			}
		}
		os.RemoveAll(dir)
	})
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			unavailable(t, "running as root and there is no postgres user to run the server as")
		}
		runuser, err := exec.LookPath("runuser")
		if err != nil {
			unavailable(t, "running as root and runuser is missing")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.runAs = []string{runuser, "-u", "postgres", "--"}
	}
	c.primaryPort, c.replicaPort = freePort(t), freePort(t)
	primary := filepath.Join(dir, "primary")
	if err := c.pg("initdb", "-D", primary, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--no-locale"); err != nil {
		unavailable(t, "initdb: %v", err)
	}
	c.appendFile(filepath.Join(primary, "postgresql.conf"), fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = ''
max_connections = 60
wal_level = replica
max_wal_senders = 4
fsync = off
`, c.primaryPort))
	c.appendFile(filepath.Join(primary, "pg_hba.conf"), "\nhost replication postgres 127.0.0.1/32 trust\n")
	if err := c.pg("pg_ctl", "-D", primary, "-l", filepath.Join(dir, "primary.log"), "-w", "-t", "60", "start"); err != nil {
		t.Fatalf("start the primary: %v", err)
	}
	return c
}

// startReplica copies the primary with pg_basebackup -R (the first time)
// and starts the copy as a hot standby that applies each commit applyDelay
// after it (recovery_min_apply_delay): a replica that visibly lags.
func (c *cluster) startReplica(applyDelay time.Duration) {
	c.t.Helper()
	replica := filepath.Join(c.dir, "replica")
	if _, err := os.Stat(replica); err != nil {
		if err := c.pg("pg_basebackup", "-h", "127.0.0.1", "-p", strconv.Itoa(c.primaryPort), "-U", "postgres",
			"-D", replica, "-R", "-X", "stream", "-c", "fast"); err != nil {
			c.t.Fatalf("pg_basebackup: %v", err)
		}
		c.appendFile(filepath.Join(replica, "postgresql.conf"), fmt.Sprintf(`
port = %d
hot_standby = on
hot_standby_feedback = on
recovery_min_apply_delay = '%dms'
`, c.replicaPort, applyDelay.Milliseconds()))
	}
	if err := c.pg("pg_ctl", "-D", replica, "-l", filepath.Join(c.dir, "replica.log"), "-w", "-t", "60", "start"); err != nil {
		c.t.Fatalf("start the replica: %v", err)
	}
}

// stopReplica shuts the replica down (fast: its connections are cut).
func (c *cluster) stopReplica() {
	c.t.Helper()
	if err := c.pg("pg_ctl", "-D", filepath.Join(c.dir, "replica"), "-m", "fast", "-w", "stop"); err != nil {
		c.t.Fatalf("stop the replica: %v", err)
	}
}

func (c *cluster) primaryDSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.primaryPort)
}

func (c *cluster) replicaDSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.replicaPort)
}

// pg runs one of the server's programs (as postgres when root).
func (c *cluster) pg(name string, args ...string) error {
	argv := append(slices.Clone(c.runAs), filepath.Join(c.bin, name))
	argv = append(argv, args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = c.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %w\n%s", name, err, tail(string(out), 20))
	}
	return nil
}

// appendFile adds text to a file of the cluster (owned by postgres).
func (c *cluster) appendFile(path, text string) {
	c.t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		c.t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		c.t.Fatal(err)
	}
}

// scans is how many scans of the customers table the server at dsn has
// counted (its own statistics: a replica counts the reads it answers).
func scans(t *testing.T, dsn string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatalf("statistics of %s: %v", dsn, err)
	}
	defer conn.Close(ctx)
	var n int64
	if err := conn.QueryRow(ctx, `SELECT COALESCE(sum(seq_scan + COALESCE(idx_scan, 0)), 0)::bigint
		FROM pg_stat_user_tables WHERE relname = 'customers'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func tail(s string, lines int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > lines {
		ls = ls[len(ls)-lines:]
	}
	return strings.Join(ls, "\n")
}

// execOn runs one statement on the server at dsn.
func execOn(t *testing.T, dsn, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}
