#!/usr/bin/env python3
"""Man pages and compilable examples from include/rtctx.h, via Doxygen's XML.

    python3 docs/man.py --xml build/docs/xml --header include/rtctx.h \
        --man build/docs/man/man3 --examples build/docs/examples \
        --html build/docs/html --version 0.1.0 --expect "rt_new rt_spawn ..."

Doxygen (docs/Doxyfile) reads the header's comments and writes XML; this
script turns that XML into one man page per exported function and per
public type, plus the overview rtctx(3) (also as rtctx.h(3), the same page:
no `.so` link, which `man -l` could not follow). Everything on a page comes from the header, so the pages cannot drift
from it:

  NAME         the brief description
  SYNOPSIS     #include <rtctx.h>, the declaration exactly as the header
               has it (RT_EXPORT and RT_NODISCARD left out, RT_BOOL shown as
               bool, comments removed), and the link line
  DESCRIPTION  the detailed description, the parameters, the fields of a
               struct or the values of an enum
  RETURN VALUE @return, and the @retval for RT_OK
  ERRORS       the other @retval codes
  THREADS, OWNERSHIP, CALLBACKS   @threads, @ownership, @callbacks
  EXAMPLE      @par Example with @code ... @endcode; a type without an
               example of its own shows the example of the first function
               whose declaration names the type
  SEE ALSO     the pages of the same topic (@defgroup), the functions and
               types the comment refers to, and rtctx(3)

--expect is the list of page names the Makefile derives from the header
with sed; the script fails unless it made exactly those pages, so a new
function cannot go undocumented.

Examples (--examples DIR): each @code block of the header becomes
DIR/<name>.c, for `cc -std=c11 -Wall -Wextra -Werror -Iinclude
-fsyntax-only`. The convention:

  * every example is compiled after the prelude
        #include <rtctx.h>, <stdint.h>, <stdio.h>, <stdlib.h>, <string.h>
    so an example needs no #include of its own for those;
  * an example that defines a function (a line at column 0 such as
    `int main(void) {` or `static void *work(void *arg) {`) is a whole
    translation unit and is compiled as it is;
  * any other example is a fragment: the body of
        void rtctx_example(rt_runtime_t *rt, rt_handle_t *h)
    so it may use a runtime `rt` and a handle `h` without declaring them;
  * examples are C, with // comments only (they sit inside a comment of a
    header that compiles as C89), and must compile without a warning.

The script also fails if the header has a @code block that did not reach
an example file, or an exported function without an example.

--html DIR: in Doxygen's HTML, `typedef struct rt_handle rt_handle_t` links
the struct tag to the function rt_handle(), which shares its name; the
links of such struct tags are pointed at the typedef instead.

--lint: renders every page with `groff -man -ww -z` and, where man-db is
installed, `man --warnings -l`, and fails on any warning.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET

PRELUDE = """#include <rtctx.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
"""
LINK = "cc ... $(pkg-config --cflags --libs rtctx)"
SECTIONS_PAR = {"Threads": "THREADS", "Ownership": "OWNERSHIP",
                "Callbacks": "CALLBACKS", "Example": "EXAMPLE"}
DEFINES_FUNCTION = re.compile(
    r"^(?!(?:if|for|while|switch|do|else|return)\b)[A-Za-z_][\w \t*]*?"
    r"\b[A-Za-z_]\w*\s*\([^;]*\)\s*\{\s*$", re.M)


def fail(msg):
    sys.exit("man.py: " + msg)


# --- roff ----------------------------------------------------------------

def esc(text):
    """Escapes text for roff: backslashes, dashes, non-ASCII."""
    out = []
    for ch in text.replace("\\", "\\e").replace("-", "\\-"):
        if ord(ch) < 128:
            out.append(ch)
        else:
            out.append({"\u2014": "\\(em", "\u2013": "\\(en", "\u2026": "...",
                        "\u2018": "\\(oq", "\u2019": "\\(cq", "\u201c": "\\(lq",
                        "\u201d": "\\(rq", "\u2192": "\\(->", "\u00a0": "\\ "}
                       .get(ch, "\\[u%04X]" % ord(ch)))
    return "".join(out)


def line_safe(line):
    """A text line must not start with a control character or a space."""
    line = line.strip()
    if line[:1] in (".", "'"):
        line = "\\&" + line
    return line


class Roff:
    """Collects roff source; text is joined into lines, macros on their own."""

    def __init__(self):
        self.lines = []
        self.text = []

    def put(self, s):
        self.text.append(s)

    def flush(self):
        t = re.sub(r"[ \t\n]+", " ", "".join(self.text)).strip()
        self.text = []
        if t:
            self.lines.append(line_safe(t))

    def macro(self, m):
        self.flush()
        self.lines.append(m)

    def raw(self, lines):
        self.flush()
        self.lines.extend(lines)

    def source(self):
        self.flush()
        out, prev = [], None
        for l in self.lines:
            # no paragraph macro right after a heading or another one
            if l == ".PP" and (prev is None or prev.startswith((".SH", ".SS", ".PP", ".TP", ".IP"))):
                continue
            out.append(l)
            prev = l
        while out and out[-1] == ".PP":
            out.pop()
        return "\n".join(out) + "\n"


def code_text(listing):
    lines = []
    for cl in listing.findall("codeline"):
        parts = []
        for node in cl.iter():
            if node.tag == "sp":
                parts.append(" ")
            elif node.text and node.tag not in ("sp",):
                parts.append(node.text)
            if node is not cl and node.tail:
                parts.append(node.tail)
        lines.append("".join(parts).rstrip())
    return "\n".join(lines)


def code_roff(text):
    out = [".PP", ".in +4n", ".EX"]
    for l in text.split("\n"):
        l = esc(l)
        if l[:1] in (".", "'"):
            l = "\\&" + l
        out.append(l)
    out += [".EE", ".in"]
    return out


class Doc:
    """Renders a Doxygen description (brief or detailed) to roff."""

    def __init__(self, names):
        self.names = names  # names that have a man page

    def inline(self, r, node):
        tag = node.tag
        if tag in ("computeroutput", "bold"):
            r.put("\\fB")
            self.children(r, node)
            r.put("\\fR")
        elif tag == "emphasis":
            r.put("\\fI")
            self.children(r, node)
            r.put("\\fR")
        elif tag == "ref":
            r.put("\\fB" + esc("".join(node.itertext())) + "\\fR")
        elif tag == "sp":
            r.put(" ")
        elif tag == "linebreak":
            r.macro(".br")
        elif tag == "ulink":
            r.put(esc("".join(node.itertext())))
        else:
            self.children(r, node)

    def children(self, r, node):
        if node.text:
            r.put(esc(node.text))
        for c in node:
            self.node(r, c)
            if c.tail:
                r.put(esc(c.tail))

    def node(self, r, node):
        tag = node.tag
        if tag == "para":
            r.macro(".PP")
            self.children(r, node)
            r.macro(".PP")
        elif tag in ("itemizedlist", "orderedlist"):
            n = 0
            for item in node.findall("listitem"):
                n += 1
                r.macro(".IP %s 4" % ("\\(bu" if tag == "itemizedlist" else "%d." % n))
                self.item(r, item)
            r.macro(".PP")
        elif tag == "programlisting":
            r.raw(code_roff(code_text(node)))
            r.macro(".PP")
        elif tag in ("parameterlist", "simplesect"):
            pass  # taken apart by the caller
        else:
            self.inline(r, node)

    def item(self, r, item, more=False):
        """The paragraphs of one list item (.IP, .TP), staying inside it;
        more: they follow paragraphs of the same item already rendered."""
        if item is None:
            return
        first = not more
        for p in item:
            if p.tag != "para":
                self.node(r, p)
                continue
            if not first:
                r.macro(".IP")
            first = False
            if p.text:
                r.put(esc(p.text))
            for c in p:
                if c.tag in ("itemizedlist", "orderedlist"):
                    r.macro(".RS 4")
                    self.node(r, c)
                    r.macro(".RE")
                else:
                    self.node(r, c)
                if c.tail:
                    r.put(esc(c.tail))

    def render(self, r, node):
        if node is not None:
            for c in node:
                self.node(r, c)

    def text(self, node):
        r = Roff()
        self.render(r, node)
        return r


def plain(node):
    return re.sub(r"\s+", " ", "".join(node.itertext())).strip() if node is not None else ""


# --- the header ----------------------------------------------------------

def strip_comments(s):
    return re.sub(r"/\*.*?\*/", "", s, flags=re.S)


def statements(header):
    """The header's declarations, comments removed: name -> text."""
    src = strip_comments(header)
    found = {}
    for m in re.finditer(r"^RT_EXPORT\b[^;]*;", src, re.M):
        text = re.sub(r"\s+", " ", m.group(0))
        nodiscard = " RT_NODISCARD " in text
        text = text.replace("RT_EXPORT ", "").replace("RT_NODISCARD ", "")
        text = re.sub(r"\bRT_BOOL\b", "bool", text)
        name = re.search(r"(rt_\w+)\(", text).group(1)
        found[name] = (text, nodiscard)
    for m in re.finditer(r"^typedef\b", src, re.M):
        i, depth = m.start(), 0
        while True:
            c = src[i]
            depth += c == "{"
            depth -= c == "}"
            if c == ";" and depth == 0:
                break
            i += 1
        text = src[m.start():i + 1]
        name = re.search(r"(\w+)\)?\s*(\([^()]*\))?\s*;$", text.replace("\n", " "))
        if "{" not in text:
            name = re.search(r"\(\*(\w+)\)", text) or name
        lines = []
        for l in text.split("\n"):
            l = re.sub(r"\s+", " ", l).strip()
            if not l:
                continue
            lines.append(l if l.startswith(("typedef", "}")) else "    " + l)
        found[name.group(1)] = ("\n".join(lines), False)
    return found


