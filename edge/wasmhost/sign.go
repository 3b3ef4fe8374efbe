package wasmhost

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
)

// MetaSignature is the object metadata key holding the standard base64 of
// the ed25519 signature of a published module's SHA-256 (the 32 raw bytes
// of the digest, not its hex).
const MetaSignature = "rv-ed25519"

// Module signing keys are PEM files in the formats of openssl and Go's
// crypto/x509, so `openssl genpkey -algorithm ed25519` makes one too: the
// private key a PKCS #8 "PRIVATE KEY" block, the public key a PKIX
// "PUBLIC KEY" block.

// GenerateKey returns a new module signing key pair, PEM encoded.
func GenerateKey() (public, private []byte, err error) {
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, nil, fmt.Errorf("generate ed25519 key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, nil, fmt.Errorf("encode public key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, nil, fmt.Errorf("encode private key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), nil
}

// ParsePublicKey reads a PEM "PUBLIC KEY" block holding an ed25519 key.
func ParsePublicKey(pemBytes []byte) (ed25519.PublicKey, error) {
	der, err := pemBlock(pemBytes, "PUBLIC KEY")
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	pub, ok := k.(ed25519.PublicKey)
	if !ok {
		return nil, fmt.Errorf("parse public key: a %T, want ed25519", k)
	}
	return pub, nil
}

// ParsePrivateKey reads a PEM "PRIVATE KEY" (PKCS #8) block holding an
// ed25519 key.
func ParsePrivateKey(pemBytes []byte) (ed25519.PrivateKey, error) {
	der, err := pemBlock(pemBytes, "PRIVATE KEY")
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("parse private key: %w", err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("parse private key: a %T, want ed25519", k)
	}
	return priv, nil
}

func pemBlock(b []byte, typ string) ([]byte, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if blk.Type != typ {
		return nil, fmt.Errorf("PEM block %q, want %q", blk.Type, typ)
	}
	return blk.Bytes, nil
}

// SignModule returns the value of MetaSignature for bin.
func SignModule(key ed25519.PrivateKey, bin []byte) string {
	sum := sha256.Sum256(bin)
	return base64.StdEncoding.EncodeToString(ed25519.Sign(key, sum[:]))
}

// VerifyModule checks sig, a MetaSignature value, against bin and key.
func VerifyModule(key ed25519.PublicKey, bin []byte, sig string) error {
	if sig == "" {
		return errors.New("module is not signed")
	}
	raw, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return fmt.Errorf("module signature: %w", err)
	}
	sum := sha256.Sum256(bin)
	if !ed25519.Verify(key, sum[:], raw) {
		return errors.New("module signature does not verify with the configured public key")
	}
	return nil
}
