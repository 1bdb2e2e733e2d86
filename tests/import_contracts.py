"""A custom import-linter contract: some names of an allowed package are still off limits.

Domains may use Flask (current_app, the app's config) but never the request, `g`, templates,
`abort` or `url_for`: those belong to the web layer. import-linter's own contracts work on
modules, and `flask.request` is a name, so this contract reads each import line of the
source modules and fails on any forbidden name. Registered in pyproject.toml.
"""

from __future__ import annotations

import re

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output

_FROM_IMPORT = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+\(?([^#)]*)")


class ForbiddenNamesContract(Contract):
    """source_modules: packages to check; forbidden_names: `package.name` entries."""

    source_modules = fields.ListField(subfield=fields.ModuleField())
    forbidden_names = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        forbidden: dict[str, set[str]] = {}
        for entry in self.forbidden_names:  # type: ignore[attr-defined]
            package, _, name = str(entry).rpartition(".")
            forbidden.setdefault(package, set()).add(name)
        found = []
        for source in self.source_modules:  # type: ignore[attr-defined]
            modules = {source.name} | graph.find_descendants(source.name)
            for module in sorted(modules):
                for package, names in forbidden.items():
                    top = package.split(".")[0]
                    if top not in graph.modules:
                        continue
                    for detail in graph.get_import_details(importer=module, imported=top):
                        match = _FROM_IMPORT.match(detail["line_contents"])
                        line = detail["line_contents"]
                        bad = set()
                        if match and match.group(1) == package:
                            imported = {n.strip().split(" as ")[0] for n in match.group(2).split(",")}
                            bad = imported & names
                        elif re.match(rf"^\s*import\s+{re.escape(package)}\b", line):
                            bad = {f"{package} (the whole module)"}
                        for name in sorted(bad):
                            found.append((module, detail["line_number"], f"{package}.{name}".replace(
                                f"{package}.{package}", package)))
        return ContractCheck(kept=not found, metadata={"found": found})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for module, line, name in check.metadata["found"]:
            output.print_error(f"{module} (line {line}) imports {name}", bold=False)
            output.new_line()