def format_proto(text, width=72):
    """One line, or broken after commas with the arguments aligned."""
    if len(text) <= width:
        return [text]
    open_ = text.index("(") + 1
    lines, cur = [], text[:open_]
    for arg in re.split(r"(?<=,) ", text[open_:]):
        if len(cur) + len(arg) + 1 > width and cur.strip() and not cur.endswith("("):
            lines.append(cur.rstrip())
            cur = " " * open_ + arg
        else:
            cur += ("" if cur.endswith("(") else " ") + arg
    lines.append(cur)
    return lines


def synopsis_line(line, fname=None):
    s = esc(line)
    if fname:
        s = s.replace(esc(fname) + "(", "\\fB" + esc(fname) + "\\fP(", 1)
        # parameter names in italics: the identifier before , or )
        s = re.sub(r"([A-Za-z_]\w*)(?=(,|\);))", lambda m: "\\fI" + m.group(1) + "\\fP"
                   if m.group(1) not in ("void",) else m.group(1), s)
    if s[:1] in (".", "'"):
        s = "\\&" + s
    return s


# --- the model -----------------------------------------------------------

class Member:
    def __init__(self, el, kind):
        self.el = el
        self.kind = kind
        self.name = el.findtext("name") or el.findtext("compoundname")
        self.id = el.get("id")
        self.group = None
        self.brief = el.find("briefdescription")
        self.detail = el.find("detaileddescription")


