"""Runs the Python snippet of README.md marked <!-- readme-test: NAME --> as a script.

usage: run_python_snippet.py README.md NAME
"""
import re
import sys


def snippet(readme, name):
    text = open(readme, encoding="utf-8").read()
    marker = "<!-- readme-test: %s -->" % name
    at = text.find(marker)
    if at < 0:
        sys.exit("README.md has no snippet marked %s" % marker)
    block = re.search(r"```[a-z]*\n(.*?)```", text[at:], re.S)
    if not block:
        sys.exit("no fenced block after %s" % marker)
    return block.group(1)


if __name__ == "__main__":
    code = snippet(sys.argv[1], sys.argv[2])
    exec(compile(code, "README.md[%s]" % sys.argv[2], "exec"), {"__name__": "__main__"})
    print("readme snippet %s: ok" % sys.argv[2])
