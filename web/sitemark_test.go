package web_test

import "testing"

// The live site is marked as plainly as training, in its own calm colours: a band saying it
// holds real client data and a tag by the site's name, on every page of the site. Training
// keeps its own banner and never shows the live mark.
func TestLiveSiteIsMarkedAsLive(t *testing.T) {
	e := newEnv(t)
	b := e.browser()
	const liveBand = `<div class="live-banner" role="note"><p><strong>LIVE SITE</strong> — real client data.`
	const liveTag = `<p class="site-name">HMIS Live <span class="tag tag-live">Real client data</span></p>`
	for _, path := range []string{"/live/login", "/live/forgot-password"} {
		b.get(path).wantText(liveBand, liveTag).lackText("training-banner", "TRAINING SITE")
	}
	username := e.activeUser("live", "Rosa", "Park", goodPassword)
	b.signIn("live", username, goodPassword).wantPath("/live/account").wantText(liveBand, liveTag)
	b.get("/training/login").wantText("TRAINING SITE", `<span class="tag">Training</span>`).
		lackText("live-banner", "Real client data", "LIVE SITE")
	b.get("/nowhere").lackText("live-banner", "training-banner") // no site, no mark
}
