// Package device classifies a browser's User-Agent string into a device
// class (mobile, tablet, desktop or bot), a browser family and an operating
// system. It is table-driven substring matching, not a full UA database:
// small, allocation-light and fast enough to run on every vital and every
// session, and the categories are the coarse ones dashboards cut by.
package device

import "strings"

// Device classes.
const (
	Mobile  = "mobile"
	Tablet  = "tablet"
	Desktop = "desktop"
	Bot     = "bot"
)

// Info is what a User-Agent says about the device.
type Info struct {
	// Class is Mobile, Tablet, Desktop or Bot.
	Class string `json:"device_class"`
	// Browser is the family: Chrome, Safari, Firefox, Edge, Opera,
	// Samsung Internet, Yandex, UC Browser, IE, or Other (Bot for bots).
	Browser string `json:"browser"`
	// OS is Windows, macOS, iOS, Android, ChromeOS, Linux or Other.
	OS string `json:"os"`
}

// IsBot reports whether the User-Agent belongs to a crawler, monitor or
// scripted client rather than a person's browser.
func (i Info) IsBot() bool { return i.Class == Bot }

// botTokens are matched against the lowercased UA. "bot" alone would catch
// phone brands (CUBOT), so crawlers are matched by the suffix forms they use.
var botTokens = []string{
	"googlebot", "bingbot", "yandexbot", "baiduspider", "duckduckbot", "applebot",
	"slurp", "crawler", "spider", "bot/", "bot;", "bot ", "-bot", "_bot",
	"facebookexternalhit", "facebookcatalog", "embedly", "bingpreview", "lighthouse",
	"pingdom", "uptimerobot", "statuscake", "gtmetrix", "pagespeed", "phantomjs",
	"python-requests", "python-urllib", "aiohttp", "go-http-client", "curl/", "wget/",
	"java/", "okhttp", "apache-httpclient", "node-fetch", "axios/", "libwww-perl",
	"headlessshell", "scrapy", "httpclient", "whatsapp", "telegrambot", "slackbot",
	"discordbot", "twitterbot", "linkedinbot", "petalbot", "semrush", "ahrefs", "mj12bot",
}

// Parse classifies ua. An empty UA is a bot: every real browser sends one.
func Parse(ua string) Info {
	if strings.TrimSpace(ua) == "" {
		return Info{Class: Bot, Browser: Bot, OS: "Other"}
	}
	lower := strings.ToLower(ua)
	if strings.Contains(lower, "cubot") {
		// A phone brand, not a crawler.
		lower = strings.ReplaceAll(lower, "cubot", "cu")
	}
	for _, t := range botTokens {
		if strings.Contains(lower, t) {
			return Info{Class: Bot, Browser: Bot, OS: osOf(ua)}
		}
	}
	if strings.HasSuffix(lower, "bot") {
		return Info{Class: Bot, Browser: Bot, OS: osOf(ua)}
	}
	return Info{Class: classOf(ua, lower), Browser: browserOf(ua), OS: osOf(ua)}
}

func classOf(ua, lower string) string {
	switch {
	case strings.Contains(ua, "iPad"), strings.Contains(lower, "tablet"),
		strings.Contains(ua, "Kindle"), strings.Contains(ua, "Silk/"), strings.Contains(ua, "PlayBook"):
		return Tablet
	case strings.Contains(ua, "Android"):
		// Android tablets omit "Mobile" by Google's own convention.
		if strings.Contains(ua, "Mobile") {
			return Mobile
		}
		return Tablet
	case strings.Contains(ua, "Mobi"), strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPod"),
		strings.Contains(ua, "Windows Phone"), strings.Contains(ua, "Opera Mini"), strings.Contains(ua, "BlackBerry"):
		return Mobile
	}
	return Desktop
}

// browserTokens is in priority order: Chromium derivatives also say
// "Chrome/" and nearly everything says "Safari/", so specific tokens go
// first.
var browserTokens = []struct{ token, family string }{
	{"Edg/", "Edge"}, {"EdgA/", "Edge"}, {"EdgiOS/", "Edge"}, {"Edge/", "Edge"},
	{"OPR/", "Opera"}, {"OPiOS/", "Opera"}, {"Opera", "Opera"},
	{"SamsungBrowser/", "Samsung Internet"},
	{"YaBrowser/", "Yandex"},
	{"UCBrowser/", "UC Browser"},
	{"Firefox/", "Firefox"}, {"FxiOS/", "Firefox"},
	{"CriOS/", "Chrome"}, {"Chrome/", "Chrome"}, {"Chromium/", "Chrome"},
	{"MSIE ", "IE"}, {"Trident/", "IE"},
	{"Safari/", "Safari"},
}

func browserOf(ua string) string {
	for _, b := range browserTokens {
		if strings.Contains(ua, b.token) {
			if b.family == "Safari" && !strings.Contains(ua, "Version/") {
				// WebViews and in-app browsers say Safari/ without Version/.
				return "Other"
			}
			return b.family
		}
	}
	return "Other"
}

func osOf(ua string) string {
	switch {
	case strings.Contains(ua, "Windows"):
		return "Windows"
	case strings.Contains(ua, "iPhone"), strings.Contains(ua, "iPad"), strings.Contains(ua, "iPod"):
		return "iOS"
	case strings.Contains(ua, "Android"):
		return "Android"
	case strings.Contains(ua, "CrOS"):
		return "ChromeOS"
	case strings.Contains(ua, "Mac OS X"), strings.Contains(ua, "Macintosh"):
		return "macOS"
	case strings.Contains(ua, "Linux"), strings.Contains(ua, "X11"):
		return "Linux"
	}
	return "Other"
}
