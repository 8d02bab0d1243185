package csafprovider

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp"
	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// loadKey parses the armored private key, decrypts it and checks that it
// can sign.
func (p *Provider) loadKey() error {
	keys, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(p.cfg.SigningKey))
	if err != nil {
		return errors.New("the signing key is not an armored OpenPGP key")
	}
	var e *openpgp.Entity
	for _, k := range keys {
		if k.PrivateKey != nil {
			e = k
			break
		}
	}
	if e == nil {
		return errors.New("the signing key holds no private key")
	}
	if e.PrivateKey.Encrypted || anyEncrypted(e) {
		if len(p.cfg.SigningKeyPassphrase) == 0 {
			return errors.New("the signing key is encrypted and no passphrase is configured")
		}
		if err := e.DecryptPrivateKeys(p.cfg.SigningKeyPassphrase); err != nil {
			return errors.New("the signing key passphrase is wrong")
		}
	}
	if _, ok := e.SigningKey(time.Now()); !ok {
		return errors.New("the signing key cannot sign (expired, revoked or no signing subkey)")
	}
	p.signer = e
	p.fpr = strings.ToUpper(fmt.Sprintf("%x", e.PrimaryKey.Fingerprint))
	p.keyURL = p.cfg.PublicKeyURL
	if p.keyURL == "" {
		p.keyFile = p.cfg.Root + "/openpgp/" + p.fpr + ".asc"
		p.keyURL = p.base.JoinPath("openpgp", p.fpr+".asc").String()
	}
	return nil
}

func anyEncrypted(e *openpgp.Entity) bool {
	for _, s := range e.Subkeys {
		if s.PrivateKey != nil && s.PrivateKey.Encrypted {
			return true
		}
	}
	return false
}

// signature returns the document's .asc file. With onlyIfInvalid, an
// existing signature that verifies is kept (nil is returned).
func (p *Provider) signature(fsys fs.FS, rel string, content []byte, m docMeta, onlyIfInvalid bool) (*File, error) {
	repoPath := p.cfg.Root + "/" + rel + ".asc"
	if onlyIfInvalid {
		if old, err := fs.ReadFile(fsys, repoPath); err == nil && p.verify(content, old) == nil {
			return nil, nil
		}
	}
	sig, err := p.sign(content, m.currentTime)
	if err != nil {
		return nil, fmt.Errorf("sign %s: %w", rel, err)
	}
	return &File{Path: repoPath, Content: sig}, nil
}

// sign makes an armored detached signature of content (requirement 19).
// The signature time is the document's current_release_date, or the
// signing key's creation if that is later, so that the same document and
// key give the same signature (RSA, EdDSA).
func (p *Provider) sign(content []byte, at time.Time) ([]byte, error) {
	key, ok := p.signer.SigningKey(time.Now())
	if !ok {
		return nil, errors.New("no valid signing key")
	}
	if created := key.PublicKey.CreationTime; at.Before(created) {
		at = created
	}
	cfg := &packet.Config{DefaultHash: crypto.SHA512, Time: func() time.Time { return at }, SigningKeyId: key.PublicKey.KeyId}
	var buf bytes.Buffer
	if err := openpgp.ArmoredDetachSign(&buf, p.signer, bytes.NewReader(content), cfg); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// verify checks an armored detached signature of content against the
// configured key.
func (p *Provider) verify(content, sig []byte) error {
	_, err := openpgp.CheckArmoredDetachedSignature(openpgp.EntityList{p.signer}, bytes.NewReader(content), bytes.NewReader(sig), nil)
	return err
}

// publicKey is the armored public key (requirement 20).
func (p *Provider) publicKey() ([]byte, error) {
	var buf bytes.Buffer
	w, err := armor.Encode(&buf, openpgp.PublicKeyType, nil)
	if err != nil {
		return nil, err
	}
	if err := p.signer.Serialize(w); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