def load(xmldir):
    def parse(ref):
        return ET.parse(os.path.join(xmldir, ref + ".xml")).getroot().find("compounddef")

    index = ET.parse(os.path.join(xmldir, "index.xml")).getroot()
    members, groups, order, fileinfo = {}, [], [], None
    for comp in index.findall("compound"):
        kind, ref = comp.get("kind"), comp.get("refid")
        if kind == "file" and comp.findtext("name") == "rtctx.h":
            fileinfo = parse(ref)
            for md in fileinfo.iter("memberdef"):
                m = Member(md, md.get("kind"))
                members[m.id] = m
                order.append(m)
        elif kind == "struct":
            cd = parse(ref)
            m = Member(cd, "struct")
            members[m.id] = m
            order.append(m)
    for comp in index.findall("compound"):
        if comp.get("kind") != "group":
            continue
        cd = parse(comp.get("refid"))
        g = {"name": cd.findtext("compoundname"), "title": cd.findtext("title"),
             "id": cd.get("id"), "brief": cd.find("briefdescription"),
             "detail": cd.find("detaileddescription"), "members": []}
        for ic in cd.findall("innerclass"):
            g["members"].append(members[ic.get("refid")])
        for md in cd.iter("memberdef"):
            if md.get("id") in members:
                g["members"].append(members[md.get("id")])
        g["members"].sort(key=lambda m: order.index(m))
        for m in g["members"]:
            m.group = g
        groups.append(g)
    return fileinfo, order, groups, members


