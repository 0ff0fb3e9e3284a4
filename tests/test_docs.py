"""The documentation: the mkdocs site builds in strict mode, no relative link is dead, the CLI
reference is current, and every family page has the same parts."""

from __future__ import annotations

import importlib.metadata
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import click
import markdown
import pytest
from click.testing import CliRunner

from twofold import clidoc

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
FAMILY_PARTS = (
    "Statement",
    "Source",
    "What is derived",
    "What is estimated",
    "How they are compared",
    "Known pitfalls",
    "Run it",
)


class _Links(HTMLParser):
    """Link targets (``href``/``src``) and element ids of rendered HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.targets: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if value is None:
                continue
            if (tag, name) in {("a", "href"), ("img", "src")}:
                self.targets.append(value)
            elif name == "id":
                self.ids.add(value)


def _parse(path: Path) -> _Links:
    """Render Markdown as mkdocs does (toc ids by its default slugify, tables, fenced code)."""
    parser = _Links()
    parser.feed(markdown.markdown(path.read_text(encoding="utf-8"), extensions=["toc", "tables", "fenced_code"]))
    return parser


def dead_links(files: list[Path], root: Path = ROOT) -> list[str]:
    """Every relative link in ``files`` whose target file, or ``#anchor`` in it, does not exist.

    Links inside code are not links (the Markdown is rendered first); URLs with a scheme are
    not checked (no network in tests).
    """
    parsed: dict[Path, _Links] = {}

    def links_of(path: Path) -> _Links:
        if path not in parsed:
            parsed[path] = _parse(path)
        return parsed[path]

    dead = []
    for source in files:
        for target in links_of(source).targets:
            url = urlsplit(target)
            if url.scheme or url.netloc:
                continue
            path = (source.parent / unquote(url.path)).resolve() if url.path else source
            where = f"{source.relative_to(root)}: {target}"
            if not path.exists():
                dead.append(f"{where} (no file {path})")
            elif url.fragment and path.suffix == ".md" and url.fragment not in links_of(path).ids:
                dead.append(f"{where} (no heading with id #{url.fragment} in {path.name})")
    return dead


def markdown_files() -> list[Path]:
    return [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]


def test_mkdocs_builds_in_strict_mode(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"), "-d", str(tmp_path / "site")],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "families" / "taylor" / "index.html").is_file()
    assert (tmp_path / "site" / "cli" / "index.html").is_file()


def test_no_dead_relative_links() -> None:
    files = markdown_files()
    assert len(files) > 10
    assert dead_links(files) == []


def test_the_link_checker_finds_dead_files_and_anchors(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    other = tmp_path / "other.md"
    other.write_text("# Other\n\n## What is derived (P3, P4)\n", encoding="utf-8")
    page.write_text(
        "[ok](other.md#what-is-derived-p3-p4) [self](#top) [gone](missing.md) [bad](other.md#nope) "
        "[web](https://example.org/x.md) `[code](missing.md)`\n\n# Top\n",
        encoding="utf-8",
    )
    dead = dead_links([page], root=tmp_path)
    assert dead == [
        f"page.md: missing.md (no file {(tmp_path / 'missing.md').resolve()})",
        "page.md: other.md#nope (no heading with id #nope in other.md)",
    ]


def test_cli_reference_is_generated_from_the_cli() -> None:
    committed = (DOCS / "cli.md").read_text(encoding="utf-8")
    if committed != clidoc.render():
        pytest.fail(
            f"docs/cli.md is stale: regenerate it with `{clidoc.REGENERATE}` "
            f"(rendered here with click {importlib.metadata.version('click')}; pyproject.toml pins the range)",
            pytrace=False,
        )


def test_cli_reference_has_every_command_and_option() -> None:
    from twofold.cli import cli

    text = clidoc.render()
    for name, command in cli.commands.items():
        assert f"## twofold {name}\n" in text
        section = text.split(f"## twofold {name}\n")[1].split("\n## ")[0]
        for param in command.params:
            shown = param.opts if isinstance(param, click.Option) else [param.human_readable_name]
            assert all(opt in section for opt in shown), (name, param.name)
    assert "[default: quick]" in text


def test_clidoc_command_writes_the_page(tmp_path: Path) -> None:
    out = tmp_path / "cli.md"
    command = [sys.executable, "-m", "twofold.clidoc", "-o", str(out)]
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert out.read_text(encoding="utf-8") == clidoc.render()


def test_clidoc_reports_an_unwritable_output_in_one_line(tmp_path: Path) -> None:
    result = CliRunner().invoke(clidoc.main, ["-o", str(tmp_path / "missing" / "cli.md")])
    assert result.exit_code == 1
    assert result.stderr.strip().startswith("Error: cannot write") and "\n" not in result.stderr.strip()


@pytest.mark.parametrize("page", sorted((DOCS / "families").glob("*.md")), ids=lambda p: p.stem)
def test_family_pages_have_the_same_parts_in_order(page: Path) -> None:
    headings = [line[3:].strip() for line in page.read_text(encoding="utf-8").splitlines() if line.startswith("## ")]
    assert [h for h in headings if h in FAMILY_PARTS] == list(FAMILY_PARTS), headings


def test_every_registered_claim_is_in_its_family_page_statement() -> None:
    import twofold

    for claim in twofold.all_claims():
        page = DOCS / "families" / f"{claim.id.split('.')[0]}.md"
        assert page.is_file(), f"family of {claim.id} has no page {page.relative_to(ROOT)}"
        text = page.read_text(encoding="utf-8")
        statement = text.split("\n## Statement\n")[-1].split("\n## Source\n")[0]
        assert f"`{claim.id}`" in statement, f"{claim.id} is missing from the Statement table of {page.name}"
