package notify

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/megane-go/megane/cluster"
	"github.com/megane-go/megane/shard"
	"github.com/megane-go/megane/supervisor"
)

// Discord's limits on a message, and this package's share of them: ten
// embeds of at most 100 + 500 characters stay under the 6000 that all the
// embeds of one message may hold.
const (
	maxEmbeds      = 10
	maxContent     = 2000
	maxTitle       = 100
	maxDescription = 500
)

// Embed colours.
const (
	colourRed    = 0xE74C3C
	colourOrange = 0xE67E22
	colourGreen  = 0x2ECC71
	colourBlue   = 0x3498DB
)

// message is the body of Discord's Execute Webhook.
type message struct {
	Content         string          `json:"content,omitempty"`
	Embeds          []embed         `json:"embeds"`
	AllowedMentions allowedMentions `json:"allowed_mentions"`
}

// allowedMentions with no parse list pings nobody, whatever an error's
// text holds (an "@everyone" in a panic value, say).
type allowedMentions struct {
	Parse []string `json:"parse"`
}

type embed struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Color       int    `json:"color"`
	Timestamp   string `json:"timestamp,omitempty"`
}

// newMessage builds the message of up to ten events; dropped is how many
// events the full queue dropped since the previous message.
func newMessage(batch []cluster.Event, dropped uint64) message {
	m := message{Embeds: make([]embed, 0, len(batch)), AllowedMentions: allowedMentions{Parse: []string{}}}
	kinds := make([]string, 0, len(batch))
	for _, e := range batch {
		em := embedOf(e)
		kinds = append(kinds, em.Title)
		m.Embeds = append(m.Embeds, em)
	}
	content := "megane: " + strings.Join(kinds, "; ")
	if dropped > 0 {
		content += fmt.Sprintf(" (and %d older events dropped: queue full)", dropped)
	}
	m.Content = truncate(content, maxContent)
	return m
}

// posted reports whether the Notifier posts e.
func posted(e cluster.Event) bool {
	switch e.Kind {
	case cluster.EventCrashed, cluster.EventRestarted, cluster.EventReshardStarted,
		cluster.EventReshardCompleted, cluster.EventReshardFailed, cluster.EventIdentifyBudgetLow:
		return true
	case cluster.EventError:
		return errors.Is(e.Err, shard.ErrInvalidToken) || errors.Is(e.Err, supervisor.ErrTooManyRestarts)
	}
	return false
}

// embedOf describes one event that posted accepts.
func embedOf(e cluster.Event) embed {
	var em embed
	reshard := fmt.Sprintf("%d → %d shards (generation %d)", e.OldShards, e.NewShards, e.Generation)
	switch e.Kind {
	case cluster.EventCrashed:
		em = embed{Title: "Cluster " + clusterName(e) + " crashed", Color: colourRed}
		em.Description = errText(e.Err)
		if e.Panic != nil {
			em.Description = "panic: " + e.Panic.Error()
		}
		if e.Attempt > 0 {
			em.Description += "\nattempt " + strconv.Itoa(e.Attempt)
		}
	case cluster.EventRestarted:
		em = embed{Title: "Cluster " + clusterName(e) + " restarted", Color: colourGreen}
		em.Description = "restart: " + e.Restart.String()
		if e.Attempt > 0 {
			em.Description += ", attempt " + strconv.Itoa(e.Attempt)
		}
	case cluster.EventReshardStarted:
		em = embed{Title: "Re-shard started", Description: reshard, Color: colourBlue}
	case cluster.EventReshardCompleted:
		em = embed{Title: "Re-shard completed", Description: reshard, Color: colourGreen}
	case cluster.EventReshardFailed:
		em = embed{Title: "Re-shard failed", Color: colourRed,
			Description: reshard + "; the old shard set keeps serving\n" + errText(e.Err)}
	case cluster.EventIdentifyBudgetLow:
		em = embed{Title: "Identify budget low", Color: colourOrange,
			Description: strconv.Itoa(e.Remaining) + " session starts left until the session start limit resets"}
	case cluster.EventError:
		if errors.Is(e.Err, shard.ErrInvalidToken) {
			em = embed{Title: "Bot token invalid", Color: colourRed,
				Description: "Discord rejected the token; the bot stopped\n" + errText(e.Err)}
		} else {
			em = embed{Title: "Restart cap hit", Color: colourRed,
				Description: "a supervisor gave up restarting; the bot stopped\n" + errText(e.Err)}
		}
	}
	em.Title = truncate(em.Title, maxTitle)
	em.Description = truncate(strings.TrimSpace(em.Description), maxDescription)
	if !e.At.IsZero() {
		em.Timestamp = e.At.UTC().Format(time.RFC3339Nano)
	}
	return em
}

// clusterName is the event's cluster ID, marked when it is a standby's.
func clusterName(e cluster.Event) string {
	s := strconv.Itoa(e.Cluster)
	if e.Standby {
		s += " (standby)"
	}
	return s
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// truncate cuts s to at most n characters, ending it with "…" if it was cut.
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
