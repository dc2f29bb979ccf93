package mail

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hmisauth/hmisauth"
)

// fileMailer writes one RFC 5322 .eml file per message into a directory: for testing, for a
// pickup directory, or for a site that reads mail files with its own tools.
type fileMailer struct {
	r   *renderer
	dir string
}

func newFileMailer(r *renderer, dir string) (*fileMailer, error) {
	if dir == "" {
		return nil, errors.New("mail: the file transport needs a directory (mail.dir)")
	}
	// The files hold reset links: readable by the server's user and group only.
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("mail: %w", err)
	}
	return &fileMailer{r: r, dir: dir}, nil
}

// Send writes the message under a name made of its time and Message-ID, through a temporary
// file renamed into place, so a reader never sees half a message and a retry of the same
// message replaces the file rather than adding a second one.
func (f *fileMailer) Send(ctx context.Context, m *hmisauth.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	raw, err := f.r.render(m)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(f.dir, ".sending-*.eml")
	if err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	defer os.Remove(tmp.Name()) // after the rename there is nothing left to remove
	if err := tmp.Chmod(0o640); err != nil {
		tmp.Close()
		return fmt.Errorf("mail: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("mail: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("mail: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(f.dir, fileName(m))); err != nil {
		return fmt.Errorf("mail: %w", err)
	}
	return nil
}

// fileName sorts by time: "20261123T184700Z-<message id's left part>.eml", with anything
// but letters, digits, '.' and '-' in the id replaced.
func fileName(m *hmisauth.Message) string {
	id := strings.Trim(m.MessageID, "<>")
	if i := strings.IndexByte(id, '@'); i >= 0 {
		id = id[:i]
	}
	if id == "" {
		id = fmt.Sprintf("message-%d", m.ID)
	}
	safe := strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-' {
			return r
		}
		return '_'
	}, id)
	return m.CreatedAt.UTC().Format("20060102T150405Z") + "-" + safe + ".eml"
}
