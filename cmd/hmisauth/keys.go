package main

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/hmisauth/hmisauth/auth"
	"github.com/hmisauth/hmisauth/config"
)

// secretKeyFileName is the server key's file in the data folder when the configuration names
// none.
const secretKeyFileName = "secret.key"

// serverKey returns the key that seals 2-step verification secrets: secret_key, else the
// secret_key_file, else the data folder's secret.key, which is made (readable by this user
// only) when it does not exist yet. Two processes starting at once agree: the file appears
// whole by a hard link that only one can make, and the other reads it.
func serverKey(cfg *config.Config) ([]byte, error) {
	if cfg.SecretKey != "" {
		return config.DecodeSecretKey(cfg.SecretKey)
	}
	path := cfg.SecretKeyFile
	generate := path == ""
	if generate {
		path = filepath.Join(cfg.DataDir, secretKeyFileName)
	}
	for range 2 {
		b, err := os.ReadFile(path)
		if err == nil {
			key, err := config.DecodeSecretKey(string(b))
			if err != nil {
				return nil, fmt.Errorf("secret key file %s: %w", path, err)
			}
			return key, nil
		}
		if !errors.Is(err, fs.ErrNotExist) || !generate {
			return nil, fmt.Errorf("secret key file: %w", err)
		}
		if err := writeNewKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("make secret key file: %w", err)
		}
	}
	return nil, fmt.Errorf("secret key file %s: made but not readable", path)
}

// writeNewKey writes a new key to a temporary file and links it into place, so the key file
// appears whole or not at all; fs.ErrExist means another process made it first.
func writeNewKey(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".secret-*.key")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := fmt.Fprintln(f, base64.StdEncoding.EncodeToString(auth.NewServerKey())); err != nil {
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
	return os.Link(f.Name(), path)
}