def refs_in(m, members):
    out = []
    for node in (m.brief, m.detail):
        if node is None:
            continue
        for r in node.iter("ref"):
            t = members.get(r.get("refid"))
            if t is not None and t not in out:
                out.append(t)
    return out


def sections(detail):
    """Takes a detailed description apart: the body, params, retvals, ..."""
    params, retvals, returns, pars, examples = [], [], [], {}, []
    if detail is not None:
        for ps in detail.iter("parameterlist"):
            for item in ps.findall("parameteritem"):
                names = [plain(n) for n in item.iter("parametername")]
                entry = (", ".join(names), item.find("parameterdescription"))
                (params if ps.get("kind") == "param" else retvals).append(entry)
        for ss in detail.iter("simplesect"):
            if ss.get("kind") == "return":
                returns.append(ss)
            elif ss.get("kind") == "par":
                title = ss.findtext("title")
                pars.setdefault(title, []).append(ss)
                if title == "Example":
                    for pl in ss.iter("programlisting"):
                        examples.append(code_text(pl))
    return params, retvals, returns, pars, examples


def body_of(ss):
    """A simplesect's content without its title."""
    copy = ET.Element("div")
    for c in ss:
        if c.tag != "title":
            copy.append(c)
    return copy


# --- the pages -----------------------------------------------------------

def page_head(r, name, version, title):
    r.macro('.TH "%s" 3 "" "rtctx %s" "rtctx manual"' % (esc(name), version))
    r.macro(".nh")  # no hyphenation: identifiers stay whole
    r.macro(".ad l")
    r.macro(".SH NAME")
    r.put("%s \\- %s" % (esc(name), title))


def brief_line(m, doc):
    r = doc.text(m.brief)
    t = " ".join(l for l in r.source().split("\n") if not l.startswith("."))
    return re.sub(r"\\f[BIRP]", "", t).rstrip(".: ")


