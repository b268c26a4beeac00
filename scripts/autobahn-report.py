#!/usr/bin/env python3
"""Turns Autobahn|Testsuite fuzzing-client reports (index.json, one per agent) into docs/conformance.md, or, with
--summary, into one line per agent and section for the terminal."""
import datetime
import json
import sys
from collections import Counter, OrderedDict

SECTIONS = OrderedDict([
    ("1", "Framing"), ("2", "Pings and pongs"), ("3", "Reserved bits"), ("4", "Opcodes"), ("5", "Fragmentation"),
    ("6", "UTF-8 handling"), ("7", "Close handling"), ("9", "Limits and performance"), ("10", "Miscellaneous"),
    ("12", "Compression (payloads)"), ("13", "Compression (parameters)"),
])
PASSING = {"OK", "NON-STRICT", "INFORMATIONAL"}
AGENTS = {
    "echo-harness": "echo harness",
    "relay-node": "relay node",
    "node-peer": "Node peer (`ws`)",
}
NOTES = {
    "echo-harness": "`websocket-echo` (Conformance/WebSocketEcho): the relay's WebSocket code (WebSocketWire) echoing every message",
    "relay-node": "`chatrelay serve --auth none`, one node, at `/ws/autobahn`: it answers text with contract frames, not echoes",
    "node-peer": "a Node.js relay of the same contract on the `ws` library, the team's reference peer, for comparison",
}


def case_key(case):
    return tuple(int(part) for part in case.split("."))


def load(paths):
    results = OrderedDict()
    for path in paths:
        with open(path) as handle:
            for agent, cases in json.load(handle).items():
                results[agent] = cases
    return results


def verdict(result):
    """One word for a case: the behaviour, and the close behaviour when only that failed."""
    behavior, close = result["behavior"], result.get("behaviorClose", "OK")
    if behavior in PASSING and close not in ("OK", "INFORMATIONAL"):
        return f"{behavior}, close {close}"
    return behavior


def summary(results):
    for agent, cases in results.items():
        for section in SECTIONS:
            counts = Counter(cases[c]["behavior"] for c in cases if c.split(".")[0] == section)
            if counts:
                text = ", ".join(f"{n} {b}" for b, n in sorted(counts.items()))
                print(f"{agent:14} {section:>3} {SECTIONS[section]:26} {text}")


def markdown(results):
    agents = list(results)
    out = ["# WebSocket conformance", ""]
    out += [
        "Autobahn|Testsuite 25.10.1's fuzzing client (`wstest -m fuzzingclient`) against the relay's WebSocket code. "
        "Reproduce with `scripts/autobahn.sh` (add `--node-peer PATH/server.js` for the Node column); it rewrites this page.",
        "",
    ]
    for agent in agents:
        out.append(f"- **{AGENTS.get(agent, agent)}**: {NOTES.get(agent, agent)}.")
    out += [
        "",
        "What the verdicts mean: `OK` passed; `NON-STRICT` passed where the RFC allows either behaviour (for example "
        "failing an invalid UTF-8 message at its end rather than at the first bad byte); `INFORMATIONAL` is not a pass "
        "or fail; `UNIMPLEMENTED` means the extension was not negotiated, which is the right answer for a server that "
        "offers none (sections 12 and 13: the handshake's answer has no `Sec-WebSocket-Extensions`, so the client "
        "never compresses); `FAILED` failed.",
        "",
        "The relay node is not an echo server: a text frame gets a contract answer (`bad_json` for Autobahn's "
        "payloads) and a binary frame gets `bad_json` too, so cases that check an echo fail there by design. Its "
        "column shows the rest: framing errors, fragmentation, UTF-8 and every close case are handled by the same "
        "code as the harness's, and its close behaviour matches. In section 7 only 7.1.1 fails there, and for the "
        "same reason: it sends a text message and waits for its echo before closing; the Node peer fails it the same "
        "way, and both answer the client's close (1001) correctly. Section 9 sends messages up to 16 MiB, over the "
        "node's 64 KiB limit, which it refuses with 1009.",
        "",
        f"Last run: {datetime.date.today().isoformat()}, on the 2-core development machine (Debian 12, Swift 6.3.1).",
        "",
        "## Summary",
        "",
        "| section | " + " | ".join(AGENTS.get(a, a) for a in agents) + " |",
        "|---|" + "---|" * len(agents),
    ]
    for section, title in SECTIONS.items():
        row = []
        for agent in agents:
            cases = [c for c in results[agent] if c.split(".")[0] == section]
            if not cases:
                row.append("not run")
                continue
            counts = Counter(results[agent][c]["behavior"] for c in cases)
            row.append(", ".join(f"{n} {b}" for b, n in sorted(counts.items())))
        out.append(f"| {section}. {title} | " + " | ".join(row) + " |")
    for section, title in SECTIONS.items():
        cases = sorted({c for a in agents for c in results[a] if c.split(".")[0] == section}, key=case_key)
        if not cases:
            continue
        out += ["", f"## {section}. {title}", ""]
        if section in ("12", "13"):
            out.append(f"{len(cases)} cases; per agent, how many ended how:")
            out += ["", "| agent | verdicts |", "|---|---|"]
            for agent in agents:
                counts = Counter(results[agent][c]["behavior"] for c in cases if c in results[agent])
                if counts:
                    out.append(f"| {AGENTS.get(agent, agent)} | " + ", ".join(f"{n} {b}" for b, n in sorted(counts.items())) + " |")
            continue
        out += ["| case | " + " | ".join(AGENTS.get(a, a) for a in agents) + " |", "|---|" + "---|" * len(agents)]
        for case in cases:
            cells = []
            for agent in agents:
                result = results[agent].get(case)
                if result is None:
                    cells.append("")
                    continue
                code = result.get("remoteCloseCode")
                cells.append(verdict(result) + (f" ({code})" if code is not None and section == "7" else ""))
            out.append(f"| {case} | " + " | ".join(cells) + " |")
    out += ["", "In section 7 the number in brackets is the close code the server sent.", ""]
    return "\n".join(out)


def main(argv):
    only_summary = argv[:1] == ["--summary"]
    paths = argv[1:] if only_summary else argv
    results = load(paths)
    if only_summary:
        summary(results)
    else:
        print(markdown(results))


if __name__ == "__main__":
    main(sys.argv[1:])
