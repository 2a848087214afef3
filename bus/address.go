package bus

import (
	"cmp"
	"log/slog"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// kind says what an [Address] names. The zero kind is kindNone.
type kind uint8

// The kinds of address. kindAllClusters, kindAllServices and kindGuildOwner
// are routing addresses: they resolve to concrete targets when a message is
// sent. kindManager, kindCluster and kindService are concrete: a mailbox can
// be attached to them.
const (
	// kindNone is the zero kind. An Address of this kind names nobody; it
	// is accepted only as the sender of a message (an anonymous caller).
	kindNone kind = iota
	// kindManager names the process-wide manager.
	kindManager
	// kindCluster names one cluster by its ID. ID 0 is an ordinary cluster.
	kindCluster
	// kindService names one service by its name.
	kindService
	// kindAllClusters names every known cluster.
	kindAllClusters
	// kindAllServices names every known service.
	kindAllServices
	// kindGuildOwner names the cluster that owns a guild, found through the
	// Bus's guild resolver when the message is sent.
	kindGuildOwner
)

// String returns the kind's name, such as "cluster".
func (k kind) String() string {
	switch k {
	case kindNone:
		return "none"
	case kindManager:
		return "manager"
	case kindCluster:
		return "cluster"
	case kindService:
		return "service"
	case kindAllClusters:
		return "all-clusters"
	case kindAllServices:
		return "all-services"
	case kindGuildOwner:
		return "guild-owner"
	default:
		return "kind(" + strconv.Itoa(int(k)) + ")"
	}
}

// maxServiceName bounds the length of a service name in bytes.
const maxServiceName = 128

// Address names the target or the sender of a message. Build one with
// [Manager], [Cluster], [Service], [AllClusters], [AllServices] or
// [GuildOwner]; the constructor sets the one field that it needs (ID for a
// cluster, Name for a service, Guild for a guild's owner) and leaves the
// others zero. A literal Address other than the zero one is invalid.
//
// Address is a small comparable value: copy it freely, use it as a map key
// and compare it with ==. The zero Address names nobody; it is accepted only
// as the sender of a message. The text form (used for JSON) is the same as
// [Address.String]: "manager", "cluster/0", "service/twitch", "cluster/*",
// "service/*", "guild/81384788765712384" or "none".
type Address struct {
	kind  kind
	ID    int    // cluster ID, for a Cluster address; 0 is a valid cluster
	Name  string // service name, for a Service address
	Guild uint64 // guild ID, for a GuildOwner address
}

// Manager returns the manager's address.
func Manager() Address { return Address{kind: kindManager} }

// Cluster returns the address of cluster id. Cluster 0 is an ordinary
// cluster; a negative id is invalid.
func Cluster(id int) Address { return Address{kind: kindCluster, ID: id} }

// Service returns the address of the service called name.
func Service(name string) Address { return Address{kind: kindService, Name: name} }

// AllClusters returns the address that fans out to every known cluster.
func AllClusters() Address { return Address{kind: kindAllClusters} }

// AllServices returns the address that fans out to every known service.
func AllServices() Address { return Address{kind: kindAllServices} }

// GuildOwner returns the address of the cluster that owns guildID. It is
// resolved when a message is sent, with the resolver given to [WithGuildResolver].
func GuildOwner(guildID uint64) Address { return Address{kind: kindGuildOwner, Guild: guildID} }

// String returns the address's text form, such as "cluster/0". It never fails,
// even for an invalid address; use [Address.Validate] to check one.
func (a Address) String() string {
	switch a.kind {
	case kindNone:
		return "none"
	case kindManager:
		return "manager"
	case kindCluster:
		return "cluster/" + strconv.Itoa(a.ID)
	case kindService:
		return "service/" + a.Name
	case kindAllClusters:
		return "cluster/*"
	case kindAllServices:
		return "service/*"
	case kindGuildOwner:
		return "guild/" + strconv.FormatUint(a.Guild, 10)
	default:
		return a.kind.String()
	}
}

// isConcrete reports whether a names one target that a mailbox can be
// attached to: the manager, a cluster or a service.
func (a Address) isConcrete() bool {
	return a.kind == kindManager || a.kind == kindCluster || a.kind == kindService
}

// isGroup reports whether a fans out to several targets.
func (a Address) isGroup() bool {
	return a.kind == kindAllClusters || a.kind == kindAllServices
}

// Validate returns nil if a is well formed, or an [*AddressError]. The zero
// Address is valid (it names nobody and is accepted only as a sender).
func (a Address) Validate() error {
	bad := func(reason string) error {
		return &AddressError{Text: a.String(), Reason: reason}
	}
	switch a.kind {
	case kindNone, kindManager, kindAllClusters, kindAllServices:
		if a.ID != 0 || a.Name != "" || a.Guild != 0 {
			return bad("unexpected field for kind " + a.kind.String())
		}
	case kindCluster:
		if a.ID < 0 {
			return bad("negative cluster id")
		}
		if a.Name != "" || a.Guild != 0 {
			return bad("unexpected field for kind cluster")
		}
	case kindService:
		if reason := checkServiceName(a.Name); reason != "" {
			return bad(reason)
		}
		if a.ID != 0 || a.Guild != 0 {
			return bad("unexpected field for kind service")
		}
	case kindGuildOwner:
		if a.ID != 0 || a.Name != "" {
			return bad("unexpected field for kind guild-owner")
		}
	default:
		return bad("unknown kind")
	}
	return nil
}

func checkServiceName(name string) string {
	switch {
	case name == "":
		return "empty service name"
	case name == "*":
		return `service name "*" is reserved`
	case len(name) > maxServiceName:
		return "service name longer than " + strconv.Itoa(maxServiceName) + " bytes"
	case !utf8.ValidString(name):
		return "service name is not valid UTF-8"
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.IsSpace(r) {
			return "service name contains a space or control character"
		}
	}
	return ""
}

// compare orders addresses by kind, then cluster ID, service name and guild.
// It returns -1, 0 or +1. Results of a broadcast are sorted with it.
func (a Address) compare(b Address) int {
	return cmp.Or(
		cmp.Compare(a.kind, b.kind),
		cmp.Compare(a.ID, b.ID),
		strings.Compare(a.Name, b.Name),
		cmp.Compare(a.Guild, b.Guild),
	)
}

// ParseAddress parses the text form written by [Address.String]. It accepts
// only the canonical form (no sign, no leading zeros) so that parsing and
// printing round-trip exactly. It returns an [*AddressError] on bad input.
func ParseAddress(s string) (Address, error) {
	bad := func(reason string) (Address, error) {
		return Address{}, &AddressError{Text: s, Reason: reason}
	}
	switch s {
	case "none":
		return Address{}, nil
	case "manager":
		return Manager(), nil
	case "cluster/*":
		return AllClusters(), nil
	case "service/*":
		return AllServices(), nil
	}
	prefix, rest, ok := strings.Cut(s, "/")
	if !ok {
		return bad("unknown address")
	}
	var a Address
	switch prefix {
	case "cluster":
		id, err := strconv.Atoi(rest)
		if err != nil || strconv.Itoa(id) != rest {
			return bad("cluster id is not a canonical integer")
		}
		a = Cluster(id)
	case "service":
		a = Service(rest)
	case "guild":
		g, err := strconv.ParseUint(rest, 10, 64)
		if err != nil || strconv.FormatUint(g, 10) != rest {
			return bad("guild id is not a canonical unsigned integer")
		}
		a = GuildOwner(g)
	default:
		return bad("unknown address kind")
	}
	if err := a.Validate(); err != nil {
		return bad(err.(*AddressError).Reason)
	}
	return a, nil
}

// MarshalText encodes a in its text form. encoding/json uses it, so an
// Address is a JSON string such as "cluster/0". An invalid address is an error.
func (a Address) MarshalText() ([]byte, error) {
	if err := a.Validate(); err != nil {
		return nil, err
	}
	return []byte(a.String()), nil
}

// UnmarshalText decodes the text form written by [Address.MarshalText], with
// the same rules as [ParseAddress].
func (a *Address) UnmarshalText(text []byte) error {
	v, err := ParseAddress(string(text))
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// logAttr returns the log attribute that names a: "cluster" with the ID for a
// cluster, "service" with the name for a service, else "target".
func (a Address) logAttr() slog.Attr {
	switch a.kind {
	case kindCluster:
		return slog.Int("cluster", a.ID)
	case kindService:
		return slog.String("service", a.Name)
	default:
		return slog.String("target", a.String())
	}
}
