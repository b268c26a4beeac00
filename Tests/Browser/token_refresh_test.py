#!/usr/bin/env python3
"""The chat page under --auth jwt in headless Chromium: the token never appears in a URL, the open socket is refreshed
in band through getToken before its token runs out, a refused refresh ends in a 4001 and a reconnect with a fresh
token, and an admin's disconnect (4003) stops the page for good. Then another user's page: an unfriended
conversation leaves the friend list, and the page of an erased account signs out.

Run by BrowserTests.swift, which starts Redis and a node and passes them in the environment: CHATRELAY_NODE
(http://127.0.0.1:PORT), CHATRELAY_JWT_SECRET, CHATRELAY_ADMIN_TOKEN. Exits non-zero with a message on the first
failed check.
"""
import base64
import hashlib
import hmac
import json
import os
import time
import urllib.request

from selenium.webdriver.common.by import By

from browser_support import browser, check, wait

NODE = os.environ["CHATRELAY_NODE"]
SECRET = os.environ["CHATRELAY_JWT_SECRET"]
ADMIN = os.environ["CHATRELAY_ADMIN_TOKEN"]
TTL = 8

# Signs HS256 tokens in the page, as an app's backend would hand them out; the secret exists only in this test.
PROVIDER = """
const [secret, user, ttl] = arguments;
const encoder = new TextEncoder();
const b64 = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
window.tokenCalls = 0;
window.tokenBroken = false;
window.chatrelayTokenProvider = async () => {
  window.tokenCalls += 1;
  if (window.tokenBroken) return "not-a-token";
  const header = b64(encoder.encode(JSON.stringify({ alg: "HS256", typ: "JWT" })));
  const payload = b64(encoder.encode(JSON.stringify({ sub: user, exp: Math.floor(Date.now() / 1000) + ttl })));
  const key = await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return `${header}.${payload}.${b64(await crypto.subtle.sign("HMAC", key, encoder.encode(`${header}.${payload}`)))}`;
};
window.seen = { refreshed: 0, disconnects: [], ended: null, opens: 0 };
const client = window.chatrelay.client;
client.on("refreshed", () => (window.seen.refreshed += 1));
client.on("disconnect", (event) => window.seen.disconnects.push(event.code));
client.on("ended", (event) => (window.seen.ended = event.code));
client.on("state", (state) => state === "open" && (window.seen.opens += 1));
"""


