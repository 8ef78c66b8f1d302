package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/acme/crm/internal/crm"
)

const userCols = `id, email, name, role, password_hash, active, created_at, updated_at, must_change_password, session_version`

func scanUser(row interface{ Scan(...any) error }) (*crm.User, error) {
	var u crm.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Active, &u.CreatedAt, &u.UpdatedAt, &u.MustChangePassword, &u.SessionVersion); err != nil {
		return nil, err
	}
	u.CreatedAt, u.UpdatedAt = u.CreatedAt.UTC(), u.UpdatedAt.UTC()
	return &u, nil
}

// CreateUser inserts a user; the e-mail is stored lower-cased.
func (s *Store) CreateUser(ctx context.Context, u *crm.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.CreatedAt, u.UpdatedAt = ts(u.CreatedAt), ts(u.CreatedAt)
	err := s.wq().QueryRowContext(ctx,
		`INSERT INTO users (email, name, role, password_hash, active, created_at, updated_at, name_key)
		 VALUES ($1, $2, $3, $4, $5, $6, $6, $7) RETURNING id`,
		u.Email, u.Name, string(u.Role), u.PasswordHash, u.Active, u.CreatedAt, crm.NameKey(u.Name)).Scan(&u.ID)
	return s.conflict(err, "a user with e-mail "+u.Email+" already exists")
}

