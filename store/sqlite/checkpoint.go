package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// checkpointEvery is how often the background checkpoint runs. Between two, the write-ahead
// log grows by what was written (a few hundred pages at a thousand commits a second).
const checkpointEvery = 250 * time.Millisecond

// checkpointer copies the write-ahead log back into the database file on a connection of its
// own. SQLite otherwise does it inside whichever commit crosses its threshold (1,000 pages),
// and that commit holds the one writer connection while it does: a seventh of the writer's
// time under a stream of token refreshes. A PASSIVE checkpoint never waits for, nor blocks,
// readers or the writer. Every Store has one, the command line's included: each turns
// SQLite's automatic checkpoint off on its writer connection (wal_autocheckpoint(0) in Open).
type checkpointer struct {
	db   *sql.DB
	done chan struct{}
	quit context.CancelFunc
}

func startCheckpointer(path string) (*checkpointer, error) {
	db, err := sql.Open("sqlite", dsn(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithCancel(context.Background())
	c := &checkpointer{db: db, done: make(chan struct{}), quit: cancel}
	go c.run(ctx)
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	defer close(c.done)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// An error (the file busy with another process's checkpoint) is tried again
			// at the next tick; the log only grows meanwhile.
			c.db.ExecContext(ctx, `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

// stop ends the background checkpoints, running a last one, and closes the connection.
func (c *checkpointer) stop() error {
	c.quit()
	<-c.done
	c.db.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
	return c.db.Close()
}
