package store

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
)

// OpenReadOnly opens the database at path for reading only, as `report`
// does beside a running daemon: no migration, no writer, no WAL monitor;
// a missing file is an error, not a new database. Close it when done.
//
// A WAL database needs its -shm file, which SQLite creates beside it; in a
// directory the caller cannot write (a copied database, a daemon run as
// another user) that fails. When no -wal file exists either, no writer has
// the database open, so it is read as immutable instead: no -shm, no locks.
func OpenReadOnly(path string) (*DB, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("open db read-only: %w", err)
	}
	db, err := openReadOnly(path, false)
	if err != nil {
		if _, walErr := os.Stat(path + "-wal"); errors.Is(walErr, fs.ErrNotExist) {
			if imm, immErr := openReadOnly(path, true); immErr == nil {
				return imm, nil
			}
		}
		return nil, err
	}
	return db, nil
}

func openReadOnly(path string, immutable bool) (*DB, error) {
	q := url.Values{}
	q.Set("mode", "ro")
	if immutable {
		q.Set("immutable", "1")
	}
	q.Set("_busy_timeout", "10000")
	q.Set("_query_only", "1")
	read, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("open db read-only: %w", err)
	}
	// At least view.DefaultWorkers: a summary scans on that many at once.
	read.SetMaxOpenConns(DefaultReadConns)
	db := NewDB(path) // never Opened: only the read pool is set, so Close closes just that
	db.read = read
	var version int
	if err := read.QueryRow("PRAGMA user_version").Scan(&version); err != nil {
		read.Close()
		return nil, fmt.Errorf("open db read-only: %w", err)
	}
	if version == 0 {
		read.Close()
		return nil, fmt.Errorf("open db read-only: %s is not an openclaw-trace database (schema version 0)", path)
	}
	return db, nil
}
