#!/usr/bin/env python3
"""Writes tailship(1) in roff from the binary's own help (`--experimental-dump-help`, the
structure swift-argument-parser prints its help from), so the page cannot drift from the
commands. Offline and fast; swift-argument-parser's generate-manual plugin would rebuild the
whole product in its own configuration first.

Usage: gen-manpage.py BINARY DATE > tailship.1   (DATE: YYYY-MM-DD, for a reproducible page)
"""

import json
import subprocess
import sys


def esc(text):
    """Roff-escapes text: backslashes, hyphens, and a leading dot or quote."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    lines = []
    for line in text.split("\n"):
        if line.startswith((".", "'")):
            line = "\\&" + line
        lines.append(line)
    return "\n".join(lines)


def names(arg):
    out = []
    for name in arg.get("names", []):
        prefix = "-" if name["kind"] in ("short", "longWithSingleDash") else "--"
        out.append(prefix + name["name"])
    return out


def synopsis_item(arg):
    if arg["kind"] == "positional":
        text = "<%s>" % arg["valueName"]
    else:
        preferred = arg["preferredName"]
        prefix = "-" if preferred["kind"] in ("short", "longWithSingleDash") else "--"
        text = prefix + preferred["name"]
        if arg["kind"] == "option":
            text += " <%s>" % arg["valueName"]
    if arg.get("isRepeating"):
        text += " ..."
    return "[%s]" % text if arg.get("isOptional") else text


def shown(args):
    return [a for a in args or [] if a.get("shouldDisplay", True)]


def arguments_section(args, out):
    for arg in shown(args):
        out.append(".TP")
        if arg["kind"] == "positional":
            out.append("\\fI<%s>\\fR%s" % (esc(arg["valueName"]), " ..." if arg.get("isRepeating") else ""))
        else:
            label = ", ".join("\\fB%s\\fR" % esc(n) for n in names(arg))
            if arg["kind"] == "option":
                label += " \\fI<%s>\\fR" % esc(arg["valueName"])
            out.append(label)
        text = arg.get("abstract", "")
        if arg.get("defaultValue"):
            text += " (default: %s)" % arg["defaultValue"]
        out.append(esc(text))
        if arg.get("discussion"):
            out.append(".IP")
            out.append(esc(arg["discussion"]))


def main():
    binary, date = sys.argv[1], sys.argv[2]
    info = json.loads(subprocess.run([binary, "--experimental-dump-help"], check=True,
                                     capture_output=True, text=True).stdout)["command"]
    version = subprocess.run([binary, "--version"], check=True, capture_output=True,
                             text=True).stdout.strip()
    name = info["commandName"]
    subs = [s for s in info.get("subcommands", []) if s.get("shouldDisplay", True)
            and s["commandName"] != "help"]
    out = ['.TH %s 1 "%s" "%s %s" "User Commands"' % (name.upper(), date, name, version),
           ".SH NAME", "%s \\- %s" % (name, esc(info.get("abstract", ""))),
           ".SH SYNOPSIS"]
    for sub in subs:
        items = " ".join(esc(synopsis_item(a)) for a in shown(sub.get("arguments"))
                         if a["kind"] != "flag" or a["preferredName"]["name"] not in ("help", "version"))
        out += [".B %s %s" % (name, sub["commandName"]), items, ".br"]
    out += [".B %s" % name, "\\-\\-version | \\-\\-help", ".SH DESCRIPTION", esc(info.get("abstract", ""))]
    if info.get("discussion"):
        out += [".PP", esc(info["discussion"])]
    out.append(".SH OPTIONS")
    arguments_section(info.get("arguments"), out)
    out.append(".SH COMMANDS")
    for sub in subs:
        out += [".SS %s %s" % (name, sub["commandName"]), esc(sub.get("abstract", ""))]
        if sub.get("discussion"):
            out += [".PP", esc(sub["discussion"])]
        arguments_section(sub.get("arguments"), out)
    out += [
        ".SH FILES",
        ".TP", "/etc/tailship/agent.yaml", "The configuration (\\-c, $TAILSHIP_CONFIG).",
        ".TP", "/etc/tailship/secret", "The Mixpanel secret, handed to the service as a systemd credential.",
        ".TP", "/etc/tailship/env", "The service's environment.",
        ".TP", "/var/lib/tailship", "The state directory: checkpoints, dead letters, status.",
        ".SH SEE ALSO",
        "/usr/share/doc/tailship/ (operations.md, configuration.md, rules.md, security.md)",
    ]
    sys.stdout.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
