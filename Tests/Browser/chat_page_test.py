#!/usr/bin/env python3
"""The chat page in headless Chromium: two friends on two nodes chat both ways, see presence, typing and read marks,
page back through history, and the page whose node is killed reconnects through the other node and shows every
message once, in order.

Run by BrowserTests.swift, which starts Redis and the two nodes and passes them in the environment:
CHATRELAY_NODE_A, CHATRELAY_NODE_B (http://127.0.0.1:PORT), CHATRELAY_BALANCER (nginx in front of node A, with node B
as its backup), CHATRELAY_NODE_A_PID, CHATRELAY_ARTIFACTS (a directory
for screenshots), CHATRELAY_SCREENSHOT (optional: where to write the README's screenshot).
Exits non-zero with a message on the first failed check.
"""
import json
import os
import signal
import sys
import time
import urllib.request

from selenium.webdriver.common.by import By

from browser_support import browser, check, wait

NODE_A = os.environ["CHATRELAY_NODE_A"]
NODE_B = os.environ["CHATRELAY_NODE_B"]
BALANCER = os.environ["CHATRELAY_BALANCER"]
NODE_A_PID = int(os.environ["CHATRELAY_NODE_A_PID"])
ARTIFACTS = os.environ["CHATRELAY_ARTIFACTS"]


def api(base, method, path, body=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"{}")


def message_ids(driver):
    return driver.execute_script("return [...document.querySelectorAll('#message-list li[data-id]')].map(li => li.dataset.id)")


def message_texts(driver):
    return driver.execute_script(
        "return [...document.querySelectorAll('#message-list li')].map(li => li.firstChild.textContent)"
    )


def console_errors(driver):
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


def main():
    jeffery = api(NODE_A, "POST", "/api/users", {"name": "jeffery"})["id"]
    testuser = api(NODE_A, "POST", "/api/users", {"name": "testuser"})["id"]
    friendship = api(NODE_A, "POST", "/api/friendships", {"user1": jeffery, "user2": testuser})["id"]
    ws_a, ws_b = BALANCER.replace("http", "ws") + "/ws", NODE_B.replace("http", "ws") + "/ws"

    desktop = browser(1200, 800)
    phone = browser(390, 844, mobile=True)
    try:
        return run(desktop, phone, jeffery, testuser, friendship, ws_a, ws_b)
    finally:
        for driver in (desktop, phone):
            driver.quit()


