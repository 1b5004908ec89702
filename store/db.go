// Package store owns the SQLite database: schema and migrations, the single
// writer that turns events into rows, and the reads and deletes the push
// loop and cleanup need. Every write goes through one connection.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver (pure Go)
)

// FileMode is the mode the database file is created with; SQLite gives the
// -wal and -shm files the same mode.
const FileMode = 0o600

// DefaultReadConns bounds the read pool (push, cleanup, /health, the
// summaries of package view).
const DefaultReadConns = 4

// DB is an open openclaw-trace database: one write connection, a
// separate pool of readers and one connection that checkpoints the WAL.
// Writes and checkpoints take turns on writeMu (turn.go).
type DB struct {
	Path string
	// WAL checkpoints the WAL and bounds it (wal.go); set its tunables
	// before Open, read its counters at any time.
	WAL *WALMonitor
	// Location is the zone whose dates key the daily rollups (rollup.go);
	// nil is UTC. RollupKeysPerDay bounds a day's rollup rows (0:
	// DefaultRollupKeysPerDay). Set both before Open. Open sets
	// PreviousZone when the file's rollups were kept in another zone.
	Location         *time.Location
	RollupKeysPerDay int
	PreviousZone     string
	// BackfilledCalls and BackfillTook say what Open added to the rollups
	// the first time it opened the file after the migration that made them.
	BackfilledCalls int64
	BackfillTook    time.Duration

	write *sql.DB // exactly one connection: the only one that writes
	read  *sql.DB
	ckpt  *sql.DB // one connection, for wal_checkpoint only

	// writeMu is held for each write turn: a writer transaction, any other
	// write, a checkpoint.
	writeMu sync.Mutex
	// afterWrite, when set (by a running Cleaner), is called after every
	// write turn: a cheap look at the volume (pressure.go).
	afterWrite atomic.Pointer[func()]
	// gate, when set (by a running Cleaner), is passed by the writer in
	// its turn before each transaction (pressure_gate.go).
	gate atomic.Pointer[func(context.Context, *sql.Conn) error]

	lock *os.File // <Path>.lock, locked while open (lock.go)
}

// NewDB returns a DB for the file at path; call Open before use.
func NewDB(path string) *DB {
	db := &DB{Path: path}
	db.WAL = newWALMonitor(db)
	return db
}

// dsn applies the storage pragmas to every connection: busy timeout,
// synchronous NORMAL, foreign keys, and on the writer auto_vacuum
// INCREMENTAL and WAL (auto_vacuum first, by the driver, so a new file
// gets it before the first table).
//
// Readers get neither auto_vacuum nor the journal mode: both are
// properties of the file, which the writer set when it opened it, and
// setting them asks for the write lock, so a reader opened while the
// writer holds a transaction (all pooled readers busy) would wait out
// busy_timeout and fail; the writer itself reads its day's rollup keys
// through a reader inside its transaction.
func (db *DB) dsn(readOnly bool) string {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	if !readOnly {
		q.Set("_auto_vacuum", "INCREMENTAL")
		q.Set("_journal_mode", "WAL")
	}
	q.Set("_synchronous", "NORMAL")
	q.Set("_foreign_keys", "1")
	if readOnly {
		q.Set("_query_only", "1")
	} else {
		q.Set("_txlock", "immediate")
	}
	if !readOnly && db.WAL.Interval > 0 {
		// The WAL monitor does this work on its own connection, so a
		// commit never waits for a checkpoint.
		q.Add("_pragma", "wal_autocheckpoint(0)")
	}
	return "file:" + db.Path + "?" + q.Encode()
}

// Open locks the database against a second writer process (a
// *LockedError names the holder), creates the file if needed (mode
// FileMode), opens both pools and brings the schema up to date.
func (db *DB) Open() error {
	if db.Path == "" {
		return errors.New("open db: empty path")
	}
	lock, err := lockFile(db.Path)
	if err != nil {
		return err
	}
	db.lock = lock
	if err := db.open(); err != nil {
		db.unlock()
		return err
	}
	return nil
}

func (db *DB) unlock() {
	if db.lock != nil {
		db.lock.Close() // closing the file releases its lock
		db.lock = nil
	}
}

