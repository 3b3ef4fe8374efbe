import { APIError, request } from "../api";
import { h, mount } from "../dom";
import type { Page } from "../ui";
import { afterSignIn } from "../main";

// signinPage exchanges the admin token for an HttpOnly session cookie; the
// token itself is never stored by the player.
export function signinPage(p: Page): void {
  const input = h("input", { type: "password", name: "token", id: "token", autocomplete: "current-password", placeholder: "rva_…", required: true, spellcheck: "false" });
  const msg = h("p", { class: "form-error", role: "alert" });
  const button = h("button", { type: "submit", class: "primary" }, "Sign in");
  const form = h(
    "form",
    { class: "signin card" },
    h("div", { class: "signin-brand" }, h("span", { class: "logo", "aria-hidden": "true" }, "◉"), "Rearview"),
    h("h1", null, "Sign in"),
    h("p", { class: "muted" }, "Paste the admin token. `rearview up` prints it, and keeps it in the data directory."),
    h("label", { for: "token" }, "Admin token"),
    input,
    msg,
    button,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = "";
    button.disabled = true;
    try {
      await request("/api/v1/login", { method: "POST", body: { token: input.value.trim() }, project: false });
      input.value = "";
      afterSignIn(p.query.get("next") ?? "");
    } catch (err) {
      if (err instanceof APIError && err.missing) msg.textContent = "This server has no sign-in endpoint. Upgrade the coordinator.";
      else if (err instanceof APIError && (err.status === 401 || err.status === 403)) msg.textContent = "That token is not valid.";
      else if (err instanceof APIError && err.status === 429) msg.textContent = "Too many attempts. Wait a minute and try again.";
      else msg.textContent = `Sign-in failed: ${err instanceof Error ? err.message : String(err)}`;
      input.focus();
    } finally {
      button.disabled = false;
    }
  });
  mount(p.root, form);
  input.focus();
}