def run(desktop, phone, jeffery, testuser, friendship, ws_a, ws_b):
    # Older history first, sent as jeffery by chatrelay.js itself from a page of node A's origin, before any chat
    # page is open (an open page would receive them live).
    desktop.get(f"{NODE_A}/")
    desktop.execute_async_script(
        """
        const [friendship, jeffery, testuser, done] = arguments;
        const { WsRequest } = await import(location.origin + '/chatrelay.js');
        const seeder = new WsRequest(location.origin.replace('http', 'ws') + '/ws', jeffery);
        for (let i = 0; i < 45; i++) await seeder.send(friendship, 'old ' + i, testuser);
        seeder.close();
        done();
        """,
        friendship,
        jeffery,
        testuser,
    )

    # jeffery through the balancer (on node A, B standing by), testuser on node B; each page talks to its own origin.
    desktop.get(f"{BALANCER}/?user={jeffery}")
    wait(desktop, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "open", "jeffery's page connects")

    phone.get(f"{NODE_B}/?user={testuser}")
    wait(phone, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "open", "testuser's page connects")

    # Presence: each sees the other online in the friends list.
    friend_dot = "button.friend[data-friend='{}'] .dot"
    wait(desktop, lambda d: d.find_element(By.CSS_SELECTOR, friend_dot.format(testuser)).get_attribute("data-online") == "true", "jeffery sees testuser online")
    wait(phone, lambda d: d.find_element(By.CSS_SELECTOR, friend_dot.format(jeffery)).get_attribute("data-online") == "true", "testuser sees jeffery online")
    # Unread state: testuser has 45 messages from jeffery... (those sent by jeffery are unread for testuser).
    wait(phone, lambda d: d.find_element(By.CSS_SELECTOR, f"button.friend[data-friend='{jeffery}']").get_attribute("data-unread") == "true", "testuser sees unread messages")

    desktop.find_element(By.CSS_SELECTOR, f"button.friend[data-friend='{testuser}']").click()
    phone.find_element(By.CSS_SELECTOR, f"button.friend[data-friend='{jeffery}']").click()
    check(not phone.find_element(By.CSS_SELECTOR, ".friends").is_displayed(), "the phone-sized page shows the chat alone")
    wait(phone, lambda d: d.find_element(By.CSS_SELECTOR, f"button.friend[data-friend='{jeffery}']").get_attribute("data-unread") == "false", "opening the chat reads it")

    # History: the newest 30 first, then older pages by scrolling up, until the first message.
    wait(desktop, lambda d: len(message_ids(d)) == 30, "jeffery's page shows the newest 30 messages")
    check(message_texts(desktop)[-1] == "old 44", f"newest last: {message_texts(desktop)[-3:]}")
    for _ in range(5):
        desktop.execute_script("document.getElementById('messages').scrollTop = 0")
        time.sleep(0.3)
        if len(message_ids(desktop)) == 45:
            break
    wait(desktop, lambda d: len(message_ids(d)) == 45, "scrolling back pages through the whole history")
    check(message_texts(desktop)[:2] == ["old 0", "old 1"], f"oldest first: {message_texts(desktop)[:3]}")

    # Typing: jeffery types, testuser sees it.
    text = desktop.find_element(By.ID, "text")
    text.send_keys("hello testuser")
    wait(phone, lambda d: "typing" in d.find_element(By.ID, "typing").text, "testuser sees jeffery typing")
    desktop.find_element(By.ID, "send").click()
    wait(phone, lambda d: "hello testuser" in message_texts(d), "testuser receives jeffery's message")
    # testuser has the chat open, so it is read: jeffery's message shows the read mark.
    wait(desktop, lambda d: d.find_element(By.CSS_SELECTOR, "#message-list li.mine:last-child").get_attribute("data-state") == "read", "jeffery sees the read mark")

    # Both ways, with an emoji.
    phone.find_element(By.ID, "text").send_keys("hi jeffery")
    phone.find_element(By.ID, "send").click()
    phone.find_element(By.CSS_SELECTOR, "[data-emoji='👍']").click()
    wait(desktop, lambda d: message_texts(d)[-2:] == ["hi jeffery", "👍"], "jeffery receives testuser's messages")
    check(desktop.find_element(By.CSS_SELECTOR, "#message-list li:last-child").get_attribute("class").find("emoji") >= 0, "an emoji message is shown large")

    errors = console_errors(desktop) + console_errors(phone)
    check(not errors, f"no console errors: {errors}")
    desktop.save_screenshot(os.path.join(ARTIFACTS, "jeffery-desktop.png"))
    phone.save_screenshot(os.path.join(ARTIFACTS, "testuser-phone.png"))
    if os.environ.get("CHATRELAY_SCREENSHOT"):
        desktop.save_screenshot(os.environ["CHATRELAY_SCREENSHOT"])

    # Node A dies with jeffery's socket on it: the page reconnects through node B. Meanwhile testuser sends, and
    # jeffery sends while disconnected (the send waits and goes out after the reconnect, once).
    # The page's reconnect is held until jeffery has sent while disconnected: only the send queued and resent after
    # the reconnect can store that message.
    desktop.execute_script(
        """
        const client = window.chatrelay.client;
        window.states = [];
        client.on('state', (state) => window.states.push(state));
        client._heldConnect = client._connect;
        client._connect = () => { window.reconnectDue = true; };
        """
    )
    os.kill(NODE_A_PID, signal.SIGKILL)
    wait(desktop, lambda d: d.execute_script("return window.reconnectDue === true"), "jeffery's page notices the dead node")
    desktop.find_element(By.ID, "text").send_keys("sent while reconnecting")
    desktop.find_element(By.ID, "send").click()
    check(desktop.find_element(By.CSS_SELECTOR, "#message-list li:last-child").get_attribute("data-state") == "sending", "a send waits while disconnected")
    for index in range(5):
        phone.find_element(By.ID, "text").send_keys(f"while you were away {index}")
        phone.find_element(By.ID, "send").click()
    wait(phone, lambda d: "while you were away 4" in message_texts(d), "testuser's sends are stored")
    desktop.execute_script("const client = window.chatrelay.client; client._connect = client._heldConnect; client._connect();")
    wait(desktop, lambda d: d.execute_script("return window.states.join(' ')").endswith("connecting open"), "jeffery's page reconnects")
    check(desktop.execute_script("return window.chatrelay.client._socket.url").startswith(ws_a), "through the balancer, to node B")
    wait(phone, lambda d: "sent while reconnecting" in message_texts(d), "the send made while disconnected arrives")
    wait(desktop, lambda d: "while you were away 4" in message_texts(d), "messages sent meanwhile arrive")
    time.sleep(1)

    stored = [m["id"] for m in api(NODE_B, "GET", f"/api/friendships/{friendship}/messages?limit=500")["messages"]]
    # jeffery paged back through all of it; testuser loaded the newest page only, and everything after it.
    for name, driver, expected in (("jeffery", desktop, stored), ("testuser", phone, stored[-len(message_ids(phone)) :])):
        shown = message_ids(driver)
        check(len(shown) == len(set(shown)), f"{name}'s page shows no message twice: {len(shown)} shown, {len(set(shown))} distinct")
        check(shown == expected, f"{name}'s page shows every message once, in order: {len(shown)} shown, {len(stored)} stored")
        pending = driver.find_elements(By.CSS_SELECTOR, "#message-list li:not([data-id])")
        check(not pending, f"{name}'s page has no unsent message left")
    # After the kill only the dead node's WebSocket may have failed in the console.
    errors = [e for e in console_errors(desktop) + console_errors(phone) if "WebSocket connection to" not in e]
    check(not errors, f"no console errors after the kill: {errors}")
    desktop.save_screenshot(os.path.join(ARTIFACTS, "jeffery-after-failover.png"))
    phone.save_screenshot(os.path.join(ARTIFACTS, "testuser-after-failover.png"))
    print(f"ok: {len(stored)} messages shown once and in order on both pages")
    client_library_checks(desktop, jeffery, testuser, friendship)
    own_origin_checks(phone, testuser)
    return 0


