"""The Spanish catalogue is complete, current and safe to format.

Run `make update-translations`, translate what it adds to
translations/es/LC_MESSAGES/messages.po, then `make translations`.
Only the last test needs the app; the others read files and run in well under a second.
"""

from __future__ import annotations

import re
import shlex
from functools import cache
from pathlib import Path

from babel.messages import frontend
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
MAPPING_FILE = ROOT / "babel.cfg"
MAKEFILE = ROOT / "Makefile"
PO_FILE = ROOT / "translations" / "es" / "LC_MESSAGES" / "messages.po"
MO_FILE = PO_FILE.with_suffix(".mo")

HOW_TO_FIX = ("run `make update-translations`, translate the new entries in "
              f"{PO_FILE.relative_to(ROOT)} (and drop their `fuzzy` flag), then `make translations`")

# A printf-style directive: %(name)s, %(n)d, %s, %5.2f, %% ...
DIRECTIVE = re.compile(r"%(?:\((?P<name>\w+)\))?[#0\- +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?P<type>[diouxXeEfFgGcrsa%])")


@cache
def catalog() -> Catalog:
    with PO_FILE.open("rb") as f:
        return read_po(f, locale="es")


def entries():
    return [m for m in catalog() if m.id]


def forms(value) -> tuple:
    """msgid / msgstr as a tuple of forms (one for a singular message, several for a plural one)."""
    if isinstance(value, (tuple, list)):
        return tuple(value)
    return (value,)


def describe(message) -> str:
    where = ", ".join(f"{path}:{line}" for path, line in message.locations[:2])
    context = f"[{message.context}] " if message.context else ""
    return f"{context}{forms(message.id)[0]!r} ({where})" if where else f"{context}{forms(message.id)[0]!r}"


def makefile_keywords() -> tuple[list[str], bool]:
    """The --keywords given to `pybabel extract` by the Makefile's extract-messages target,
    and whether babel's default keywords (_, gettext, ngettext, ...) are kept."""
    text = MAKEFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(r"^extract-messages:.*\n((?:\t.*\n?)+)", text, re.MULTILINE)
    assert match, "the Makefile has no extract-messages target"
    args = shlex.split(match.group(1).replace("$(BIN)/", ""))
    assert "extract" in args, "the extract-messages target does not run `pybabel extract`"
    keywords = []
    for i, arg in enumerate(args):
        if arg in ("-k", "--keyword", "--keywords"):
            keywords.append(args[i + 1])
        elif arg.startswith(("--keyword=", "--keywords=")):
            keywords.append(arg.split("=", 1)[1])
        elif arg.startswith("-k") and len(arg) > 2:
            keywords.append(arg[2:])
    return keywords, "--no-default-keywords" not in args


@cache
def extracted_messages() -> tuple:
    """Every message in the current sources, extracted the way `make extract-messages` does."""
    parse_mapping = getattr(frontend, "parse_mapping_cfg", None) or frontend.parse_mapping
    with MAPPING_FILE.open(encoding="utf-8") as f:
        method_map, options_map = parse_mapping(f)
    names, keep_defaults = makefile_keywords()
    keywords = dict(DEFAULT_KEYWORDS) if keep_defaults else {}
    keywords.update(frontend.parse_keywords(names))
    found = []
    for filename, lineno, message, _comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=keywords
    ):
        found.append((filename, lineno, forms(message), context))
    return tuple(found)


def placeholders(text: str) -> tuple[set[str], list[str], int]:
    """Named placeholders, positional directives (in order), and stray `%` signs."""
    named, positional, used = set(), [], 0
    for m in DIRECTIVE.finditer(text):
        used += m.group(0).count("%")
        if m.group("name"):
            named.add(f"%({m.group('name')}){m.group('type')}")
        elif m.group("type") != "%":
            positional.append(m.group(0))
    return named, positional, text.count("%") - used