def man_page(m, ctx):
    doc, stmts, pages = ctx["doc"], ctx["stmts"], ctx["pages"]
    r = Roff()
    page_head(r, m.name, ctx["version"], brief_line(m, doc))
    params, retvals, returns, pars, examples = sections(m.detail)
    text, nodiscard = stmts[m.name]

    r.macro(".SH SYNOPSIS")
    r.macro(".nf")
    r.macro(".B #include <rtctx.h>")
    r.macro(".PP")
    if m.kind == "function":
        r.raw([synopsis_line(l, m.name) for l in format_proto(text)])
    else:
        r.raw([synopsis_line(l) for l in text.split("\n")])
    r.macro(".fi")
    r.macro(".PP")
    r.put("Compile and link with \\fB" + esc(LINK) + "\\fR.")

    r.macro(".SH DESCRIPTION")
    doc.render(r, m.brief)
    doc.render(r, m.detail)
    if params:
        r.macro(".PP")
        r.put("Arguments:")
        for name, desc in params:
            r.macro(".TP")
            r.put("\\fI" + esc(name) + "\\fR")
            r.flush()
            doc.item(r, desc)
    fields = [c for c in m.el.iter("memberdef") if c.get("kind") in ("variable", "enum")] \
        if m.kind == "struct" else []
    if m.kind == "enum":
        r.macro(".PP")
        r.put("Values:")
        for v in m.el.findall("enumvalue"):
            r.macro(".TP")
            init = plain(v.find("initializer"))
            r.put("\\fB" + esc(v.findtext("name")) + "\\fR" + (" " + esc(init) if init else ""))
            r.flush()
            doc.item(r, v.find("briefdescription"))
            doc.item(r, v.find("detaileddescription"), more=True)
    if fields:
        r.macro(".PP")
        r.put("Fields:")
        for f in fields:
            r.macro(".TP")
            r.put("\\fI" + esc(f.findtext("name")) + "\\fR")
            r.flush()
            doc.item(r, f.find("briefdescription"))
            doc.item(r, f.find("detaileddescription"), more=True)
    if m.name == "rt_strerror":
        r.macro(".PP")
        r.put("The result codes:")
        for v in ctx["codes"]:
            r.macro(".TP")
            r.put("\\fB%s\\fR (%s)" % (esc(v.findtext("name")), esc(plain(v.find("initializer")).lstrip("= "))))
            r.flush()
            doc.item(r, v.find("briefdescription"))

    if m.kind == "function":
        ok = [x for x in retvals if x[0] == "RT_OK"]
        errs = [x for x in retvals if x[0] != "RT_OK"]
        if returns or retvals:
            r.macro(".SH RETURN VALUE")
            for ss in returns:
                doc.render(r, body_of(ss))
            for name, desc in ok:
                r.macro(".TP")
                r.put("\\fBRT_OK\\fR")
                r.flush()
                doc.item(r, desc)
            if errs:
                r.macro(".PP")
                r.put("Otherwise a negative code, listed under ERRORS; "
                      "\\fBrt_strerror\\fR(3) describes it in words.")
            if nodiscard:
                r.macro(".PP")
                r.put("The result must be used: the declaration is marked "
                      "\\fBRT_NODISCARD\\fR, so the compiler warns when a caller drops it.")
        if errs:
            r.macro(".SH ERRORS")
            for name, desc in errs:
                r.macro(".TP")
                r.put("\\fB" + esc(name) + "\\fR")
                r.flush()
                doc.item(r, desc)
    for title in ("Threads", "Ownership", "Callbacks"):
        for ss in pars.get(title, []):
            r.macro(".SH " + SECTIONS_PAR[title])
            doc.render(r, body_of(ss))
    other = [t for t in pars if t not in SECTIONS_PAR]
    for title in other:
        for ss in pars[title]:
            r.macro(".SH " + esc(title.upper()))
            doc.render(r, body_of(ss))

    if examples:
        r.macro(".SH EXAMPLE")
        for ex in examples:
            r.raw(code_roff(ex))
    else:
        user = ctx["example_of_type"].get(m.name)
        if user is not None:
            r.macro(".SH EXAMPLE")
            r.put("From \\fB%s\\fR(3):" % esc(user.name))
            r.raw(code_roff(sections(user.detail)[4][0]))

    see = [x for x in (m.group["members"] if m.group else []) if x.name in pages]
    for x in refs_in(m, ctx["members"]):
        if x.name in pages and x not in see:
            see.append(x)
    see = [x.name for x in see if x is not m] + ["rtctx"]
    r.macro(".SH SEE ALSO")
    r.raw([".BR %s (3)%s" % (esc(n), "," if i < len(see) - 1 else "") for i, n in enumerate(see)])
    return r.source()


