"""Destructive buttons look destructive (issue 13, item 8): every button or confirmed
POST that revokes, deletes, suspends, bans, cancels, removes, rejects, declines… carries
the CSS class "danger" (static/css/app.css paints it red), in every template; and a
member's page names "Roles in this estate" once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

# The labels of destructive actions (the English msgids).
DESTRUCTIVE = re.compile(
    r'_\("(Revoke|Suspend|Delete[^"]*|Remove[^"]*|Archive[^"]*|Withdraw|Cancel the [^"]*|Deactivate|'
    r'Reject[^"]*|Decline[^"]*|Ban this number|Move out|Reset device)"\)')
CONFIRM_POST = re.compile(r"confirm_post\((?P<args>.*?)\}\}", re.S)
BUTTON = re.compile(r"<(?P<tag>button|summary)\b(?P<attrs>[^>]*)>(?P<label>.*?)</(?P=tag)>", re.S)
CLASS = re.compile(r'class="([^"]*)"')


def _actions() -> list[tuple[str, str, str]]:
    """(template, label, classes) of every confirm_post call and button in the templates."""
    found = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        text = path.read_text()
        name = str(path.relative_to(TEMPLATES))
        for m in CONFIRM_POST.finditer(text):
            if "macro confirm_post" in text[max(0, m.start() - 20):m.start()]:
                continue
            args = m.group("args")
            label = DESTRUCTIVE.search(args.split("),", 1)[1] if ")," in args else args)
            classes = CLASS.search(args)
            found.append((name, label.group(1) if label else "", classes.group(1) if classes else ""))
        for m in BUTTON.finditer(text):
            if m.group("tag") == "summary" and 'role="button"' not in m.group("attrs"):
                continue
            label = DESTRUCTIVE.search(m.group("label"))
            classes = CLASS.search(m.group("attrs"))
            found.append((name, label.group(1) if label else "", classes.group(1) if classes else ""))
    return found


def test_the_scan_finds_the_known_destructive_actions():
    labels = {(name, label) for name, label, _ in _actions() if label}
    for expected in [("admin/member.html", "Suspend"), ("admin/member.html", "Delete account"),
                     ("gate/passes.html", "Revoke"), ("resident/visit_detail.html", "Cancel the visit"),
                     ("gate/ban_form.html", "Ban this number"), ("admin/approvals.html", "Reject selected"),
                     ("enterprise/home.html", "Suspend"), ("resident/_walkin_macros.html", "Decline")]:
        assert expected in labels


@pytest.mark.parametrize("name, label, classes", [a for a in _actions() if a[1]],
                         ids=lambda v: v if isinstance(v, str) else None)
def test_every_destructive_action_is_styled_as_destructive(name, label, classes):
    assert "danger" in classes.split(), f"{name}: “{label}” is destructive but has class “{classes}”"


def test_the_danger_style_exists():
    css = (TEMPLATES.parent / "static" / "css" / "app.css").read_text()
    assert ":is(button, [role=button]).danger" in css and "button.link.danger" in css


def test_a_members_page_names_its_roles_once_and_its_destructive_buttons_are_red(client, estate_pair, login):
    login("admin@alpha.test")
    html = client.get(f"/e/alpha/admin/members/{estate_pair.alpha.guard.id}/").get_data(as_text=True)
    assert html.count("Roles in this estate") == 1
    assert 'aria-labelledby="roles-title"' in html  # the checkboxes are still named by the heading
    for button_id in ("suspend", "delete", "remove"):
        tag = re.search(rf'<button[^>]*id="{button_id}"[^>]*>', html).group(0)
        assert "danger" in tag, tag
