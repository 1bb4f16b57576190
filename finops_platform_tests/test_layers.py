"""The package's import graph keeps the layers of docs/ARCHITECTURE.md: no cycle, no import that
points up a layer, no domain of `defs/` importing another, the dashboard reading only the
shared registry of `defs/`.

The graph is grimp's, which also sees imports inside functions and under TYPE_CHECKING: an
import hidden there still counts.
"""

from __future__ import annotations

import grimp
import pytest

PACKAGE = "finops_platform"

# Top to bottom. A module may import its own layer's modules (where not independent) and any
# layer below it, never one above.
LAYERS = (
    grimp.Layer(
        "cli", "dashboard", "output", "export", "runner", "provision", "ecs", independent=False
    ),
    grimp.Layer("definitions"),
    grimp.Layer("defs"),
    grimp.Layer("resources"),
    grimp.Layer("sample"),
    grimp.Layer("lib"),
    grimp.Layer("settings"),
    grimp.Layer("core", "months", "lake", independent=True),
)
DOMAINS = (
    "alerts",
    "anomalies",
    "arrivals",
    "catalog",
    "consistency",
    "cross_org",
    "curated",
    "freshness",
    "raw",
    "refresh",
)


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(PACKAGE)


def _describe(dependencies: set) -> list[str]:
    return sorted(
        f"{dependency.importer} -> {dependency.imported}: "
        f"{', '.join(sorted(route.heads))} -> ... -> {', '.join(sorted(route.tails))}"
        for dependency in dependencies
        for route in dependency.routes
    )


def test_every_top_level_module_has_a_layer(graph: grimp.ImportGraph) -> None:
    placed = {f"{PACKAGE}.{name}" for layer in LAYERS for name in layer.module_tails}
    assert graph.find_children(PACKAGE) <= placed


def test_no_import_points_up_a_layer(graph: grimp.ImportGraph) -> None:
    illegal = graph.find_illegal_dependencies_for_layers(layers=LAYERS, containers={PACKAGE})
    assert _describe(illegal) == []


def test_no_domain_imports_another_and_common_imports_no_domain(graph: grimp.ImportGraph) -> None:
    layers = (grimp.Layer(*DOMAINS, independent=True), grimp.Layer("common"))
    illegal = graph.find_illegal_dependencies_for_layers(
        layers=layers, containers={f"{PACKAGE}.defs"}
    )
    assert _describe(illegal) == []


def test_the_domains_are_all_named(graph: grimp.ImportGraph) -> None:
    children = graph.find_children(f"{PACKAGE}.defs")
    assert children == {f"{PACKAGE}.defs.{name}" for name in (*DOMAINS, "common")}


def test_the_dashboard_reads_only_the_shared_part_of_defs(graph: grimp.ImportGraph) -> None:
    reaching = {
        (importer, imported)
        for importer in graph.find_descendants(f"{PACKAGE}.dashboard")
        for imported in graph.find_modules_directly_imported_by(importer)
        if imported.startswith(f"{PACKAGE}.defs.")
        and not imported.startswith(f"{PACKAGE}.defs.common")
    }
    assert reaching == set()


def test_no_import_cycle(graph: grimp.ImportGraph) -> None:
    cycles = sorted(
        f"{importer} -> {imported} -> ... -> {importer}"
        for importer in graph.modules
        if importer.startswith(PACKAGE)
        for imported in graph.find_modules_directly_imported_by(importer)
        # A package's __init__ re-exporting its own modules is not a cycle between modules.
        if not importer.startswith(imported + ".")
        and graph.chain_exists(imported, importer)
        and not imported.startswith(importer + ".")
    )
    assert cycles == []
