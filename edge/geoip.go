package edge

import (
	"fmt"
	"net/netip"

	"github.com/oschwald/maxminddb-golang/v2"
)

// CountryLookup turns a client IP into its country, an ISO 3166-1 alpha-2
// code, or "" when unknown. GeoIP implements it from a MaxMind database.
//
// Implementations must be safe for concurrent use.
type CountryLookup interface {
	Country(ip netip.Addr) string
}

// GeoIP is a CountryLookup over a MaxMind database (GeoIP2 or GeoLite2
// Country or City, or any database whose records carry country.iso_code).
type GeoIP struct {
	db *maxminddb.Reader
}

// OpenGeoIP opens the MaxMind database at path. The file is memory-mapped
// and stays mapped for as long as the GeoIP is reachable: there is no
// Close, because an edge shutting down may still have requests looking up
// countries, and unmapping under them would crash the process. Replace the
// file by renaming a new one into place, never by rewriting it.
func OpenGeoIP(path string) (*GeoIP, error) {
	db, err := maxminddb.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open geoip database %s: %w", path, err)
	}
	return &GeoIP{db: db}, nil
}

// Country returns the ISO code of ip's country, or "" when the database
// does not know ip or its record has no country.
func (g *GeoIP) Country(ip netip.Addr) string {
	if !ip.IsValid() {
		return ""
	}
	var iso string
	// A lookup error means a corrupt record; it tells nothing about the
	// client, and an edge must not fail a batch for want of a country.
	if err := g.db.Lookup(ip.Unmap()).DecodePath(&iso, "country", "iso_code"); err != nil {
		return ""
	}
	return iso
}

// DatabaseType is the type the database declares, e.g. GeoLite2-Country.
func (g *GeoIP) DatabaseType() string { return g.db.Metadata.DatabaseType }
