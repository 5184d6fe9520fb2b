"""Puts a Markdown section into BENCHMARKS.md between <!-- NAME --> and <!-- /NAME --> (appended if missing).

  python Benchmarks/put_section.py NAME SECTION.md
"""
import re
import sys

name, path = sys.argv[1], sys.argv[2]
section = open(path).read().rstrip() + "\n"
text = open("BENCHMARKS.md").read()
block = f"<!-- {name} -->\n" + section + f"<!-- /{name} -->"
if f"<!-- {name} -->" in text:
    text = re.sub(rf"<!-- {name} -->.*?<!-- /{name} -->", lambda _: block, text, flags=re.S)
else:
    text = text.rstrip() + "\n\n" + block + "\n"
open("BENCHMARKS.md", "w").write(text)