func (s *Store) GetUser(ctx context.Context, id int64) (*crm.User, error) {
	u, err := scanUser(s.rq().QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, notFound(err, "user")
}

func (s *Store) GetUserByEmail(ctx context.Context, email string) (*crm.User, error) {
	u, err := scanUser(s.rq().QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE email = $1`,
		strings.ToLower(strings.TrimSpace(email))))
	return u, notFound(err, "user")
}

func (s *Store) LockAdmins(ctx context.Context) error {
	return s.lockRows(ctx, "LockAdmins", `SELECT id FROM users WHERE role = 'admin' AND active ORDER BY id`)
}

func (s *Store) ListUsers(ctx context.Context) ([]crm.User, error) {
	rows, err := s.rq().QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY lower(name), id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.User
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, rows.Err()
}

func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.rq().QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}

func (s *Store) UpdateUser(ctx context.Context, id int64, p crm.UserPatch, now time.Time) (*crm.User, error) {
	var role *string
	if p.Role != nil {
		r := string(*p.Role)
		role = &r
	}
	var key *string
	if p.Name != nil {
		k := crm.NameKey(*p.Name)
		key = &k
	}
	err := s.inTx(ctx, func(tx *Store) error {
		res, err := tx.wq().ExecContext(ctx,
			`UPDATE users SET name = COALESCE($2, name), role = COALESCE($3, role),
			        active = COALESCE($4, active), password_hash = COALESCE($5, password_hash), updated_at = $6,
			        name_key = COALESCE($7, name_key),
			        must_change_password = COALESCE($8, must_change_password),
			        session_version = session_version + CASE WHEN $9 THEN 1 ELSE 0 END
			 WHERE id = $1 AND session_version = COALESCE($10, session_version)`,
			id, p.Name, role, p.Active, p.PasswordHash, ts(now), key, p.MustChangePassword, p.EndSessions, p.IfSessionVersion)
		if err := mustAffect(res, err, "user"); err != nil {
			if p.IfSessionVersion != nil && errors.Is(err, crm.ErrNotFound) {
				if _, err := tx.GetUser(ctx, id); err == nil {
					return crm.Conflict("The password was changed or reset meanwhile; nothing was changed. Sign in again.")
				}
			}
			return err
		}
		if key == nil {
			return nil
		}
		// the owner sort key of the user's customers (a set-based write)
		return tx.setOwnerKeys(ctx, id, *key)
	})
	if err != nil {
		return nil, err
	}
	return s.GetUser(ctx, id)
}

func (s *Store) CreateAPIToken(ctx context.Context, t *crm.APIToken) error {
	t.CreatedAt = ts(t.CreatedAt)
	return s.wq().QueryRowContext(ctx,
		`INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
		t.UserID, t.Name, t.Hash, t.Prefix, t.CreatedAt).Scan(&t.ID)
}

func (s *Store) UserByTokenHash(ctx context.Context, hash []byte, now time.Time) (*crm.User, error) {
	var tokenID int64
	var lastUsed sql.NullTime
	row := s.rq().QueryRowContext(ctx,
		`SELECT t.id, t.last_used_at, u.id, u.email, u.name, u.role, u.password_hash, u.active, u.created_at, u.updated_at,
		        u.must_change_password, u.session_version
		 FROM api_tokens t JOIN users u ON u.id = t.user_id
		 WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.active`, hash)
	var u crm.User
	if err := row.Scan(&tokenID, &lastUsed, &u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &u.Active, &u.CreatedAt, &u.UpdatedAt,
		&u.MustChangePassword, &u.SessionVersion); err != nil {
		return nil, notFound(err, "token")
	}
	// Record use at most once a minute: a busy integration must not turn every read into a write.
	if !lastUsed.Valid || now.Sub(lastUsed.Time) > time.Minute {
		if _, err := s.wq().ExecContext(ctx, `UPDATE api_tokens SET last_used_at = $2 WHERE id = $1`, tokenID, ts(now)); err != nil {
			return nil, err
		}
	}
	return &u, nil
}

func (s *Store) ListAPITokens(ctx context.Context, userID int64) ([]crm.APIToken, error) {
	rows, err := s.rq().QueryContext(ctx,
		`SELECT id, user_id, name, prefix, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []crm.APIToken
	for rows.Next() {
		var t crm.APIToken
		var used, revoked sql.NullTime
		if err := rows.Scan(&t.ID, &t.UserID, &t.Name, &t.Prefix, &t.CreatedAt, &used, &revoked); err != nil {
			return nil, err
		}
		t.CreatedAt = t.CreatedAt.UTC()
		t.LastUsedAt, t.RevokedAt = timePtr(used), timePtr(revoked)
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s *Store) RevokeAPIToken(ctx context.Context, userID, tokenID int64, now time.Time) error {
	return s.exec1(ctx, "token",
		`UPDATE api_tokens SET revoked_at = COALESCE(revoked_at, $3) WHERE id = $1 AND user_id = $2`, tokenID, userID, ts(now))
}

func (s *Store) GetUserPref(ctx context.Context, userID int64, key string) (string, error) {
	var v string
	err := s.rq().QueryRowContext(ctx, `SELECT value FROM user_prefs WHERE user_id = $1 AND key = $2`, userID, key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

func (s *Store) SetUserPref(ctx context.Context, userID int64, key, value string) error {
	_, err := s.wq().ExecContext(ctx,
		`INSERT INTO user_prefs (user_id, key, value) VALUES ($1, $2, $3)
		 ON CONFLICT (user_id, key) DO UPDATE SET value = excluded.value`, userID, key, value)
	return err
}

func (s *Store) RecordLoginFailure(ctx context.Context, email, ip string, at time.Time) error {
	_, err := s.wq().ExecContext(ctx, `INSERT INTO login_failures (email, ip, at) VALUES ($1, $2, $3)`,
		strings.ToLower(strings.TrimSpace(email)), ip, ts(at))
	return err
}

// CountLoginFailures counts recent failures of the pair (email, ip) and from ip.
func (s *Store) CountLoginFailures(ctx context.Context, email, ip string, pairSince, ipSince time.Time) (crm.LoginFailures, error) {
	var f crm.LoginFailures
	email = strings.ToLower(strings.TrimSpace(email))
	q := s.rq()
	if err := q.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE email = $1 AND ip = $2 AND at >= $3`,
		email, ip, ts(pairSince)).Scan(&f.Pair); err != nil {
		return f, err
	}
	if f.Pair > 0 { // a plain column, not max(at): SQLite keeps its DATETIME type only so
		if err := q.QueryRowContext(ctx, `SELECT at FROM login_failures WHERE email = $1 AND ip = $2 ORDER BY at DESC LIMIT 1`,
			email, ip).Scan(&f.PairLast); err != nil {
			return f, err
		}
	}
	err := q.QueryRowContext(ctx, `SELECT count(*) FROM login_failures WHERE ip = $1 AND at >= $2`, ip, ts(ipSince)).Scan(&f.IP)
	return f, err
}

func (s *Store) ClearLoginFailures(ctx context.Context, email, ip string) error {
	_, err := s.wq().ExecContext(ctx, `DELETE FROM login_failures WHERE email = $1 AND ip = $2`, strings.ToLower(strings.TrimSpace(email)), ip)
	return err
}

func (s *Store) SessionFind(ctx context.Context, token string, now time.Time) ([]byte, bool, error) {
	var data []byte
	err := s.rq().QueryRowContext(ctx, `SELECT data FROM sessions WHERE token = $1 AND expiry > $2`, token, ts(now)).Scan(&data)
	if err == sql.ErrNoRows {
		return nil, false, nil
	}
	return data, err == nil, err
}

func (s *Store) SessionCommit(ctx context.Context, token string, data []byte, expiry time.Time) error {
	_, err := s.wq().ExecContext(ctx,
		`INSERT INTO sessions (token, data, expiry) VALUES ($1, $2, $3)
		 ON CONFLICT (token) DO UPDATE SET data = excluded.data, expiry = excluded.expiry`, token, data, ts(expiry))
	return err
}

func (s *Store) SessionDelete(ctx context.Context, token string) error {
	_, err := s.wq().ExecContext(ctx, `DELETE FROM sessions WHERE token = $1`, token)
	return err
}

func (s *Store) SessionDeleteExpired(ctx context.Context, now time.Time) error {
	_, err := s.wq().ExecContext(ctx, `DELETE FROM sessions WHERE expiry <= $1`, ts(now))
	return err
}

func (s *Store) Setting(ctx context.Context, key string, make func() (string, error)) (string, error) {
	var v string
	err := s.rq().QueryRowContext(ctx, `SELECT value FROM app_settings WHERE key = $1`, key).Scan(&v)
	if err == nil {
		return v, nil
	}
	if err != sql.ErrNoRows {
		return "", err
	}
	fresh, err := make()
	if err != nil {
		return "", err
	}
	if _, err := s.wq().ExecContext(ctx, `INSERT INTO app_settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING`, key, fresh); err != nil {
		return "", err
	}
	err = s.wq().QueryRowContext(ctx, `SELECT value FROM app_settings WHERE key = $1`, key).Scan(&v)
	return v, err
}