def token(user, ttl):
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    payload = b64(json.dumps({"sub": user, "exp": int(time.time()) + ttl}).encode())
    signature = hmac.new(SECRET.encode(), f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{b64(signature)}"


def admin(method, path, body=None):
    request = urllib.request.Request(NODE + path, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    request.add_header("Authorization", f"Bearer {ADMIN}")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def state(driver):
    return driver.find_element(By.ID, "connection").get_attribute("data-state")


def main():
    alice = admin("POST", "/api/users", {"name": "alice"})["id"]
    bob = admin("POST", "/api/users", {"name": "bob"})["id"]
    friendship = admin("POST", "/api/friendships", {"user1": alice, "user2": bob})["id"]
    driver = browser(1000, 700)
    try:
        # Signed in through the form: the token is typed, not linked.
        driver.get(f"{NODE}/")
        driver.find_element(By.ID, "signin-who").send_keys(token(alice, TTL))
        driver.find_element(By.ID, "signin-form").submit()
        wait(driver, lambda d: state(d) == "open", "the page connects with its token")
        socket = driver.execute_script("const s = window.chatrelay.client._socket; return [s.url, s.protocol];")
        check("token" not in socket[0] and "." not in socket[0].split("/ws/")[1], f"no token in the socket's URL: {socket[0]}")
        check(socket[1] == "chatrelay", f"the node selected the chatrelay subprotocol, not {socket[1]!r}")
        check("token" not in driver.current_url, "no token in the page's address")
        driver.execute_script(PROVIDER, SECRET, alice, TTL)

        # Two lifetimes of a token pass on one socket: each refresh came in band.
        time.sleep(TTL * 2 + 1)
        seen = driver.execute_script("return window.seen")
        check(seen["refreshed"] >= 2, f"refreshed in band before each expiry: {seen}")
        check(seen["disconnects"] == [] and seen["opens"] == 0, f"the socket stayed open throughout: {seen}")
        print("ok: refreshed in band through getToken")

        # The provider hands out garbage: the refresh is refused, the node closes the socket at exp (4001), and the
        # page reconnects with a good token once the provider recovers.
        driver.execute_script("window.tokenBroken = true")
        wait(driver, lambda d: 4001 in d.execute_script("return window.seen.disconnects"), "the socket ends with 4001 at its token's exp")
        driver.execute_script("window.tokenBroken = false")
        wait(driver, lambda d: d.execute_script("return window.seen.opens") >= 1 and state(d) == "open", "the page reconnects with a fresh token")
        sent = driver.execute_async_script(
            "const [f, to, done] = arguments; window.chatrelay.client.send(f, 'back again', to).then(done, (e) => done(String(e)));",
            friendship,
            bob,
        )
        check(isinstance(sent, dict) and "id" in sent, f"a send after the reconnect is acked: {sent}")
        print("ok: reconnected after 4001")

        # An admin ends alice's sessions: the page stops and says why.
        urllib.request.urlopen(
            urllib.request.Request(f"{NODE}/api/users/{alice}/disconnect", method="POST", headers={"Authorization": f"Bearer {ADMIN}"}),
            timeout=10,
        )
        wait(driver, lambda d: d.execute_script("return window.seen.ended") == 4003, "the client ends on 4003")
        time.sleep(2)
        check(state(driver) == "ended", f"no reconnect after 4003: {state(driver)}")
        check("admin" in driver.find_element(By.ID, "connection").text, "the page says an admin signed it out")
        print("ok: 4003 ends the page")
    finally:
        driver.quit()
    erasure_checks()


def friend_names(driver):
    return [element.text for element in driver.find_elements(By.CSS_SELECTOR, "#friends .friend-name")]


def erasure_checks():
    dave = admin("POST", "/api/users", {"name": "dave"})["id"]
    erin = admin("POST", "/api/users", {"name": "erin"})["id"]
    fred = admin("POST", "/api/users", {"name": "fred"})["id"]
    with_erin = admin("POST", "/api/friendships", {"user1": dave, "user2": erin})["id"]
    admin("POST", "/api/friendships", {"user1": dave, "user2": fred})
    driver = browser(1000, 700)
    try:
        driver.get(f"{NODE}/")
        driver.find_element(By.ID, "signin-who").send_keys(token(dave, 600))
        driver.find_element(By.ID, "signin-form").submit()
        wait(driver, lambda d: state(d) == "open", "dave's page connects")
        check(friend_names(driver) == ["erin", "fred"], f"dave's friends: {friend_names(driver)}")
        driver.find_elements(By.CSS_SELECTOR, "#friends .friend")[0].click()
        admin_delete(f"/api/friendships/{with_erin}")
        wait(driver, lambda d: friend_names(d) == ["fred"], "the unfriended conversation leaves the list")
        check(driver.find_element(By.ID, "chat").get_attribute("hidden") is not None, "the open conversation closed")
        print("ok: unfriended conversation gone")
        admin_delete(f"/api/users/{dave}")
        wait(driver, lambda d: d.find_element(By.ID, "signin").get_attribute("hidden") is None, "the erased account's page signs out")
        check("erased" in driver.find_element(By.ID, "signin-error").text, "the page says the account was erased")
        check(driver.execute_script("return sessionStorage.getItem('chatrelay.token')") is None, "the token is forgotten")
        print("ok: erased account signed out")
    finally:
        driver.quit()


def admin_delete(path):
    request = urllib.request.Request(NODE + path, method="DELETE", headers={"Authorization": f"Bearer {ADMIN}"})
    urllib.request.urlopen(request, timeout=10).close()


if __name__ == "__main__":
    main()