func (db *DB) open() error {
	f, err := os.OpenFile(db.Path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return fmt.Errorf("open db: %w", err)
	}
	f.Close()

	if db.write, err = sql.Open("sqlite", db.dsn(false)); err != nil {
		return fmt.Errorf("open writer: %w", err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	if err := db.migrate(context.Background()); err != nil {
		db.write.Close()
		return err
	}
	if db.read, err = sql.Open("sqlite", db.dsn(true)); err != nil {
		db.write.Close()
		return fmt.Errorf("open readers: %w", err)
	}
	db.read.SetMaxOpenConns(DefaultReadConns)
	db.read.SetMaxIdleConns(2)
	if err := db.read.Ping(); err != nil {
		db.Close()
		return fmt.Errorf("open readers: %w", err)
	}
	if err := db.openCheckpointConn(); err != nil {
		db.Close()
		return fmt.Errorf("open checkpoint connection: %w", err)
	}
	if err := db.openRollups(context.Background()); err != nil {
		db.Close()
		return err
	}
	db.WAL.start()
	return nil
}

// openCheckpointConn opens the WAL monitor's connection. Its DSN sets only
// what a checkpoint needs: the write pragmas (auto_vacuum) would wait for
// the write lock, which a busy writer may hold for seconds on end.
func (db *DB) openCheckpointConn() error {
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("_synchronous", "NORMAL")
	q.Add("_pragma", "wal_autocheckpoint(0)")
	ckpt, err := sql.Open("sqlite", "file:"+db.Path+"?"+q.Encode())
	if err != nil {
		return err
	}
	ckpt.SetMaxOpenConns(1)
	ckpt.SetMaxIdleConns(1)
	ckpt.SetConnMaxLifetime(0)
	db.ckpt = ckpt // set before Ping, so that Close closes it on failure
	return ckpt.Ping()
}

// Close stops the WAL monitor, closes the readers, checkpoints the WAL
// into the main file (TRUNCATE, so no -wal file is left behind; only
// another process's reader can keep it from that now) and closes the
// write and checkpoint connections.
func (db *DB) Close() error {
	var errs []error
	db.WAL.halt()
	if db.read != nil {
		errs = append(errs, db.read.Close())
	}
	if db.write != nil {
		if db.ckpt != nil {
			if _, err := db.WAL.Checkpoint(context.Background(), Truncate); err != nil {
				errs = append(errs, err)
			}
		}
		errs = append(errs, db.write.Close())
	}
	if db.ckpt != nil {
		errs = append(errs, db.ckpt.Close())
	}
	db.unlock()
	return errors.Join(errs...)
}

// migrate applies the migrations the file has not seen, each in its own
// transaction together with the new user_version.
func (db *DB) migrate(ctx context.Context) error {
	return db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		var version int
		if err := conn.QueryRowContext(ctx, "PRAGMA user_version").Scan(&version); err != nil {
			return fmt.Errorf("read user_version: %w", err)
		}
		if version > len(migrations) {
			return fmt.Errorf("db schema version %d is newer than this binary knows (%d)", version, len(migrations))
		}
		for i := version; i < len(migrations); i++ {
			if err := migrateOne(ctx, conn, i); err != nil {
				return fmt.Errorf("migration %d: %w", i+1, err)
			}
		}
		return nil
	})
}

// migrateOne applies migrations[i] and sets user_version to i+1.
func migrateOne(ctx context.Context, conn *sql.Conn, i int) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, migrations[i]); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", i+1)); err != nil {
		return err
	}
	return tx.Commit()
}

// Pragma reads one pragma's value on the write connection, in a write turn.
func (db *DB) Pragma(ctx context.Context, name string) (string, error) {
	var v string
	err := db.writeTurn(ctx, func(ctx context.Context, conn *sql.Conn) error {
		return conn.QueryRowContext(ctx, "PRAGMA "+name).Scan(&v)
	})
	if err != nil {
		return "", fmt.Errorf("pragma %s: %w", name, err)
	}
	return v, nil
}

// Ping checks that the database answers a query on the read pool.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Sizes returns the sizes of the database file and of its WAL in bytes;
// a missing WAL is 0.
func (db *DB) Sizes() (dbBytes, walBytes int64) {
	if fi, err := os.Stat(db.Path); err == nil {
		dbBytes = fi.Size()
	}
	if fi, err := os.Stat(db.Path + "-wal"); err == nil {
		walBytes = fi.Size()
	}
	return dbBytes, walBytes
}

// UnsyncedCount counts rows of the data tables not yet pushed.
func (db *DB) UnsyncedCount(ctx context.Context) (int64, error) {
	var total int64
	for _, t := range DataTables {
		var n int64
		if err := db.read.QueryRowContext(ctx, "SELECT count(*) FROM "+t+" WHERE synced = 0").Scan(&n); err != nil {
			return 0, fmt.Errorf("count unsynced %s: %w", t, err)
		}
		total += n
	}
	return total, nil
}

// Reader is the read pool (query_only): what the read side (package
// view), tests and tools that inspect the database read through. Nothing
// can write through it.
func (db *DB) Reader() *sql.DB { return db.read }