def test_spanish_catalogue_has_the_agreed_header():
    cat = catalog()
    assert str(cat.locale) == "es"
    assert not cat.fuzzy, "the catalogue header is marked fuzzy"
    assert cat.num_plurals == 2 and cat.plural_expr.replace(" ", "") == "(n!=1)", cat.plural_forms
    assert cat.language_team and "LL@li.org" not in cat.language_team, cat.language_team


def test_every_spanish_entry_is_translated_and_not_fuzzy():
    untranslated = [describe(m) for m in entries() if not all(s.strip() for s in forms(m.string))]
    fuzzy = [describe(m) for m in entries() if m.fuzzy]
    assert not untranslated and not fuzzy, (
        f"{len(untranslated)} untranslated: {untranslated}\n{len(fuzzy)} fuzzy: {fuzzy}\n{HOW_TO_FIX}"
    )


def test_every_message_in_the_sources_is_translated():
    extracted = extracted_messages()
    assert len(extracted) > 50, "suspiciously few messages extracted; check babel.cfg and the Makefile"
    cat = catalog()
    missing, untranslated = [], []
    for filename, lineno, msg_forms, context in extracted:
        where = f"{forms(msg_forms)[0]!r} ({filename}:{lineno})"
        entry = cat.get(msg_forms[0], context=context)
        if entry is None or (len(msg_forms) > 1 and forms(entry.id) != msg_forms):
            missing.append(where)
        elif entry.fuzzy or not all(s.strip() for s in forms(entry.string)):
            untranslated.append(where)
    assert not missing and not untranslated, (
        f"{len(missing)} source messages missing from the Spanish catalogue: {sorted(set(missing))}\n"
        f"{len(untranslated)} present but untranslated or fuzzy: {sorted(set(untranslated))}\n{HOW_TO_FIX}"
    )


def test_translations_keep_the_placeholders_of_their_msgid():
    problems = []
    for m in entries():
        translated = [s for s in forms(m.string) if s]
        if not translated:
            continue  # reported by the completeness tests
        source = [placeholders(s) for s in forms(m.id)]
        source_named = set().union(*(named for named, _, _ in source))
        for text in translated:
            named, positional, stray = placeholders(text)
            if len(forms(m.id)) == 1 and named != source_named:
                problems.append(f"{describe(m)}: has {sorted(named)}, needs {sorted(source_named)}")
            elif not named <= source_named:
                problems.append(f"{describe(m)}: unknown {sorted(named - source_named)}")
            if positional != source[-1][1]:
                problems.append(f"{describe(m)}: directives {positional}, needs {source[-1][1]}"
                                " (a literal '%' is written '%%')")
            if stray:
                problems.append(f"{describe(m)}: {stray} stray '%' in {text!r} (write '%%' or rephrase)")
        if len(forms(m.id)) > 1:  # plural: every placeholder appears in some form
            used = set().union(*(placeholders(s)[0] for s in translated))
            if used != source_named:
                problems.append(f"{describe(m)}: forms use {sorted(used)}, needs {sorted(source_named)}")
    # babel's own checks (placeholder types, number of plural forms)
    problems += [f"{describe(m)}: {'; '.join(map(str, errors))}" for m, errors in catalog().check()]
    assert not problems, "\n".join(problems)


def test_compiled_catalogue_matches_the_po_file():
    assert MO_FILE.exists(), f"{MO_FILE.relative_to(ROOT)} is missing: run `make translations`"
    with MO_FILE.open("rb") as f:
        compiled = read_mo(f)
    stale = []
    for m in entries():
        if m.fuzzy:
            continue
        entry = compiled.get(m.id, context=m.context)
        if entry is None or forms(entry.string) != forms(m.string):
            stale.append(describe(m))
    assert not stale, f"{len(stale)} entries differ from the .mo: run `make translations`: {stale}"


def test_login_page_is_in_spanish_for_a_spanish_browser(client):
    response = client.get("/login", headers={"Accept-Language": "es"})
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'lang="es"' in html
    assert "Iniciar sesión" in html
    assert "Sign in" not in html, "English text on the Spanish login page"