def overview(fileinfo, groups, ctx, names, title="rtctx"):
    doc = ctx["doc"]
    r = Roff()
    page_head(r, title, ctx["version"], brief_line(Member(fileinfo, "file"), doc).replace("rtctx: ", ""))
    r.macro(".SH SYNOPSIS")
    r.macro(".nf")
    r.macro(".B #include <rtctx.h>")
    r.macro(".fi")
    r.macro(".PP")
    r.put("Compile and link with \\fB" + esc(LINK) + "\\fR.")
    r.macro(".SH DESCRIPTION")
    doc.render(r, fileinfo.find("detaileddescription"))
    r.macro(".SH TOPICS")
    for g in groups:
        r.macro(".SS " + esc(g["title"]))
        doc.render(r, g["detail"])
        for m in g["members"]:
            if m.kind == "enum" and m.name.startswith("@"):
                for v in m.el.findall("enumvalue"):
                    r.macro(".TP")
                    r.put("\\fB%s\\fR (%s)" % (esc(v.findtext("name")), esc(plain(v.find("initializer")).lstrip("= "))))
                    r.flush()
                    doc.item(r, v.find("briefdescription"))
                continue
            r.macro(".TP")
            if m.name in names:
                r.put("\\fB%s\\fR(3)" % esc(m.name))
            else:
                r.put("\\fB%s\\fR" % esc(m.name))
            r.flush()
            r.put(brief_line(m, doc) + ".")
    whole = ctx.get("program")
    if whole is not None:
        r.macro(".SH EXAMPLE")
        r.put("A whole program, from \\fB%s\\fR(3):" % esc(whole.name))
        r.raw(code_roff(sections(whole.detail)[4][0]))
    r.macro(".SH SEE ALSO")
    r.put("One page per function and type, named as it is: ")
    r.put(", ".join("\\fB%s\\fR(3)" % esc(n) for n in names) + ".")
    r.macro(".PP")
    r.put("The same manual in HTML: \\fBmake docs\\fR writes build/docs/html/index.html.")
    return r.source()


# --- examples and HTML ---------------------------------------------------

def example_source(name, code):
    if DEFINES_FUNCTION.search(code):
        return "%s\n/* %s(3): a whole translation unit */\n%s\n" % (PRELUDE, name, code)
    body = "\n".join(("  " + l).rstrip() for l in code.split("\n"))
    return ("%s\n/* %s(3): a fragment, the body of a function */\n"
            "void rtctx_example(rt_runtime_t *rt, rt_handle_t *h);\n"
            "void rtctx_example(rt_runtime_t *rt, rt_handle_t *h) {\n"
            "  (void)rt;\n  (void)h;\n%s\n}\n" % (PRELUDE, name, body))


def fix_html(htmldir, order, members):
    """Points `struct <tag>` links at the typedef rather than a function."""
    fixes = {}
    for m in order:
        if m.kind != "typedef":
            continue
        tm = re.match(r"struct (\w+)$", plain(m.el.find("type")))
        ref = m.el.find("type/ref")
        if tm and ref is not None:
            target = members.get(ref.get("refid"))
            if target is not None and target.kind == "function":
                group = m.id.split("_1")[0]
                fixes[tm.group(1)] = "%s.html#%s" % (group, m.id.split("_1")[1])
    for fn in os.listdir(htmldir):
        if not fn.endswith(".html"):
            continue
        path = os.path.join(htmldir, fn)
        s = open(path, encoding="utf-8").read()
        t = s
        for tag, href in fixes.items():
            t = re.sub(r'struct <a class="el" href="[^"]*">%s</a>' % tag,
                       'struct <a class="el" href="%s">%s</a>' % (href, tag), t)
        if t != s:
            open(path, "w", encoding="utf-8").write(t)
    return fixes


