package noise

// botMarkers are lower-case User-Agent substrings of crawlers, headless
// browsers, uptime monitors and HTTP libraries.
var botMarkers = []string{
	"bot", "crawl", "spider", "slurp", "mediapartners", "facebookexternalhit",
	"headlesschrome", "phantomjs", "puppeteer", "playwright", "selenium", "webdriver",
	"lighthouse", "chrome-lighthouse", "pagespeed", "gtmetrix", "pingdom", "uptimerobot",
	"statuscake", "site24x7", "datadogsynthetics", "newrelicpinger", "checkly", "better uptime",
	"uptime-kuma", "freshping", "monitis", "catchpoint", "rigor", "dareboost", "webpagetest",
	"curl/", "wget/", "python-requests", "python-urllib", "go-http-client", "java/", "okhttp",
	"axios/", "node-fetch", "httpclient", "libwww-perl", "scrapy", "httpx", "aiohttp",
	"preview", "embedly", "quora link", "whatsapp", "slackbot", "discordbot", "telegrambot",
	"applebot", "ia_archiver", "archive.org", "yandex", "baiduspider", "bingpreview", "petalbot",
}

// Bot reports whether a User-Agent is a bot, crawler, headless browser or
// monitor. allow (lower-case substrings) wins over every marker; extra
// (lower-case) adds markers. An empty User-Agent is a bot: browsers always
// send one.
func Bot(ua []byte, allow, extra []string) bool {
	for _, a := range allow {
		if a != "" && containsFold(ua, a) {
			return false
		}
	}
	if len(ua) == 0 {
		return true
	}
	// The markers are lower-case: lower the User-Agent once and search
	// it plainly, rather than folding every byte once per marker.
	var buf [512]byte
	if len(ua) <= len(buf) {
		l := buf[:len(ua)]
		for i, c := range ua {
			l[i] = lower(c)
		}
		for _, m := range botMarkers {
			if contains(l, m) {
				return true
			}
		}
	} else {
		for _, m := range botMarkers {
			if containsFold(ua, m) {
				return true
			}
		}
	}
	for _, m := range extra {
		if m != "" && containsFold(ua, m) {
			return true
		}
	}
	return false
}