def own_origin_checks(driver, testuser):
    """The page opens its socket to its own origin whatever `?servers=` names, and is served with its security headers."""
    elsewhere = BALANCER.replace("http", "ws") + "/ws"
    driver.get(f"{NODE_B}/?user={testuser}&servers={elsewhere}")
    wait(driver, lambda d: d.find_element(By.ID, "connection").get_attribute("data-state") == "open", "the page connects")
    url = driver.execute_script("return window.chatrelay.client._socket.url")
    check(url.startswith(NODE_B.replace("http", "ws") + "/ws"), f"the page's socket goes to its own origin, not {url}")
    with urllib.request.urlopen(NODE_B + "/", timeout=10) as response:
        headers = response.headers
    check("frame-ancestors 'none'" in headers.get("Content-Security-Policy", ""), "the page may not be framed")
    check(headers.get("X-Content-Type-Options") == "nosniff", "nosniff")
    check(headers.get("Referrer-Policy") == "no-referrer", "no referrer")
    print("ok: own origin only")


def client_library_checks(driver, jeffery, testuser, friendship):
    """chatrelay.js on its own, on node B: what the page does not show by itself."""
    driver.get(f"{NODE_B}/")
    result = driver.execute_async_script(
        """
        const [friendship, jeffery, testuser, done] = arguments;
        const { WsRequest, ChatRelayError } = await import(location.origin + '/chatrelay.js');
        const url = location.origin.replace('http', 'ws') + '/ws';
        const result = {};
        const client = new WsRequest(url, jeffery, { minDelay: 50 });
        const reported = [];
        client.on('message', (m) => reported.push(m.content));
        // Own sends come back in a sync from before them: the client drops them, they were acked.
        const acks = [];
        for (const text of ['own 1', 'own 2']) acks.push(await client.send(friendship, text, testuser));
        result.acksHaveIds = acks.every((ack) => /^[0-9]+-[0-9]+$/.test(ack.id) && ack.ts > 0);
        await new Promise((resolve) => {
          client.on('synced', resolve);
          client._socket.close();
        });
        result.ownReplayed = reported.filter((text) => text.startsWith('own')).length;
        // A refused send rejects with the error frame's code.
        try {
          await client.send('no-such-friendship', 'x', testuser);
          result.refused = 'resolved';
        } catch (error) {
          result.refused = error instanceof ChatRelayError ? error.code : String(error);
        }
        // History pages back with `before`, oldest first.
        const newest = await client.history(friendship, { limit: 5 });
        const older = await client.history(friendship, { limit: 5, before: newest[0].id });
        result.paged = newest.length === 5 && older.length === 5 && older[4].id < newest[0].id;
        client.close();
        result.closedState = client.state;
        done(result);
        """,
        friendship,
        jeffery,
        testuser,
    )
    check(result["acksHaveIds"], f"acks carry ids: {result}")
    check(result["ownReplayed"] == 0, f"own sends replayed by a sync are dropped: {result}")
    check(result["refused"] == "not_friends", f"a refused send rejects with its code: {result}")
    check(result["paged"], f"history pages back: {result}")
    check(result["closedState"] == "closed", f"close() ends in the closed state: {result}")
    print("ok: chatrelay.js drops replayed own sends, rejects refused sends, pages history")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except AssertionError as failure:
        print(f"FAILED: {failure}", file=sys.stderr)
        sys.exit(1)