def lint(mandir, pages):
    problems = []
    top = os.path.dirname(os.path.abspath(mandir))
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MAN_KEEP_FORMATTING="")
    for p in pages:
        path = os.path.join(os.path.abspath(mandir), p)
        cmds = [["groff", "-man", "-ww", "-z", "-Tutf8", path]]
        if shutil.which("man"):
            cmds.append(["man", "--warnings", "-l", path])
        for cmd in cmds:
            res = subprocess.run(cmd, cwd=top, env=env, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            if res.returncode != 0 or res.stderr.strip():
                problems.append("%s: %s: %s" % (p, cmd[0], res.stderr.strip() or "exit %d" % res.returncode))
            elif cmd[0] == "man" and not res.stdout.strip():
                problems.append("%s: man printed nothing" % p)
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--xml", required=True)
    ap.add_argument("--header", required=True)
    ap.add_argument("--man", required=True)
    ap.add_argument("--examples")
    ap.add_argument("--html")
    ap.add_argument("--version", required=True)
    ap.add_argument("--expect", required=True, help="the page names, from the Makefile")
    ap.add_argument("--lint", action="store_true")
    a = ap.parse_args()

    header = open(a.header, encoding="utf-8").read()
    stmts = statements(header)
    fileinfo, order, groups, members = load(a.xml)
    exported = [m for m in order if m.kind == "function"]
    types = [m for m in order if (m.kind in ("typedef", "struct") or
                                  (m.kind == "enum" and not m.name.startswith("@")))]
    names = [m.name for m in exported + types]
    expect = a.expect.split()
    if sorted(names) != sorted(expect):
        fail("the pages (%s) are not the header's functions and types (%s)" % (
            " ".join(sorted(set(names) - set(expect))) or "-",
            " ".join(sorted(set(expect) - set(names))) or "-"))
    for n in names:
        if n not in stmts:
            fail("no declaration of %s found in %s" % (n, a.header))
    codes = [v for m in order if m.kind == "enum" and m.name.startswith("@")
             for v in m.el.findall("enumvalue")]

    # the example a type without its own borrows: the first function naming it
    example_of_type = {}
    for t in types:
        for f in exported:
            if re.search(r"\b%s\b" % t.name, stmts[f.name][0]) and sections(f.detail)[4]:
                example_of_type[t.name] = f
                break
    ctx = {"doc": Doc(set(names)), "stmts": stmts, "pages": set(names),
           "version": a.version, "members": members, "codes": codes,
           "example_of_type": example_of_type}

    # the overview's example: the first whole program that spawns a task
    ctx["program"] = next((f for f in exported for ex in sections(f.detail)[4][:1]
                           if re.search(r"^int main\(", ex, re.M) and re.search(r"rt_spawn\(\w+, \w+", ex)), None)
    if os.path.isdir(a.man):
        shutil.rmtree(a.man)
    os.makedirs(a.man)
    written = []
    for m in exported + types:
        if m.kind == "function" and not sections(m.detail)[4]:
            fail("%s has no @par Example" % m.name)
        with open(os.path.join(a.man, m.name + ".3"), "w", encoding="ascii") as f:
            f.write(man_page(m, ctx))
        written.append(m.name + ".3")
    with open(os.path.join(a.man, "rtctx.3"), "w", encoding="ascii") as f:
        f.write(overview(fileinfo, groups, ctx, [m.name for m in exported + types]))
    # rtctx.h(3) too, as man rtctx.h finds the header's page elsewhere: the
    # same page rather than a .so link, which `man -l` cannot follow.
    with open(os.path.join(a.man, "rtctx.h.3"), "w", encoding="ascii") as f:
        f.write(overview(fileinfo, groups, ctx, [m.name for m in exported + types], "rtctx.h"))
    written += ["rtctx.3", "rtctx.h.3"]

    if a.examples:
        if os.path.isdir(a.examples):
            shutil.rmtree(a.examples)
        os.makedirs(a.examples)
        n = 0
        for m in order:
            for i, code in enumerate(sections(m.detail)[4]):
                suffix = "" if i == 0 else "-%d" % (i + 1)
                with open(os.path.join(a.examples, m.name + suffix + ".c"), "w") as f:
                    f.write(example_source(m.name, code))
                n += 1
        in_header = len(re.findall(r"[@\\]code\b", header))
        if n != in_header:
            fail("%d @code blocks in %s, but %d examples found in the XML: "
                 "an example outside a function or type comment is not compiled"
                 % (in_header, a.header, n))

    if a.html:
        fix_html(a.html, order, members)

    if a.lint:
        problems = lint(a.man, written)
        if problems:
            fail("man pages with warnings:\n  " + "\n  ".join(problems))
    print(len(written))


if __name__ == "__main__":
    main()
