"""Reading a page's forms the way a browser would post them (for protocol-level tests; the
walks through the pages run in Chromium)."""

from __future__ import annotations

from html.parser import HTMLParser


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict[str, object]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append({"action": values.get("action", ""), "fields": []})
        elif tag == "input" and self.forms and "name" in values:
            if values.get("type") in {"checkbox", "radio"} and "checked" not in values:
                return  # a browser sends only the ticked ones
            fields = self.forms[-1]["fields"]
            assert isinstance(fields, list)
            fields.append((values["name"], values.get("value", "")))


def forms(html: str) -> list[tuple[str, list[tuple[str, str]]]]:
    """(action, [(name, value)...]) of each form on the page, hidden fields included."""
    parser = _Forms()
    parser.feed(html)
    return [(str(f["action"]), list(f["fields"])) for f in parser.forms]  # type: ignore[arg-type]


def form_for(html: str, action: str) -> list[tuple[str, str]]:
    found = [fields for act, fields in forms(html) if act == action]
    assert found, f"no form posting to {action}"
    return found[0]
